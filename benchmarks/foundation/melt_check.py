#!/usr/bin/env python
"""Relabel the final coexistence cells of an ``mlip melt`` run with the teacher: is the student's
melting simulation where the teacher agrees with it?

    .venv/bin/python benchmarks/foundation/melt_check.py MODEL.pt MELT_DIR [--teacher sevenn:7net-0]

Per ``MELT_DIR/coexist_*/final.data`` (species read from the run's ``pair_coeff`` line): the
student's energy error against the teacher (meV/atom), the force RMSE (meV/Å), the largest
per-atom energy difference (eV; a local hole shows there, several eV for one atom) and the
teacher's largest force component (eV/Å). 1,024 atoms take ~15 s of SevenNet-0 on one core.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ase.io
import numpy as np
from ase.data import atomic_numbers

from mlip_lammps import MLIPCalculator
from mlip_lammps.data.label import make_teacher


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("melt_dir", type=Path)
    ap.add_argument("--teacher", default="sevenn:7net-0")
    args = ap.parse_args()
    student, (teacher, _) = MLIPCalculator(args.model), make_teacher(args.teacher)
    cells = sorted(args.melt_dir.glob("coexist_*/final.data"))
    if not cells:
        raise SystemExit(f"no coexist_*/final.data under {args.melt_dir}")
    for path in cells:
        coeff = next(line for line in (path.parent / "in.lammps").read_text().splitlines() if line.startswith("pair_coeff"))
        species = coeff.split()[3:]
        atoms = ase.io.read(path, format="lammps-data", style="atomic",
                            Z_of_type={k + 1: atomic_numbers[s] for k, s in enumerate(species)})
        out = {}
        for name, calc in (("student", student), ("teacher", teacher)):
            a = atoms.copy()
            a.calc = calc
            out[name] = a.get_potential_energies(), a.get_forces()
        de = out["student"][0] - out["teacher"][0]
        df = out["student"][1] - out["teacher"][1]
        print(f"{path.parent.name}: E {1000 * de.mean():+.1f} meV/atom, F RMSE {1000 * np.sqrt(np.mean(df ** 2)):.0f} meV/Å, "
              f"largest per-atom energy difference {de[np.argmax(np.abs(de))]:+.2f} eV, "
              f"teacher max |F| {np.abs(out['teacher'][1]).max():.1f} eV/Å", flush=True)


if __name__ == "__main__":
    main()
