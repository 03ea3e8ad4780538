#!/usr/bin/env python
"""Inference cost of the architectures: exported model ``forward`` (energies + dE/d edge vectors,
what MLIPCalculator and pair_style mlip call; neighbour list excluded), float64, 1 thread, with the
fused C++ kernels and in pure torch (``fused=False``), random weights.

    .venv/bin/python benchmarks/lammps_speed/architectures.py [--repeats 20] [--out DIR]

Cells: 500-atom fcc Cu (a = 3.615 Å) and, for the carbide student's shape, 512-atom rocksalt TiC
(a = 4.33 Å), both rattled by 0.05 Å. Reports the minimum over ``repeats`` calls (µs/atom): on a
shared machine the minimum is the stable statistic. Writes architectures.json and .md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
from ase.build import bulk

from mlip_lammps.contract import load_model, model_inputs
from mlip_lammps.data.dataset import graphs_from_atoms
from mlip_lammps.export import export_model
from mlip_lammps.fileio import atomic_write
from mlip_lammps.models import build_model
from mlip_lammps.ops import load_error, load_ops
from mlip_lammps.training.config import ARCHITECTURE_DEFAULTS

HERE = Path(__file__).resolve().parent
CARBIDE_STUDENT = dict(cutoff=6.0, n_basis=10, channels=16, l_max=3, correlation=3, radial_hidden=[64], hidden=[64, 64])
CASES = [  # label, architecture, hyperparameter changes, cell
    ("nep default (cutoff 5.5)", "nep", {}, "Cu"),
    ("equivariant default (cutoff 5.0)", "equivariant", {}, "Cu"),
    ("equivariant, cutoff 5.5", "equivariant", {"cutoff": 5.5}, "Cu"),
    ("equivariant, correlation 2", "equivariant", {"correlation": 2}, "Cu"),
    ("equivariant, l_max 3", "equivariant", {"l_max": 3}, "Cu"),
    ("equivariant, carbide stage 21 shape (6 Å, l_max 3, radial [64], readout [64, 64])", "equivariant", CARBIDE_STUDENT, "TiC"),
]


def cell(name: str):
    atoms = bulk("Cu", "fcc", a=3.615, cubic=True).repeat(5) if name == "Cu" else \
        bulk("TiC", "rocksalt", a=4.33, cubic=True).repeat(4)
    atoms.rattle(0.05, seed=1)
    return atoms


def time_forward(path: Path, atoms, repeats: int) -> tuple[float, float]:
    """(min µs/atom, edges per atom) of the exported model's forward on ``atoms``."""
    model, meta = load_model(path)
    graph = graphs_from_atoms([atoms], meta.species, meta.cutoff, require_labels=False)[0]
    inputs = model_inputs(graph)
    model(*inputs)  # warm-up (TorchScript profiling runs)
    model(*inputs)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        model(*inputs)
        best = min(best, time.perf_counter() - t)
    return best * 1e6 / len(atoms), graph.edge_center.shape[0] / len(atoms)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    if not load_ops():
        raise SystemExit(f"needs libmlip_ops.so: {load_error()}")
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, arch, change, name in CASES:
            atoms = cell(name)
            species = sorted(set(atoms.get_chemical_symbols()))
            hyper = {**ARCHITECTURE_DEFAULTS[arch], **change}
            torch.manual_seed(0)
            model = build_model(arch, len(species), hyper, species=species).double().eval()
            row = {"model": label, "architecture": arch, "hyperparameters": hyper, "cell": f"{len(atoms)}-atom {name}"}
            for fused in (True, False):
                path = Path(tmp) / f"m_{fused}.pt"
                export_model(model, path, species, arch, hyper, fused=fused)
                us, edges = time_forward(path, atoms, args.repeats)
                row["fused_us_per_atom" if fused else "pure_us_per_atom"] = round(us, 1)
                row["edges_per_atom"] = round(edges, 1)
            rows.append(row)
            print(f"{label:85s} {row['cell']:14s} {row['edges_per_atom']:6.1f} edges/atom  fused "
                  f"{row['fused_us_per_atom']:6.1f}  pure {row['pure_us_per_atom']:6.1f} µs/atom", flush=True)
    out = Path(args.out)
    result = {"what": "exported model forward (energies + edge gradients), float64, 1 thread, min over "
                      f"{args.repeats} calls, neighbour list excluded; random weights",
              "torch_threads": 1, "rows": rows}
    atomic_write(out / "architectures.json", lambda t: Path(t).write_text(json.dumps(result, indent=1) + "\n"))
    lines = ["# Inference cost by architecture", "", result["what"] + " (`architectures.py`).", "",
             "| model | cell | neighbours/atom | fused µs/atom | pure torch µs/atom |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['model']} | {r['cell']} | {r['edges_per_atom']:.0f} | {r['fused_us_per_atom']:.1f} | "
              f"{r['pure_us_per_atom']:.1f} |" for r in rows]
    atomic_write(out / "architectures.md", lambda t: Path(t).write_text("\n".join(lines) + "\n"))


if __name__ == "__main__":
    main()
