#!/usr/bin/env python
"""Is the student's liquid bound? Pressure and energy of the hot TiC liquid frames of the shared
test set scaled affinely to 1.12-1.68x the crystal volume, teacher (SevenNet-0) vs student,
written to liquid_eos.md.

    .venv/bin/python benchmarks/foundation/liquid_eos.py [--student models/carbide.pt]

The frames: the first two `liquid` frames of ../shared/data/carbide/test.extxyz (C32Ti32, 5,000 K,
crystal volume + 12 %), held out from every training stage.
Units: eV/atom, GPa (potential part, positive = compression).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ase.io
from ase.units import GPa

from mlip_lammps import MLIPCalculator
from mlip_lammps.data.label import make_teacher

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--student", type=Path, default=REPO / "models" / "carbide.pt")
    ap.add_argument("--frames", type=Path, default=REPO.parent / "shared" / "data" / "carbide" / "test.extxyz")
    args = ap.parse_args()
    frames = [a for a in ase.io.read(args.frames, ":") if a.info.get("config_type") == "liquid"][:2]
    teacher, _ = make_teacher("sevenn:7net-0")
    student = MLIPCalculator(args.student)
    lines = ["| volume / crystal | frame | teacher E (eV/atom) | student E | teacher P (GPa) | student P (GPa) |",
             "|---|---|---|---|---|---|"]
    for factor in (1.0, 1.15, 1.3, 1.5):
        for k, frame in enumerate(frames):
            a = frame.copy()
            a.set_cell(a.cell.array * factor ** (1 / 3), scale_atoms=True)
            res = []
            for calc in (teacher, student):
                a.calc = calc
                res.append((a.get_potential_energy() / len(a), -a.get_stress()[:3].mean() / GPa))
            lines.append(f"| {1.12 * factor:.2f} | {k} | {res[0][0]:.3f} | {res[1][0]:.3f} | {res[0][1]:.1f} | {res[1][1]:.1f} |")
    text = f"# Hot TiC liquid (test set): equation of state, teacher vs {args.student.name}\n\n" + "\n".join(lines) + "\n"
    (HERE / "liquid_eos.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
