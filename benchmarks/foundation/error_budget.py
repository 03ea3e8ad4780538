#!/usr/bin/env python
"""Where a student's force error on the carbide sets comes from (issue 7: F RMSE ≤ 150 meV/Å).

    .venv/bin/python benchmarks/foundation/error_budget.py [--student models/carbide.pt]

For the shared test set and the shared train set (which the shipped student was trained on, less
its 10 % validation split), per config_type and system: frames, energy and force RMSE, the
teacher's RMS force component and the relative force error (RMSE / teacher RMS), and the share of
the set's squared force error. Then the same squared error split by each atom's nearest-neighbour
distance and by the kind of that neighbour (C or metal). A student whose error on its own training
frames is above the target cannot reach the target on the test set by more of the same data.

Writes error_budget.json and error_budget.md next to this script (or in --out).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import ase.io
import numpy as np

from mlip_lammps import MLIPCalculator

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "carbide"
NN_BINS = (0.0, 1.3, 1.5, 1.8, 2.0, 2.2, 99.0)  # Å


def system(atoms) -> str:
    metals = sorted(set(atoms.get_chemical_symbols()) - {"C"})
    return "HEC" if len(metals) > 1 else f"{metals[0]}C"


def per_atom(student: MLIPCalculator, frames: list) -> dict[str, np.ndarray]:
    """Per-atom squared force error (sum over components), teacher |F|², nearest-neighbour distance
    and kinds; per-frame energy error (eV/atom); with each atom's and frame's group key."""
    out: dict[str, list] = {k: [] for k in ("err2", "f2", "nn", "pair", "key", "frame_key", "e_err")}
    for a in frames:
        key = f"{a.info['config_type']} {system(a)}"
        b = a.copy()
        b.calc = student
        out["err2"] += list(((b.get_forces() - a.get_forces()) ** 2).sum(axis=1))
        out["f2"] += list((a.get_forces() ** 2).sum(axis=1))
        d = a.get_all_distances(mic=True)
        np.fill_diagonal(d, np.inf)
        j = d.argmin(axis=1)
        carbon = np.array(a.get_chemical_symbols()) == "C"
        out["nn"] += list(d.min(axis=1))
        out["pair"] += [("C" if carbon[i] else "M") + "-" + ("C" if carbon[j[i]] else "M") for i in range(len(a))]
        out["key"] += [key] * len(a)
        out["frame_key"].append(key)
        out["e_err"].append((b.get_potential_energy() - a.get_potential_energy()) / len(a))
    return {k: np.array(v) for k, v in out.items()}


def budget(student: MLIPCalculator, path: Path) -> dict:
    p = per_atom(student, ase.io.read(path, ":"))
    total = p["err2"].sum()

    def row(mask: np.ndarray, frame_mask: np.ndarray | None = None) -> dict:
        r = {"atoms": int(mask.sum()),
             "F_rmse_meV_per_A": float(1000 * np.sqrt(p["err2"][mask].mean() / 3)),
             "teacher_F_rms_meV_per_A": float(1000 * np.sqrt(p["f2"][mask].mean() / 3)),
             # undefined where the teacher's forces vanish (ideal binary crystals)
             "relative_F_error": (float(np.sqrt(p["err2"][mask].sum() / p["f2"][mask].sum()))
                                  if p["f2"][mask].mean() > 1e-6 else None),
             "share_of_squared_F_error": float(p["err2"][mask].sum() / total)}
        if frame_mask is not None:
            r["frames"] = int(frame_mask.sum())
            r["E_rmse_meV_per_atom"] = float(1000 * np.sqrt((p["e_err"][frame_mask] ** 2).mean()))
        return r

    groups = {k: row(p["key"] == k, p["frame_key"] == k) for k in sorted(set(p["key"]))}
    by_nn = {f"{lo:g}-{hi:g}" if hi < 99 else f">{lo:g}": row((p["nn"] >= lo) & (p["nn"] < hi))
             for lo, hi in zip(NN_BINS[:-1], NN_BINS[1:]) if ((p["nn"] >= lo) & (p["nn"] < hi)).any()}
    liquid = np.array([k.startswith("liquid") for k in p["key"]])
    by_pair_liquid = {k: row(liquid & (p["pair"] == k)) for k in sorted(set(p["pair"][liquid]))}
    return {"file": str(path), "all": row(np.ones_like(p["nn"], dtype=bool), np.ones_like(p["e_err"], dtype=bool)),
            "groups": groups, "by_nearest_neighbour_A": by_nn, "liquid_by_nearest_neighbour_kind": by_pair_liquid}


def write_md(result: dict, out: Path) -> None:
    lines = ["# Where the carbide student's force error comes from", "",
             f"Student `{result['student']}` against its teacher's labels (SevenNet-0). Written by `error_budget.py`. "
             "Relative error = force RMSE / the teacher's RMS force component; share = part of the set's squared "
             "force error.", ""]
    for name, b in result["sets"].items():
        a = b["all"]
        lines += [f"## {name} set ({a['frames']} frames, {a['atoms']} atoms): "
                  f"E {a['E_rmse_meV_per_atom']:.2f} meV/atom, F {a['F_rmse_meV_per_A']:.1f} meV/Å", "",
                  "| config_type | system | frames | E RMSE (meV/atom) | F RMSE (meV/Å) | teacher F rms | relative | share |",
                  "|---|---|---|---|---|---|---|---|"]
        for key, r in b["groups"].items():
            ct, sys_ = key.split()
            lines.append(f"| {ct} | {sys_} | {r['frames']} | {r['E_rmse_meV_per_atom']:.1f} | {r['F_rmse_meV_per_A']:.0f} | "
                         f"{r['teacher_F_rms_meV_per_A']:.0f} | "
                         + ("–" if r["relative_F_error"] is None else f"{r['relative_F_error']:.3f}")
                         + f" | {r['share_of_squared_F_error']:.3f} |")
        lines += ["", "| nearest neighbour (Å) | atoms | F RMSE (meV/Å) | share |", "|---|---|---|---|"]
        lines += [f"| {k} | {r['atoms']} | {r['F_rmse_meV_per_A']:.0f} | {r['share_of_squared_F_error']:.3f} |"
                  for k, r in b["by_nearest_neighbour_A"].items()]
        lines += ["", "| liquid atoms: atom–nearest neighbour | atoms | F RMSE (meV/Å) | share of the set |", "|---|---|---|---|"]
        lines += [f"| {k} | {r['atoms']} | {r['F_rmse_meV_per_A']:.0f} | {r['share_of_squared_F_error']:.3f} |"
                  for k, r in b["liquid_by_nearest_neighbour_kind"].items()]
        lines.append("")
    (out / "error_budget.md").write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--student", type=Path, default=REPO / "models" / "carbide.pt")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    student = MLIPCalculator(args.student)
    result = {"student": str(args.student.resolve().relative_to(REPO)) if args.student.resolve().is_relative_to(REPO)
              else str(args.student),
              "sets": {name: budget(student, SHARED / f"{name}.extxyz") for name in ("test", "train")}}
    (args.out / "error_budget.json").write_text(json.dumps(result, indent=1))
    write_md(result, args.out)
    print((args.out / "error_budget.md").read_text())


if __name__ == "__main__":
    main()
