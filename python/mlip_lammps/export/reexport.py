"""Re-export an exported model file without retraining, e.g. to switch it to the fused kernels
(``libmlip_ops.so``) or to another dtype.

    python -m mlip_lammps.export.reexport models/cu.pt models/cu.pt            # fused if available
    python -m mlip_lammps.export.reexport models/cu.pt cu_f32.pt --dtype float32
    python -m mlip_lammps.export.reexport models/cu.pt cu_pure.pt --no-fused
    python -m mlip_lammps.export.reexport models/hea.pt hea_wall.pt --zbl 1.1 1.7  # ZBL range changed or added
    python -m mlip_lammps.export.reexport models/carbide.pt wall.pt --zbl-pair Hf,Nb,Ta,Ti,Zr 1.5 1.9  # metal pairs only
    mlip committee a.pt b.pt -o ab.pt    # join models trained apart into one committee (``join_committee``)

The architecture is rebuilt from the file's metadata and every tensor of the TorchScript module is
copied into it, non-persistent buffers included (e.g. the Y_lm coefficient matrix, whose exact
values are part of the exported model), so the new file computes the same numbers (an equivariant
model's radial functions come back as the trained MLP, which a fused export tabulates again, so
a fused-to-pure re-export moves its numbers by the table's ~1e-10 relative); the metadata (training
summary and creation time included) is kept except ``dtype``, ``requires_ops`` and
``package_version``. ``--zbl INNER OUTER`` sets (or adds) the ZBL repulsion, which has no learned
parameters: the learned model is untouched, and energies change only for atoms with a neighbour
closer than the larger of the old and new ``outer``; below the shortest distance of the training
data (the training summary's errors stay valid then) it puts a wall where the model was never
taught one. ``--zbl-pair KEY INNER OUTER`` (repeatable) gives species pairs their own range ("A-B"
one pair, "A,B,C" every pair among them) and replaces the file's per-pair ranges.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from mlip_lammps.contract import ModelMetadata, load_model
from mlip_lammps.export.export import export_model
from mlip_lammps.models import build_model
from mlip_lammps.models.zbl import ZBLModel


def rebuild_module(path: str | Path) -> tuple[torch.nn.Module, ModelMetadata]:
    """The nn.Module (float64, eval mode) behind an exported model file, with all its tensors."""
    scripted, meta = load_model(path)
    if meta.committee_size != 1:
        raise ValueError(f"{path}: committee models are not supported here")
    model = build_model(meta.architecture, len(meta.species), meta.hyperparameters, species=list(meta.species))
    model = model.double()
    tensors = {k: v.double() if v.is_floating_point() else v for k, v in scripted.state_dict().items()}
    persistent = model.state_dict().keys()
    model.load_state_dict({k: v for k, v in tensors.items() if k in persistent})
    with torch.no_grad():
        for name, buf in model.named_buffers():
            # an equivariant model's radial table is left out: the rebuilt module evaluates the
            # trained radial MLP (fine-tuning trains it), and a fused export tabulates it again
            if name not in persistent and name in tensors and not name.endswith("radial_table"):
                if buf.shape != tensors[name].shape:
                    raise ValueError(f"{path}: buffer {name} has shape {tuple(tensors[name].shape)}, expected {tuple(buf.shape)}")
                buf.copy_(tensors[name].to(buf.dtype))
    return model.eval(), meta


def reexport(src: str | Path, dst: str | Path, dtype: str | None = None, fused: bool | None = None,
             zbl: tuple[float, float] | None = None,
             zbl_pairs: dict[str, tuple[float, float]] | None = None) -> ModelMetadata:
    """Write ``src``'s model to ``dst`` (may equal ``src``) in ``dtype`` (default: unchanged), with
    the ZBL switch between ``zbl`` = (inner, outer) Å if given and the per-pair ranges
    ``zbl_pairs`` (``ZBLModel``'s ``pairs``; replacing the file's) if given."""
    model, meta = rebuild_module(src)
    hyper = dict(meta.hyperparameters)
    if zbl is not None or zbl_pairs is not None:
        old = hyper.get("zbl") or {}
        if zbl is None and not old:
            raise ValueError(f"{src} has no ZBL term: give --zbl INNER OUTER with --zbl-pair")
        new = {"inner": float(zbl[0]), "outer": float(zbl[1])} if zbl is not None else \
            {"inner": old["inner"], "outer": old["outer"]}
        pairs = old.get("pairs") if zbl_pairs is None else {k: [float(a), float(b)] for k, (a, b) in zbl_pairs.items()}
        if pairs:
            new["pairs"] = pairs
        learned = model.inner_model if isinstance(model, ZBLModel) else model
        model = ZBLModel(learned, list(meta.species), **new).double().eval()
        hyper["zbl"] = new
    return export_model(
        model, dst, list(meta.species), meta.architecture, hyper, dict(meta.training),
        dtype=dtype or meta.dtype, fused=fused, created=meta.created,
    )


def join_committee(members: list[str | Path], dst: str | Path, dtype: str | None = None,
                   fused: bool | None = None) -> ModelMetadata:
    """Write the committee of the exported single models ``members`` to ``dst``: its ``forward``
    is their mean (what drives MD), its ``committee`` method every member's outputs
    (docs/model-contract.md, Committees). Members trained apart (other seeds, data, machines) join
    as ``mlip-train --ensemble`` members do; they must share species, architecture and
    hyperparameters (cutoff and ZBL included). ``dtype`` defaults to the first member's."""
    from mlip_lammps.models.committee import CommitteeModel

    if len(members) < 2:
        raise ValueError("a committee needs at least 2 members")
    built = [rebuild_module(m) for m in members]
    first = built[0][1]
    for path, (_, meta) in zip(members[1:], built[1:]):
        for key in ("species", "architecture", "hyperparameters"):
            if getattr(meta, key) != getattr(first, key):
                raise ValueError(f"{path}: {key} {getattr(meta, key)} differs from {members[0]}'s {getattr(first, key)}")
    training = {"ensemble": len(members),
                "members": [{"file": str(path), **meta.training} for path, (_, meta) in zip(members, built)]}
    return export_model(CommitteeModel([m for m, _ in built]).eval(), dst, list(first.species), first.architecture,
                        dict(first.hyperparameters), training, dtype=dtype or first.dtype, fused=fused)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--dtype", choices=["float64", "float32"], default=None)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--fused", dest="fused", action="store_true", default=None, help="require the fused kernels")
    g.add_argument("--no-fused", dest="fused", action="store_false", help="pure-torch model")
    ap.add_argument("--zbl", nargs=2, type=float, metavar=("INNER", "OUTER"), help="ZBL switch radii (Å)")
    ap.add_argument("--zbl-pair", nargs=3, action="append", metavar=("PAIRS", "INNER", "OUTER"),
                    help="own ZBL switch radii (Å) for 'A-B' or every pair among 'A,B,C'; repeatable")
    args = ap.parse_args(argv)
    pairs = None if args.zbl_pair is None else {k: (float(a), float(b)) for k, a, b in args.zbl_pair}
    meta = reexport(args.src, args.dst, args.dtype, args.fused, args.zbl, pairs)
    print(f"wrote {args.dst} ({meta.dtype}, requires_ops={meta.requires_ops})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
