"""Model architectures. Each obeys docs/model-contract.md."""

from __future__ import annotations

from typing import Any

from torch import nn

from mlip_lammps.models.equivariant import EquivariantModel
from mlip_lammps.models.nep import NEPModel
from mlip_lammps.ops import load_ops

# Register torch.ops.mlip.* (fused kernels) when libmlip_ops.so is installed; without it models
# still train and run through their pure-torch path.
load_ops()

ARCHITECTURES: dict[str, type[nn.Module]] = {"nep": NEPModel, "equivariant": EquivariantModel}


def build_model(architecture: str, n_species: int, hyperparameters: dict[str, Any], species: list[str] | None = None) -> nn.Module:
    """Instantiate an architecture by name; ``hyperparameters["zbl"]`` ({inner, outer} in Å, needs
    ``species``) adds ZBL short-range repulsion around it."""
    try:
        cls = ARCHITECTURES[architecture]
    except KeyError:
        raise ValueError(f"unknown architecture '{architecture}'; available: {sorted(ARCHITECTURES)}") from None
    hyper = dict(hyperparameters)
    zbl = hyper.pop("zbl", None)
    model = cls(n_species=n_species, **hyper)
    if zbl is not None:
        from mlip_lammps.models.zbl import ZBLModel

        if species is None:
            raise ValueError("a ZBL term needs the species names")
        model = ZBLModel(model, species, **zbl)
    return model


def base_model(model: nn.Module) -> nn.Module:
    """The learned model inside wrappers such as ZBLModel."""
    return getattr(model, "inner_model", model)
