#!/usr/bin/env python
"""A two-species (Cu, Zr) model of the default architecture for the CuZr speed rows.

    .venv/bin/python benchmarks/lammps_speed/make_cuzr_speed_model.py [OUT.pt]

No CuZr model is shipped yet, and speed does not depend on the weights: this copies the shipped
Cu model's weights to every species and species pair (so Zr behaves as a heavier Cu and short MD
runs stay physical) and exports it like any trained model (float64, fused kernels). The cost per
atom-step is that of a trained CuZr model with the same hyperparameters."""

import sys
from pathlib import Path

import torch

from mlip_lammps.export import export_model
from mlip_lammps.export.reexport import rebuild_module
from mlip_lammps.models import build_model

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "runs" / "lammps_speed" / "cuzr_speed.pt"
    cu, meta = rebuild_module(REPO / "models" / "cu.pt")
    model = build_model(meta.architecture, 2, meta.hyperparameters, species=["Cu", "Zr"]).double()
    src = cu.state_dict()
    with torch.no_grad():
        for name, t in model.state_dict().items():
            key = name if name in src else name.replace("nets.1.", "nets.0.")
            t.copy_(src[key].expand_as(t) if src[key].dim() == t.dim() else src[key])
    out.parent.mkdir(parents=True, exist_ok=True)
    export_model(model.eval(), out, ["Cu", "Zr"], meta.architecture, meta.hyperparameters,
                 {"note": "speed benchmark only: the Cu model's weights copied to Cu and Zr"})
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
