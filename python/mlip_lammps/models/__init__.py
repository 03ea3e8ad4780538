"""Model architectures. Each obeys docs/model-contract.md."""

from __future__ import annotations

from typing import Any

from torch import nn

from mlip_lammps.models.nep import NEPModel

ARCHITECTURES: dict[str, type[nn.Module]] = {"nep": NEPModel}


def build_model(architecture: str, n_species: int, hyperparameters: dict[str, Any]) -> nn.Module:
    """Instantiate an architecture by name."""
    try:
        cls = ARCHITECTURES[architecture]
    except KeyError:
        raise ValueError(f"unknown architecture '{architecture}'; available: {sorted(ARCHITECTURES)}") from None
    return cls(n_species=n_species, **hyperparameters)
