"""Labelled structures → neighbour graphs (docs/model-contract.md inputs) and batches.

Positions of training structures never change, so each structure's edge vectors are computed
once (vesin) and reused every epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import ase.io
import numpy as np
import torch
from ase import Atoms

from mlip_lammps.contract import species_indices
from mlip_lammps.neighbors import full_neighbor_list

MIN_DISTANCE = 0.5  # Å; closer pairs are almost certainly broken data


class DataError(ValueError):
    """A structure file or frame cannot be used for training; the message names it."""


@dataclass
class Graph:
    """One structure (or a batch of them) in model-input form. Lengths in Å, energies in eV."""

    species: torch.Tensor  # (n,) model species index
    edge_center: torch.Tensor  # (E,)
    edge_neighbor: torch.Tensor  # (E,) atom owning the neighbour image
    edge_vectors: torch.Tensor  # (E, 3) r_j - r_i
    energy: torch.Tensor  # (B,) total energies
    forces: torch.Tensor  # (n, 3)
    stress: torch.Tensor  # (B, 3, 3) eV/Å^3, ASE sign; NaN where unknown
    volume: torch.Tensor  # (B,)
    n_atoms: torch.Tensor  # (B,)
    atom_graph: torch.Tensor  # (n,) which structure each atom belongs to
    edge_graph: torch.Tensor  # (E,)
    config_type: list[str] = field(default_factory=list)

    @property
    def edge_neighbor_species(self) -> torch.Tensor:
        return self.species.index_select(0, self.edge_neighbor)

    @property
    def n_graphs(self) -> int:
        return int(self.energy.shape[0])

    def to(self, dtype: torch.dtype) -> "Graph":
        kw = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for k in ("edge_vectors", "energy", "forces", "stress", "volume"):
            kw[k] = kw[k].to(dtype)
        return Graph(**kw)


def read_structures(path: str | Path, index: str = ":") -> list[Atoms]:
    """Read every frame of ``path``: any file ASE reads (extxyz, VASP OUTCAR/vasprun.xml, ...), or a
    DeePMD npy folder (``type.raw`` + ``set.*/``); a folder of DeePMD systems is read recursively."""
    from mlip_lammps.data.deepmd import is_deepmd_folder, read_deepmd

    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    try:
        if path.is_dir():
            systems = [path] if is_deepmd_folder(path) else sorted(p.parent for p in path.rglob("type.raw"))
            if not systems:
                raise DataError(f"{path}: a folder but not a DeePMD npy system (no type.raw found)")
            return [a for s in systems for a in read_deepmd(s)]
        frames = ase.io.read(str(path), index=index)
    except DataError:
        raise
    except Exception as exc:  # ASE raises many types for unreadable files
        raise DataError(f"cannot read {path}: {exc}") from exc
    return frames if isinstance(frames, list) else [frames]


def _labels(atoms: Atoms, where: str) -> tuple[float, np.ndarray, np.ndarray | None]:
    calc = atoms.calc
    if calc is None or "energy" not in calc.results:
        raise DataError(f"{where}: no energy label")
    if "forces" not in calc.results:
        raise DataError(f"{where}: no forces label")
    energy = float(calc.results["energy"])
    forces = np.asarray(calc.results["forces"], dtype=np.float64)
    stress = calc.results.get("stress")
    if stress is not None:
        stress = np.asarray(stress, dtype=np.float64)
        if stress.shape == (6,):
            xx, yy, zz, yz, xz, xy = stress
            stress = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    for name, v in (("energy", energy), ("forces", forces), ("stress", stress), ("positions", atoms.positions)):
        if v is not None and not np.all(np.isfinite(v)):
            raise DataError(f"{where}: {name} contains NaN or inf")
    return energy, forces, stress


def graphs_from_atoms(
    frames: Sequence[Atoms],
    species: list[str],
    cutoff: float,
    source: str = "data",
    require_labels: bool = True,
    min_distance: float = MIN_DISTANCE,
) -> list[Graph]:
    """Build one Graph per frame (neighbour list inside ``cutoff``), validating the frame.

    Pairs closer than ``min_distance`` (Å) are rejected as broken data (0 disables the check)."""
    graphs = []
    for k, atoms in enumerate(frames):
        where = f"{source} frame {k}"
        try:
            spec = species_indices(list(atoms.get_chemical_symbols()), species)
        except ValueError as exc:
            raise DataError(f"{where}: {exc}") from None
        if require_labels:
            energy, forces, stress = _labels(atoms, where)
        else:
            energy, forces, stress = float("nan"), np.full((len(atoms), 3), np.nan), None
        i, j, vec = full_neighbor_list(atoms, cutoff)
        if len(i) and min_distance > 0:
            dmin = float(np.sqrt((vec * vec).sum(1)).min())
            if dmin < min_distance:
                raise DataError(f"{where}: atoms closer than {min_distance} Å (min distance {dmin:.3f} Å)")
        volume = float(abs(atoms.get_volume())) if atoms.pbc.all() else float("nan")
        n = len(atoms)
        graphs.append(
            Graph(
                species=spec,
                edge_center=torch.from_numpy(i),
                edge_neighbor=torch.from_numpy(j),
                edge_vectors=torch.from_numpy(vec),
                energy=torch.tensor([energy], dtype=torch.float64),
                forces=torch.from_numpy(forces),
                stress=torch.from_numpy(stress).unsqueeze(0) if stress is not None else torch.full((1, 3, 3), float("nan")),
                volume=torch.tensor([volume], dtype=torch.float64),
                n_atoms=torch.tensor([n]),
                atom_graph=torch.zeros(n, dtype=torch.long),
                edge_graph=torch.zeros(len(i), dtype=torch.long),
                config_type=[str(atoms.info.get("config_type", "default"))],
            )
        )
    return graphs


def collate(graphs: Sequence[Graph]) -> Graph:
    """Concatenate graphs into one batch with re-based atom indices."""
    if len(graphs) == 1:
        return graphs[0]
    offsets = np.cumsum([0] + [int(g.species.shape[0]) for g in graphs[:-1]])
    cat = torch.cat
    return Graph(
        species=cat([g.species for g in graphs]),
        edge_center=cat([g.edge_center + int(o) for g, o in zip(graphs, offsets)]),
        edge_neighbor=cat([g.edge_neighbor + int(o) for g, o in zip(graphs, offsets)]),
        edge_vectors=cat([g.edge_vectors for g in graphs]),
        energy=cat([g.energy for g in graphs]),
        forces=cat([g.forces for g in graphs]),
        stress=cat([g.stress for g in graphs]),
        volume=cat([g.volume for g in graphs]),
        n_atoms=cat([g.n_atoms for g in graphs]),
        atom_graph=cat([torch.full_like(g.atom_graph, b) for b, g in enumerate(graphs)]),
        edge_graph=cat([torch.full_like(g.edge_graph, b) for b, g in enumerate(graphs)]),
        config_type=[c for g in graphs for c in g.config_type],
    )
