"""Training curves and parity plots (PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mlip_lammps.training.metrics import EV_A3_TO_GPA  # noqa: E402


def training_curves(history: list[dict], path: Path) -> None:
    if not history:
        return
    ep = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, unit in zip(axes, ("energy_rmse_meV_per_atom", "forces_rmse_meV_per_A", "stress_rmse_GPa"), ("meV/atom", "meV/Å", "GPa")):
        ax.semilogy(ep, [h[f"train_{key}"] for h in history], label="train")
        ax.semilogy(ep, [h[f"valid_{key}"] for h in history], label="validation (EMA)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{key.split('_')[0]} RMSE ({unit})")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parity_plot(p: dict[str, np.ndarray], path: Path, species: list[str], title: str = "test") -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    ax = axes[0]
    ax.plot(p["e_ref"], p["e_pred"], ".", ms=3)
    ax.set_xlabel("reference E (eV/atom)")
    ax.set_ylabel("model E (eV/atom)")
    ax = axes[1]
    for k, s in enumerate(species):
        m = p["f_species"] == k
        if m.any():
            ax.plot(p["f_ref"][m].ravel(), p["f_pred"][m].ravel(), ".", ms=1, label=s)
    ax.set_xlabel("reference F (eV/Å)")
    ax.set_ylabel("model F (eV/Å)")
    ax.legend(markerscale=8)
    ax = axes[2]
    ok = np.isfinite(p["s_ref"])
    ax.plot(EV_A3_TO_GPA * p["s_ref"][ok], EV_A3_TO_GPA * p["s_pred"][ok], ".", ms=3)
    ax.set_xlabel("reference stress (GPa)")
    ax.set_ylabel("model stress (GPa)")
    for ax in axes:
        lo, hi = ax.get_xlim()
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.5)
        ax.grid(alpha=0.3)
    fig.suptitle(f"parity ({title} set)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
