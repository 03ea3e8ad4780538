"""Would a 4-body term help the carbide student on the teacher's liquids? A probe, not a model.

Fine-tunes a student (default: the shipped `models/carbide.pt`) for ``--minutes`` on teacher liquid
frames alone (10 % held out), either as it is (``--variant base``) or with 4-body invariants added
(``--variant 4body``): per angular channel n, the Gaunt contractions Σ G A_n,l1m1 A_n,l2m2 A_n,l3m3 of
its own A_nlm for (l1, l2, l3) = (1, 1, 2) and (2, 2, 2), NEP4's 4-body terms. The new inputs are
normalised over the training frames and enter the MLP with zero weights, so both variants start from
the same outputs. The loop is the trainer's loss (`loss_sums`, energy/force/stress weights 300/10/1),
Adam, batch 4, the learning rate decaying exponentially from 2e-4 to 1e-5 over the wall time; run
the two variants side by side, one core each. Writes OUT/probe_<variant>.json: the force RMSE on
the training and held-out liquids and on the shared test set's liquid frames, before and after.

    LD_LIBRARY_PATH=$PWD/.venv/lib OMP_NUM_THREADS=1 .venv/bin/python benchmarks/foundation/probe_body_order.py \
        --frames runs/foundation/teacher/liquids12.extxyz --variant base --out runs/probe
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from torch import nn

import mlip_lammps.models.nep as nep
from mlip_lammps.contract import predict
from mlip_lammps.data.dataset import collate, graphs_from_atoms, read_structures
from mlip_lammps.export.reexport import rebuild_module
from mlip_lammps.models import base_model
from mlip_lammps.models.equivariant import gaunt_couplings
from mlip_lammps.training.trainer import _split, descriptor_statistics, loss_sums

REPO = Path(__file__).resolve().parents[2]


class FourBodyNEP(nep.NEPModel):
    """NEPModel plus 4-body columns built from the A_nlm its descriptors() computes (captured by
    wrapping nep.per_center_outer_sum, so the 3-body code is not copied)."""

    def add_four_body(self, l_max_4b: int = 2) -> None:
        triples, index, coef = gaunt_couplings(l_max_4b)
        self.n_triples = len(triples)
        self.register_buffer("b4_index", index)
        self.register_buffer("b4_coef", coef)

    def descriptors(self, center_species, edge_center, edge_neighbor_species, edge_vectors):
        captured = []
        outer = nep.per_center_outer_sum

        def capture(*args):
            captured.append(outer(*args))
            return captured[-1]

        nep.per_center_outer_sum = capture
        try:
            q = super().descriptors(center_species, edge_center, edge_neighbor_species, edge_vectors)
        finally:
            nep.per_center_outer_sum = outer
        A = captured[0]  # (n, n_angular, lm) in the l = 1..l_max layout; gaunt_couplings counts l = 0
        i = self.b4_index
        prod = A.index_select(2, i[0] - 1) * A.index_select(2, i[1] - 1) * A.index_select(2, i[2] - 1)
        prod = prod * self.b4_coef.to(A.dtype)
        b4 = torch.zeros((A.shape[0], A.shape[1], self.n_triples), dtype=A.dtype).index_add(2, i[3], prod)
        return torch.cat([q, b4.reshape(A.shape[0], -1)], dim=1)


def with_four_body(model: nn.Module, graphs) -> nn.Module:
    """The student with 4-body columns whose MLP weights are zero (same outputs)."""
    inner = base_model(model)
    inner.__class__ = FourBodyNEP
    inner.add_four_body()
    n_old = inner.n_descriptors
    n_new = n_old + inner.n_angular * inner.n_triples
    inner.descriptor_mean = torch.cat([inner.descriptor_mean, torch.zeros(inner.n_species, n_new - n_old)], 1)
    inner.descriptor_std = torch.cat([inner.descriptor_std, torch.ones(inner.n_species, n_new - n_old)], 1)
    for net in inner.mlp.nets:
        old = net[0]
        new = nn.Linear(n_new, old.out_features).to(old.weight)
        with torch.no_grad():
            new.weight.zero_()
            new.weight[:, :n_old] = old.weight
            new.bias.copy_(old.bias)
        net[0] = new
    inner.n_descriptors = n_new
    mean, std = descriptor_statistics(model, graphs)
    inner.descriptor_mean[:, n_old:] = mean[:, n_old:]
    inner.descriptor_std[:, n_old:] = std[:, n_old:]
    return model


def force_rmse(model: nn.Module, graphs) -> float:
    """meV/Å over the frames."""
    model.eval()
    sq, n = 0.0, 0
    for k in range(0, len(graphs), 8):
        b = collate(graphs[k : k + 8])
        f = predict(model, b)["forces"].detach()
        sq += float((f - b.forces).pow(2).sum())
        n += b.forces.numel()
    return 1000 * math.sqrt(sq / n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--student", type=Path, default=REPO / "models" / "carbide.pt")
    ap.add_argument("--frames", type=Path, required=True, help="teacher liquid frames (extxyz)")
    ap.add_argument("--test", type=Path, default=REPO.parent / "shared" / "data" / "carbide" / "test.extxyz")
    ap.add_argument("--variant", choices=["base", "4body"], required=True)
    ap.add_argument("--minutes", type=float, default=12.0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    model, meta = rebuild_module(args.student)
    model = model.double()
    cutoff, species = meta.cutoff, list(meta.species)
    graphs = [g.to(torch.float64) for g in graphs_from_atoms(read_structures(args.frames), species, cutoff)]
    tr, va = _split(len(graphs), 0.1, 0)
    train, valid = [graphs[i] for i in tr], [graphs[i] for i in va]
    test = [g.to(torch.float64) for g in graphs_from_atoms(read_structures(args.test), species, cutoff)
            if g.config_type[0] == "liquid"]
    if args.variant == "4body":
        model = with_four_body(model, train)
    base_model(model).fused = False
    result = {"variant": args.variant, "student": str(args.student), "frames": str(args.frames),
              "n_train": len(train), "n_valid": len(valid), "n_test_liquid": len(test), "minutes": args.minutes,
              "before": {"train": force_rmse(model, train), "valid": force_rmse(model, valid), "test_liquid": force_rmse(model, test)}}
    print(json.dumps(result["before"]))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=2e-4)
    start, epochs = time.perf_counter(), 0
    while time.perf_counter() - start < 60 * args.minutes:
        model.train()
        for k in torch.randperm(len(train)).split(4):
            p = min(1.0, (time.perf_counter() - start) / (60 * args.minutes))
            for g in opt.param_groups:
                g["lr"] = 2e-4 * (1e-5 / 2e-4) ** p
            opt.zero_grad(set_to_none=True)
            sq, n = loss_sums(model, collate([train[i] for i in k.tolist()]))
            loss = 300 * sq["e"] / max(1, n["e"]) + 10 * sq["f"] / max(1, n["f"]) + sq["s"] / max(1, n["s"])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            opt.step()
        epochs += 1
    result["epochs"] = epochs
    result["after"] = {"train": force_rmse(model, train), "valid": force_rmse(model, valid), "test_liquid": force_rmse(model, test)}
    print(json.dumps(result["after"]), f"{epochs} epochs")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"probe_{args.variant}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
