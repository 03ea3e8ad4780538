"""The training loop behind ``mlip-train``.

Outputs in the run folder: ``config.yaml`` (every setting, defaults included), ``checkpoint.pt``
(written atomically every epoch), ``history.csv``, ``metrics.json``, the exported best model,
``training_curves.png`` and ``parity.png``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import signal
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from ase.data import atomic_numbers
from tqdm.auto import tqdm

from mlip_lammps.contract import predict
from mlip_lammps.data.dataset import Graph, collate, graphs_from_atoms, read_structures
from mlip_lammps.export import export_model
from mlip_lammps.fileio import atomic_write
from mlip_lammps.models import base_model, build_model
from mlip_lammps.models.screening import Screening, fit_windows, window_weights
from mlip_lammps.training.config import ARCHITECTURE_DEFAULTS, Config, ModelConfig
from mlip_lammps.training.metrics import EV_A3_TO_GPA, predictions, summarize


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def training_species(cfg: Config, frames: list) -> list[str]:
    """The model's species: ``data.species``, or those of the training frames by atomic number."""
    return cfg.data.species or sorted({s for a in frames for s in a.get_chemical_symbols()}, key=lambda s: atomic_numbers[s])


def reference_energies(graphs: list[Graph], n_species: int) -> np.ndarray:
    """Least-squares per-species energies E0 (eV) so that E ≈ Σ_s N_s E0_s."""
    counts = np.stack([np.bincount(g.species.numpy(), minlength=n_species) for g in graphs]).astype(np.float64)
    energies = np.array([float(g.energy[0]) for g in graphs])
    e0, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return e0


def replay_frames(frames: list, n: int | None, seed: int) -> list:
    """``n`` frames of the original data drawn at random (all when ``n`` is None), each marked
    ``info['replay'] = True``, to mix into fine-tuning data against forgetting."""
    if n is not None and n < len(frames):
        keep = np.sort(np.random.default_rng(seed).choice(len(frames), size=n, replace=False))
        frames = [frames[i] for i in keep]
    for a in frames:
        a.info["replay"] = True
    return frames


def freeze(model: torch.nn.Module, prefixes: list[str]) -> list[str]:
    """Fix the parameters whose names (without a ZBL wrapper's ``inner_model.``) start with one of
    ``prefixes``; ``descriptor`` means every parameter outside the readout MLP ``mlp``. Returns the
    frozen names; a prefix matching nothing is an error listing the parameter names."""
    names = {n: n.removeprefix("inner_model.") for n, _ in model.named_parameters()}
    frozen = []
    for prefix in prefixes:
        hit = [n for n, short in names.items()
               if (not short.startswith("mlp.") if prefix == "descriptor" else short.startswith(prefix))]
        if not hit:
            raise ValueError(f"finetune.freeze: '{prefix}' matches no parameter; names are {sorted(set(names.values()))}")
        frozen += hit
    params = dict(model.named_parameters())
    for n in frozen:
        params[n].requires_grad_(False)
    if len(set(frozen)) == len(params):
        raise ValueError(f"finetune.freeze {prefixes} freezes every parameter: nothing left to train")
    return sorted(set(frozen))


GROWABLE = ("n_radial", "n_angular", "hidden")  # nep: NEPModel.grow widens these without changing outputs
# nep: NEPModel.extend_reach lengthens these, refitting the radial functions (outputs change slightly)
EXTENDABLE = ("cutoff", "cutoff_angular", "n_basis_radial", "n_basis_angular")


def initial_model(path: Path, architecture: str, hyper: dict, species: list[str],
                  graphs: list[Graph] | None = None) -> torch.nn.Module:
    """The model of an exported file, to fine-tune: its weights, descriptor normalisation and
    reference energies are kept, so it must match the configured architecture, hyperparameters
    and species (errors name the difference). A nep model may be grown: larger ``n_radial``,
    ``n_angular`` or ``hidden`` widths in the config widen it with its outputs unchanged; the new
    descriptor columns are normalised over ``graphs`` (the training data). Its reach may be
    lengthened: a larger ``cutoff``, ``cutoff_angular``, ``n_basis_radial`` or ``n_basis_angular``
    refits its radial functions in the longer bases (NEPModel.extend_reach; the refit error is
    printed), so its outputs change only slightly."""
    from mlip_lammps.export.reexport import rebuild_module

    model, meta = rebuild_module(path)
    if meta.architecture != architecture:
        raise ValueError(f"model.init_from {path} is a '{meta.architecture}' model, the config asks for '{architecture}'")
    # a model exported before a hyperparameter existed has that hyperparameter's default
    old = {**ARCHITECTURE_DEFAULTS.get(architecture, {}), **meta.hyperparameters}
    diff = sorted(k for k in set(hyper) | set(old) if hyper.get(k) != old.get(k))
    if "linear_term" in diff and hyper.get("linear_term") and not old.get("linear_term"):
        # switching the linear term on keeps the model's outputs: its weights start at zero
        base_model(model).mlp.enable_linear_term()
        diff.remove("linear_term")
    extend = [k for k in diff if k in EXTENDABLE] if architecture == "nep" else []
    if extend:
        errors = base_model(model).extend_reach(hyper["cutoff"], hyper["cutoff_angular"], hyper["n_basis_radial"],
                                                hyper["n_basis_angular"])
        tqdm.write(f"model.init_from {path}: reach or bases extended ("
                   + ", ".join(f"{k} {old.get(k)} -> {hyper.get(k)}" for k in extend)
                   + f"); radial functions refitted, largest error {errors['radial']:.1e} (radial), "
                   f"{errors['angular']:.1e} (angular) of each function's largest value")
        diff = [k for k in diff if k not in extend]
    grow = [k for k in diff if k in GROWABLE] if architecture == "nep" else []
    if grow:
        inner = base_model(model)
        is_new = inner.grow(hyper["n_radial"], hyper["n_angular"], hyper["hidden"])
        if graphs is not None and bool(is_new.any()):
            mean, std = descriptor_statistics(model, graphs)
            inner.descriptor_mean[:, is_new] = mean[:, is_new].to(inner.descriptor_mean)
            inner.descriptor_std[:, is_new] = std[:, is_new].to(inner.descriptor_std)
        diff = [k for k in diff if k not in grow]
    if diff:
        raise ValueError(f"model.init_from {path}: hyperparameters differ from the config: "
                         + ", ".join(f"{k} {old.get(k)!r} vs {hyper.get(k)!r}" for k in diff))
    if list(meta.species) != list(species):
        raise ValueError(f"model.init_from {path} has species {list(meta.species)}, the training data {species} "
                         "(set data.species to the model's species)")
    return model.train()


@torch.no_grad()
def projected_screening(model: torch.nn.Module, path: Path, species: list[str]) -> None:
    """Set ``model``'s screening to the MEAM-window projection of the learned screening of
    ``path``: an exported model, or a run's checkpoint.pt, whose current (last, not averaged)
    weights are used (models/screening.py: fit_windows, window_weights)."""
    from mlip_lammps.export.reexport import rebuild_module

    if not Path(path).is_file():
        raise FileNotFoundError(f"model.screening_from: no file {path}")
    try:
        with zipfile.ZipFile(path) as z:
            exported = any("/code/" in n for n in z.namelist())  # TorchScript archives carry their code
    except zipfile.BadZipFile:
        raise ValueError(f"model.screening_from {path} is neither an exported model nor a checkpoint") from None
    if exported:
        source, meta = rebuild_module(path)
        screening = getattr(base_model(source), "screening", None)
        weights, source_species = (None if screening is None else screening.weights), list(meta.species)
    else:
        ck = torch.load(path, map_location="cpu", weights_only=False)
        weights, source_species = ck["model"].get("screening.weights"), list(ck["species"])
    if weights is None:
        raise ValueError(f"model.screening_from {path} is a model without screening")
    if source_species != list(species):
        raise ValueError(f"model.screening_from {path} has species {source_species}, the training data {species} "
                         "(set data.species to the model's species)")
    target = base_model(model).screening
    learned = copy.deepcopy(target).double()  # the same spline, holding the source's weights
    learned.weights.copy_(weights)
    target.weights.copy_(window_weights(fit_windows(learned)).to(target.weights))


def constrained_modules(model: torch.nn.Module) -> list[Screening]:
    """The modules whose parameters are projected back onto their constraint after every optimiser
    step (and at the start): screening spline weights ≥ 0, so S ≤ 1."""
    return [module for module in model.modules() if isinstance(module, Screening)]


@torch.no_grad()
def descriptor_statistics(model: torch.nn.Module, graphs: list[Graph]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-species mean and spread of the raw descriptors over ``graphs``, each (n_species,
    n_descriptors); a species absent from the data gets the statistics of all atoms."""
    model = base_model(model)
    dtype = model.species_energy.dtype
    qs = []
    for k in range(0, len(graphs), 32):
        b = collate(graphs[k : k + 32]).to(dtype)
        qs.append(model.descriptors(b.species, b.edge_center, b.edge_neighbor_species, b.edge_vectors))
    q = torch.cat(qs)
    species = torch.cat([g.species for g in graphs])
    means, stds = [], []
    for s in range(model.descriptor_mean.shape[0]):
        qs_ = q[species == s]
        if qs_.shape[0] < 2:
            qs_ = q
        std = qs_.std(0)
        means.append(qs_.mean(0))
        stds.append(std.clamp_min(1e-3 * float(std.max()) + 1e-12))
    return torch.stack(means), torch.stack(stds)


@torch.no_grad()
def initialise_statistics(model: torch.nn.Module, graphs: list[Graph], e0: np.ndarray) -> None:
    """Energy scale (force RMS, eV/Å ~ eV per atom), E0 shifts and, where the model has them, the
    mean neighbour count (``avg_num_neighbors``, first: the descriptors depend on it) and the
    per-species descriptor normalisation (``descriptor_mean``/``descriptor_std``)."""
    model = base_model(model)
    dtype = model.species_energy.dtype
    if hasattr(model, "avg_num_neighbors"):
        n_edges = sum(int(g.edge_center.numel()) for g in graphs)
        n_atoms = sum(int(g.species.numel()) for g in graphs)
        model.avg_num_neighbors.fill_(max(1.0, n_edges / max(1, n_atoms)))
    if hasattr(model, "descriptor_mean"):
        mean, std = descriptor_statistics(model, graphs)
        model.descriptor_mean.copy_(mean)
        model.descriptor_std.copy_(std)
    f = torch.cat([g.forces for g in graphs])
    model.energy_scale.fill_(float(f.pow(2).mean().sqrt()) or 1.0)
    model.species_energy.copy_(torch.as_tensor(e0, dtype=dtype))


def loss_weights(cfg: Config, progress: float) -> tuple[float, float, float]:
    """Energy, force and stress weights at ``progress`` ∈ [0, 1] of training (linear schedules)."""
    t = cfg.training

    def sched(w0: float, w1: float | None) -> float:
        return w0 if w1 is None else w0 + (w1 - w0) * progress

    return (
        sched(t.energy_weight, t.energy_weight_final),
        sched(t.forces_weight, t.forces_weight_final),
        sched(t.stress_weight, t.stress_weight_final),
    )


def loss_sums(model: torch.nn.Module, batch: Graph, weights: dict[str, float] | None = None
              ) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
    """Squared-error sums of a batch (energy per atom in eV/atom, forces in eV/Å, stress in GPa)
    and their counts. Sums (not means) so that a batch split over processes adds up exactly.
    ``weights`` (config_type -> weight, default 1) gives the loss sums "we", "wf", "ws"; the plain
    sums stay unweighted for the reported RMSEs."""
    p = predict(model, batch)
    n = batch.n_atoms.to(p["energy"].dtype)
    has_s = torch.isfinite(batch.stress).all(dim=(1, 2))
    err = {
        "e": ((p["energy"] - batch.energy) / n).pow(2),
        "f": (p["forces"] - batch.forces).pow(2).sum(dim=1),
        # mask before any arithmetic: NaN labels (no stress) would give NaN gradients through pow
        "s": ((p["stress"][has_s] - batch.stress[has_s]) * EV_A3_TO_GPA).pow(2).sum(dim=(1, 2)),
    }
    sums = {k: v.sum() for k, v in err.items()}
    if weights:
        w = torch.tensor([weights.get(c, 1.0) for c in batch.config_type], dtype=n.dtype)
        for k, wk in (("e", w), ("f", w.index_select(0, batch.atom_graph)), ("s", w[has_s])):
            sums["w" + k] = (wk * err[k]).sum()
    counts = {"e": batch.n_graphs, "f": int(batch.forces.numel()), "s": int(has_s.sum()) * 9}
    return sums, counts


class EMA:
    """Exponential moving average of the parameters, used for validation and export."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.model = copy.deepcopy(model)
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))  # warm-up: early averages follow quickly
        for pe, p in zip(self.model.parameters(), model.parameters()):
            if p.requires_grad:  # frozen (fine-tuning) parameters stay bit-identical
                pe.mul_(d).add_(p.detach(), alpha=1 - d)


def _split(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    idx = np.random.default_rng(seed).permutation(n)
    n_valid = max(1, int(round(fraction * n)))
    return sorted(idx[n_valid:].tolist()), sorted(idx[:n_valid].tolist())


def data_summary(graphs: list[Graph], species: list[str], path: Path) -> dict[str, Any]:
    spec = torch.cat([g.species for g in graphs]).numpy()
    cts: dict[str, int] = {}
    for g in graphs:
        cts[g.config_type[0]] = cts.get(g.config_type[0], 0) + 1
    return {
        "file": str(path),
        "n_frames": len(graphs),
        "n_atoms": int(spec.size),
        "atoms_per_species": {s: int((spec == k).sum()) for k, s in enumerate(species)},
        "config_types": cts,
    }


class _StopRequest:
    """SIGTERM/SIGINT set a flag; the loop checkpoints after the current step and stops."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "_StopRequest":
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame) -> None:
        self.signal = signum

    def __exit__(self, *exc) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


class TrainingInterrupted(RuntimeError):
    pass


def _distributed() -> tuple[int, int]:
    """(rank, world size) under torchrun; initialises the gloo process group once."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return dist.get_rank(), world


def _allreduce(tensors: list[torch.Tensor]) -> None:
    import torch.distributed as dist

    for t in tensors:
        dist.all_reduce(t)


def train(cfg: Config, resume: bool = False, show_progress: bool = True) -> dict[str, Any]:
    """Train a model as configured; returns the final metrics dictionary (``rank`` > 0 for the
    non-writing processes of a torchrun job).

    Under ``torchrun --nproc-per-node P`` each process takes a contiguous share of every batch and
    gradients are summed, so the result equals a single-process run up to round-off. SIGTERM or
    SIGINT write a checkpoint after the current step and raise TrainingInterrupted.
    """
    if cfg.training.ensemble > 1:
        return _train_committee(cfg, resume, show_progress)
    with _StopRequest() as stop:
        return _train(cfg, resume, show_progress, stop)


def model_from_checkpoint(path: str | Path, latest: bool = False) -> tuple[torch.nn.Module, list[str], dict[str, Any]]:
    """The best (EMA) model of a training checkpoint (``latest``: the EMA weights of its last
    step, e.g. to look at a run in progress), its species and the checkpoint itself (its
    ``config`` dictionary, training ``state``, ...)."""
    ck = torch.load(path, weights_only=False)
    mcfg = ModelConfig.model_validate(ck["config"]["model"])
    model = build_model(mcfg.architecture, len(ck["species"]), mcfg.hyperparameters(), ck["species"])
    weights = ck["ema"] if latest else ck["best_model"]
    model = model.to(next(iter(weights.values())).dtype)
    model.load_state_dict(weights)
    return model.eval(), ck["species"], ck


def _train_committee(cfg: Config, resume: bool, show_progress: bool) -> dict[str, Any]:
    """Train ``ensemble`` members (seeds seed + k) in OUTPUT/member_k and export the committee."""
    from mlip_lammps.models.committee import CommitteeModel

    t = cfg.training
    out = Path(cfg.output)
    members, member_metrics = [], []
    for k in range(t.ensemble):
        mcfg = cfg.model_copy(deep=True)
        mcfg.output = out / f"member_{k}"
        mcfg.training.ensemble = 1
        mcfg.training.seed = t.seed + k
        done = (mcfg.output / cfg.export.filename).is_file()
        if not done:  # a finished member is kept when a committee run is resumed
            member_resume = resume and (mcfg.output / "checkpoint.pt").is_file()
            member_metrics.append(train(mcfg, resume=member_resume, show_progress=show_progress))
        model, species, _ = model_from_checkpoint(mcfg.output / "checkpoint.pt")
        members.append(model)
    committee = CommitteeModel(members).eval()
    dtype = next(committee.parameters()).dtype
    metrics: dict[str, Any] = {"ensemble": t.ensemble, "rank": 0, "epochs": None}
    for name, path in (("valid", None), ("test", cfg.data.test)):
        if path is None:
            continue
        g = [x.to(dtype) for x in graphs_from_atoms(read_structures(path), species, cfg.model.cutoff, source=str(path))]
        metrics[name] = summarize(predictions(committee, g), species)
    training_info = {"ensemble": t.ensemble, "member_seeds": [t.seed + k for k in range(t.ensemble)]}
    if "test" in metrics:
        training_info["test_metrics"] = {k: v for k, v in metrics["test"].items() if not isinstance(v, dict)}
    export_model(committee, out / cfg.export.filename, species, cfg.model.architecture, cfg.model.hyperparameters(),
                 training_info, dtype=cfg.export.dtype)
    metrics["members"] = [m.get("test", m["valid"]) for m in member_metrics]
    atomic_write(out / "metrics.json", lambda p: Path(p).write_text(json.dumps(metrics, indent=2, default=str)))
    metrics.setdefault("valid", metrics.get("test", {}))
    return metrics


LOADAVG = Path("/proc/loadavg")  # Linux: its 4th field is "runnable tasks/all tasks" right now


def busy_cores(samples: int = 5, interval_s: float = 0.05) -> float | None:
    """Cores other processes keep busy now: the fewest runnable tasks besides this one over a few
    samples (/proc/loadavg; a process that just ended does not count, unlike in the load average),
    else the 1-minute load average; None where neither exists."""
    try:
        counts = []
        for k in range(samples):
            if k:
                time.sleep(interval_s)
            counts.append(int(LOADAVG.read_text().split()[3].split("/")[0]) - 1)
        return float(max(0, min(counts)))
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def default_threads() -> int:
    """Torch threads when training.threads is unset: torch's default (every core, or
    OMP_NUM_THREADS), less the cores other processes keep busy (busy_cores), at least 1. Threads
    that share a core with a busy process spin: one measured run went from 1.5 to 141 s per epoch."""
    n = torch.get_num_threads()
    busy = busy_cores()
    if busy is None or not hasattr(os, "sched_getaffinity"):
        return n
    return max(1, min(n, len(os.sched_getaffinity(0)) - round(busy)))


def _train(cfg: Config, resume: bool, show_progress: bool, stop: _StopRequest) -> dict[str, Any]:
    t = cfg.training
    rank, world = _distributed()
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    if t.threads:
        torch.set_num_threads(t.threads)
    elif (n := default_threads()) < torch.get_num_threads():
        if rank == 0:
            tqdm.write(f"training.threads not set: {n} torch thread(s), the cores other processes leave free; "
                       "set training.threads to choose")
        torch.set_num_threads(n)
    seed_everything(t.seed)
    dtype = {"float32": torch.float32, "float64": torch.float64}[t.dtype]
    if rank == 0:
        atomic_write(out / "config.yaml", lambda p: Path(p).write_text(yaml.safe_dump(json.loads(cfg.model_dump_json()), sort_keys=False)))

    train_frames = read_structures(cfg.data.train)
    ft = cfg.finetune
    if ft is not None and ft.replay is not None:
        train_frames = train_frames + replay_frames(read_structures(ft.replay), ft.replay_frames, t.seed)
    species = training_species(cfg, train_frames)
    cutoff = cfg.model.cutoff
    graphs = graphs_from_atoms(train_frames, species, cutoff, source=str(cfg.data.train))
    if cfg.data.valid is not None:
        train_graphs = graphs
        valid_graphs = graphs_from_atoms(read_structures(cfg.data.valid), species, cutoff, source=str(cfg.data.valid))
    else:
        tr, va = _split(len(graphs), cfg.data.valid_fraction, t.seed)
        train_graphs, valid_graphs = [graphs[i] for i in tr], [graphs[i] for i in va]
    train_graphs = [g.to(dtype) for g in train_graphs]
    valid_graphs = [g.to(dtype) for g in valid_graphs]

    hyper = cfg.model.hyperparameters()
    if cfg.model.init_from is not None:
        model = initial_model(cfg.model.init_from, cfg.model.architecture, hyper, species, train_graphs).to(dtype)
        e0 = base_model(model).species_energy.detach().double().cpu().numpy()
        if ft is not None:
            freeze(model, ft.freeze)
    else:
        model = build_model(cfg.model.architecture, len(species), hyper, species).to(dtype)
        if cfg.model.screening_from is not None:
            projected_screening(model, cfg.model.screening_from, species)
        if t.reference_energies is not None:
            missing = sorted(set(species) - set(t.reference_energies))
            if missing:
                raise ValueError(f"training.reference_energies lacks elements {missing}")
            e0 = np.array([t.reference_energies[s] for s in species])
        else:
            e0 = reference_energies(train_graphs, len(species))
        initialise_statistics(model, train_graphs, e0)
    constrained = constrained_modules(model)
    for module in constrained:  # a model from before the constraint (init_from) may break it
        module.project_()
    ema = EMA(model, t.ema_decay)
    trainable = [p for p in model.parameters() if p.requires_grad]  # all but fine-tuning's frozen ones
    optimizer = torch.optim.Adam(trainable, lr=t.lr)
    lr_scale = ft.lr_scale if ft is not None else 1.0
    steps_per_epoch = math.ceil(len(train_graphs) / t.batch_size)
    total_steps = t.max_epochs * steps_per_epoch

    def progress(elapsed_s: float) -> float:
        """Fraction of training done, ∈ [0, 1]: of max_epochs, and with schedule "time" of
        max_time_s if that comes first, so a wall-time budget still anneals."""
        p = state["step"] / max(1, total_steps)
        if t.schedule == "time" and t.max_time_s is not None:
            p = max(p, elapsed_s / t.max_time_s)
        return min(1.0, p)

    def learning_rate(p: float) -> float:
        return lr_scale * t.lr * (t.lr_final / t.lr) ** p  # exponential decay from lr to lr_final

    state: dict[str, Any] = {"epoch": 0, "step": 0, "best_valid": float("inf"), "best_epoch": 0, "history": [],
                             "elapsed_s": 0.0, "order": None, "batch": 0, "sums": None}
    best_state = copy.deepcopy(ema.model.state_dict())
    ckpt_path = out / "checkpoint.pt"
    if resume:
        if not ckpt_path.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {ckpt_path}")
        ck = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(ck["model"])
        ema.model.load_state_dict(ck["ema"])
        optimizer.load_state_dict(ck["optimizer"])
        best_state = ck["best_model"]
        state = ck["state"]
        torch.set_rng_state(ck["torch_rng"])
        np.random.set_state(ck["numpy_rng"])
        random.setstate(ck["python_rng"])

    def save_checkpoint() -> None:
        if rank != 0:
            return
        ck = {
            "model": model.state_dict(),
            "ema": ema.model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "best_model": best_state,
            "state": state,
            "species": species,
            "config": json.loads(cfg.model_dump_json()),
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": np.random.get_state(),
            "python_rng": random.getstate(),
        }
        atomic_write(ckpt_path, lambda p: torch.save(ck, p))

    # validation losses under the final weights: with scheduled weights, earlier epochs weighed by
    # their own (smaller) weights would win the comparison and keep an early model as the best
    valid_w_e, valid_w_f, valid_w_s = loss_weights(cfg, 1.0)
    start = time.perf_counter() - state["elapsed_s"]
    bar = tqdm(total=t.max_epochs, initial=state["epoch"], desc="training", unit="epoch", disable=not show_progress or rank != 0)
    stopped_early = False
    while state["epoch"] < t.max_epochs and not stopped_early:
        model.train()
        if state["order"] is None:  # a new epoch (a resumed one keeps its order and position)
            state["order"] = torch.randperm(len(train_graphs)).tolist()
            state["batch"] = 0
            state["sums"] = {"e": 0.0, "f": 0.0, "s": 0.0, "ne": 0, "nf": 0, "ns": 0}
        order, sums = state["order"], state["sums"]
        while state["batch"] < steps_per_epoch:
            k = state["batch"] * t.batch_size
            members = order[k : k + t.batch_size]
            share = members[rank * len(members) // world : (rank + 1) * len(members) // world]
            p = progress(time.perf_counter() - start)
            w_e, w_f, w_s = loss_weights(cfg, p)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(p)
            optimizer.zero_grad(set_to_none=True)
            if share:
                sq, counts = loss_sums(model, collate([train_graphs[i] for i in share]), t.config_type_weights)
            else:
                sq, counts = {key: torch.zeros((), dtype=dtype) for key in "efs"}, {"e": 0, "f": 0, "s": 0}
            wq = {k: sq.get("w" + k, sq[k]) for k in "efs"}
            n = torch.tensor([counts["e"], counts["f"], counts["s"]], dtype=dtype)
            if world > 1:
                _allreduce([n])
            ne, nf, ns = (max(1.0, float(x)) for x in n)
            loss = w_e * wq["e"] / ne + w_f * wq["f"] / nf + w_s * wq["s"] / ns
            if share:
                loss.backward()
            if world > 1:
                grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in trainable]
                _allreduce(grads)
                for p, g in zip(trainable, grads):
                    p.grad = g
            if t.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)
            optimizer.step()
            for module in constrained:
                module.project_()
            ema.update(model, state["step"])
            state["step"] += 1
            state["batch"] += 1
            part = torch.tensor([float(sq["e"].detach()), float(sq["f"].detach()), float(sq["s"].detach())], dtype=torch.float64)
            if world > 1:
                _allreduce([part])
            for key, v, nk, c in zip("efs", part.tolist(), ("ne", "nf", "ns"), (ne, nf, ns)):
                sums[key] += v
                sums[nk] += int(c)
            if stop.signal is not None:
                state["elapsed_s"] = time.perf_counter() - start
                save_checkpoint()
                bar.close()
                raise TrainingInterrupted(
                    f"stopped by signal {stop.signal} at epoch {state['epoch']} step {state['step']}; "
                    f"checkpoint {ckpt_path} written: continue with --resume"
                )
        state["epoch"] += 1
        state["order"] = None
        ema.model.eval()
        v = summarize(predictions(ema.model, valid_graphs))
        p = progress(time.perf_counter() - start)
        v_loss = (valid_w_e * (v["energy_rmse_meV_per_atom"] / 1e3) ** 2
                  + valid_w_f * (v["forces_rmse_meV_per_A"] / 1e3) ** 2)
        if math.isfinite(v["stress_rmse_GPa"]):
            v_loss += valid_w_s * v["stress_rmse_GPa"] ** 2
        if not math.isfinite(v_loss):
            raise FloatingPointError(f"validation loss is {v_loss} at epoch {state['epoch']}: lower training.lr")
        row = {
            "epoch": state["epoch"],
            "lr": learning_rate(p),
            "train_energy_rmse_meV_per_atom": 1e3 * math.sqrt(sums["e"] / max(1, sums["ne"])),
            "train_forces_rmse_meV_per_A": 1e3 * math.sqrt(sums["f"] / max(1, sums["nf"])),
            "train_stress_rmse_GPa": math.sqrt(sums["s"] / max(1, sums["ns"])),
            "valid_energy_rmse_meV_per_atom": v["energy_rmse_meV_per_atom"],
            "valid_forces_rmse_meV_per_A": v["forces_rmse_meV_per_A"],
            "valid_stress_rmse_GPa": v["stress_rmse_GPa"],
            "valid_loss": v_loss,
        }
        state["history"].append(row)
        if v_loss < state["best_valid"]:
            state["best_valid"] = v_loss
            state["best_epoch"] = state["epoch"]
            best_state = copy.deepcopy(ema.model.state_dict())
        elif t.patience is not None and state["epoch"] - state["best_epoch"] >= t.patience:
            stopped_early = True
        state["elapsed_s"] = time.perf_counter() - start
        if state["epoch"] % t.checkpoint_every_epochs == 0 or state["epoch"] == t.max_epochs or stopped_early:
            save_checkpoint()
        bar.set_postfix(E=f"{row['valid_energy_rmse_meV_per_atom']:.2f}", F=f"{row['valid_forces_rmse_meV_per_A']:.1f}", S=f"{row['valid_stress_rmse_GPa']:.3f}")
        bar.update(1)
        if t.max_time_s is not None and state["elapsed_s"] > t.max_time_s:
            save_checkpoint()
            break
    bar.close()

    best = copy.deepcopy(ema.model)
    best.load_state_dict(best_state)
    best.eval()
    summary = {
        "train_data": data_summary(train_graphs, species, cfg.data.train),
        "valid_data": data_summary(valid_graphs, species, cfg.data.valid or cfg.data.train),
        "epochs": state["epoch"],
        "best_epoch": state["best_epoch"],
        "stopped_early": stopped_early,
        "training_time_s": round(state["elapsed_s"], 1),
        "processes": world,
        "reference_energies_eV": dict(zip(species, map(float, e0))),
    }
    metrics: dict[str, Any] = {"valid": summarize(predictions(best, valid_graphs), species), **summary, "rank": rank}
    if rank != 0:
        return metrics
    if cfg.data.test is not None:
        test_graphs = [g.to(dtype) for g in graphs_from_atoms(read_structures(cfg.data.test), species, cutoff, source=str(cfg.data.test))]
        p_test = predictions(best, test_graphs)
        metrics["test"] = summarize(p_test, species)
    else:
        p_test = predictions(best, valid_graphs)
    if ft is not None and ft.old_test is not None:  # forgetting: the original test set
        old = [g.to(dtype) for g in graphs_from_atoms(read_structures(ft.old_test), species, cutoff, source=str(ft.old_test))]
        metrics["old_test"] = summarize(predictions(best, old), species)
    training_info = {k: summary[k] for k in ("train_data", "epochs", "training_time_s", "reference_energies_eV")}
    training_info["valid_metrics"] = {k: v for k, v in metrics["valid"].items() if not isinstance(v, dict)}
    if "test" in metrics:
        training_info["test_metrics"] = {k: v for k, v in metrics["test"].items() if not isinstance(v, dict)}
    export_model(best, out / cfg.export.filename, species, cfg.model.architecture, hyper, training_info, dtype=cfg.export.dtype)
    atomic_write(out / "metrics.json", lambda p: Path(p).write_text(json.dumps(metrics, indent=2)))
    _write_history(out, state["history"])
    from mlip_lammps.training.plots import parity_plot, training_curves

    training_curves(state["history"], out / "training_curves.png")
    parity_plot(p_test, out / "parity.png", species, title="test" if cfg.data.test else "validation")
    return metrics


def _write_history(out: Path, history: list[dict]) -> None:
    if not history:
        return
    keys = list(history[0])
    lines = [",".join(keys)] + [",".join(f"{row[k]:.6g}" for k in keys) for row in history]
    atomic_write(out / "history.csv", lambda p: Path(p).write_text("\n".join(lines) + "\n"))
