"""mlip distill: candidate generation, selection rules, and the whole active-learning loop with a
tiny teacher (Cu_mishin1 EAM through LAMMPS) and a tiny student, including resume."""

from __future__ import annotations

import json
import subprocess
import sys

import ase.io
import numpy as np
import pytest
import yaml

from mlip_lammps.workflows.distill import (
    ActiveLearningSpec, DistillConfig, DistillError, candidate_structures, load_distill_config, select)
from mlip_lammps.workflows.structures import build, parse_structure

STUDENT = {"model": {"cutoff": 4.5, "cutoff_angular": 4.0, "n_radial": 4, "n_angular": 3, "hidden": [8]},
           "training": {"max_epochs": 4, "threads": 1, "batch_size": 2, "lr": 0.01}}


def _config(tmp_path, **changes) -> dict:
    cfg = {
        "output": str(tmp_path / "run"),
        "teacher": {"pair_style": "eam/alloy", "pair_coeff": ["* * Cu_mishin1.eam.alloy Cu"]},
        "systems": [{"structure": "fcc:Cu", "lattice_constant": 3.615, "repeats": [2, 2, 2]}],
        "candidates": {"scales": [0.98, 1.02], "n_strained": 1, "temperatures": [600, 1200], "n_vacancy": 1, "n_liquid": 1},
        "explore": {"temperatures": [800, 1600], "steps": 200, "every": 20},
        "active_learning": {"iterations": 2, "committee": 2, "select": 3, "trust_lo": 0.005, "trust_hi": 5.0,
                            "converged_fraction": 0.0, "min_gap_steps": 40},
        "student": STUDENT,
    }
    cfg.update(changes)
    return cfg


def _write(tmp_path, cfg: dict):
    path = tmp_path / "distill.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_candidates_cover_the_recipe(tmp_path):
    cfg = DistillConfig.model_validate(_config(tmp_path))
    frames = candidate_structures(cfg)
    kinds = [a.info["config_type"] for a in frames]
    assert kinds == ["perfect", "perfect", "strained", "rattle", "rattle", "vacancy", "liquid"]
    assert [len(a) for a in frames] [:5] == [32] * 5 and len(frames[5]) in (30, 31)
    v0 = 3.615**3 / 4
    assert frames[0].get_volume() / 32 == pytest.approx(v0 * 0.98**3)
    assert frames[6].get_volume() / 32 == pytest.approx(v0 * 1.12)
    for a in frames:  # LAMMPS needs lower-triangular cells
        c = a.cell.array
        assert abs(c[0, 1]) + abs(c[0, 2]) + abs(c[1, 2]) < 1e-10


def test_rocksalt_high_entropy_carbide():
    s = parse_structure("rocksalt:ZrC", "HfNbTaTiZr")
    atoms = build(s, (2, 2, 2), 4.54, seed=3)
    assert atoms.get_chemical_formula() == "C32Hf6Nb6Ta6Ti6Zr8"
    carbon = atoms.symbols == "C"
    assert carbon.sum() == 32 and s.species == ["Hf", "Nb", "Ta", "Ti", "Zr", "C"]
    d = atoms.get_all_distances(mic=True)[np.ix_(carbon, ~carbon)]
    assert d.min() == pytest.approx(4.54 / 2)


def _records():
    rng = np.random.default_rng(0)
    return [{"run": f"r{k}", "step": 20 * j, "deviation": float(dev), "atoms": None}
            for k in range(2) for j, dev in enumerate(rng.uniform(0.0, 0.5, 20))] + \
           [{"run": "r0", "step": 1000, "deviation": 9.0, "atoms": None}]


def test_selection_takes_uncertain_frames_spread_over_runs():
    al = ActiveLearningSpec(trust_lo=0.1, trust_hi=1.0, select=6, min_gap_steps=60)
    chosen = select(_records(), al, 6, seed=0)
    assert len(chosen) == 6
    assert {c["run"] for c in chosen} == {"r0", "r1"}
    assert all(0.1 <= c["deviation"] < 1.0 for c in chosen)  # never the unphysical 9 eV/Å frame
    for run in ("r0", "r1"):
        steps = sorted(c["step"] for c in chosen if c["run"] == run)
        assert all(b - a >= 60 for a, b in zip(steps, steps[1:]))
    # the first pick of each run is that run's most uncertain candidate
    for run in ("r0", "r1"):
        best = max((r for r in _records() if r["run"] == run and r["deviation"] < 1.0), key=lambda r: r["deviation"])
        assert best["step"] in [c["step"] for c in chosen if c["run"] == run]
    rnd = select(_records(), al.model_copy(update={"selection": "random"}), 6, seed=0)
    assert len(rnd) == 6 and all(c["deviation"] < 1.0 for c in rnd)


def test_bad_config_names_the_key(tmp_path):
    bad = _config(tmp_path, active_learning={"committee": 1, "selekt": 3})
    with pytest.raises(DistillError, match="active_learning.committee") as exc:
        load_distill_config(_write(tmp_path, bad))
    assert "active_learning.selekt" in str(exc.value)
    two_teachers = _config(tmp_path, teacher={"spec": "chgnet", "pair_style": "eam/alloy"})
    with pytest.raises(DistillError, match="exactly one of spec, potential, pair_style"):
        load_distill_config(_write(tmp_path, two_teachers))


def test_active_learning_loop_with_eam_teacher_resumes(tmp_path):
    path = _write(tmp_path, _config(tmp_path))
    cmd = [sys.executable, "-m", "mlip_lammps.cli.main", "distill", str(path)]
    first = subprocess.run(cmd, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-3000:]
    out = tmp_path / "run"
    log = json.loads((out / "distill.json").read_text())
    assert [e["iteration"] for e in log["iterations"]] == [0, 1]
    it0, it1 = log["iterations"]
    # the teacher saw all 7 candidates; frames it cannot handle are counted with the reason
    assert it0["teacher_calls"] == 7 and it0["new_frames"] + sum(it0["rejected"].values()) == 7
    assert set(it0["rejected"]) <= {"force above 50 eV/Å", "atoms closer than 0.5 Å"}
    assert it0["selected"] == 3 and it1["teacher_calls"] == 10
    dev = it0["deviation"]
    assert dev["n_frames"] == 2 * 11  # 2 runs x (200 / 20 + 1) frames
    assert dev["accurate_fraction"] + dev["candidate_fraction"] + dev["failed_fraction"] == pytest.approx(1.0)
    selected = ase.io.read(out / "iter_001" / "labelled.extxyz", ":")
    assert len(selected) == 3
    for a in selected:
        assert a.info["config_type"] == "md" and a.info["teacher"].startswith("lammps eam/alloy")
        assert 0.005 <= a.info["committee_deviation"] < 5.0
        assert np.isfinite(a.get_forces()).all()
    assert it1["n_train_frames"] == it0["new_frames"] + 3
    assert (out / "distill.png").stat().st_size > 1000
    assert (out / "iter_001" / "train" / "model.pt").is_file()
    # a second run finds every stage done: same log, no new teacher calls
    before = {p: p.stat().st_mtime_ns for p in out.rglob("labelled.extxyz")}
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((out / "distill.json").read_text())["iterations"][-1]["teacher_calls"] == 10
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("labelled.extxyz")}
