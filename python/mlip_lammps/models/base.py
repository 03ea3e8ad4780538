"""What the descriptor-based architectures share: E_i = scale · MLP_{s_i}((q_i − μ_{s_i}) / σ_{s_i}) + e0[s_i]
from per-atom invariants q (``descriptors()``, defined by each architecture), and forces through
autograd of the energy with respect to the edge vectors (docs/model-contract.md)."""

from __future__ import annotations

from typing import List, Tuple

import torch
from torch import nn


class DescriptorModel(nn.Module):
    """Base of NEPModel and EquivariantModel. A subclass defines ``descriptors(center_species,
    edge_center, edge_neighbor_species, edge_vectors) -> (n, n_descriptors)``, the same model
    through the fused kernels ``_forward_fused`` (-> energies, edge gradients), a ``fused`` flag, and the buffers
    ``descriptor_mean``/``descriptor_std`` (n_species, n_descriptors), ``energy_scale`` and
    ``species_energy`` (eV), and ``mlp`` (a SpeciesMLP)."""

    # A TorchScript constant: with fused = False the fused branch of forward() is not even
    # compiled, so scripting works without libmlip_ops.so.
    __constants__ = ["fused"]

    def energy_from_descriptors(self, q: torch.Tensor, center_species: torch.Tensor) -> torch.Tensor:
        """Per-atom energies (n,) in eV from raw descriptors (n, n_descriptors)."""
        x = (q - self.descriptor_mean.index_select(0, center_species)) / self.descriptor_std.index_select(0, center_species)
        return self.energy_scale * self.mlp(x, center_species) + self.species_energy.index_select(0, center_species)

    def fused_readout(self, q: torch.Tensor, center_species: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-atom energies (n,) in eV and dE/dq (n, n_descriptors) from raw descriptors, with the
        MLP and its input gradient in C++ (mlip::species_mlp: no torch autograd, no BLAS, see
        cpp/mlip_ops/nep_ops.cpp). Inference only; needs the mlip operators (mlip_lammps.ops)."""
        std = self.descriptor_std.index_select(0, center_species)
        x = (q - self.descriptor_mean.index_select(0, center_species)) / std
        weights: List[torch.Tensor] = []
        biases: List[torch.Tensor] = []
        for net in self.mlp.nets:
            for layer in net:
                if hasattr(layer, "weight"):
                    weights.append(layer.weight.detach())
                    biases.append(layer.bias.detach())
        y, dy_dx = torch.ops.mlip.species_mlp(x, center_species, weights, biases, len(self.mlp.nets))
        y = self.mlp.add_linear(y, x, center_species)
        dy_dx = self.mlp.add_linear_grad(dy_dx, center_species)
        energy = self.energy_scale * y + self.species_energy.index_select(0, center_species)
        return energy.detach(), dy_dx * (self.energy_scale / std)

    def atom_energies(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> torch.Tensor:
        q = self.descriptors(center_species, edge_center, edge_neighbor_species, edge_vectors)
        return self.energy_from_descriptors(q, center_species)

    def forward(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Contract entry point: per-atom energies (eV) and dE/d edge_vectors (eV/Å): an eval-mode
        model on the CPU with ``fused`` set (by export) through the subclass's ``_forward_fused``
        (the C++ operators), otherwise by autograd. In training mode the gradient keeps its graph so
        force losses can be backpropagated."""
        if self.fused:
            if not self.training and edge_vectors.is_cpu:
                return self._forward_fused(center_species, edge_center, edge_neighbor_species, edge_vectors)
        return self.autograd_forward(center_species, edge_center, edge_neighbor_species, edge_vectors)

    def autograd_forward(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-atom energies (eV) and dE/d edge_vectors (eV/Å) by autograd. In training mode the
        gradient keeps its graph so force losses can be backpropagated."""
        create_graph = self.training
        if not edge_vectors.requires_grad:
            edge_vectors = edge_vectors.requires_grad_(True)
        energy = self.atom_energies(center_species, edge_center, edge_neighbor_species, edge_vectors)
        g = torch.zeros_like(edge_vectors)
        if energy.requires_grad:  # False only for an empty input (no atoms)
            grads = torch.autograd.grad([energy.sum()], [edge_vectors], create_graph=create_graph, allow_unused=True)
            grad = grads[0]
            if grad is not None:
                g = grad
        if not create_graph:
            energy = energy.detach()
        return energy, g
