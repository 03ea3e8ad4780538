"""mlip-train: outputs, config validation, determinism, exact resume, CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
import torch

from conftest import DATA, export_random
from mlip_lammps import MLIPCalculator
from mlip_lammps.contract import load_model
from mlip_lammps.training.config import ConfigError, load_config
from mlip_lammps.training.trainer import initial_model, train


def _cfg(out, **training):
    base = {
        "output": str(out),
        "data": {"train": str(DATA / "cu.extxyz"), "valid_fraction": 0.25},
        "model": {"cutoff": 4.5, "cutoff_angular": 4.0, "n_radial": 4, "n_angular": 3, "hidden": [8]},
        "training": {"max_epochs": 2, "batch_size": 3, "dtype": "float64", "threads": 1, **training},
    }
    return load_config(None, base=base)


def test_train_writes_outputs_and_exported_model_reproduces_metrics(tmp_path):
    metrics = train(_cfg(tmp_path / "run"), show_progress=False)
    run = tmp_path / "run"
    for name in ("model.pt", "metrics.json", "config.yaml", "checkpoint.pt", "history.csv", "training_curves.png", "parity.png"):
        assert (run / name).is_file(), name
    assert metrics["epochs"] == 2
    assert len((run / "history.csv").read_text().splitlines()) == 3
    model, meta = load_model(run / "model.pt")
    assert meta.species == ["Cu"] and meta.cutoff == 4.5 and meta.dtype == "float64"
    assert meta.training["train_data"]["n_frames"] == 9
    # the exported file gives the validation errors the trainer reported
    from mlip_lammps.data.dataset import graphs_from_atoms, read_structures
    from mlip_lammps.training.metrics import predictions, summarize

    frames = read_structures(DATA / "cu.extxyz")
    cfg = _cfg(tmp_path / "run")
    from mlip_lammps.training.trainer import _split

    _, va = _split(len(frames), 0.25, 0)
    graphs = graphs_from_atoms([frames[i] for i in va], ["Cu"], 4.5)
    s = summarize(predictions(model, graphs))
    assert s["forces_rmse_meV_per_A"] == pytest.approx(metrics["valid"]["forces_rmse_meV_per_A"], rel=1e-9)
    atoms = frames[0].copy()
    atoms.calc = MLIPCalculator(run / "model.pt")
    assert abs(atoms.get_potential_energy() / len(atoms) - frames[0].get_potential_energy() / len(atoms)) < 0.5


def _params(path):
    return torch.load(path, weights_only=False)["model"]


def test_same_seed_same_model(tmp_path):
    train(_cfg(tmp_path / "a"), show_progress=False)
    train(_cfg(tmp_path / "b"), show_progress=False)
    pa, pb = _params(tmp_path / "a" / "checkpoint.pt"), _params(tmp_path / "b" / "checkpoint.pt")
    assert all(torch.equal(pa[k], pb[k]) for k in pa)
    train(_cfg(tmp_path / "c", seed=1), show_progress=False)
    pc = _params(tmp_path / "c" / "checkpoint.pt")
    assert not all(torch.equal(pa[k], pc[k]) for k in pa)


def test_resume_continues_exactly(tmp_path):
    train(_cfg(tmp_path / "full", max_epochs=3), show_progress=False)
    # interrupted after one epoch (max_time_s tiny), then resumed to the same total
    train(_cfg(tmp_path / "part", max_epochs=3, max_time_s=1e-9), show_progress=False)
    ck = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)
    assert ck["state"]["epoch"] == 1
    train(_cfg(tmp_path / "part", max_epochs=3), resume=True, show_progress=False)
    pa, pb = _params(tmp_path / "full" / "checkpoint.pt"), _params(tmp_path / "part" / "checkpoint.pt")
    for k in pa:
        torch.testing.assert_close(pb[k], pa[k], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "override, message",
    [
        ("training.bogus=1", "training.bogus: Extra inputs are not permitted"),
        ("training.lr=-1", "training.lr"),
        ("model.cutoff_angular=9.0", "cutoff_angular"),
        ("model.architecture=xyz", "model.architecture"),
        ("training.schedule=time", "schedule 'time' needs max_time_s"),
    ],
)
def test_config_errors_name_the_key(tmp_path, override, message):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(f"data:\n  train: {DATA / 'cu.extxyz'}\n")
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(cfg_file, [override])


def test_cli_train_and_eval(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(
        f"output: {tmp_path / 'run'}\ndata:\n  train: {DATA / 'cu.extxyz'}\n  test: {DATA / 'cu.extxyz'}\n"
        "model:\n  cutoff: 4.5\n  cutoff_angular: 4.0\n  hidden: [8]\ntraining:\n  max_epochs: 1\n  threads: 1\n"
    )
    proc = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.train", str(cfg_file), "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.main", "eval", str(tmp_path / "run" / "model.pt"), str(DATA / "cu.extxyz"), "--json"],
                          capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout)
    for key in ("energy_rmse_meV_per_atom", "forces_rmse_meV_per_A", "stress_rmse_GPa", "n_frames"):
        assert key in out
    assert out["n_frames"] == 12
    bad = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.train", str(tmp_path / "missing.yaml")], capture_output=True, text=True)
    assert bad.returncode == 2 and "config file not found" in bad.stderr


def _write_cfg(path, out, epochs, extra=""):
    path.write_text(
        f"output: {out}\ndata:\n  train: {DATA / 'cu.extxyz'}\n  valid_fraction: 0.25\n"
        "model:\n  cutoff: 4.5\n  cutoff_angular: 4.0\n  n_radial: 4\n  n_angular: 3\n  hidden: [8]\n"
        f"training:\n  max_epochs: {epochs}\n  batch_size: 3\n  dtype: float64\n  threads: 1\n{extra}"
    )
    return path


def test_sigterm_checkpoints_and_resume_is_exact(tmp_path):
    import signal
    import time

    # 40 epochs; the signal goes out when the first epoch's checkpoint appears, with 39 to go
    # (a fixed delay let a fast machine finish first, and the test then tested nothing)
    full = _write_cfg(tmp_path / "full.yaml", tmp_path / "full", 40)
    part = _write_cfg(tmp_path / "part.yaml", tmp_path / "part", 40)
    subprocess.run([sys.executable, "-m", "mlip_lammps.cli.train", str(full), "--quiet"], check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "mlip_lammps.cli.train", str(part), "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "part" / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, f"exit {proc.returncode} (0: training finished before the signal arrived)\n{err}"
    assert "--resume" in err
    ck = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)
    assert ck["state"]["step"] >= 1
    subprocess.run([sys.executable, "-m", "mlip_lammps.cli.train", str(part), "--quiet", "--resume"], check=True, capture_output=True)
    pa, pb = _params(tmp_path / "full" / "checkpoint.pt"), _params(tmp_path / "part" / "checkpoint.pt")
    for k in pa:
        torch.testing.assert_close(pb[k], pa[k], rtol=1e-12, atol=1e-14)


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    """A crash in the middle of writing leaves the previous checkpoint intact and loadable."""
    from mlip_lammps.fileio import atomic_write

    target = tmp_path / "checkpoint.pt"
    torch.save({"ok": 1}, target)

    def crash(tmp):
        with open(tmp, "wb") as f:
            f.write(b"partial")
        raise KeyboardInterrupt("killed while saving")

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, crash)
    assert torch.load(target) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_time_schedule_anneals_within_the_wall_time_budget(tmp_path):
    # a budget far shorter than max_epochs: the learning rate still reaches lr_final at the end
    metrics = train(_cfg(tmp_path / "t", max_epochs=1000, max_time_s=1.0, schedule="time", lr=1e-2, lr_final=1e-4),
                    show_progress=False)
    assert metrics["epochs"] < 1000
    last_lr = float((tmp_path / "t" / "history.csv").read_text().splitlines()[-1].split(",")[1])
    assert last_lr == pytest.approx(1e-4)


def test_best_model_is_chosen_under_the_final_loss_weights(tmp_path):
    # a steep energy-weight ramp: judged by each epoch's own weights, the first epochs (weighted
    # lightly) would stay the best however much the model improves afterwards
    cfg = _cfg(tmp_path / "ramp", max_epochs=8, lr=2e-2, lr_final=2e-3, energy_weight=0.01, energy_weight_final=1000.0)
    m = train(cfg, show_progress=False)
    with open(tmp_path / "ramp" / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    final = [1000.0 * (float(r["valid_energy_rmse_meV_per_atom"]) / 1e3) ** 2
             + 10.0 * (float(r["valid_forces_rmse_meV_per_A"]) / 1e3) ** 2 + float(r["valid_stress_rmse_GPa"]) ** 2
             for r in rows]
    assert [float(r["valid_loss"]) for r in rows] == pytest.approx(final, rel=1e-4)  # history.csv keeps 6 digits
    assert m["best_epoch"] == 1 + min(range(len(final)), key=final.__getitem__)
    assert m["best_epoch"] > 1


def test_early_stopping_and_given_reference_energies(tmp_path):
    cfg = _cfg(tmp_path / "es", max_epochs=50, patience=1, lr=0.5, reference_energies={"Cu": -3.5})
    m = train(cfg, show_progress=False)
    assert m["stopped_early"] and m["epochs"] < 50
    assert m["reference_energies_eV"] == {"Cu": -3.5}
    with pytest.raises(ValueError, match="lacks elements"):
        train(_cfg(tmp_path / "bad", reference_energies={"Zr": -6.0}), show_progress=False)


def test_torchrun_two_processes_equal_one(tmp_path):
    """Data parallel: 2 processes train to the same parameters as 1 (up to round-off)."""
    one = _write_cfg(tmp_path / "one.yaml", tmp_path / "one", 2)
    two = _write_cfg(tmp_path / "two.yaml", tmp_path / "two", 2)
    subprocess.run([sys.executable, "-m", "mlip_lammps.cli.train", str(one), "--quiet"], check=True, capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29533",
                           "-m", "mlip_lammps.cli.train", str(two), "--quiet"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pa, pb = _params(tmp_path / "one" / "checkpoint.pt"), _params(tmp_path / "two" / "checkpoint.pt")
    for k in pa:
        torch.testing.assert_close(pb[k], pa[k], rtol=1e-9, atol=1e-11)
    assert json.loads((tmp_path / "two" / "metrics.json").read_text())["processes"] == 2


def test_ensemble_committee_export_and_force_deviation(tmp_path):
    from mlip_lammps.models.committee import CommitteeModel  # noqa: F401

    cfg = _cfg(tmp_path / "ens", max_epochs=1, ensemble=3)
    m = train(cfg, show_progress=False)
    assert m["ensemble"] == 3 and len(m["members"]) == 3
    model, meta = load_model(tmp_path / "ens" / "model.pt")
    assert meta.committee_size == 3
    frames = __import__("ase.io").io.read(DATA / "cu.extxyz", ":")
    atoms = frames[0].copy()
    atoms.calc = MLIPCalculator(tmp_path / "ens" / "model.pt")
    f = atoms.get_forces()
    dev = atoms.calc.results["force_deviation"]
    assert dev.shape == (len(atoms),) and (dev >= 0).all() and dev.max() > 0
    # the committee mean equals the mean of the members' exported forces
    member_f = []
    for k in range(3):
        a = frames[0].copy()
        a.calc = MLIPCalculator(tmp_path / "ens" / f"member_{k}" / "model.pt")
        member_f.append(a.get_forces())
    member_f = __import__("numpy").array(member_f)
    __import__("numpy").testing.assert_allclose(f, member_f.mean(0), atol=1e-12)
    expect = __import__("numpy").sqrt(((member_f - member_f.mean(0)) ** 2).sum(-1).mean(0))
    __import__("numpy").testing.assert_allclose(dev, expect, atol=1e-12)


def test_fine_tune_starts_from_exported_model(tmp_path):
    """model.init_from: training starts from the exported weights, normalisation and reference
    energies (with lr 0 the fine-tuned export equals the original), and a mismatch is named."""
    import torch

    from mlip_lammps.data.dataset import graphs_from_atoms, read_structures
    from mlip_lammps.contract import predict

    train(_cfg(tmp_path / "base"), show_progress=False)
    ft = _cfg(tmp_path / "ft", lr=1e-30, lr_final=1e-30, ema_decay=0.0)  # steps far below round-off
    ft.model.init_from = tmp_path / "base" / "model.pt"
    train(ft, show_progress=False)
    g = graphs_from_atoms(read_structures(DATA / "cu.extxyz")[:3], ["Cu"], 4.5)[0]
    a = predict(load_model(tmp_path / "base" / "model.pt")[0], g)
    b = predict(load_model(tmp_path / "ft" / "model.pt")[0], g)
    torch.testing.assert_close(b["energy"], a["energy"], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b["forces"], a["forces"], rtol=1e-12, atol=1e-12)
    bad = _cfg(tmp_path / "bad")
    bad.model.init_from = tmp_path / "base" / "model.pt"
    bad.model.l_max = 3  # not one a model can grow in (those: test_grown_model_...)
    with pytest.raises(ValueError, match="hyperparameters differ.*l_max 4 vs 3"):
        train(bad, show_progress=False)


def test_fine_tune_freezing_lr_scale_replay_and_old_test(tmp_path):
    """finetune: frozen descriptor coefficients stay bit-identical while the readout moves; replay
    frames join the training data; the original test set is reported next to the new one."""
    from mlip_lammps.export.reexport import rebuild_module

    train(_cfg(tmp_path / "base"), show_progress=False)
    base = tmp_path / "base" / "model.pt"
    ft = load_config(None, base={
        "output": str(tmp_path / "ft"),
        "data": {"train": str(DATA / "cu.extxyz"), "valid_fraction": 0.25, "test": str(DATA / "cu.extxyz")},
        "model": {"cutoff": 4.5, "cutoff_angular": 4.0, "n_radial": 4, "n_angular": 3, "hidden": [8], "init_from": str(base)},
        "training": {"max_epochs": 2, "batch_size": 3, "dtype": "float64", "threads": 1},
        "finetune": {"freeze": ["descriptor"], "lr_scale": 0.5, "replay": str(DATA / "cu.extxyz"), "replay_frames": 4,
                     "old_test": str(DATA / "cu.extxyz")},
    })
    metrics = train(ft, show_progress=False)
    before, _ = rebuild_module(base)
    after, meta = rebuild_module(tmp_path / "ft" / "model.pt")
    b, a = before.state_dict(), after.state_dict()
    assert torch.equal(a["c_radial"], b["c_radial"]) and torch.equal(a["c_angular"], b["c_angular"])
    assert not torch.equal(a["mlp.nets.0.0.weight"], b["mlp.nets.0.0.weight"])
    assert meta.training["train_data"]["n_frames"] == 9 + 3  # 12 frames + 4 replay, a quarter for validation
    assert metrics["old_test"]["n_frames"] == 12 and metrics["test"]["n_frames"] == 12
    hist = (tmp_path / "ft" / "history.csv").read_text().splitlines()
    lr0 = float(hist[1].split(",")[1])
    assert lr0 < 0.5 * 5e-3  # lr_scale halves the schedule (which starts at training.lr = 5e-3)


def test_linear_term_trains_and_older_exports_fine_tune(tmp_path):
    """model.linear_term: its per-species weights train and are exported with the model; a model
    exported before the key existed (no linear_term in its metadata) fine-tunes as linear_term false,
    or with the term switched on."""
    from mlip_lammps.export.reexport import rebuild_module

    cfg = _cfg(tmp_path / "lin")
    cfg.model.linear_term = True
    train(cfg, show_progress=False)
    model, meta = rebuild_module(tmp_path / "lin" / "model.pt")
    assert meta.hyperparameters["linear_term"] is True
    assert model.mlp.linear.shape == (1, 4 + 3 * 4) and model.mlp.linear.abs().max() > 0

    old_file = export_random(tmp_path / "old.pt", ["Cu"])  # conftest.SMALL: no linear_term key
    _, old = rebuild_module(old_file)
    assert "linear_term" not in old.hyperparameters
    ft = load_config(None, base={
        "output": str(tmp_path / "ft"),
        "data": {"train": str(DATA / "cu.extxyz"), "valid_fraction": 0.25},
        "model": {**old.hyperparameters, "init_from": str(old_file)},
        "training": {"max_epochs": 1, "batch_size": 3, "dtype": "float64", "threads": 1},
    })
    assert ft.model.linear_term is False
    assert train(ft, show_progress=False)["epochs"] == 1

    # switching the term on starts from the same model (zero weights) and trains them
    ft.model.linear_term = True
    start = initial_model(old_file, "nep", ft.model.hyperparameters(), ["Cu"])
    reference, _ = rebuild_module(old_file)
    x, s = torch.randn(5, start.mlp.linear.shape[1], dtype=torch.float64), torch.zeros(5, dtype=torch.long)
    assert torch.equal(start.mlp(x, s), reference.mlp(x, s)) and start.mlp.linear.abs().max() == 0
    train(ft, show_progress=False)
    model, meta = rebuild_module(tmp_path / "ft" / "model.pt")
    assert meta.hyperparameters["linear_term"] is True and model.mlp.linear.abs().max() > 0
    # switching it off would drop trained weights: refused
    ft.model.init_from, ft.model.linear_term = tmp_path / "lin" / "model.pt", False
    with pytest.raises(ValueError, match="hyperparameters differ.*linear_term True vs False"):
        train(ft, show_progress=False)


def test_grown_model_starts_from_the_same_outputs_and_trains(tmp_path):
    """init_from with larger n_radial / n_angular / hidden widens the model (NEPModel.grow): the same
    energies and edge gradients to rounding (linear term and ZBL too), the new descriptor columns
    normalised over the training data; the grown run trains and exports; shrinking is refused."""
    from mlip_lammps.data.dataset import collate, graphs_from_atoms, read_structures
    from mlip_lammps.export.reexport import rebuild_module
    from mlip_lammps.models import base_model
    from mlip_lammps.training.config import ZBLConfig

    cfg = _cfg(tmp_path / "small")
    cfg.model.linear_term = True
    cfg.model.zbl = ZBLConfig(inner=0.8, outer=1.6)
    train(cfg, show_progress=False)
    small_file = tmp_path / "small" / "model.pt"
    small, meta = rebuild_module(small_file)
    graphs = graphs_from_atoms(read_structures(DATA / "cu.extxyz"), ["Cu"], 4.5)
    b = collate(graphs).to(torch.float64)
    args = (b.species, b.edge_center, b.edge_neighbor_species, b.edge_vectors)

    hyper = {**meta.hyperparameters, "n_radial": 6, "n_angular": 5, "hidden": [12]}
    grown = initial_model(small_file, "nep", hyper, ["Cu"], graphs).eval()
    inner = base_model(grown)
    assert inner.c_radial.shape[2] == 6 and inner.c_angular.shape[2] == 5 and inner.descriptor_mean.shape == (1, 6 + 5 * 4)
    assert inner.mlp.nets[0][0].weight.shape == (12, 26) and inner.mlp.linear.shape == (1, 26)
    e0, g0 = small(*args)
    e1, g1 = grown(*args)
    assert torch.allclose(e1, e0, rtol=0, atol=1e-12) and torch.allclose(g1, g0, rtol=0, atol=1e-12)
    # the new columns (radial 4, 5; angular channels 3, 4) carry the data's statistics, the old ones theirs
    q = inner.descriptors(*args)
    new = torch.tensor([4, 5] + list(range(6 + 3 * 4, 26)))
    assert torch.allclose(inner.descriptor_mean[0, new], q[:, new].mean(0))
    assert torch.equal(inner.descriptor_mean[0, :4], base_model(small).descriptor_mean[0, :4])
    assert torch.equal(inner.descriptor_mean[0, 6:18], base_model(small).descriptor_mean[0, 4:16])

    ft = _cfg(tmp_path / "grown")
    ft.model.linear_term, ft.model.zbl = True, cfg.model.zbl
    ft.model.n_radial, ft.model.n_angular, ft.model.hidden, ft.model.init_from = 6, 5, [12], small_file
    train(ft, show_progress=False)
    _, grown_meta = rebuild_module(tmp_path / "grown" / "model.pt")
    assert grown_meta.hyperparameters["n_radial"] == 6 and grown_meta.hyperparameters["hidden"] == [12]
    with pytest.raises(ValueError, match="a model only grows"):
        initial_model(small_file, "nep", {**hyper, "n_radial": 3, "n_angular": 3, "hidden": [8]}, ["Cu"])
    with pytest.raises(ValueError, match="a model only grows"):
        initial_model(small_file, "nep", {**hyper, "hidden": [8, 8]}, ["Cu"])


def test_extended_reach_starts_close_to_the_model_and_trains(tmp_path):
    """init_from with a longer cutoff / cutoff_angular and larger bases (NEPModel.extend_reach)
    refits the radial functions: energies and forces stay close (the refit error is reported), the
    extended run trains and exports with the new cutoffs; a shorter reach is refused."""
    from mlip_lammps.contract import predict
    from mlip_lammps.data.dataset import collate, graphs_from_atoms, read_structures
    from mlip_lammps.export.reexport import rebuild_module
    from mlip_lammps.models import base_model

    train(_cfg(tmp_path / "short"), show_progress=False)
    short_file = tmp_path / "short" / "model.pt"
    short, meta = rebuild_module(short_file)
    hyper = {**meta.hyperparameters, "cutoff": 5.0, "cutoff_angular": 4.5, "n_basis_radial": 14, "n_basis_angular": 14}
    frames = read_structures(DATA / "cu.extxyz")
    longer = initial_model(short_file, "nep", hyper, ["Cu"], graphs_from_atoms(frames, ["Cu"], 5.0))
    inner = base_model(longer)
    assert (inner.cutoff, inner.cutoff_angular, inner.c_radial.shape[3], inner.c_angular.shape[3]) == (5.0, 4.5, 14, 14)
    out = [predict(m.eval(), collate(graphs_from_atoms(frames, ["Cu"], cut)).to(torch.float64))
           for m, cut in ((short, 4.5), (longer, 5.0))]
    n_atoms = torch.tensor([len(a) for a in frames], dtype=torch.float64)
    de = float(((out[1]["energy"] - out[0]["energy"]) / n_atoms).abs().max())  # eV/atom
    df = float((out[1]["forces"] - out[0]["forces"]).pow(2).mean().sqrt())
    f_rms = float(out[0]["forces"].pow(2).mean().sqrt())
    assert de < 2e-3 and df < 0.03 * f_rms, (de, df, f_rms)

    ext = _cfg(tmp_path / "longer")
    ext.model.cutoff, ext.model.cutoff_angular, ext.model.init_from = 5.0, 4.5, short_file
    ext.model.n_basis_radial, ext.model.n_basis_angular = 14, 14
    train(ext, show_progress=False)
    _, ext_meta = rebuild_module(tmp_path / "longer" / "model.pt")
    assert ext_meta.cutoff == 5.0 and ext_meta.hyperparameters["cutoff_angular"] == 4.5
    with pytest.raises(ValueError, match="the reach and the bases only grow"):
        initial_model(short_file, "nep", {**meta.hyperparameters, "cutoff": 4.0, "cutoff_angular": 3.5}, ["Cu"])


def test_default_threads_leave_busy_cores_alone(monkeypatch, tmp_path):
    """training.threads unset: torch's thread count less the cores other processes keep busy, read
    as the runnable tasks besides this one (/proc/loadavg's 4th field), the fewest of a few samples."""
    import os

    from mlip_lammps.training import trainer

    loadavg = tmp_path / "loadavg"
    monkeypatch.setattr(trainer, "LOADAVG", loadavg)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    for runnable, expected in ((1, 8), (4, 5), (9, 1), (30, 1)):
        loadavg.write_text(f"3.50 2.00 1.00 {runnable}/412 12345\n")
        assert trainer.busy_cores(samples=2, interval_s=0) == runnable - 1
        assert trainer.default_threads() == expected
    loadavg.unlink()  # elsewhere: the 1-minute load average
    monkeypatch.setattr(os, "getloadavg", lambda: (2.6, 1.0, 1.0))
    assert trainer.busy_cores() == 2.6 and trainer.default_threads() == 5


def test_fine_tune_config_errors(tmp_path):
    base = {"output": str(tmp_path / "x"), "data": {"train": str(DATA / "cu.extxyz")}, "finetune": {"lr_scale": 0.1}}
    with pytest.raises(ConfigError, match="finetune needs model.init_from"):
        load_config(None, base=base)
    train(_cfg(tmp_path / "base"), show_progress=False)
    cfg = _cfg(tmp_path / "ft")
    cfg.model.init_from = tmp_path / "base" / "model.pt"
    from mlip_lammps.training.config import FinetuneConfig

    cfg.finetune = FinetuneConfig(freeze=["c_radail"])
    with pytest.raises(ValueError, match="'c_radail' matches no parameter; names are .*c_radial"):
        train(cfg, show_progress=False)


def test_config_type_weights_scale_the_loss_not_the_reported_errors(tmp_path):
    """training.config_type_weights: a frame's squared errors enter the loss times its type's weight
    (default 1); the plain sums behind the reported RMSEs stay unweighted."""
    import ase.io

    from mlip_lammps.data.dataset import collate, graphs_from_atoms
    from mlip_lammps.models import build_model
    from mlip_lammps.training.trainer import loss_sums

    frames = ase.io.read(DATA / "cu.extxyz", ":")
    graphs = [g.to(torch.float64) for g in graphs_from_atoms(frames, ["Cu"], 4.5)]
    torch.manual_seed(0)
    model = build_model("nep", 1, {"cutoff": 4.5, "cutoff_angular": 4.0, "n_radial": 4, "n_angular": 3,
                                   "hidden": [8]}).double()
    weights = {"liquid": 0.0, "vacancy": 2.5}
    sums = {k: float(v.detach()) for k, v in loss_sums(model, collate(graphs), weights)[0].items()}
    parts = [{k: float(v.detach()) for k, v in loss_sums(model, collate([g]))[0].items()} for g in graphs]
    for k in "efs":
        assert sums[k] == pytest.approx(sum(p[k] for p in parts), rel=1e-12)
        expected = sum(weights.get(g.config_type[0], 1.0) * p[k] for g, p in zip(graphs, parts))
        assert sums["w" + k] == pytest.approx(expected, rel=1e-12)
        assert sums["w" + k] != pytest.approx(sums[k], rel=1e-3)
    with pytest.raises(ConfigError, match=r"training\.config_type_weights\.liquid"):
        load_config(None, ["training.config_type_weights={liquid: -1}"], base={"data": {"train": str(DATA / "cu.extxyz")}})
    metrics = train(_cfg(tmp_path / "run", config_type_weights=weights), show_progress=False)
    assert metrics["epochs"] == 2 and metrics["valid"]["forces_rmse_meV_per_A"] > 0


def test_benchmark_configs_validate():
    """Every committed training config (the shipped models' recipes) passes validation."""
    from pathlib import Path

    configs = sorted((Path(__file__).parents[1] / "benchmarks" / "accuracy" / "configs").glob("*.yaml"))
    assert len(configs) >= 9
    for path in configs:
        cfg = load_config(path)
        assert cfg.output.is_absolute(), path
