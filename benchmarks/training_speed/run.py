#!/usr/bin/env python
"""Cost of one training step (energy + force + stress loss, backward, Adam) of the shipped models.

    python benchmarks/training_speed/run.py                       # cu cuzr hea carbide, 1 thread
    python benchmarks/training_speed/run.py --systems cuzr --threads 2 --name results_2threads
    PYTHONPATH=/path/to/other/checkout/python python benchmarks/training_speed/run.py --name before
    python benchmarks/training_speed/run.py --systems cu cuzr \
        --configs benchmarks/accuracy/configs/{cu,cuzr}_equivariant.yaml --name equivariant

For each system it builds the model of ``models/<system>.config.yaml`` (fresh weights, the
config's training dtype), takes ``--batch`` frames spread over ``../shared/data/<system>/train.extxyz``
(same frames every run), and times ``--steps`` optimiser steps after one warm-up step, taking the
median over ``--repeats`` interleaved repeats. ``--configs`` adds any training config file (its
``data.train`` gives the frames; the row is named after the file). Writes NAME.md and NAME.json
beside this script. Run it on an otherwise idle machine: the numbers are wall time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path

import torch
import yaml

import mlip_lammps

from mlip_lammps.data.dataset import collate, graphs_from_atoms, read_structures
from mlip_lammps.models import build_model
from mlip_lammps.training.config import Config, load_config
from mlip_lammps.training.trainer import loss_sums, training_species

ROOT = Path(__file__).resolve().parents[2]


def setup(cfg: Config, train: Path, batch: int):
    """(step function, atoms, edges, dtype name) for one training config on ``batch`` frames of ``train``."""
    dtype = getattr(torch, cfg.training.dtype)
    frames = read_structures(train)
    picked = [frames[i * len(frames) // batch] for i in range(batch)]
    species = training_species(cfg, frames)
    b = collate(graphs_from_atoms(picked, species, cfg.model.cutoff)).to(dtype)
    torch.manual_seed(0)
    model = build_model(cfg.model.architecture, len(species), cfg.model.hyperparameters(), species).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        s, c = loss_sums(model, b)
        loss = s["e"] / c["e"] + s["f"] / c["f"] + (s["s"] / c["s"] if c["s"] else 0.0)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, int(b.species.shape[0]), int(b.edge_center.shape[0]), cfg.training.dtype


def shipped(system: str, data: Path) -> tuple[Config, Path]:
    """The config a shipped model was trained with (fresh weights: no init_from) and its training data."""
    raw = yaml.safe_load((ROOT / "models" / f"{system}.config.yaml").read_text())
    raw["model"].pop("init_from", None)
    train = data / system / "train.extxyz"
    return Config.model_validate({**raw, "data": {"train": str(train)}, "output": "/tmp"}), train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--systems", nargs="*", default=["cu", "cuzr", "hea", "carbide"])
    ap.add_argument("--configs", nargs="*", type=Path, default=[], help="training config files to time as well")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--batch", type=int, default=4, help="frames per step (the shipped configs' batch_size)")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--name", default="results")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    cfgs = {s: shipped(s, args.data) for s in args.systems}
    for path in args.configs:
        cfg = load_config(path)
        cfgs[path.stem] = (cfg, cfg.data.train)
    runs = {name: setup(cfg, train, args.batch) for name, (cfg, train) in cfgs.items()}
    times: dict[str, list[float]] = {s: [] for s in runs}
    for s, (step, *_ ) in runs.items():
        step()  # warm-up
    for _ in range(args.repeats):
        for s, (step, *_) in runs.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[s].append((time.perf_counter() - t0) / args.steps)

    # the code measured: the checkout mlip_lammps was imported from (PYTHONPATH may point at another)
    code = Path(mlip_lammps.__file__).resolve().parent
    commit = subprocess.run(["git", "-C", str(code if (code.parents[1] / ".git").exists() else ROOT), "describe",
                             "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
    rows = []
    for s, (_, n_atoms, n_edges, dtype) in runs.items():
        t = statistics.median(times[s])
        rows.append({"system": s, "atoms": n_atoms, "edges": n_edges, "dtype": dtype, "s_per_step": t,
                     "us_per_edge": 1e6 * t / n_edges, "all_s_per_step": times[s]})
    header = (f"# Training step cost of the shipped model configs\n\n{args.batch} frames per step, {args.threads} "
              f"thread(s), median of {args.repeats} × {args.steps} steps; commit {commit}, torch {torch.__version__}, "
              f"{platform.processor() or platform.machine()}. Written by `run.py`.\n\n"
              "| system | atoms | edges | dtype | s/step | µs/edge |\n|---|---:|---:|---|---:|---:|\n")
    table = "".join(f"| {r['system']} | {r['atoms']} | {r['edges']} | {r['dtype']} | {r['s_per_step']:.3f} | "
                    f"{r['us_per_edge']:.2f} |\n" for r in rows)
    print(header + table)
    out = Path(__file__).resolve().parent
    (out / f"{args.name}.md").write_text(header + table)
    (out / f"{args.name}.json").write_text(json.dumps({"commit": commit, "threads": args.threads, "batch": args.batch,
                                                       "torch": torch.__version__, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
