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
from mlip_lammps.ops import load_error, load_ops


def export_model(
    model: torch.nn.Module,
    path: str | Path,
    species: list[str],
    architecture: str,
    hyperparameters: dict[str, Any],
    training: dict[str, Any] | None = None,
    dtype: str = "float64",
    fused: bool | None = None,
    created: str | None = None,
) -> ModelMetadata:
    """Script ``model`` in ``dtype`` with frozen weights and write it atomically to ``path``.

    ``fused``: evaluate with the fused C++ operators of ``libmlip_ops.so`` (every submodule with
    ``supports_fused`` true: NEPModel and EquivariantModel, also inside ZBL or committee wrappers;
    an EquivariantModel first gets its radial functions tabulated, ``tabulate_radial``, ~1e-9
    relative from the MLP). ``None`` (default) uses them when the library is available; the metadata
    then records ``"requires_ops": "mlip"`` and consumers must load the library (mlip_lammps and
    pair_style mlip do). ``created`` overrides the export time stamp (re-exports keep the original one).
    """
    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    m = copy.deepcopy(model).to(torch_dtype).cpu().eval()
    for p in m.parameters():
        p.requires_grad_(False)  # a deployed model needs gradients w.r.t. inputs only
    fusable = [sub for sub in m.modules() if getattr(sub, "supports_fused", False)]
    if fused is None:
        fused = bool(fusable) and load_ops()
    elif fused:
        if not fusable:
            raise ValueError(f"this '{architecture}' model has no fused kernels (it runs on the pure-torch path)")
        if not load_ops():
            raise RuntimeError(f"export with fused=True needs the mlip torch operators: {load_error()}")
    for sub in fusable:
        sub.fused = bool(fused)
        if fused and hasattr(sub, "tabulate_radial"):
            sub.tabulate_radial()
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
        created=created or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        committee_size=int(getattr(model, "n_members", 1)),
        requires_ops="mlip" if fused else None,
    )
    write_scripted(scripted, meta, path)
    return meta


def write_scripted(scripted: torch.jit.ScriptModule, meta: ModelMetadata, path: str | Path) -> None:
    """Check ``meta`` and write the scripted model with it atomically to ``path``."""
    meta.check(str(path))
    atomic_write(path, lambda tmp: torch.jit.save(scripted, tmp, _extra_files={METADATA_FILE: meta.to_json()}))
