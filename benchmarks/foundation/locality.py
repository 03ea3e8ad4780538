#!/usr/bin/env python
"""How local is the teacher? The force error floor of any student with a finite cutoff.

    .venv/bin/python benchmarks/foundation/locality.py [--out benchmarks/foundation]

SevenNet-0 passes messages over 5 layers of 5 Å, so the force on an atom can depend on atoms up to
25 Å away; a local student with cutoff R sees only the atoms within R. For a centre atom of a
rattled 512-atom crystal (the test set's ``rocksalt_rattle`` recipe at 3,000 K: independent
Gaussian displacements, σ² = c_s T), this script keeps every atom within R of the centre fixed,
redraws the displacements of all atoms beyond R ``--draws`` times, and labels each cell with the
teacher. The spread of the centre's force over the draws (sample standard deviation per Cartesian
component, pooled over centres) is the part of the force that no model with cutoff R can predict:
the best local model, the conditional mean, has exactly this RMSE on such frames.

Writes locality.json and locality.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from mlip_lammps.data.label import make_teacher
from teacher_frames import expanded, rattle
from transfer import SYSTEMS

RADII = (4.0, 5.0, 6.0, 7.0, 8.0)  # Å; the shipped student's cutoffs are 6.0 (radial) and 5.0 (angular)


def floor(calc, name: str, radii: tuple[float, ...], draws: int, temperature: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    ideal = expanded(name, seed, temperature, (4, 4, 4))
    symbols = np.array(ideal.get_chemical_symbols())
    centres = [int(np.flatnonzero(symbols == "C")[0]), int(np.flatnonzero(symbols != "C")[0])]
    out = {}
    for radius in radii:
        var = []
        for c in centres:
            base = rattle(ideal, temperature, rng)
            d = base.get_distances(c, range(len(base)), mic=True)
            inner = d <= radius
            forces = []
            for _ in range(draws):
                a = rattle(ideal, temperature, rng)
                a.positions[inner] = base.positions[inner]
                a.calc = calc
                forces.append(a.get_forces()[c])
            var.append(np.var(np.array(forces), axis=0, ddof=1))  # 3 components
        out[f"{radius:g}"] = float(np.sqrt(np.mean(var)) * 1000)  # meV/Å
        print(f"{name} R = {radius:g} Å: force std from atoms beyond R = {out[f'{radius:g}']:.1f} meV/Å", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--systems", nargs="+", choices=sorted(SYSTEMS), default=["TiC", "HEC"])
    ap.add_argument("--draws", type=int, default=4)
    ap.add_argument("--temperature", type=float, default=3000.0, help="rattle amplitude temperature (K)")
    args = ap.parse_args()
    calc, teacher = make_teacher("sevenn:7net-0")
    path = args.out / "locality.json"  # systems are added to an existing report as each finishes
    res = json.loads(path.read_text()) if path.exists() else {}
    res.update({"teacher": teacher, "temperature_K": args.temperature, "atoms": 512})
    for name in args.systems:
        seed = 11 + sorted(SYSTEMS).index(name)
        res.setdefault("floor_meV_per_A", {})[name] = floor(calc, name, RADII, args.draws, args.temperature, seed)
        res.setdefault("draws", {})[name] = args.draws
        path.write_text(json.dumps(res, indent=1) + "\n")
        write_report(res, args.out / "locality.md")


def write_report(res: dict, path: Path) -> None:
    lines = ["# Locality of the teacher (SevenNet-0)", "",
             f"Force on a centre atom (one C, one metal) of a rattled 512-atom crystal ({res['temperature_K']:g} K "
             "amplitudes), std over redraws of all atoms beyond R: the force RMSE floor of a student "
             "with cutoff R on such frames (meV/Å). Written by `locality.py`.", "",
             "| system | redraws per centre | " + " | ".join(f"R = {r:g} Å" for r in RADII) + " |",
             "|---|---|" + "---|" * len(RADII)]
    for name, f in res["floor_meV_per_A"].items():
        lines.append(f"| {name} | {res['draws'][name]} | " + " | ".join(f"{f[f'{r:g}']:.0f}" for r in RADII) + " |")
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
