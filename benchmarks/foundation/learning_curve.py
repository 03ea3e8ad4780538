#!/usr/bin/env python
"""Active learning vs random selection: test error against teacher calls.

    benchmarks/foundation/learning_curve.sh     # runs both distillations, then this script
    .venv/bin/python benchmarks/foundation/learning_curve.py

Reads runs/distill/carbide_{deviation,random}/distill.json (the same config,
configs/distill_carbide.yaml, with ``active_learning.selection`` deviation or random; the same
60 starting candidates, then 30 frames per iteration) and writes learning_curve.{md,json} and
plots/learning_curve.png. Errors are on ../shared/data/carbide/test.extxyz, committee mean.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = {}
    for mode in ("deviation", "random"):
        log = json.loads((REPO / "runs" / "distill" / f"carbide_{mode}" / "distill.json").read_text())
        curves[mode] = [{"teacher_calls": e["teacher_calls"], "train_frames": e["n_train_frames"],
                         "energy_rmse_meV_per_atom": e["test"]["energy_rmse_meV_per_atom"],
                         "forces_rmse_meV_per_A": e["test"]["forces_rmse_meV_per_A"],
                         "stress_rmse_GPa": e["test"]["stress_rmse_GPa"],
                         "md_frames_failed_fraction": e.get("deviation", {}).get("failed_fraction")}
                        for e in log["iterations"]]
    (HERE / "learning_curve.json").write_text(json.dumps(curves, indent=1))
    lines = ["# Active learning vs random selection (carbide, teacher SevenNet-0)\n",
             "Same candidates, student (3-member NEP committee, 40 epochs) and MD exploration; only the choice "
             "of the 30 frames labelled per iteration differs. Test set: ../shared/data/carbide/test.extxyz "
             "(committee mean). `failed` is the fraction of exploration MD frames with committee force "
             "deviation ≥ trust_hi (2 eV/Å) after that iteration's training.\n",
             "| teacher calls | AL: E (meV/atom) | AL: F (meV/Å) | AL: failed | random: E | random: F | random: failed |",
             "|---|---|---|---|---|---|---|"]
    for a, r in zip(curves["deviation"], curves["random"]):
        def f(x):
            return "–" if x is None else f"{x:.2f}"
        lines.append(f"| {a['teacher_calls']} | {a['energy_rmse_meV_per_atom']:.1f} | {a['forces_rmse_meV_per_A']:.0f} | "
                     f"{f(a['md_frames_failed_fraction'])} | {r['energy_rmse_meV_per_atom']:.1f} | {r['forces_rmse_meV_per_A']:.0f} | "
                     f"{f(r['md_frames_failed_fraction'])} |")
    (HERE / "learning_curve.md").write_text("\n".join(lines) + "\n")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for mode, style in (("deviation", "o-"), ("random", "s--")):
        c = curves[mode]
        x = [p["teacher_calls"] for p in c]
        axes[0].plot(x, [p["forces_rmse_meV_per_A"] for p in c], style, label=f"{'active learning' if mode == 'deviation' else 'random'}")
        axes[1].plot(x, [p["energy_rmse_meV_per_atom"] for p in c], style, label=mode)
    axes[0].set(xlabel="teacher calls (frames)", ylabel="test force RMSE (meV/Å)")
    axes[1].set(xlabel="teacher calls (frames)", ylabel="test energy RMSE (meV/atom)", yscale="log")
    axes[0].legend()
    fig.suptitle("carbide students distilled from SevenNet-0")
    fig.tight_layout()
    fig.savefig(HERE / "plots" / "learning_curve.png", dpi=110)
    print((HERE / "learning_curve.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
