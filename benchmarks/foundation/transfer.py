#!/usr/bin/env python
"""Transferability of a distilled carbide student against its teacher, SevenNet-0.

    .venv/bin/python benchmarks/foundation/transfer.py [--student models/carbide.pt] [--out benchmarks/foundation]

Needs ``sevenn`` (the teacher). For ZrC, HfC, NbC, TaC, TiC and the high-entropy carbide
(Hf,Nb,Ta,Ti,Zr)C (a fixed random 64-atom cell), with both potentials and the same protocol:

* test-set errors (../shared/data/carbide/test.extxyz) by config_type;
* energy–volume curve (9 points, ±4 % in a), Birch–Murnaghan fit: lattice constant a0 (Å), bulk
  modulus B (GPa);
* elastic constants C11, C12, C44 (GPa) from stresses at ±0.5 % strain of the a0 cell
  (positions relaxed for the HEC, whose random occupation breaks the inversion symmetry that
  keeps ions fixed in the binaries);
* carbon-vacancy energy ΔE = E(relaxed cell with one C removed) − E(perfect), 64-atom cells (eV);
  the formation energy is ΔE + μ_C with a common carbon chemical potential, so differences in ΔE
  are differences in formation energy;
* a 4,000 K liquid: the student melts and equilibrates 64-atom cells in LAMMPS; the teacher
  relabels the last frames (student error on its own liquid) and g(r) is reported;
* speed, one interleaved measurement on the same 512-atom HEC cell and one core: the student in
  LAMMPS (µs/atom-step) vs the teacher's ASE calculator (energy + forces per atom).

Writes transfer.json, transfer.md and plots/ (E–V curves, g(r)).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import ase.io
import numpy as np
import torch
from ase import Atoms
from ase.eos import EquationOfState
from ase.optimize import BFGS
from ase.units import GPa

from mlip_lammps import MLIPCalculator
from mlip_lammps.workflows.structures import build, parse_structure

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "carbide"
SYSTEMS = {  # teacher lattice constants from ../shared/data/README.md: starting points only
    "ZrC": ("rocksalt:ZrC", None, 4.726), "HfC": ("rocksalt:HfC", None, 4.653), "NbC": ("rocksalt:NbC", None, 4.507),
    "TaC": ("rocksalt:TaC", None, 4.486), "TiC": ("rocksalt:TiC", None, 4.339), "HEC": ("rocksalt:ZrC", "HfNbTaTiZr", 4.543),
}
SPECIES = ["C", "Hf", "Nb", "Ta", "Ti", "Zr"]


def cell(name: str, a: float, repeats: tuple[int, int, int] | None = None, seed: int = 7) -> Atoms:
    """Conventional rocksalt supercell; by default 8 atoms for the ordered binaries (exact for
    them) and 64 for the HEC (the random occupation fixed by ``seed``)."""
    structure, comp, _ = SYSTEMS[name]
    if repeats is None:
        repeats = (1, 1, 1) if comp is None else (2, 2, 2)
    return build(parse_structure(structure, comp), repeats, a, seed=seed)


def energy_volume(calc, name: str) -> dict:
    a_ref = SYSTEMS[name][2]
    scales = np.linspace(0.96, 1.04, 9)
    vols, ens = [], []
    for s in scales:
        at = cell(name, a_ref * s)
        at.calc = calc
        if SYSTEMS[name][1]:
            BFGS(at, logfile=None).run(fmax=0.02, steps=100)
        vols.append(at.get_volume() / len(at))
        ens.append(at.get_potential_energy() / len(at))
    eos = EquationOfState(vols, ens, eos="birchmurnaghan")
    v0, e0, b = eos.fit()
    n = len(cell(name, a_ref))
    a0 = (v0 * n) ** (1 / 3) / (2 if SYSTEMS[name][1] else 1)
    return {"a0_A": float(a0), "B_GPa": float(b / GPa), "E0_eV_per_atom": float(e0), "volumes": vols, "energies": ens}


def elastic(calc, name: str, a0: float, eps: float = 0.005) -> dict:
    relax = SYSTEMS[name][1] is not None

    def stress(strain: np.ndarray) -> np.ndarray:
        at = cell(name, a0)
        at.set_cell(at.cell.array @ (np.eye(3) + strain), scale_atoms=True)
        at.calc = calc
        if relax:
            BFGS(at, logfile=None).run(fmax=0.01, steps=200)
        return at.get_stress(voigt=False) / GPa  # ASE sign: positive = tension, σ = C ε

    e_xx = np.zeros((3, 3))
    e_xx[0, 0] = eps
    e_yz = np.zeros((3, 3))
    e_yz[1, 2] = e_yz[2, 1] = eps  # engineering shear strain 2 eps
    s_p, s_m = stress(e_xx), stress(-e_xx)
    g_p, g_m = stress(e_yz), stress(-e_yz)
    return {"C11_GPa": float((s_p[0, 0] - s_m[0, 0]) / (2 * eps)),
            "C12_GPa": float((s_p[1, 1] + s_p[2, 2] - s_m[1, 1] - s_m[2, 2]) / (4 * eps)),
            "C44_GPa": float((g_p[1, 2] - g_m[1, 2]) / (4 * eps))}


def vacancy(calc, name: str, a0: float) -> float:
    perfect = cell(name, a0, (2, 2, 2))
    perfect.calc = calc
    if SYSTEMS[name][1]:  # the HEC's random occupation relaxes
        BFGS(perfect, logfile=None).run(fmax=0.02, steps=200)
    e_perfect = perfect.get_potential_energy()
    defect = perfect.copy()
    del defect[int(np.flatnonzero(defect.symbols == "C")[5])]
    defect.calc = calc
    BFGS(defect, logfile=None).run(fmax=0.02, steps=300)
    return float(defect.get_potential_energy() - e_perfect)


def graphite_energy(calc) -> float:
    """Energy per atom (eV) of AB graphite at the experimental geometry (a 2.464 Å, c 6.711 Å):
    the carbon reservoir of the vacancy formation energies, evaluated with the teacher."""
    from ase.lattice.hexagonal import Graphite

    g = Graphite("C", latticeconstant={"a": 2.464, "c": 6.711})
    g.calc = calc
    return float(g.get_potential_energy() / len(g))


def liquid(student: Path, teacher, out: Path, temperature: float = 4000.0) -> dict:
    """Student NPT MD of the HEC and TiC at ``temperature``; the teacher relabels 10 frames of each."""
    from mlip_lammps.lammps import run_lammps, write_data

    res = {}
    for name in ("HEC", "TiC"):
        d = out / f"liquid_{name}"
        d.mkdir(parents=True, exist_ok=True)
        # constant volume (+12 %, as the shared liquid frames): at zero pressure the student's hot
        # 64-atom cell vaporises (the students' training data hold no low-density states)
        write_data(cell(name, SYSTEMS[name][2] * 1.12 ** (1 / 3), (2, 2, 2)), d / "start.lmp", SPECIES)
        (d / "in.lammps").write_text("\n".join([
            "units metal", "atom_style atomic", "boundary p p p", "read_data start.lmp",
            f"pair_style mlip {student} threads 1", f"pair_coeff * * {' '.join(SPECIES)}", "neighbor 1.0 bin",
            "timestep 0.001", "velocity all create 12000 5 mom yes rot yes dist gaussian",
            "fix md all nvt temp 6000 6000 0.1", "run 5000", "unfix md",
            f"fix md all nvt temp {temperature:g} {temperature:g} 0.1", "run 5000",
            "dump traj all custom 500 traj.dump id element x y z",
            f"dump_modify traj element {' '.join(SPECIES)} sort id", "thermo 500", "run 5000", ""]))
        run_lammps("in.lammps", cwd=d)
        frames = ase.io.read(d / "traj.dump", "1:", format="lammps-dump-text")
        stud = MLIPCalculator(student)
        de, df, kept, d_min = [], [], [], []
        for at in frames:
            at.pbc = True
            d_min.append(float(np.min(at.get_all_distances(mic=True) + 99 * np.eye(len(at)))))
            at.calc = stud
            e_s, f_s = at.get_potential_energy(), at.get_forces()
            at.calc = teacher
            f_t = at.get_forces()
            if np.abs(f_t).max() > 50.0:  # as mlip label: the teacher is not trusted there
                continue
            kept.append(at)
            de.append((e_s - at.get_potential_energy()) / len(at))
            df.append(f_s - f_t)
        frames, n_all = kept, len(frames)
        if not frames:
            res[name] = {"frames": 0, "rejected": n_all, "min_distance_A": min(d_min)}
            continue
        r, g = radial_distribution(frames, r_max=5.0, n_bins=100)
        res[name] = {"frames": len(frames), "rejected": n_all - len(frames), "min_distance_A": min(d_min), "pressure_GPa_teacher": float(np.mean([-np.trace(_teacher_stress(a, teacher)) / 3 / GPa for a in frames])),
                     "energy_rmse_meV_per_atom": float(1000 * np.sqrt(np.mean(np.square(de)))),
                     "energy_mean_error_meV_per_atom": float(1000 * np.mean(de)),
                     "forces_rmse_meV_per_A": float(1000 * np.sqrt(np.mean(np.square(np.concatenate(df))))),
                     "g_r": {"r": r.tolist(), "g": g.tolist()}}
    return res


def radial_distribution(frames: list[Atoms], r_max: float, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Total g(r) averaged over frames (all pairs, minimum image through ASE's neighbour list)."""
    from ase.neighborlist import neighbor_list

    edges = np.linspace(0.0, r_max, n_bins + 1)
    hist = np.zeros(n_bins)
    for at in frames:
        d = neighbor_list("d", at, r_max)
        shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
        hist += np.histogram(d, edges)[0] / (len(at) * len(at) / at.get_volume() * shell)
    return 0.5 * (edges[1:] + edges[:-1]), hist / len(frames)


def _teacher_stress(atoms: Atoms, teacher) -> np.ndarray:
    atoms.calc = teacher
    return atoms.get_stress(voigt=False)


def speed(student: Path, teacher, out: Path, rounds: int = 3) -> dict:
    """Interleaved: teacher energy+forces on a 512-atom HEC cell, then 200 student MD steps on it."""
    from mlip_lammps.lammps import run_lammps, write_data

    at = cell("HEC", SYSTEMS["HEC"][2], (4, 4, 4))
    d = out / "speed"
    d.mkdir(parents=True, exist_ok=True)
    write_data(at, d / "start.lmp", SPECIES)
    steps = 200
    (d / "in.lammps").write_text("\n".join([
        "units metal", "atom_style atomic", "boundary p p p", "read_data start.lmp",
        f"pair_style mlip {student} threads 1", f"pair_coeff * * {' '.join(SPECIES)}", "neighbor 1.0 bin",
        "timestep 0.001", "velocity all create 2000 5", "fix md all nve", "run 20", f"run {steps}", ""]))
    torch.set_num_threads(1)
    t_teacher, t_student = [], []
    for k in range(rounds):
        b = at.copy()
        b.rattle(0.01, seed=k)  # new positions: the calculator must not return cached results
        teacher.reset()
        b.calc = teacher
        t0 = time.perf_counter()
        b.get_forces()
        t_teacher.append((time.perf_counter() - t0) / len(at))
        run_lammps("in.lammps", cwd=d)
        loop = [l for l in (d / "log.lammps").read_text().splitlines() if l.startswith("Loop time")][-1]
        t_student.append(float(loop.split()[3]) / (steps * len(at)))
    ts, tt = float(np.median(t_student)), float(np.median(t_teacher))
    return {"atoms": len(at), "student_us_per_atom_step": 1e6 * ts, "teacher_us_per_atom_call": 1e6 * tt,
            "speedup": tt / ts, "rounds": rounds, "threads": 1}


def test_errors(student: Path) -> dict:
    """``mlip eval`` of the student on the shared carbide test set."""
    from mlip_lammps.contract import load_model
    from mlip_lammps.data.dataset import graphs_from_atoms, read_structures
    from mlip_lammps.training.metrics import predictions, summarize

    model, meta = load_model(student)
    graphs = graphs_from_atoms(read_structures(SHARED / "test.extxyz"), meta.species, meta.cutoff)
    return summarize(predictions(model.eval(), graphs), meta.species)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--student", default=str(REPO / "models" / "carbide.pt"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "foundation"))
    ap.add_argument("--skip-liquid", action="store_true")
    ap.add_argument("--only", choices=["speed", "liquid"], help="redo only this part of an existing transfer.json")
    args = ap.parse_args()
    from sevenn.calculator import SevenNetCalculator

    torch.set_num_threads(1)
    student_path = Path(args.student).resolve()
    out = Path(args.out)
    work = REPO / "runs" / "foundation_transfer"
    work.mkdir(parents=True, exist_ok=True)
    teacher = SevenNetCalculator("7net-0", device="cpu")
    if args.only:
        result = json.loads((out / "transfer.json").read_text())
        if args.only == "speed":
            result["speed"] = speed(student_path, teacher, work)
        else:
            result["liquid_4000K"] = liquid(student_path, teacher, work)
        (out / "transfer.json").write_text(json.dumps(result, indent=1))
        write_report(result, out)
        return 0
    student = MLIPCalculator(student_path)
    result: dict = {"student": str(student_path.relative_to(REPO)) if student_path.is_relative_to(REPO) else str(student_path),
                    "teacher": "SevenNet-0 (sevenn 7net-0, ASE calculator, float32, CPU)"}
    result["test_set"] = test_errors(student_path)
    props = {}
    for name in SYSTEMS:
        row = {}
        for who, calc in (("teacher", teacher), ("student", student)):
            ev = energy_volume(calc, name)
            row[who] = {**{k: v for k, v in ev.items() if k not in ("volumes", "energies")},
                        **elastic(calc, name, ev["a0_A"]), "vacancy_dE_eV": vacancy(calc, name, ev["a0_A"]),
                        "ev_curve": {"V_A3_per_atom": ev["volumes"], "E_eV_per_atom": ev["energies"]}}
        t, s = row["teacher"], row["student"]
        row["error"] = {"a0_percent": 100 * (s["a0_A"] / t["a0_A"] - 1),
                        "B_percent": 100 * (s["B_GPa"] / t["B_GPa"] - 1),
                        **{f"{c}_percent": 100 * (s[f"{c}_GPa"] / t[f"{c}_GPa"] - 1) for c in ("C11", "C12", "C44")},
                        "vacancy_eV": s["vacancy_dE_eV"] - t["vacancy_dE_eV"]}
        props[name] = row
        print(name, json.dumps(row["error"]), flush=True)
    result["properties"] = props
    result["mu_C_graphite_teacher_eV"] = graphite_energy(teacher)
    if not args.skip_liquid:
        result["liquid_4000K"] = liquid(student_path, teacher, work)
    result["speed"] = speed(student_path, teacher, work)
    (out / "transfer.json").write_text(json.dumps(result, indent=1))
    write_report(result, out)
    return 0


def write_report(r: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = r["test_set"]
    lines = [f"# Carbide student vs its teacher\n", f"Student `{r['student']}`; teacher {r['teacher']}.\n",
             "## Test set (../shared/data/carbide/test.extxyz)\n",
             "| config_type | frames | E RMSE (meV/atom) | F RMSE (meV/Å) | S RMSE (GPa) |", "|---|---|---|---|---|"]
    for name, v in [("ALL", ts)] + list(ts["by_config_type"].items()):
        lines.append(f"| {name} | {v['n_frames']} | {v['energy_rmse_meV_per_atom']:.2f} | {v['forces_rmse_meV_per_A']:.1f} | {v['stress_rmse_GPa']:.3f} |")
    mu = r["mu_C_graphite_teacher_eV"]
    lines += ["", "## Properties (teacher → student)\n",
              f"Carbon-vacancy formation energy E_f = ΔE + μ_C with μ_C = {mu:.3f} eV/atom, the teacher's graphite (both columns use it).\n",
              "| system | a0 (Å) | B (GPa) | C11 (GPa) | C12 (GPa) | C44 (GPa) | C-vacancy E_f (eV) |", "|---|---|---|---|---|---|---|"]
    for name, row in r["properties"].items():
        t, s, e = row["teacher"], row["student"], row["error"]
        lines.append(f"| {name} | {t['a0_A']:.4f} → {s['a0_A']:.4f} ({e['a0_percent']:+.2f}%) | {t['B_GPa']:.0f} → {s['B_GPa']:.0f} ({e['B_percent']:+.1f}%) | "
                     + " | ".join(f"{t[c + '_GPa']:.0f} → {s[c + '_GPa']:.0f} ({e[c + '_percent']:+.1f}%)" for c in ("C11", "C12", "C44"))
                     + f" | {t['vacancy_dE_eV'] + mu:.3f} → {s['vacancy_dE_eV'] + mu:.3f} ({e['vacancy_eV']:+.3f}) |")
    if "liquid_4000K" in r:
        lines += ["", "## 4,000 K liquid (student NVT MD of 64 atoms at the crystal volume + 12 %: melted 5 ps at 6,000 K, "
                  "5 ps at 4,000 K, then 10 frames over 5 ps, relabelled by the teacher)\n",
                  "Frames where the teacher's largest force exceeds 50 eV/Å are rejected, as in `mlip label`.\n",
                  "| system | frames kept / rejected | closest pair (Å) | teacher potential pressure (GPa) | E RMSE (meV/atom) | E mean error | F RMSE (meV/Å) |",
                  "|---|---|---|---|---|---|---|"]
        for name, v in r["liquid_4000K"].items():
            if not v["frames"]:
                lines.append(f"| {name} | 0 / {v['rejected']} | {v['min_distance_A']:.2f} | – | – | – | – |")
                continue
            lines.append(f"| {name} | {v['frames']} / {v['rejected']} | {v['min_distance_A']:.2f} | {v['pressure_GPa_teacher']:.1f} | {v['energy_rmse_meV_per_atom']:.1f} | {v['energy_mean_error_meV_per_atom']:+.1f} | {v['forces_rmse_meV_per_A']:.0f} |")
    sp = r["speed"]
    lines += ["", "## Speed (one core, interleaved, 512-atom HEC)\n",
              f"Student in LAMMPS {sp['student_us_per_atom_step']:.1f} µs/atom-step; teacher ASE calculator "
              f"{sp['teacher_us_per_atom_call']:.0f} µs/atom per energy+forces call: **{sp['speedup']:.0f}×** (median of {sp['rounds']} rounds)."]
    (out / "transfer.md").write_text("\n".join(lines) + "\n")

    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    fig, axes = plt.subplots(2, 3, figsize=(12, 7))
    for ax, (name, row) in zip(axes.flat, r["properties"].items()):
        for who, style in (("teacher", "o"), ("student", "-")):
            c = row[who]["ev_curve"]
            ax.plot(c["V_A3_per_atom"], c["E_eV_per_atom"], style, label=who)
        ax.set(title=name, xlabel="V (Å³/atom)", ylabel="E (eV/atom)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plots / "carbide_energy_volume.png", dpi=110)
    if "liquid_4000K" in r:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for name, v in r["liquid_4000K"].items():
            if "g_r" not in v:
                continue
            ax.plot(v["g_r"]["r"], v["g_r"]["g"], label=f"{name} (student MD)")
        ax.set(xlabel="r (Å)", ylabel="g(r)", title="4,000 K")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plots / "carbide_liquid_gr.png", dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
