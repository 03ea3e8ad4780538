"""Ziegler–Biersack–Littmark (ZBL) screened nuclear repulsion added to a learned model.

E_zbl = ½ Σ_i Σ_j φ_ZBL(r_ij) S(r_ij), with the universal screening function and a cosine switch
S = 1 below ``inner`` and 0 above ``outer`` (Å). It keeps atoms apart in hot melts and close
collisions, where training data has no frames. The learned model fits the remainder.
"""

from __future__ import annotations

import math
from typing import List, Tuple

import torch
from ase.data import atomic_numbers
from torch import nn



class ZBLModel(nn.Module):
    def __init__(self, inner_model: nn.Module, species: List[str], inner: float = 0.8, outer: float = 1.5):
        super().__init__()
        if not 0 < inner < outer:
            raise ValueError(f"ZBL switch needs 0 < inner < outer, got inner={inner} outer={outer}")
        if outer > float(inner_model.cutoff):
            raise ValueError(f"ZBL outer radius {outer} Å exceeds the model cutoff {inner_model.cutoff} Å")
        self.inner_model = inner_model
        self.cutoff = float(inner_model.cutoff)
        self.r_inner = float(inner)
        self.r_outer = float(outer)
        self.register_buffer("z", torch.tensor([float(atomic_numbers[s]) for s in species]))

    def pair_energy(self, zi: torch.Tensor, zj: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """φ_ZBL(r) S(r) in eV for nuclear charges zi, zj at distance r (Å)."""
        a = 0.46850 / (zi.pow(0.23) + zj.pow(0.23))
        x = r / a
        screen = 0.18175 * torch.exp(-3.19980 * x) + 0.50986 * torch.exp(-0.94229 * x) \
            + 0.28022 * torch.exp(-0.40290 * x) + 0.02817 * torch.exp(-0.20162 * x)
        t = ((r - self.r_inner) / (self.r_outer - self.r_inner)).clamp(0.0, 1.0)
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
        z = self.z.to(vec.dtype)
        zi = z.index_select(0, center_species.index_select(0, edge_center.index_select(0, close)))
        zj = z.index_select(0, edge_neighbor_species.index_select(0, close))
        e_pair = 0.5 * self.pair_energy(zi, zj, r)
        g = torch.autograd.grad([e_pair.sum()], [vec])[0]
        assert g is not None
        zbl_atom = torch.zeros_like(energy).index_add(0, edge_center.index_select(0, close), e_pair.detach())
        # positions are fixed in training, so the ZBL term needs no graph for parameter gradients
        return energy + zbl_atom, grad.index_add(0, close, g)
