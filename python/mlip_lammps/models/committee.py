"""A committee (ensemble) of models behind one contract-conforming ``forward``.

``forward`` returns the committee mean (what drives MD); ``committee`` returns every member's
per-atom energies and edge gradients, from which consumers compute the force deviation used as an
active-learning signal (DeePMD's max_devi_f).
"""

from __future__ import annotations

from typing import List, Tuple

import torch
from torch import nn


class CommitteeModel(nn.Module):
    def __init__(self, members: List[nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError("a committee needs at least 2 members")
        cutoffs = {float(m.cutoff) for m in members}
        if len(cutoffs) != 1:
            raise ValueError(f"committee members have different cutoffs {sorted(cutoffs)}")
        self.members = nn.ModuleList(members)
        self.cutoff = cutoffs.pop()
        self.n_members = len(members)

    @torch.jit.export
    def committee(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-member outputs: atom energies (M, n) in eV and edge gradients (M, E, 3) in eV/Å."""
        energies: List[torch.Tensor] = []
        grads: List[torch.Tensor] = []
        for m in self.members:
            e, g = m(center_species, edge_center, edge_neighbor_species, edge_vectors)
            energies.append(e)
            grads.append(g)
        return torch.stack(energies), torch.stack(grads)

    def forward(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        e, g = self.committee(center_species, edge_center, edge_neighbor_species, edge_vectors)
        return e.mean(0), g.mean(0)
