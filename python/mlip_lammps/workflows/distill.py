"""``mlip distill``: distil a teacher into a fast student potential by committee-driven active learning.

The teacher is any labeller of ``mlip label``: a foundation model (``sevenn:7net-0``, ``chgnet``),
an exported mlip model, or a classical LAMMPS potential. One YAML file (``DistillConfig``) gives
the chemistry and the student; the loop is

0. *candidates*: for every system (lattice, composition, teacher lattice constant), cells scaled
   around equilibrium, randomly strained, thermally rattled (σ² = c·T per direction) at several
   temperatures in thermally expanded cells, with vacancies, and liquid-like cells (expanded and
   strongly displaced); the teacher labels them (frames it cannot handle are rejected with the
   reason, as in ``mlip label``).
1. *train*: a committee of ``committee`` default-architecture students (``mlip-train --ensemble``)
   on everything labelled so far (plus ``initial_data``); its errors on ``test`` are logged.
2. *explore*: LAMMPS MD (``pair_style mlip`` with the committee, NPT at each temperature, from the
   perfect crystal of every system) records every ``every`` steps a frame and the committee's
   maximum per-atom force deviation (the plugin's ``out_freq``/``out_file``).
3. *select*: frames with ``trust_lo ≤ deviation < trust_hi`` are candidates (below: the committee
   agrees; above: unphysical); the ``select`` most uncertain ones, spread over the MD runs and
   apart in time, go to the teacher (``selection: random`` picks at random among frames below
   ``trust_hi`` instead: the baseline of the learning curve). Back to 1.

It stops when at most ``converged_fraction`` of the fresh MD frames reach ``trust_lo`` (the
committee trusts the student everywhere it went), when the teacher budget is spent, or after
``iterations``. Every stage writes its result atomically under ``OUTPUT/iter_NNN/`` and is
skipped when re-run, so an interrupted run resumes. ``OUTPUT/distill.json`` logs each iteration
(teacher calls, test errors, deviation statistics) and ``OUTPUT/distill.png`` plots the
deviation histograms and the learning curve. Units: eV, Å, K, fs, bar.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path
from typing import Literal, Optional

import ase.io
import numpy as np
import yaml
from ase import Atoms
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm.auto import tqdm

from mlip_lammps.fileio import atomic_write


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeacherSpec(_Strict):
    spec: Optional[str] = Field(None, description="sevenn[:MODEL], chgnet or package.module:factory")
    potential: Optional[Path] = Field(None, description="an exported mlip model")
    pair_style: Optional[str] = Field(None, description="a classical LAMMPS potential, e.g. eam/alloy")
    pair_coeff: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one(self) -> "TeacherSpec":
        if sum(x is not None for x in (self.spec, self.potential, self.pair_style)) != 1:
            raise ValueError("give exactly one of spec, potential, pair_style")
        return self


class SystemSpec(_Strict):
    structure: str = Field(description="LATTICE:ELEMENTS, e.g. rocksalt:ZrC, fcc:Cu, b2:CuZr")
    composition: Optional[str] = Field(None, description="random solid solution, e.g. HfNbTaTiZr (rocksalt: metal sites)")
    lattice_constant: float = Field(gt=0, description="the teacher's equilibrium lattice constant (Å)")
    repeats: tuple[int, int, int] = (2, 2, 2)
    vacancy_species: Optional[str] = Field(None, description="element whose sites are emptied in vacancy frames (default: any)")


class CandidateSpec(_Strict):
    scales: list[float] = Field([0.97, 1.0, 1.03], description="uniform scalings of the perfect cell")
    n_strained: int = Field(2, ge=0, description="random symmetric strains (±strain) per system, with a 0.02 Å rattle")
    strain: float = Field(0.03, ge=0)
    temperatures: list[float] = Field([1000.0, 2000.0, 3000.0], description="K: thermally rattled cells")
    rattle_msd_per_K: float = Field(1.0e-5, gt=0, description="Å²/K: displacement variance per direction per kelvin")
    thermal_expansion: float = Field(7.0e-6, ge=0, description="1/K, linear, from 300 K")
    n_vacancy: int = Field(1, ge=0, description="rattled cells (at the middle temperature) with 1-2 vacancies, per system")
    n_liquid: int = Field(1, ge=0, description="liquid-like cells per system: +12% volume, 0.4 Å displacements")
    seed: int = 0


class ExploreSpec(_Strict):
    temperatures: list[float] = Field(description="K: one NPT run per system and temperature")
    steps: int = Field(2000, ge=1)
    every: int = Field(50, ge=1, description="steps between recorded frames")
    timestep_fs: float = Field(1.0, gt=0)
    pressure_bar: float = 0.0
    threads: int = Field(1, ge=1)


class ActiveLearningSpec(_Strict):
    iterations: int = Field(4, ge=1, description="training rounds at most (the last one is not explored)")
    committee: int = Field(3, ge=2, description="committee members (seeds seed, seed+1, ...)")
    select: int = Field(20, ge=1, description="frames sent to the teacher per iteration")
    selection: Literal["deviation", "random"] = "deviation"
    trust_lo: float = Field(0.1, gt=0, description="eV/Å: frames whose max force deviation is below are trusted")
    trust_hi: float = Field(1.0, gt=0, description="eV/Å: frames above are unphysical and never selected")
    converged_fraction: float = Field(0.02, ge=0, le=1)
    teacher_budget: int = Field(1000, ge=1, description="teacher calls (frames) in all")
    min_gap_steps: int = Field(100, ge=0, description="selected frames of one MD run are at least this far apart")
    seed: int = 0


class DistillConfig(_Strict):
    output: Path = Path("runs/distill")
    teacher: TeacherSpec
    systems: list[SystemSpec] = Field(min_length=1)
    candidates: CandidateSpec = Field(default_factory=CandidateSpec)
    explore: ExploreSpec
    active_learning: ActiveLearningSpec = Field(default_factory=ActiveLearningSpec)
    initial_data: list[Path] = Field(default_factory=list, description="labelled frames added to every training set")
    test: Optional[Path] = Field(None, description="labelled test frames: errors after each training")
    student: dict = Field(default_factory=dict, description="mlip-train `model:` and `training:` sections")
    max_force: float = Field(50.0, gt=0, description="eV/Å: teacher frames with larger forces are rejected")
    min_distance: float = Field(0.5, gt=0, description="Å: frames with closer atoms are not sent to the teacher")


class DistillError(ValueError):
    pass


def load_distill_config(path: str | Path, overrides: list[str] | None = None) -> DistillConfig:
    """Read and validate a distill YAML file; relative paths are taken from the file's folder."""
    from mlip_lammps.training.config import validate_with_overrides

    path = Path(path)
    if not path.is_file():
        raise DistillError(f"config file not found: {path}")
    raw = yaml.safe_load(path.read_text()) or {}
    cfg = validate_with_overrides(DistillConfig, raw, overrides, DistillError, "distill config")
    root = path.parent

    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else (root / p).resolve()

    cfg.output = resolve(cfg.output)
    cfg.initial_data = [resolve(p) for p in cfg.initial_data]
    cfg.test = resolve(cfg.test) if cfg.test else None
    if cfg.teacher.potential:
        cfg.teacher.potential = resolve(cfg.teacher.potential)
    return cfg


def elements_of(cfg: DistillConfig) -> list[str]:
    """Every element of the systems, in order of first appearance."""
    from mlip_lammps.workflows.structures import parse_structure

    out: list[str] = []
    for s in cfg.systems:
        out += [el for el in parse_structure(s.structure, s.composition).species if el not in out]
    return out


# ---------------------------------------------------------------------------------------------
# 0. candidates


def _perfect(system: SystemSpec, seed: int = 0) -> Atoms:
    from mlip_lammps.workflows.structures import build, parse_structure

    return build(parse_structure(system.structure, system.composition), system.repeats, system.lattice_constant, seed=seed)


def candidate_structures(cfg: DistillConfig) -> list[Atoms]:
    """Unlabelled starting structures (``info['config_type']``, ``info['system']``) for every system."""
    c = cfg.candidates
    rng = np.random.default_rng(c.seed)
    out: list[Atoms] = []

    def add(atoms: Atoms, kind: str, k: int, **info) -> None:
        atoms.info.update(config_type=kind, system=k, **info)
        out.append(atoms)

    for k, system in enumerate(cfg.systems):
        def cell(expand: float = 1.0) -> Atoms:
            a = _perfect(system, seed=int(rng.integers(1 << 30)))
            a.set_cell(a.cell.array * expand, scale_atoms=True)
            return a

        for s in c.scales:
            add(cell(s), "perfect", k)
        for _ in range(c.n_strained):
            a = cell()
            eps = rng.uniform(-c.strain, c.strain, (3, 3))
            eps = np.eye(3) + 0.5 * (eps + eps.T)
            a.set_cell(a.cell.array @ eps, scale_atoms=True)
            a.positions += rng.normal(0.0, 0.02, a.positions.shape)
            add(_lower_triangular(a), "strained", k)
        for t in c.temperatures:
            a = cell(1.0 + c.thermal_expansion * max(t - 300.0, 0.0))
            a.positions += rng.normal(0.0, np.sqrt(c.rattle_msd_per_K * t), a.positions.shape)
            add(a, "rattle", k, temperature=t)
        t_mid = float(np.median(c.temperatures)) if c.temperatures else 300.0
        for _ in range(c.n_vacancy):
            a = cell(1.0 + c.thermal_expansion * max(t_mid - 300.0, 0.0))
            sites = np.flatnonzero(a.symbols == system.vacancy_species) if system.vacancy_species else np.arange(len(a))
            del a[sorted(rng.choice(sites, size=int(rng.integers(1, 3)), replace=False).tolist(), reverse=True)]
            a.positions += rng.normal(0.0, np.sqrt(c.rattle_msd_per_K * t_mid), a.positions.shape)
            add(a, "vacancy", k, temperature=t_mid)
        for _ in range(c.n_liquid):
            a = cell(1.12 ** (1 / 3))
            a.positions += rng.normal(0.0, 0.4, a.positions.shape)
            add(a, "liquid", k)
    for a in out:
        a.wrap()
    return out


def _lower_triangular(atoms: Atoms) -> Atoms:
    """The same crystal with its cell rotated into LAMMPS's lower-triangular form."""
    from ase.geometry import cellpar_to_cell

    a = atoms.copy()
    a.set_cell(cellpar_to_cell(atoms.cell.cellpar()), scale_atoms=True)
    return a


# ---------------------------------------------------------------------------------------------
# 1. train, 2. explore, 3. select


def _teacher(cfg: DistillConfig):
    from mlip_lammps.data.label import make_teacher

    t = cfg.teacher
    return make_teacher(t.spec, t.potential, t.pair_style, t.pair_coeff, elements_of(cfg))


def _label(frames: list[Atoms], out: Path, cfg: DistillConfig, teacher) -> dict:
    from mlip_lammps.data.label import label_frames

    calc, name = teacher()
    return label_frames(frames, calc, name, out, batch=16, max_force=cfg.max_force, min_distance=cfg.min_distance)


def _train(cfg: DistillConfig, folder: Path, train_files: list[Path]) -> dict:
    from mlip_lammps.training.config import ConfigError, load_config
    from mlip_lammps.training.trainer import train

    data = folder / "train.extxyz"
    if not data.is_file():
        frames = [a for f in train_files for a in ase.io.read(f, ":")]
        atomic_write(data, lambda p: ase.io.write(p, frames, format="extxyz"))
    student = dict(cfg.student)
    training = {**student.get("training", {}), "ensemble": cfg.active_learning.committee}
    base = {**student, "output": str(folder / "train"), "training": training,
            "data": {"train": str(data), "test": str(cfg.test) if cfg.test else None, "species": elements_of(cfg)}}
    try:
        tcfg = load_config(None, base=base)
    except ConfigError as exc:
        raise DistillError(f"student: {exc}") from None
    model = tcfg.output / tcfg.export.filename
    metrics_file = tcfg.output / "metrics.json"
    if not (model.is_file() and metrics_file.is_file()):
        train(tcfg, resume=any((tcfg.output / f"member_{k}").is_dir() for k in range(training["ensemble"])),
              show_progress=True)
    return json.loads(metrics_file.read_text())


def _explore(cfg: DistillConfig, model: Path, folder: Path) -> list[dict]:
    """MD with the committee from every system's crystal at every temperature; returns one record
    per recorded frame: run, step, max force deviation (eV/Å), and the frame."""
    from mlip_lammps.lammps import run_lammps, write_data

    e = cfg.explore
    species = elements_of(cfg)
    runs = [(k, t) for k in range(len(cfg.systems)) for t in e.temperatures]
    records: list[dict] = []
    for k, t in tqdm(runs, desc="exploring (MD)", unit="run"):
        d = folder / f"system{k}_T{t:g}"
        d.mkdir(parents=True, exist_ok=True)
        if not (d / "done").is_file():
            write_data(_perfect(cfg.systems[k], seed=k), d / "start.lmp", species)
            seed = 1000 + 17 * k + int(t) % 997
            (d / "in.lammps").write_text("\n".join([
                "units metal", "atom_style atomic", "boundary p p p", "read_data start.lmp",
                f"pair_style mlip {model} threads {e.threads} out_freq {e.every} out_file devi.out",
                f"pair_coeff * * {' '.join(species)}",
                "neighbor 1.0 bin", f"timestep {e.timestep_fs / 1000:g}",
                f"velocity all create {t:g} {seed} mom yes rot yes dist gaussian",
                f"fix md all npt temp {t:g} {t:g} {100 * e.timestep_fs / 1000:g} iso {e.pressure_bar:g} {e.pressure_bar:g} "
                f"{1000 * e.timestep_fs / 1000:g}",
                f"dump traj all custom {e.every} traj.dump id element x y z",
                f"dump_modify traj element {' '.join(species)} sort id",
                "thermo 100", f"run {e.steps}", ""]))
            proc = run_lammps("in.lammps", cwd=d, threads=e.threads, check=False)
            # a run that blows up (atoms too close) still yields the frames up to there
            status = "finished" if proc.returncode == 0 else "stopped: " + " ".join(
                l for l in (proc.stdout + proc.stderr).splitlines() if "ERROR" in l)[:300]
            atomic_write(d / "done", lambda p: Path(p).write_text(status))
        devi = {int(r[0]): float(r[1]) for r in _read_table(d / "devi.out")}
        frames = ase.io.read(d / "traj.dump", ":", format="lammps-dump-text") if (d / "traj.dump").is_file() else []
        for j, atoms in enumerate(frames):
            step = j * e.every
            if step not in devi:
                continue
            atoms.pbc = True
            atoms.calc = None
            atoms.info.update(config_type="md", system=k, temperature=t, md_step=step)
            records.append({"run": f"system{k}_T{t:g}", "step": step, "deviation": devi[step], "atoms": atoms})
    return records


def _read_table(path: Path) -> np.ndarray:
    """Rows of a whitespace table with # comments; none when the file is missing or empty."""
    import warnings

    if not path.is_file():
        return np.zeros((0, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "input contained no data"
        return np.loadtxt(path, comments="#", ndmin=2)


def select(records: list[dict], al: ActiveLearningSpec, n: int, seed: int) -> list[dict]:
    """The frames to label: the ``n`` most uncertain candidates (``trust_lo ≤ dev < trust_hi``),
    taken round-robin over the MD runs and at least ``min_gap_steps`` apart within a run; or, with
    ``selection: random``, ``n`` random frames below ``trust_hi``."""
    ok = [r for r in records if r["deviation"] < al.trust_hi]
    if al.selection == "random":
        rng = np.random.default_rng(seed)
        return [ok[i] for i in sorted(rng.choice(len(ok), size=min(n, len(ok)), replace=False))]
    by_run: dict[str, list[dict]] = {}
    for r in sorted((r for r in ok if r["deviation"] >= al.trust_lo), key=lambda r: -r["deviation"]):
        by_run.setdefault(r["run"], []).append(r)
    chosen: list[dict] = []
    while len(chosen) < n and any(by_run.values()):
        for run in sorted(by_run, key=lambda k: -by_run[k][0]["deviation"] if by_run[k] else 0.0):
            queue = by_run[run]
            while queue:
                r = queue.pop(0)
                if all(abs(r["step"] - c["step"]) >= al.min_gap_steps for c in chosen if c["run"] == run):
                    chosen.append(r)
                    break
            if len(chosen) >= n:
                break
    return chosen


def deviation_stats(records: list[dict], al: ActiveLearningSpec) -> dict:
    dev = np.array([r["deviation"] for r in records])
    n = max(len(dev), 1)
    return {"n_frames": int(len(dev)),
            "accurate_fraction": float((dev < al.trust_lo).sum() / n),
            "candidate_fraction": float(((dev >= al.trust_lo) & (dev < al.trust_hi)).sum() / n),
            "failed_fraction": float((dev >= al.trust_hi).sum() / n),
            "max_deviation_eV_per_A": {"median": float(np.median(dev)) if len(dev) else None,
                                       "p90": float(np.percentile(dev, 90)) if len(dev) else None,
                                       "max": float(dev.max()) if len(dev) else None}}


# ---------------------------------------------------------------------------------------------


def run_distill(cfg: DistillConfig) -> dict:
    """The active-learning loop (resumable); returns the log written to ``OUTPUT/distill.json``."""
    out = cfg.output
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "config.yaml", lambda p: Path(p).write_text(yaml.safe_dump(json.loads(cfg.model_dump_json()), sort_keys=False)))
    al = cfg.active_learning
    teacher = functools.cache(lambda: _teacher(cfg))  # loaded once, and only if something is labelled
    log: dict = {"teacher": None, "selection": al.selection, "iterations": [], "stopped": None}
    labelled_files: list[Path] = []
    calls = 0
    n_train = sum(len(ase.io.read(f, ":")) for f in cfg.initial_data)
    t0 = time.perf_counter()
    for it in range(al.iterations):
        d = out / f"iter_{it:03d}"
        d.mkdir(exist_ok=True)
        entry: dict = {"iteration": it}
        # label this iteration's new frames (candidates at 0, selected MD frames later)
        todo = d / "to_label.extxyz"
        if it == 0 and not todo.is_file():
            atomic_write(todo, lambda p: ase.io.write(p, candidate_structures(cfg), format="extxyz"))
        report_file = d / "labelled.extxyz.report.json"
        if not report_file.is_file():
            _label(ase.io.read(todo, ":"), d / "labelled.extxyz", cfg, teacher)
        report = json.loads(report_file.read_text())
        log["teacher"] = report["teacher"]
        calls += report["n_input"]
        n_train += report["n_labelled"]
        labelled_files.append(d / "labelled.extxyz")
        entry.update(new_frames=report["n_labelled"], rejected=report["rejected_reasons"], teacher_calls=calls)

        metrics = _train(cfg, d, cfg.initial_data + labelled_files)
        entry["n_train_frames"] = n_train
        if "test" in metrics:
            entry["test"] = {k: v for k, v in metrics["test"].items() if not isinstance(v, dict)}
        entry["model"] = str(d / "train" / "model.pt")
        log["iterations"].append(entry)

        if it == al.iterations - 1:
            log["stopped"] = f"{al.iterations} iterations done"
            break
        if calls >= al.teacher_budget:
            log["stopped"] = f"teacher budget spent ({calls} of {al.teacher_budget} calls)"
            break
        records = _explore(cfg, d / "train" / "model.pt", d / "explore")
        entry["deviation"] = deviation_stats(records, al)
        np.save(d / "deviations.npy", np.array([r["deviation"] for r in records]))
        if entry["deviation"]["candidate_fraction"] + entry["deviation"]["failed_fraction"] <= al.converged_fraction:
            log["stopped"] = f"converged: {entry['deviation']['accurate_fraction']:.1%} of fresh MD frames below trust_lo"
            break
        nxt = out / f"iter_{it + 1:03d}" / "to_label.extxyz"
        if not nxt.is_file():
            chosen = select(records, al, min(al.select, al.teacher_budget - calls), seed=al.seed + it)
            if not chosen:
                log["stopped"] = "no frame left to select"
                break
            nxt.parent.mkdir(exist_ok=True)
            for r in chosen:
                r["atoms"].info["committee_deviation"] = r["deviation"]
            atomic_write(nxt, lambda p: ase.io.write(p, [r["atoms"] for r in chosen], format="extxyz"))
        entry["selected"] = len(ase.io.read(nxt, ":"))
        _write_log(out, log)
    log["final_model"] = log["iterations"][-1]["model"]
    log["wall_time_s"] = round(time.perf_counter() - t0, 1)
    _write_log(out, log)
    plot_distill(out, log, al)
    return log


def _write_log(out: Path, log: dict) -> None:
    atomic_write(out / "distill.json", lambda p: Path(p).write_text(json.dumps(log, indent=2)))


def plot_distill(out: Path, log: dict, al: ActiveLearningSpec) -> None:
    """Deviation histograms per iteration and test force RMSE vs teacher calls."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    bins = np.logspace(-3, 1, 41)
    for e in log["iterations"]:
        f = out / f"iter_{e['iteration']:03d}" / "deviations.npy"
        if f.is_file():
            ax1.hist(np.load(f), bins=bins, histtype="step", label=f"iteration {e['iteration']}")
    for x, name in ((al.trust_lo, "trust_lo"), (al.trust_hi, "trust_hi")):
        ax1.axvline(x, color="k", ls="--", lw=0.8)
        ax1.text(x, ax1.get_ylim()[1] * 0.95, name, rotation=90, va="top", ha="right", fontsize=8)
    ax1.set(xscale="log", xlabel="max committee force deviation of an MD frame (eV/Å)", ylabel="frames",
            title="exploration")
    ax1.legend(fontsize=8)
    pts = [(e["teacher_calls"], e["test"]["forces_rmse_meV_per_A"]) for e in log["iterations"] if "test" in e]
    if pts:
        ax2.plot(*zip(*pts), "o-")
    ax2.set(xlabel="teacher calls (frames)", ylabel="test force RMSE (meV/Å)", title=f"learning curve ({log['selection']})")
    fig.tight_layout()
    atomic_write(out / "distill.png", lambda p: fig.savefig(p, dpi=120, format="png"))
    plt.close(fig)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("config", help="distill YAML file (see docs/workflows.md)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a setting, e.g. --set active_learning.iterations=2 (repeatable)")


def main(args: argparse.Namespace) -> int:
    cfg = load_distill_config(args.config, args.overrides)
    log = run_distill(cfg)
    last = log["iterations"][-1]
    print(f"{len(log['iterations'])} iteration(s), {last['teacher_calls']} teacher calls; stopped: {log['stopped']}")
    if "test" in last:
        print(f"test: E {last['test']['energy_rmse_meV_per_atom']:.2f} meV/atom, F {last['test']['forces_rmse_meV_per_A']:.1f} meV/Å")
    print(f"student committee: {log['final_model']}; log {cfg.output / 'distill.json'}, plot {cfg.output / 'distill.png'}")
    return 0
