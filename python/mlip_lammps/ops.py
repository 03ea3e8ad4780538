"""The fused-kernel torch operators (``torch.ops.mlip.*``) in ``libmlip_ops.so``.

The library is built from ``cpp/mlip_ops/`` by ``pip install --no-build-isolation .`` and
installed next to the LAMMPS plugin in ``mlip_lammps/lib/``; the plugin links it. Exported models
with ``"requires_ops": "mlip"`` in their metadata call these operators, so every consumer loads
the library before ``torch.jit.load`` (``mlip_lammps.contract.load_model`` does).

Without the library (e.g. a source tree on ``PYTHONPATH``) everything except such models still
works: training and the pure-torch model path need no compiled code.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

LIBRARY_NAME = "libmlip_ops.so"
OPS_NAMESPACE = "mlip"

_state: dict[str, object] = {"loaded": None, "error": ""}


def library_path() -> Path:
    """Where the installed library lives (``MLIP_OPS_LIBRARY`` overrides)."""
    override = os.environ.get("MLIP_OPS_LIBRARY")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "lib" / LIBRARY_NAME


def _registered() -> bool:
    try:
        torch.ops.mlip.nep_descriptors.default  # noqa: B018  (raises if not registered)
    except (AttributeError, RuntimeError):
        return False
    return True


def load_ops() -> bool:
    """Load ``libmlip_ops.so`` once; True if the ``mlip`` operators are available."""
    if _state["loaded"] is not None:
        return bool(_state["loaded"])
    ok = _registered()  # e.g. already loaded in this process through the LAMMPS plugin
    if not ok:
        path = library_path()
        if not path.is_file():
            _state["error"] = f"{path} does not exist (it is built by `pip install --no-build-isolation .`)"
        else:
            try:
                torch.ops.load_library(str(path))
                ok = _registered()
                if not ok:
                    _state["error"] = f"{path} loaded but registers no mlip::nep_descriptors"
            except (OSError, RuntimeError) as exc:
                _state["error"] = f"cannot load {path}: {exc}"
    _state["loaded"] = ok
    return ok


def ops_available() -> bool:
    return load_ops()


def load_error() -> str:
    """Why :func:`load_ops` failed ('' if it did not)."""
    load_ops()
    return str(_state["error"])


def ops_info() -> str:
    """e.g. 'mlip_ops 2; kernels avx2+fma; torch threads 1' (raises if unavailable)."""
    if not load_ops():
        raise RuntimeError(f"the mlip torch operators are not available: {load_error()}")
    return torch.ops.mlip.ops_info()
