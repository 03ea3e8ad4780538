"""Export a trained model as one self-describing TorchScript file (docs/model-contract.md)."""

from __future__ import annotations

import copy
import datetime as _dt
from pathlib import Path
from typing import Any

import torch

from mlip_lammps import __version__
from mlip_lammps.contract import CONTRACT_VERSION, METADATA_FILE, ModelMetadata
from mlip_lammps.fileio import atomic_write


def export_model(
    model: torch.nn.Module,
    path: str | Path,
    species: list[str],
    architecture: str,
    hyperparameters: dict[str, Any],
    training: dict[str, Any] | None = None,
    dtype: str = "float64",
) -> ModelMetadata:
    """Script ``model`` in ``dtype`` with frozen weights and write it atomically to ``path``."""
    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    m = copy.deepcopy(model).to(torch_dtype).cpu().eval()
    for p in m.parameters():
        p.requires_grad_(False)  # a deployed model needs gradients w.r.t. inputs only
    scripted = torch.jit.script(m)
    meta = ModelMetadata(
        contract_version=CONTRACT_VERSION,
        model_type="local",
        species=list(species),
        cutoff=float(model.cutoff),
        units="metal",
        dtype=dtype,
        architecture=architecture,
        hyperparameters=dict(hyperparameters),
        training=dict(training or {}),
        package_version=__version__,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        committee_size=int(getattr(model, "n_members", 1)),
    )
    meta.check(str(path))
    atomic_write(path, lambda tmp: torch.jit.save(scripted, tmp, _extra_files={METADATA_FILE: meta.to_json()}))
    return meta
