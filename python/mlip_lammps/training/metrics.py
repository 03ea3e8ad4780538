"""Error metrics of a model on labelled graphs (energies per atom, forces, stress)."""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np
import torch

from mlip_lammps.contract import predict
from mlip_lammps.data.dataset import Graph, collate

EV_A3_TO_GPA = 160.21766208


def predictions(model: torch.nn.Module, graphs: Sequence[Graph], batch_size: int = 16,
                message_passing: bool = False) -> dict[str, np.ndarray]:
    """Predicted and reference labels, concatenated over ``graphs`` (float64 numpy)."""
    out = defaultdict(list)
    dtype = next((b.dtype for b in model.buffers() if b.is_floating_point()), torch.float64)
    for k in range(0, len(graphs), batch_size):
        batch = collate(graphs[k : k + batch_size]).to(dtype)
        p = predict(model, batch, message_passing)
        n = batch.n_atoms.double().numpy()
        out["e_pred"].append(p["energy"].detach().double().numpy() / n)
        out["e_ref"].append(batch.energy.double().numpy() / n)
        out["f_pred"].append(p["forces"].detach().double().numpy())
        out["f_ref"].append(batch.forces.double().numpy())
        out["s_pred"].append(p["stress"].detach().double().numpy().reshape(-1, 9))
        out["s_ref"].append(batch.stress.double().numpy().reshape(-1, 9))
        out["f_species"].append(batch.species.numpy())
        out["f_graph"].append(batch.atom_graph.numpy() + k)
        out["config_type"].append(np.array(batch.config_type))
    return {k: np.concatenate(v) for k, v in out.items()}


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    d = (a - b)[np.isfinite(b)]
    return float(np.sqrt(np.mean(d * d))) if d.size else float("nan")


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    d = (a - b)[np.isfinite(b)]
    return float(np.mean(np.abs(d))) if d.size else float("nan")


def summarize(p: dict[str, np.ndarray], species: list[str] | None = None) -> dict:
    """RMSE/MAE in meV/atom, meV/Å and GPa; overall, per element (forces) and per config_type."""

    def block(e_mask: np.ndarray, f_mask: np.ndarray) -> dict:
        return {
            "n_frames": int(e_mask.sum()),
            "energy_rmse_meV_per_atom": 1e3 * _rmse(p["e_pred"][e_mask], p["e_ref"][e_mask]),
            "energy_mae_meV_per_atom": 1e3 * _mae(p["e_pred"][e_mask], p["e_ref"][e_mask]),
            "forces_rmse_meV_per_A": 1e3 * _rmse(p["f_pred"][f_mask], p["f_ref"][f_mask]),
            "forces_mae_meV_per_A": 1e3 * _mae(p["f_pred"][f_mask], p["f_ref"][f_mask]),
            "stress_rmse_GPa": EV_A3_TO_GPA * _rmse(p["s_pred"][e_mask], p["s_ref"][e_mask]),
            "stress_mae_GPa": EV_A3_TO_GPA * _mae(p["s_pred"][e_mask], p["s_ref"][e_mask]),
        }

    all_e = np.ones(len(p["e_pred"]), dtype=bool)
    all_f = np.ones(len(p["f_pred"]), dtype=bool)
    result = block(all_e, all_f)
    if species is not None:
        result["forces_rmse_meV_per_A_by_element"] = {
            s: 1e3 * _rmse(p["f_pred"][p["f_species"] == k], p["f_ref"][p["f_species"] == k])
            for k, s in enumerate(species)
            if np.any(p["f_species"] == k)
        }
    by_type = {}
    for ct in sorted(set(p["config_type"].tolist())):
        e_mask = p["config_type"] == ct
        f_mask = np.isin(p["f_graph"], np.nonzero(e_mask)[0])
        by_type[ct] = block(e_mask, f_mask)
    result["by_config_type"] = by_type
    return result
