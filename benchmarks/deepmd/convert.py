#!/usr/bin/env python
"""Extended XYZ -> DeePMD npy folders, using the project's writer (mlip_lammps.data.deepmd).

Run with the project's venv (it has ase and mlip_lammps):

    .venv/bin/python benchmarks/deepmd/convert.py ../shared/data/cu/train.extxyz runs/deepmd/cu/data/train --type-map Cu

Atoms of every frame are sorted by element (stable; forces move with their atoms), so frames of
equal composition share one DeePMD system (write_deepmd makes one folder per distinct type
sequence). Virial = -stress x volume (eV), as write_deepmd does. Prints the system folders as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

import ase.io
import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator

from mlip_lammps.data.deepmd import write_deepmd


def sorted_by_type(atoms, type_map):
    idx = np.argsort([type_map.index(s) for s in atoms.get_chemical_symbols()], kind="stable")
    res = atoms.calc.results
    new = atoms[idx]
    out = {"energy": res["energy"], "forces": np.asarray(res["forces"])[idx]}
    if "stress" in res:
        out["stress"] = res["stress"]
    new.calc = SinglePointCalculator(new, **out)
    return new


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("extxyz")
    p.add_argument("out")
    p.add_argument("--type-map", nargs="+", required=True)
    a = p.parse_args(argv)
    frames = ase.io.read(a.extxyz, index=":")
    unknown = sorted({s for f in frames for s in f.get_chemical_symbols()} - set(a.type_map))
    if unknown:
        sys.exit(f"{a.extxyz}: elements {unknown} not in --type-map {a.type_map}")
    frames = [sorted_by_type(f, a.type_map) for f in frames]
    folders = write_deepmd(frames, a.out, a.type_map)
    print(json.dumps({"frames": len(frames), "systems": [str(f) for f in folders]}))


if __name__ == "__main__":
    main()
