#!/usr/bin/env python
"""EAM vs MLIP validation report from the physics workflow runs.

    .venv/bin/python benchmarks/physics/report.py [--runs runs/physics]

Reads the folders written by ``run_eam_reference.sh`` (``eam_melt``, ``eam_liquid``, and with
MODEL=models/cu.pt ``mlip_melt``, ``mlip_liquid``) and by ``run_crystallize.sh``
(``{eam,mlip}_crystallize/seed*``, ``eam_crystallize/cu64zr36_seed*``), checks the acceptance
criteria (melting point within ±20 K, liquid density within 0.5%, g(r) first-peak height within 3%,
diffusion coefficient within 10%), and writes ``results.json``, ``results.md`` and the plots in
``plots/`` next to this script.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
POTENTIALS = {"eam": "EAM (Cu_mishin1)", "mlip": "MLIP (models/cu.pt)"}

# (key in liquid result, label, allowed relative difference or None)
LIQUID = [
    ("density_g_cm3", "density (g/cm³)", 0.005),
    ("gr_first_peak_height", "g(r) first-peak height", 0.03),
    ("gr_first_peak_r_A", "g(r) first-peak position (Å)", None),
    ("coordination_number", "coordination number", None),
    ("sq_first_peak_height", "S(q) first-peak height", None),
    ("sq_first_peak_q_inv_A", "S(q) first-peak position (1/Å)", None),
    ("D_uncorrected", "D, box (1e-9 m²/s)", 0.10),
    ("D_corrected", "D, Yeh–Hummer corrected (1e-9 m²/s)", 0.10),
    ("viscosity_mPa_s", "viscosity, Green–Kubo (mPa·s)", None),
]


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def liquid_values(result: dict, temperature: str = "1400") -> dict:
    t = result["temperatures"][temperature]
    d = t["diffusion_m2_s"]["Cu"]
    return {**{k: t.get(k) for k, _, _ in LIQUID if k in t},
            "D_uncorrected": d["uncorrected"] * 1e9, "D_corrected": d["corrected"] * 1e9,
            "density_err": t.get("density_err_g_cm3"), "viscosity_err": t.get("viscosity_err_mPa_s")}


def melt_section(runs: Path, out: dict, md: list[str], plots: Path) -> None:
    m = {k: load(runs / f"{k}_melt" / "result.json") for k in POTENTIALS}
    md += ["## Melting point (solid–liquid coexistence, `mlip melt --t-guess 1300`, 1,024 atoms)", "",
           "| potential | T_melt (K) | runs | T_guess used (K) | LAMMPS loop time (s) |", "|---|---:|---:|---:|---:|"]
    for k, r in m.items():
        if r:
            md.append(f"| {POTENTIALS[k]} | {r['T_melt_K']:.1f} ± {r['T_melt_err_K']:.1f} | {r['n_runs_used']} | "
                      f"{r['T_guess_used_K']:g} | {r['lammps_loop_time_s']:.0f} |")
    if m["eam"] and m["mlip"]:
        diff = m["mlip"]["T_melt_K"] - m["eam"]["T_melt_K"]
        err = float(np.hypot(m["mlip"]["T_melt_err_K"], m["eam"]["T_melt_err_K"]))
        ok = abs(diff) <= 20.0
        out["melt"] = {"eam": m["eam"]["T_melt_K"], "eam_err": m["eam"]["T_melt_err_K"], "mlip": m["mlip"]["T_melt_K"],
                       "mlip_err": m["mlip"]["T_melt_err_K"], "difference_K": diff, "difference_err_K": err,
                       "criterion": "|MLIP - EAM| <= 20 K", "pass": ok}
        md += ["", f"MLIP − EAM = {diff:+.1f} ± {err:.1f} K: {'within' if ok else 'OUTSIDE'} the ±20 K criterion.", ""]
        fig, ax = plt.subplots(figsize=(5, 3.2))
        for k, c in (("eam", "C0"), ("mlip", "C3")):
            temps = [r["T_mean_K"] for r in m[k]["runs"]
                     if r["status"] == "coexisting" and not r.get("pilot") and r["T_guess_K"] == m[k]["T_guess_used_K"]]
            ax.plot(np.arange(1, len(temps) + 1), temps, "o", color=c, label=f"{POTENTIALS[k]}: {m[k]['T_melt_K']:.0f} K")
            ax.axhline(m[k]["T_melt_K"], color=c, lw=1)
        ax.set_xlabel("coexistence run")
        ax.set_ylabel("mean temperature (K)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(plots / "melt_runs.png", dpi=120)
        plt.close(fig)
        md += ["![coexistence runs](plots/melt_runs.png)", ""]


def liquid_section(runs: Path, out: dict, md: list[str], plots: Path) -> None:
    r = {k: load(runs / f"{k}_liquid" / "result.json") for k in POTENTIALS}
    if not (r["eam"] and r["mlip"]):
        md += ["## Liquid at 1400 K", "", "(runs missing)", ""]
        return
    v = {k: liquid_values(x) for k, x in r.items()}
    md += ["## Liquid Cu at 1400 K (`mlip liquid --temperatures 1400`, 2,048 atoms)", "",
           "| quantity | EAM | MLIP | MLIP/EAM − 1 | criterion |", "|---|---:|---:|---:|---|"]
    checks = {}
    for key, label, tol in LIQUID:
        a, b = v["eam"].get(key), v["mlip"].get(key)
        if a is None or b is None:
            continue
        rel = b / a - 1.0
        crit = ""
        if tol is not None:
            ok = abs(rel) <= tol
            checks[key] = {"eam": a, "mlip": b, "relative_difference": rel, "tolerance": tol, "pass": ok}
            crit = f"±{100 * tol:g}%: {'pass' if ok else 'FAIL'}"
        md.append(f"| {label} | {a:.4g} | {b:.4g} | {100 * rel:+.2f}% | {crit} |")
    out["liquid_1400K"] = {"eam": v["eam"], "mlip": v["mlip"], "checks": checks}
    md.append("")
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
    for k, c in (("eam", "C0"), ("mlip", "C3")):
        base = runs / f"{k}_liquid" / "1400K"
        for ax, name, xl, yl in ((axes[0], "gr", "r (Å)", "g(r)"), (axes[1], "sq", "q (1/Å)", "S(q)"),
                                 (axes[2], "msd", "t (ps)", "MSD (Å²)")):
            d = np.loadtxt(base / f"{name}.dat")
            ax.plot(d[:, 0], d[:, 1], color=c, lw=1.2, label=POTENTIALS[k])
            ax.set_xlabel(xl)
            ax.set_ylabel(yl)
    axes[0].set_xlim(1.5, 10)
    axes[1].set_xlim(1.0, 12)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plots / "liquid_1400K.png", dpi=120)
    plt.close(fig)
    md += ["![g(r), S(q), MSD](plots/liquid_1400K.png)", ""]


def cooling_curve(run: Path) -> dict:
    from mlip_lammps.workflows.demo import parse_log

    res = load(run / "result.json")
    p = res["protocol"]
    ramp = parse_log(run / "cooling" / "log.lammps")["runs"][-1]
    steps = ramp["Step"] - ramp["Step"][0]
    t_set = p["t_start"] + (p["t_end"] - p["t_start"]) * steps / p["cooling_steps"]
    return {"result": res, "T": t_set, "pe": ramp["v_pe_atom"],
            "crystalline": ramp["v_f_fcc"] + ramp["v_f_hcp"] + ramp["v_f_bcc"], "ico": ramp["v_f_ico"]}


def crystallize_section(runs: Path, out: dict, md: list[str], plots: Path) -> None:
    md += ["## Crystallisation on cooling (`mlip crystallize`, 2,048 atoms, 1350 K → 400 K at 3·10¹² K/s)", "",
           "| potential | seed | onset, energy (K) | onset, structure (K) | crystallised | final fcc | final hcp | final bcc | final ico | final other | final q6 solid-like |",
           "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    fmt = lambda x: "—" if x is None else f"{x:.0f}"  # noqa: E731
    out["crystallize"] = {}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for k, c in (("eam", "C0"), ("mlip", "C3")):
        for run in sorted((runs / f"{k}_crystallize").glob("seed*")):
            if not (run / "result.json").is_file():
                continue
            cc = cooling_curve(run)
            r = cc["result"]
            f = r["final_cna_fractions"]
            md.append(f"| {POTENTIALS[k]} | {run.name[4:]} | {fmt(r['T_onset_pe_K'])} | {fmt(r['T_onset_structure_K'])} | "
                      f"{'yes' if r['crystallized'] else 'no'} | {f['fcc']:.3f} | {f['hcp']:.3f} | {f['bcc']:.3f} | "
                      f"{f['ico']:.3f} | {f['other']:.3f} | {r['final_solid_fraction']:.3f} |")
            out["crystallize"][f"{k}_{run.name}"] = {key: r[key] for key in (
                "T_onset_pe_K", "T_onset_structure_K", "crystallized", "final_cna_fractions", "final_crystalline_fraction",
                "final_solid_fraction")}
            ls = "-" if run.name.endswith("1") else "--"
            axes[0].plot(cc["T"], cc["pe"], ls, color=c, lw=1, label=f"{k} {run.name}")
            axes[1].plot(cc["T"], cc["crystalline"], ls, color=c, lw=1, label=f"{k} {run.name}")
    for ax, yl in ((axes[0], "potential energy (eV/atom)"), (axes[1], "CNA fcc+hcp+bcc fraction")):
        ax.set_xlabel("set-point temperature (K)")
        ax.set_ylabel(yl)
        ax.invert_xaxis()
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plots / "crystallize_cu.png", dpi=120)
    plt.close(fig)
    md += ["", "![cooling curves](plots/crystallize_cu.png)", ""]

    glass = sorted((runs / "eam_crystallize").glob("cu64zr36_seed*"))
    glass = [g for g in glass if (g / "result.json").is_file()]
    if glass:
        curves = [cooling_curve(g) for g in glass]
        n_atoms = curves[0]["result"]["n_atoms"]
        md += [f"### Cu64Zr36 (EAM/FS CuZr_mm, {n_atoms:,} atoms, 1600 K → 300 K at 3·10¹² K/s)", "",
               "| seed | crystallised | final CNA icosahedral | fcc+hcp+bcc | other |", "|---:|---|---:|---:|---:|"]
        fig, ax = plt.subplots(figsize=(5, 3.3))
        for g, cc in zip(glass, curves):
            r = cc["result"]
            f = r["final_cna_fractions"]
            md.append(f"| {g.name.split('seed')[1]} | {'yes' if r['crystallized'] else 'no (glass)'} | {f['ico']:.3f} | "
                      f"{f['fcc'] + f['hcp'] + f['bcc']:.3f} | {f['other']:.3f} |")
            out["crystallize"][f"eam_{g.name}"] = {key: r[key] for key in ("crystallized", "final_cna_fractions")}
            ax.plot(cc["T"], cc["ico"], color="C2", lw=1, label=f"icosahedral ({g.name})")
            ax.plot(cc["T"], cc["crystalline"], color="k", lw=1, label="fcc+hcp+bcc")
        ax.set_xlabel("set-point temperature (K)")
        ax.set_ylabel("CNA fraction")
        ax.invert_xaxis()
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(plots / "glass_cu64zr36.png", dpi=120)
        plt.close(fig)
        md += ["", "![Cu64Zr36 icosahedral order](plots/glass_cu64zr36.png)", ""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=Path, default=REPO / "runs" / "physics")
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    plots = args.out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    out: dict = {}
    md = ["# EAM vs MLIP: validation results (generated by benchmarks/physics/report.py)", ""]
    melt_section(args.runs, out, md, plots)
    liquid_section(args.runs, out, md, plots)
    crystallize_section(args.runs, out, md, plots)
    (args.out / "results.json").write_text(json.dumps(out, indent=2, default=float) + "\n")
    (args.out / "results.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
