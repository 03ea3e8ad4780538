"""Learned three-body screening of pair contributions, in the form of the modified embedded-atom
method (MEAM: Baskes, PRB 46, 2727 (1992); LAMMPS ``pair_style meam``).

A third atom k near the bond i–j screens it by f_c(x), x = (C_ikj − C_min)/(C_max − C_min), with

    C_ikj = (2 (X_ik + X_jk) − (X_ik − X_jk)² − 1) / (1 − (X_ik − X_jk)²),  X_ik = (r_ik / r_ij)²,

(k on the ellipse C = const through i and j) and f_c(x) = (1 − (1 − x)⁴)² on 0 < x < 1, 0 below, 1
above (continuous with its first derivative). The bond's weight is S_ij = Π_k f_c(x_ikj). C_min and
C_max are learned per species triple (symmetric in i and j).

Why: a screened reference (e.g. a 2NN MEAM whose C_min sits near the C of its ideal lattices)
switches bonds on and off with sub-0.01 Å moves of a third atom. Smooth descriptors cannot
follow that; pair contributions multiplied by a learned S_ij can, because that is how the
reference is built.

Strict locality: every k with C_ikj < C_max ≤ ``C_UPPER`` lies within √ε·r_ij of i, ε = C_UPPER² /
(4 (C_UPPER − 1)), so k is in i's neighbour list whenever r_ij < cutoff/√ε. Beyond that the
screening is tapered off (weight 1 − t(r_ij) (1 − S_ij), t = 1 → 0 over ``TAPER`` Å), so no
energy jump occurs when a k crosses the cutoff.
"""

from __future__ import annotations

import math
from typing import Tuple

import torch
from torch import nn

C_UPPER = 4.0  # the largest C_max (above 3, the C of a close-packed triangle, which some references screen)
ELLIPSE = C_UPPER * C_UPPER / (4.0 * (C_UPPER - 1.0))  # ε: (r_ik/r_ij)² bound of screening atoms
TAPER = 0.3  # Å over which screening is switched off below the outer radius
MIN_WIDTH = 0.05  # smallest C_max − C_min (a steeper switch would be a step)


def edge_triplets(edge_center: torch.Tensor, first: torch.Tensor, n_atoms: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """All ordered pairs (e1, e2), e1 ∈ ``first``, e2 ≠ e1 any edge with the same centre → two (T,) index tensors."""
    order = torch.argsort(edge_center, stable=True)
    counts = torch.bincount(edge_center, minlength=n_atoms)
    starts = torch.cumsum(counts, 0) - counts
    c1 = edge_center.index_select(0, first)
    reps = counts.index_select(0, c1)
    e1 = torch.repeat_interleave(first, reps)
    offset = torch.arange(e1.shape[0], device=e1.device) - torch.repeat_interleave(torch.cumsum(reps, 0) - reps, reps)
    e2 = order.index_select(0, torch.repeat_interleave(starts.index_select(0, c1), reps) + offset)
    keep = torch.nonzero(e1 != e2).squeeze(1)
    return e1.index_select(0, keep), e2.index_select(0, keep)


class Screening(nn.Module):
    """S_ij per edge (dimensionless, 0..1) from the edge vectors around each centre."""

    __constants__ = ["n_species", "outer", "c_upper", "ellipse", "taper", "min_width"]

    def __init__(self, n_species: int, cutoff: float, c_min: float = 0.0):
        super().__init__()
        self.n_species = n_species
        self.c_upper = C_UPPER
        self.ellipse = ELLIPSE
        self.taper = TAPER
        self.min_width = MIN_WIDTH
        self.outer = cutoff / math.sqrt(ELLIPSE) - 0.01
        if self.outer <= TAPER:
            raise ValueError(f"cutoff {cutoff} Å is too short for screening")
        # C_min, C_max as they are (Adam moves them by ~lr per step; a softplus parametrisation near
        # its flat end hardly moved C_max), ordered and capped in limits(). Start: a wide window,
        # C_min = c_min and C_max just below C_UPPER, so that every triple with c_min < C < C_UPPER
        # has a gradient.
        self.c_min = nn.Parameter(torch.full((n_species,) * 3, float(c_min)))
        self.c_max = nn.Parameter(torch.full((n_species,) * 3, C_UPPER - MIN_WIDTH))

    def limits(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """(C_min, C_max), each (n_species,)*3 indexed [s_i, s_j, s_k], symmetric in s_i and s_j,
        C_max ≤ C_UPPER and C_max − C_min ≥ MIN_WIDTH."""
        c_max = torch.clamp(0.5 * (self.c_max + self.c_max.transpose(0, 1)), max=self.c_upper)
        c_min = torch.minimum(0.5 * (self.c_min + self.c_min.transpose(0, 1)), c_max - self.min_width)
        return c_min, c_max

    def _ellipse(self, vectors: torch.Tensor, e1: torch.Tensor, e2: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """X_ik, X_jk, 1 − (X_ik − X_jk)² and C_ikj of each triple (i centre, j = e1's, k = e2's neighbour)."""
        v1 = vectors.index_select(0, e1)
        v2 = vectors.index_select(0, e2)
        r12 = (v1 * v1).sum(1)
        x_ik = (v2 * v2).sum(1) / r12
        x_jk = ((v2 - v1) ** 2).sum(1) / r12
        d = x_ik - x_jk
        a = 1.0 - d * d
        return x_ik, x_jk, a, (2.0 * (x_ik + x_jk) + a - 2.0) / a

    def forward(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
        r: torch.Tensor,
    ) -> torch.Tensor:
        """(E,) bond weights S_eff = 1 − t(r_ij)(1 − S_ij) of every edge."""
        n = center_species.shape[0]
        weight = torch.ones_like(r)
        first = torch.nonzero(r < self.outer).squeeze(1)
        if first.numel() == 0:
            return weight
        e1, e2 = edge_triplets(edge_center, first, n)
        # Keep the triples with C < C_UPPER: all others have f_c = 1 and no gradient (1 − d² ≤ 0 is
        # outside the ellipse family, C = ∞), so dropping them is exact and keeps C finite.
        x_ik, x_jk, a, c = self._ellipse(edge_vectors.detach(), e1, e2)
        sel = torch.nonzero((x_ik < self.ellipse) & (x_jk < self.ellipse) & (a > 0.0) & (c < self.c_upper)).squeeze(1)
        e1 = e1.index_select(0, sel)
        e2 = e2.index_select(0, sel)
        x_ik, x_jk, a, c = self._ellipse(edge_vectors, e1, e2)
        c_min, c_max = self.limits()
        s_i = center_species.index_select(0, edge_center.index_select(0, e1))
        s_j = edge_neighbor_species.index_select(0, e1)
        s_k = edge_neighbor_species.index_select(0, e2)
        flat = (s_i * self.n_species + s_j) * self.n_species + s_k
        lo = c_min.reshape(-1).to(r.dtype).index_select(0, flat)
        hi = c_max.reshape(-1).to(r.dtype).index_select(0, flat)
        x = torch.clamp((c - lo) / (hi - lo), 0.0, 1.0)
        y = 1.0 - x
        y2 = y * y
        f = (1.0 - y2 * y2) ** 2
        # S = Π f as exp Σ log f over the f > 0, and 0 where some f = 0 (a fully screening k; f and
        # its derivatives vanish there, so the bond has no gradient): index_reduce's product has no
        # double backward with several zeros per bond, which force training needs
        alive = f > 0.0
        log_f = torch.log(torch.where(alive, f, torch.ones_like(f)))
        dead = torch.zeros_like(r).index_add(0, e1, (~alive).to(r.dtype)) > 0.0
        s = torch.where(dead, torch.zeros_like(r), torch.exp(torch.zeros_like(r).index_add(0, e1, log_f)))
        # taper: t = 1 up to outer − TAPER, then ½(1 + cos) down to 0 at outer
        u = torch.clamp((r - (self.outer - self.taper)) / self.taper, 0.0, 1.0)
        t = 0.5 * (1.0 + torch.cos(math.pi * u))
        t = torch.where(r < self.outer, t, torch.zeros_like(r))
        return weight - t * (1.0 - s)
