#!/usr/bin/env python
"""Helpers for benchmarks/deepmd/train.sh (runs with .venv-deepmd/bin/python; stdlib + numpy only).

    helper.py make-input TEMPLATE OUT SYSTEM STEPS TRAIN_LIST TEST_LIST   # write a dp input.json
    helper.py rate LOG                       # seconds per training batch from a dp train log
    helper.py last-step DIR                  # last step recorded in DIR/lcurve.out
    helper.py metrics TEST_LOG               # RMSEs (dp test weighted averages) as JSON
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

# sel: 1.15 x the most neighbours of each type within rcut = 6 A found in the training data
# (cu 80; cuzr [79, 46]; hea [55, 82, 67, 70, 82]), rounded up to even, as DeePMD's sel "auto"
# does with its 1.1 factor: larger sel only pads the descriptor and slows the model down
SYSTEMS = {
    "cu": {"type_map": ["Cu"], "sel": [92]},
    "cuzr": {"type_map": ["Cu", "Zr"], "sel": [92, 54]},
    "hea": {"type_map": ["Al", "Co", "Cr", "Fe", "Ni"], "sel": [64, 96, 78, 82, 96]},
}


def make_input(template, out, system, steps, train_list, test_list):
    cfg = json.loads(Path(template).read_text())
    cfg.pop("_comment", None)
    steps = int(steps)
    cfg["model"]["type_map"] = SYSTEMS[system]["type_map"]
    cfg["model"]["descriptor"]["sel"] = SYSTEMS[system]["sel"]
    t = cfg["training"]
    t["training_data"]["systems"] = Path(train_list).read_text().split()
    t["validation_data"]["systems"] = Path(test_list).read_text().split()
    t["numb_steps"] = steps
    # exponential decay from start_lr to stop_lr over the whole run (about 200 decays as in the
    # usual 1e6 steps / 5000 setting, but never fewer than 10 steps per decay)
    cfg["learning_rate"]["decay_steps"] = max(10, min(5000, steps // 200))
    t["disp_freq"] = max(10, min(1000, steps // 100))
    t["save_freq"] = max(50, min(10000, steps // 20))
    Path(out).write_text(json.dumps(cfg, indent=2) + "\n")


def rate(log):
    text = Path(log).read_text(errors="replace")
    m = re.findall(r"average training time:\s*([\d.eE+-]+)\s*s/batch", text)
    if m:
        return float(m[-1])
    # fall back to per-display lines: "batch  N training time X s, testing time Y s"
    rows = re.findall(r"batch\s+(\d+)\s+training time\s+([\d.eE+-]+)\s*s", text)
    if len(rows) >= 2:
        d = np.diff([int(r[0]) for r in rows])
        return float(np.mean([float(r[1]) for r in rows[1:]]) / np.mean(d))
    raise SystemExit(f"{log}: no training time found")


def last_step(d):
    rows = [l.split() for l in (Path(d) / "lcurve.out").read_text().splitlines() if l.strip() and not l.startswith("#")]
    return int(float(rows[-1][0])) if rows else 0


def metrics(test_log):
    """dp test's weighted averages over all test systems, converted to meV/atom, meV/A and GPa.

    (dp test -d writes its detail files per system, overwriting, so they are not used.)"""
    text = Path(test_log).read_text(errors="replace")
    key = "weighted average of errors"
    tail = text[text.rfind(key):] if key in text else text  # one system: no weighted-average block
    out = {}
    for label, name, factor in (("Energy RMSE/Natoms", "energy_rmse_meV_per_atom", 1000.0),
                                ("Force  RMSE", "force_rmse_meV_per_A", 1000.0),
                                ("Virial RMSE/Natoms", "virial_rmse_meV_per_atom", 1000.0),
                                ("Stress RMSE", "stress_rmse_GPa", 160.21766208)):
        m = re.findall(re.escape(label) + r"\s*:\s*([\d.eE+-]+)", tail)
        if m:
            out[name] = float(m[-1]) * factor
    m = re.findall(r"number of test data\s*:\s*(\d+)", text)
    if m:
        out["n_frames"] = sum(int(x) for x in m)
    return out


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "make-input":
        make_input(*args)
    elif cmd == "rate":
        print(rate(*args))
    elif cmd == "last-step":
        print(last_step(*args))
    elif cmd == "metrics":
        print(json.dumps(metrics(*args), indent=2))
    else:
        raise SystemExit(__doc__)
