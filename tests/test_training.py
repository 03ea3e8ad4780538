"""mlip-train: outputs, config validation, determinism, exact resume, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from conftest import DATA
from mlip_lammps import MLIPCalculator
from mlip_lammps.contract import load_model
from mlip_lammps.training.config import ConfigError, load_config
from mlip_lammps.training.trainer import train


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
