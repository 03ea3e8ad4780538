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

``--liquid TEST.extxyz`` does the same about the test set's TiC liquid frames (64 atoms at 5,000 K,
repeated 2×2×2 so that the spheres fit): the rattle displaces the liquid frame instead of the
crystal, so the spread is that of the teacher's force under thermal-size moves of the far atoms in
a disordered environment (a partial redraw of the far liquid; a full one would spread more).

Writes locality.json and locality.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms

from mlip_lammps.data.label import make_teacher
from teacher_frames import expanded, rattle
from transfer import SYSTEMS

RADII = (4.0, 5.0, 6.0, 7.0, 8.0)  # Å; the shipped student's cutoffs are 6.0 (radial) and 5.0 (angular)


def floor(calc, name: str, references: list[Atoms], radii: tuple[float, ...], draws: int, temperature: float,
          seed: int) -> dict:
    """Pooled force std (meV/Å) of one C and one metal centre per reference, over redraws beyond R."""
    rng = np.random.default_rng(seed)
    out = {}
    for radius in radii:
        var = []
        for ref in references:
            symbols = np.array(ref.get_chemical_symbols())
            for c in (int(np.flatnonzero(symbols == "C")[0]), int(np.flatnonzero(symbols != "C")[0])):
                base = rattle(ref, temperature, rng)
                inner = base.get_distances(c, range(len(base)), mic=True) <= radius
                forces = []
                for _ in range(draws):
                    a = rattle(ref, temperature, rng)
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
    ap.add_argument("--liquid", type=Path, help="instead of the crystals: the TiC liquid frames of this test set")
    args = ap.parse_args()
    calc, teacher = make_teacher("sevenn:7net-0")
    path = args.out / "locality.json"  # systems are added to an existing report as each finishes
    res = json.loads(path.read_text()) if path.exists() else {}
    res.update({"teacher": teacher, "temperature_K": args.temperature, "atoms": 512})
    if args.liquid:
        liquids = [a.repeat(2) for a in ase.io.read(args.liquid, ":")
                   if a.info.get("config_type") == "liquid" and a.get_chemical_formula() == "C32Ti32"]
        jobs = {"TiC liquid": (liquids, 31)}
    else:
        seeds = {name: 11 + sorted(SYSTEMS).index(name) for name in args.systems}
        jobs = {name: ([expanded(name, seed, args.temperature, (4, 4, 4))], seed) for name, seed in seeds.items()}
    for name, (references, seed) in jobs.items():
        res.setdefault("floor_meV_per_A", {})[name] = floor(calc, name, references, RADII, args.draws,
                                                           args.temperature, seed)
        res.setdefault("draws", {})[name] = f"{args.draws} × {len(references)} frames" if args.liquid else args.draws
        path.write_text(json.dumps(res, indent=1) + "\n")
        write_report(res, args.out / "locality.md")


def write_report(res: dict, path: Path) -> None:
    lines = ["# Locality of the teacher (SevenNet-0)", "",
             f"Force on a centre atom (one C, one metal) of a rattled 512-atom crystal ({res['temperature_K']:g} K "
             "amplitudes), std over redraws of all atoms beyond R: the force RMSE floor of a student "
             "with cutoff R on such frames (meV/Å). `TiC liquid`: the same rattle applied to the test "
             "set's three 5,000 K TiC liquid frames (2×2×2), a centre C and Ti in each (`--liquid`). "
             "Written by `locality.py`.", "",
             "| system | redraws per centre | " + " | ".join(f"R = {r:g} Å" for r in RADII) + " |",
             "|---|---|" + "---|" * len(RADII)]
    for name, f in res["floor_meV_per_A"].items():
        lines.append(f"| {name} | {res['draws'][name]} | " + " | ".join(f"{f[f'{r:g}']:.0f}" for r in RADII) + " |")
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
