"""DeePMD-kit npy folders: ``type.raw``, ``type_map.raw`` and ``set.*/{coord,box,energy,force,virial}.npy``.

Conventions: coordinates and boxes in Å (box rows are cell vectors), energies in eV, forces in
eV/Å, virials in eV with virial = −stress × volume (stress in the ASE sign convention).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator


def is_deepmd_folder(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / "type.raw").is_file()


def read_deepmd(path: str | Path) -> list[Atoms]:
    """All frames of a DeePMD npy folder as labelled ASE Atoms."""
    path = Path(path)
    types = np.loadtxt(path / "type.raw", dtype=int, ndmin=1)
    if (path / "type_map.raw").is_file():
        type_map = (path / "type_map.raw").read_text().split()
    else:
        raise ValueError(f"{path}: type_map.raw is missing; element names are needed")
    if types.max() >= len(type_map):
        raise ValueError(f"{path}: type.raw uses type {types.max()} but type_map.raw names {len(type_map)} types")
    symbols = [type_map[t] for t in types]
    sets = sorted(p for p in path.glob("set.*") if p.is_dir())
    if not sets:
        raise ValueError(f"{path}: no set.* folders")
    frames = []
    n = len(types)
    for s in sets:
        coord = np.load(s / "coord.npy").reshape(-1, n, 3)
        box = np.load(s / "box.npy").reshape(-1, 3, 3)
        energy = np.load(s / "energy.npy").reshape(-1) if (s / "energy.npy").is_file() else None
        force = np.load(s / "force.npy").reshape(-1, n, 3) if (s / "force.npy").is_file() else None
        virial = np.load(s / "virial.npy").reshape(-1, 3, 3) if (s / "virial.npy").is_file() else None
        for k in range(coord.shape[0]):
            atoms = Atoms(symbols, positions=coord[k], cell=box[k], pbc=True)
            results = {}
            if energy is not None:
                results["energy"] = float(energy[k])
            if force is not None:
                results["forces"] = force[k]
            if virial is not None:
                s3 = -virial[k] / atoms.get_volume()
                results["stress"] = np.array([s3[0, 0], s3[1, 1], s3[2, 2], s3[1, 2], s3[0, 2], s3[0, 1]])
            atoms.calc = SinglePointCalculator(atoms, **results)
            atoms.info["config_type"] = f"{path.name}/{s.name}"
            frames.append(atoms)
    return frames


def write_deepmd(frames: list[Atoms], path: str | Path, type_map: list[str], set_size: int = 5000) -> list[Path]:
    """Write frames to DeePMD npy folders, one per distinct atom-type sequence
    (``path/sys.000``, ...), as DeePMD requires a fixed type list per system. Returns the folders."""
    path = Path(path)
    groups: dict[tuple, list[Atoms]] = {}
    for a in frames:
        groups.setdefault(tuple(a.get_chemical_symbols()), []).append(a)
    folders = []
    for g, (symbols, group) in enumerate(groups.items()):
        d = path / f"sys.{g:03d}"
        d.mkdir(parents=True, exist_ok=True)
        np.savetxt(d / "type.raw", [type_map.index(s) for s in symbols], fmt="%d")
        (d / "type_map.raw").write_text("\n".join(type_map) + "\n")
        for k0 in range(0, len(group), set_size):
            chunk = group[k0 : k0 + set_size]
            s = d / f"set.{k0 // set_size:03d}"
            s.mkdir(exist_ok=True)
            np.save(s / "coord.npy", np.stack([a.positions.reshape(-1) for a in chunk]))
            np.save(s / "box.npy", np.stack([a.cell.array.reshape(-1) for a in chunk]))
            np.save(s / "energy.npy", np.array([a.get_potential_energy() for a in chunk]))
            np.save(s / "force.npy", np.stack([a.get_forces().reshape(-1) for a in chunk]))
            if all("stress" in a.calc.results for a in chunk):
                np.save(s / "virial.npy", np.stack([(-a.get_stress(voigt=False) * a.get_volume()).reshape(-1) for a in chunk]))
        folders.append(d)
    return folders
