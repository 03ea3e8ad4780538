"""Ziegler–Biersack–Littmark (ZBL) screened nuclear repulsion added to a learned model.

E_zbl = ½ Σ_i Σ_j φ_ZBL(r_ij) S(r_ij), with the universal screening function and a cosine switch
S = 1 below ``inner`` and 0 above ``outer`` (Å). It keeps atoms apart in hot melts and close
collisions, where training data has no frames. The learned model fits the remainder.

``pairs`` gives some species pairs their own switch radii: in carbide liquids C–C dimers at
1.2 Å are real while metal pairs below ~2 Å are not, so one range cannot wall off both.
"""

from __future__ import annotations

import itertools
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from ase.data import atomic_numbers
from torch import nn


def expand_pairs(pairs: Dict[str, Sequence[float]], species: Sequence[str]) -> Dict[Tuple[int, int], Tuple[float, float]]:
    """Species-index pairs (i ≤ j) → (inner, outer) Å from keys "A-B" (one pair) or "A,B,C" (every
    pair among the listed species, A-A included); a later key overrides an earlier one."""
    out: Dict[Tuple[int, int], Tuple[float, float]] = {}
    for key, radii in pairs.items():
        if len(radii) != 2 or not 0 < radii[0] < radii[1]:
            raise ValueError(f"ZBL pair '{key}' needs [inner, outer] with 0 < inner < outer, got {list(radii)}")
        if "-" in key:
            names = key.split("-")
            if len(names) != 2:
                raise ValueError(f"ZBL pair key '{key}': write 'A-B' (one pair) or 'A,B,C' (all pairs among them)")
            combos = [tuple(names)]
        else:
            names = key.split(",")
            combos = list(itertools.combinations_with_replacement(names, 2))
        for name in names:
            if name not in species:
                raise ValueError(f"ZBL pair '{key}': species '{name}' is not one of the model's {list(species)}")
        for a, b in combos:
            i, j = sorted((species.index(a), species.index(b)))
            out[(i, j)] = (float(radii[0]), float(radii[1]))
    return out


class ZBLModel(nn.Module):
    def __init__(self, inner_model: nn.Module, species: List[str], inner: float = 0.8, outer: float = 1.5,
                 pairs: Optional[Dict[str, List[float]]] = None):
        super().__init__()
        if not 0 < inner < outer:
            raise ValueError(f"ZBL switch needs 0 < inner < outer, got inner={inner} outer={outer}")
        n = len(species)
        r_in = torch.full((n, n), float(inner), dtype=torch.float64)
        r_out = torch.full((n, n), float(outer), dtype=torch.float64)
        for (i, j), (a, b) in expand_pairs(pairs or {}, species).items():
            r_in[i, j] = r_in[j, i] = a
            r_out[i, j] = r_out[j, i] = b
        if float(r_out.max()) > float(inner_model.cutoff):
            raise ValueError(f"ZBL outer radius {float(r_out.max())} Å exceeds the model cutoff {inner_model.cutoff} Å")
        self.inner_model = inner_model
        self.cutoff = float(inner_model.cutoff)
        self.r_outer = float(r_out.max())  # edges beyond every pair's outer radius are skipped
        self.register_buffer("z", torch.tensor([float(atomic_numbers[s]) for s in species]))
        # derived from the hyperparameters, so not part of the state dict (older files lack them)
        self.register_buffer("pair_inner", r_in, persistent=False)
        self.register_buffer("pair_outer", r_out, persistent=False)

    def pair_energy(self, zi: torch.Tensor, zj: torch.Tensor, r: torch.Tensor, inner: torch.Tensor,
                    outer: torch.Tensor) -> torch.Tensor:
        """φ_ZBL(r) S(r) in eV for nuclear charges zi, zj at distance r (Å), switched off between
        ``inner`` and ``outer`` (Å)."""
        a = 0.46850 / (zi.pow(0.23) + zj.pow(0.23))
        x = r / a
        screen = 0.18175 * torch.exp(-3.19980 * x) + 0.50986 * torch.exp(-0.94229 * x) \
            + 0.28022 * torch.exp(-0.40290 * x) + 0.02817 * torch.exp(-0.20162 * x)
        t = ((r - inner) / (outer - inner)).clamp(0.0, 1.0)
        switch = 0.5 * (1.0 + torch.cos(math.pi * t))
        coulomb = 14.399645478425668  # e²/(4πε0) in eV·Å (a literal: TorchScript cannot close over globals)
        return coulomb * zi * zj / r * screen * switch

    def forward(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        energy, grad = self.inner_model(center_species, edge_center, edge_neighbor_species, edge_vectors)
        r_all = torch.linalg.vector_norm(edge_vectors.detach(), dim=1)
        close = torch.nonzero(r_all < self.r_outer).squeeze(1)
        if close.numel() == 0:
            return energy, grad
        vec = edge_vectors.index_select(0, close).detach().requires_grad_(True)
        r = torch.linalg.vector_norm(vec, dim=1)
        si = center_species.index_select(0, edge_center.index_select(0, close))
        sj = edge_neighbor_species.index_select(0, close)
        z = self.z.to(vec.dtype)
        inner = self.pair_inner.to(vec.dtype)[si, sj]
        outer = self.pair_outer.to(vec.dtype)[si, sj]
        e_pair = 0.5 * self.pair_energy(z.index_select(0, si), z.index_select(0, sj), r, inner, outer)
        g = torch.autograd.grad([e_pair.sum()], [vec])[0]
        assert g is not None
        zbl_atom = torch.zeros_like(energy).index_add(0, edge_center.index_select(0, close), e_pair.detach())
        # positions are fixed in training, so the ZBL term needs no graph for parameter gradients
        return energy + zbl_atom, grad.index_add(0, close, g)
