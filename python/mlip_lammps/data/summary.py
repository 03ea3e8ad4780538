"""``mlip data summary``: what a labelled data set contains."""

from __future__ import annotations

from collections import Counter

import numpy as np
from ase import Atoms

from mlip_lammps.training.metrics import EV_A3_TO_GPA


def summarize_frames(frames: list[Atoms]) -> dict:
    """Frames, atoms, species, config types and label statistics (eV/atom, eV/Å, GPa)."""
    species = Counter(s for a in frames for s in a.get_chemical_symbols())
    cts = Counter(str(a.info.get("config_type", "default")) for a in frames)
    e = np.array([a.calc.results["energy"] / len(a) for a in frames if a.calc is not None and "energy" in a.calc.results])
    f = [a.calc.results["forces"] for a in frames if a.calc is not None and "forces" in a.calc.results]
    s = [a.calc.results["stress"] for a in frames if a.calc is not None and "stress" in a.calc.results]
    fa = np.concatenate(f) if f else np.zeros((0, 3))
    sizes = [len(a) for a in frames]
    out = {
        "n_frames": len(frames),
        "n_atoms": int(sum(sizes)),
        "atoms_per_frame": {"min": int(min(sizes)), "max": int(max(sizes)), "median": float(np.median(sizes))} if sizes else {},
        "species": dict(sorted(species.items())),
        "config_types": dict(sorted(cts.items())),
        "labels": {
            "energy": int(len(e)),
            "forces": len(f),
            "stress": len(s),
        },
    }
    if len(e):
        out["energy_per_atom_eV"] = {"min": float(e.min()), "max": float(e.max()), "mean": float(e.mean()), "std": float(e.std())}
    if len(fa):
        mag = np.linalg.norm(fa, axis=1)
        out["forces_eV_per_A"] = {"rms_component": float(np.sqrt((fa**2).mean())), "max_magnitude": float(mag.max())}
    if s:
        sa = np.array(s) * EV_A3_TO_GPA
        out["stress_GPa"] = {"min": float(sa.min()), "max": float(sa.max()), "rms": float(np.sqrt((sa**2).mean()))}
    return out
