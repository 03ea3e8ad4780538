"""Full neighbour lists for periodic (or open) structures, built with vesin."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from vesin import NeighborList


def full_neighbor_list(atoms: Atoms, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (i, j, vectors) for every ordered pair with |r_j + shift - r_i| < cutoff.

    ``vectors`` are r_j - r_i including the periodic shift, in Å. Works for cells smaller than
    twice the cutoff (several images of the same atom appear as separate edges).
    """
    pbc = atoms.pbc
    if pbc.any() and not pbc.all():
        raise ValueError("mixed periodicity is not supported: use pbc all True or all False")
    periodic = bool(pbc.all())
    positions = np.ascontiguousarray(atoms.positions, dtype=np.float64)
    if periodic:
        box = np.ascontiguousarray(atoms.cell.array, dtype=np.float64)
    else:
        box = np.zeros((3, 3))
    i, j, S = NeighborList(cutoff=cutoff, full_list=True).compute(
        points=positions, box=box, periodic=periodic, quantities="ijS"
    )
    i = i.astype(np.int64)
    j = j.astype(np.int64)
    vectors = positions[j] - positions[i] + S.astype(np.float64) @ box
    return i, j, vectors
