#!/usr/bin/env python
"""Transferability of a distilled student against its teacher, SevenNet-0.

    .venv/bin/python benchmarks/foundation/transfer.py [--chemistry carbide|hea] [--student MODEL] [--out DIR]

Needs ``sevenn`` (the teacher). Two chemistries (``CHEMISTRIES``): the carbides ZrC, HfC, NbC, TaC,
TiC and the high-entropy carbide (Hf,Nb,Ta,Ti,Zr)C (a fixed random 64-atom cell), student
``models/carbide.pt``; and Al–Co–Cr–Fe–Ni (random fcc CoCrFeNi and Al0.3CoCrFeNi, 108 atoms, random
bcc AlCoCrFeNi, 54 atoms, and fcc Ni, 108 atoms), student ``models/hea_sevennet.pt``
(``configs/hea_student.yaml``). With both potentials and the same protocol:

* test-set errors by config_type (carbide: ../shared/data/carbide/test.extxyz; hea: the shared hea
  test structures relabelled by the teacher with ``mlip label``);
* energy–volume curve (9 points, ±4 % in a), Birch–Murnaghan fit: lattice constant a0 (Å), bulk
  modulus B (GPa);
* elastic constants C11, C12, C44 (GPa) from stresses at ±0.5 % strain of the a0 cell
  (positions relaxed in the random alloys, whose occupation breaks the inversion symmetry that
  keeps ions fixed in the ordered crystals);
* vacancy energy ΔE = E(relaxed cell with one atom removed) − E(perfect) (eV); for the carbides a
  carbon site in 64-atom cells, with the formation energy ΔE + μ_C (the teacher's graphite), so
  differences in ΔE are differences in formation energy;
* a liquid: the student melts and equilibrates cells in LAMMPS (NVT above the crystal volume); the
  teacher relabels 10 frames (the student's error on its own liquid) and g(r) is reported;
* speed, one interleaved measurement on the same ~500-atom cell and one core: the student in
  LAMMPS (µs/atom-step) vs the teacher's ASE calculator (energy + forces per atom).

Writes transfer.json/.md (carbide) or transfer_hea.json/.md and plots/ (E–V curves, g(r)).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

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
SHARED = REPO.parent / "shared" / "data"
# name: (structure, random-alloy composition or None, the teacher's lattice constant or a guess (Å), cell repeats)
SYSTEMS = {  # teacher lattice constants from ../shared/data/README.md: starting points only
    "ZrC": ("rocksalt:ZrC", None, 4.726, (1, 1, 1)), "HfC": ("rocksalt:HfC", None, 4.653, (1, 1, 1)),
    "NbC": ("rocksalt:NbC", None, 4.507, (1, 1, 1)), "TaC": ("rocksalt:TaC", None, 4.486, (1, 1, 1)),
    "TiC": ("rocksalt:TiC", None, 4.339, (1, 1, 1)), "HEC": ("rocksalt:ZrC", "HfNbTaTiZr", 4.543, (2, 2, 2)),
}
HEA_SYSTEMS = {  # guesses: the shared hea data's (2NN MEAM) lattice constants
    "CoCrFeNi": ("fcc:Ni", "CoCrFeNi", 3.575, (3, 3, 3)), "Al0.3CoCrFeNi": ("fcc:Ni", "Al0.3CoCrFeNi", 3.597, (3, 3, 3)),
    # bcc 3x3x3 (54 atoms): the teacher's relaxations of the 128-atom cell did not finish in a session
    "AlCoCrFeNi": ("bcc:Fe", "AlCoCrFeNi", 2.873, (3, 3, 3)), "Ni": ("fcc:Ni", None, 3.52, (3, 3, 3)),
}
ALL_SYSTEMS = {**SYSTEMS, **HEA_SYSTEMS}


def cell(name: str, a: float, repeats: tuple[int, int, int] | None = None, seed: int = 7) -> Atoms:
    """Conventional supercell of a system of ``ALL_SYSTEMS``, by default with the repeats listed
    there (the 8-atom cell is exact for the ordered carbides); ``seed`` fixes a random occupation."""
    structure, comp, _, default = ALL_SYSTEMS[name]
    return build(parse_structure(structure, comp), repeats or default, a, seed=seed)


def _random_alloy(name: str) -> bool:
    return ALL_SYSTEMS[name][1] is not None


def graphite_energy(calc) -> float:
    """Energy per atom (eV) of AB graphite at the experimental geometry (a 2.464 Å, c 6.711 Å):
    the carbon reservoir of the vacancy formation energies, evaluated with the teacher."""
    from ase.lattice.hexagonal import Graphite

    g = Graphite("C", latticeconstant={"a": 2.464, "c": 6.711})
    g.calc = calc
    return float(g.get_potential_energy() / len(g))


@dataclass(frozen=True)
class Chemistry:
    """One transfer report: systems, student, test set and the chemistry-specific protocol settings."""

    title: str
    systems: dict
    species: list[str]
    student: Path
    test: Path
    report: str                                      # output stem: REPORT.json, REPORT.md
    vacancy_species: str                             # the element one atom of which is removed
    vacancy_repeats: Optional[tuple[int, int, int]]  # None: the system's own cell
    reservoir: Optional[Callable]                    # teacher -> chemical potential (eV/atom) of the vacancy species
    liquid_systems: tuple[str, ...]
    liquid_repeats: Optional[tuple[int, int, int]]   # None: the system's own cell
    liquid_volume: float                             # NVT cell volume / crystal volume
    melt_temperature: float                          # K, 5 ps from a 2x hotter start
    liquid_temperature: float                        # K, 5 ps equilibration, then 10 frames over 5 ps
    speed_system: str
    speed_repeats: tuple[int, int, int]


CHEMISTRIES = {
    # carbide liquids at +12 % volume, as the shared liquid frames: at zero pressure an early
    # student's hot 64-atom cell vaporised (its training data held no low-density states)
    "carbide": Chemistry("Carbide", SYSTEMS, ["C", "Hf", "Nb", "Ta", "Ti", "Zr"], REPO / "models" / "carbide.pt",
                         SHARED / "carbide" / "test.extxyz", "transfer", "C", (2, 2, 2), graphite_energy,
                         ("HEC", "TiC"), (2, 2, 2), 1.12, 6000.0, 4000.0, "HEC", (4, 4, 4)),
    "hea": Chemistry("Al–Co–Cr–Fe–Ni", HEA_SYSTEMS, ["Al", "Co", "Cr", "Fe", "Ni"],
                     REPO / "models" / "hea_sevennet.pt", REPO / "runs" / "foundation" / "hea" / "test.extxyz",
                     "transfer_hea", "Ni", None, None, ("CoCrFeNi", "AlCoCrFeNi"), None, 1.08, 3000.0, 2000.0,
                     "CoCrFeNi", (5, 5, 5)),
}


def energy_volume(calc, name: str) -> dict:
    a_ref, repeats = ALL_SYSTEMS[name][2:]
    scales = np.linspace(0.96, 1.04, 9)
    vols, ens = [], []
    for s in scales:
        at = cell(name, a_ref * s)
        at.calc = calc
        if _random_alloy(name):
            BFGS(at, logfile=None).run(fmax=0.02, steps=100)
        vols.append(at.get_volume() / len(at))
        ens.append(at.get_potential_energy() / len(at))
    eos = EquationOfState(vols, ens, eos="birchmurnaghan")
    v0, e0, b = eos.fit()
    n = len(cell(name, a_ref))
    a0 = (v0 * n) ** (1 / 3) / repeats[0]
    return {"a0_A": float(a0), "B_GPa": float(b / GPa), "E0_eV_per_atom": float(e0), "volumes": vols, "energies": ens}


def elastic(calc, name: str, a0: float, eps: float = 0.005) -> dict:
    relax = _random_alloy(name)

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


def vacancy(calc, name: str, a0: float, species: str, repeats: tuple[int, int, int] | None) -> float:
    """ΔE (eV): the relaxed cell with its sixth ``species`` atom removed minus the (relaxed) perfect cell."""
    perfect = cell(name, a0, repeats)
    perfect.calc = calc
    if _random_alloy(name):
        BFGS(perfect, logfile=None).run(fmax=0.02, steps=200)
    e_perfect = perfect.get_potential_energy()
    defect = perfect.copy()
    del defect[int(np.flatnonzero(defect.symbols == species)[5])]
    defect.calc = calc
    BFGS(defect, logfile=None).run(fmax=0.02, steps=300)
    return float(defect.get_potential_energy() - e_perfect)


def _lammps_head(student: Path, species: list[str]) -> list[str]:
    """Input lines up to the dynamics: start.lmp with the student on one thread, 1 fs steps."""
    return ["units metal", "atom_style atomic", "boundary p p p", "read_data start.lmp",
            f"pair_style mlip {student} threads 1", f"pair_coeff * * {' '.join(species)}", "neighbor 1.0 bin",
            "timestep 0.001"]


def liquid(chem: Chemistry, student: Path, teacher, out: Path) -> dict:
    """Student NVT MD of ``chem.liquid_systems``; the teacher relabels 10 frames of each."""
    from mlip_lammps.lammps import run_lammps, write_data

    res = {}
    species = " ".join(chem.species)
    stud = MLIPCalculator(student)
    t_liq, t_melt = chem.liquid_temperature, chem.melt_temperature
    for name in chem.liquid_systems:
        d = out / f"liquid_{name}"
        d.mkdir(parents=True, exist_ok=True)
        a = ALL_SYSTEMS[name][2] * chem.liquid_volume ** (1 / 3)
        write_data(cell(name, a, chem.liquid_repeats), d / "start.lmp", chem.species)
        (d / "in.lammps").write_text("\n".join(_lammps_head(student, chem.species) + [
            f"velocity all create {2 * t_melt:g} 5 mom yes rot yes dist gaussian",
            f"fix md all nvt temp {t_melt:g} {t_melt:g} 0.1", "run 5000", "unfix md",
            f"fix md all nvt temp {t_liq:g} {t_liq:g} 0.1", "run 5000",
            "dump traj all custom 500 traj.dump id element x y z",
            f"dump_modify traj element {species} sort id", "thermo 500", "run 5000", ""]))
        run_lammps("in.lammps", cwd=d)
        frames = ase.io.read(d / "traj.dump", "1:", format="lammps-dump-text")
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
        res[name] = {"frames": len(frames), "rejected": n_all - len(frames), "atoms": len(frames[0]),
                     "min_distance_A": min(d_min),
                     "pressure_GPa_teacher": float(np.mean([-np.trace(_teacher_stress(a, teacher)) / 3 / GPa for a in frames])),
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


def speed(chem: Chemistry, student: Path, teacher, out: Path, rounds: int = 3) -> dict:
    """Interleaved: teacher energy+forces on the speed cell, then 200 student MD steps on it."""
    from mlip_lammps.lammps import run_lammps, write_data

    at = cell(chem.speed_system, ALL_SYSTEMS[chem.speed_system][2], chem.speed_repeats)
    d = out / "speed"
    d.mkdir(parents=True, exist_ok=True)
    write_data(at, d / "start.lmp", chem.species)
    steps = 200
    (d / "in.lammps").write_text("\n".join(_lammps_head(student, chem.species) + [
        "velocity all create 2000 5", "fix md all nve", "run 20", f"run {steps}", ""]))
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
    return {"system": chem.speed_system, "atoms": len(at), "student_us_per_atom_step": 1e6 * ts,
            "teacher_us_per_atom_call": 1e6 * tt, "speedup": tt / ts, "rounds": rounds, "threads": 1}


def test_errors(student: Path, test: Path) -> dict:
    """``mlip eval`` of the student on the test set."""
    from mlip_lammps.contract import load_model
    from mlip_lammps.data.dataset import graphs_from_atoms, read_structures
    from mlip_lammps.training.metrics import predictions, summarize

    model, meta = load_model(student)
    graphs = graphs_from_atoms(read_structures(test), meta.species, meta.cutoff)
    return summarize(predictions(model.eval(), graphs), meta.species)


def _liquid_key(chem: Chemistry) -> str:
    return f"liquid_{chem.liquid_temperature:g}K"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chemistry", choices=sorted(CHEMISTRIES), default="carbide")
    ap.add_argument("--student", help="exported student (default: the chemistry's)")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "foundation"))
    ap.add_argument("--systems", nargs="+", help="only these of the chemistry's systems")
    ap.add_argument("--skip-liquid", action="store_true")
    ap.add_argument("--only", choices=["speed", "liquid", "properties"],
                    help="redo only this part of an existing report (properties: of --systems, merged into it)")
    ap.add_argument("--reuse-teacher", action="store_true",
                    help="take the teacher's properties from the existing report (they do not depend on the student)")
    args = ap.parse_args()
    from sevenn.calculator import SevenNetCalculator

    chem = CHEMISTRIES[args.chemistry]
    torch.set_num_threads(1)
    student_path = Path(args.student or chem.student).resolve()
    out = Path(args.out)
    report = out / f"{chem.report}.json"
    # one folder per student, so that reports of several students can be made side by side
    work = REPO / "runs" / "foundation_transfer" / args.chemistry / f"{student_path.parent.name}_{student_path.stem}"
    work.mkdir(parents=True, exist_ok=True)
    teacher = SevenNetCalculator("7net-0", device="cpu")
    if args.only:
        result = json.loads(report.read_text())
        if args.only == "speed":
            result["speed"] = speed(chem, student_path, teacher, work)
        elif args.only == "properties":
            result["properties"].update(properties(chem, args.systems or list(chem.systems), MLIPCalculator(student_path),
                                                   teacher, result["properties"] if args.reuse_teacher else {}))
        else:
            result[_liquid_key(chem)] = liquid(chem, student_path, teacher, work)
        report.write_text(json.dumps(result, indent=1))
        write_report(chem, result, out)
        return 0
    student = MLIPCalculator(student_path)
    result: dict = {"student": str(student_path.relative_to(REPO)) if student_path.is_relative_to(REPO) else str(student_path),
                    "teacher": "SevenNet-0 (sevenn 7net-0, ASE calculator, float32, CPU)",
                    "test_file": os.path.relpath(chem.test, REPO)}
    result["test_set"] = test_errors(student_path, chem.test)
    result["properties"] = properties(chem, args.systems or list(chem.systems), student, teacher,
                                      json.loads(report.read_text())["properties"] if args.reuse_teacher else {})
    if chem.reservoir:
        result["vacancy_reservoir_mu_eV"] = chem.reservoir(teacher)
    if not args.skip_liquid:
        result[_liquid_key(chem)] = liquid(chem, student_path, teacher, work)
    result["speed"] = speed(chem, student_path, teacher, work)
    report.write_text(json.dumps(result, indent=1))
    write_report(chem, result, out)
    return 0


def properties(chem: Chemistry, systems: list[str], student, teacher, previous: dict) -> dict:
    """Teacher and student a0, B, elastic constants, vacancy energy and E–V curve of each system, and
    the student's errors; the teacher's rows are taken from ``previous`` where it has them."""
    props = {}
    for name in systems:
        row = {"teacher": previous[name]["teacher"]} if name in previous else {}
        for who, calc in (("teacher", teacher), ("student", student)):
            if who in row:
                continue
            ev = energy_volume(calc, name)
            row[who] = {**{k: v for k, v in ev.items() if k not in ("volumes", "energies")},
                        **elastic(calc, name, ev["a0_A"]),
                        "vacancy_dE_eV": vacancy(calc, name, ev["a0_A"], chem.vacancy_species, chem.vacancy_repeats),
                        "ev_curve": {"V_A3_per_atom": ev["volumes"], "E_eV_per_atom": ev["energies"]}}
        t, s = row["teacher"], row["student"]
        row["error"] = {"a0_percent": 100 * (s["a0_A"] / t["a0_A"] - 1),
                        "B_percent": 100 * (s["B_GPa"] / t["B_GPa"] - 1),
                        **{f"{c}_percent": 100 * (s[f"{c}_GPa"] / t[f"{c}_GPa"] - 1) for c in ("C11", "C12", "C44")},
                        "vacancy_eV": s["vacancy_dE_eV"] - t["vacancy_dE_eV"]}
        props[name] = row
        print(name, json.dumps(row["error"]), flush=True)
    return props


def write_report(chem: Chemistry, r: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = r["test_set"]
    lines = [f"# {chem.title} student vs its teacher\n", f"Student `{r['student']}`; teacher {r['teacher']}.\n",
             f"## Test set ({r['test_file']})\n",
             "| config_type | frames | E RMSE (meV/atom) | F RMSE (meV/Å) | S RMSE (GPa) |", "|---|---|---|---|---|"]
    for name, v in [("ALL", ts)] + list(ts["by_config_type"].items()):
        lines.append(f"| {name} | {v['n_frames']} | {v['energy_rmse_meV_per_atom']:.2f} | {v['forces_rmse_meV_per_A']:.1f} | {v['stress_rmse_GPa']:.3f} |")
    mu = r.get("vacancy_reservoir_mu_eV")
    vac = chem.vacancy_species
    lines += ["", "## Properties (teacher → student)\n",
              (f"{vac}-vacancy formation energy E_f = ΔE + μ_{vac} with μ_{vac} = {mu:.3f} eV/atom, the teacher's "
               f"{chem.reservoir.__name__.removesuffix('_energy')} (both columns use it).\n") if mu is not None else
              f"{vac}-vacancy: ΔE = E(relaxed cell without one {vac} atom) − E(perfect cell), the same site for both.\n",
              f"| system | a0 (Å) | B (GPa) | C11 (GPa) | C12 (GPa) | C44 (GPa) | {vac}-vacancy {'E_f' if mu is not None else 'ΔE'} (eV) |",
              "|---|---|---|---|---|---|---|"]
    for name, row in r["properties"].items():
        t, s, e = row["teacher"], row["student"], row["error"]
        lines.append(f"| {name} | {t['a0_A']:.4f} → {s['a0_A']:.4f} ({e['a0_percent']:+.2f}%) | {t['B_GPa']:.0f} → {s['B_GPa']:.0f} ({e['B_percent']:+.1f}%) | "
                     + " | ".join(f"{t[c + '_GPa']:.0f} → {s[c + '_GPa']:.0f} ({e[c + '_percent']:+.1f}%)" for c in ("C11", "C12", "C44"))
                     + f" | {t['vacancy_dE_eV'] + (mu or 0):.3f} → {s['vacancy_dE_eV'] + (mu or 0):.3f} ({e['vacancy_eV']:+.3f}) |")
    key = _liquid_key(chem)
    if key in r:
        lines += ["", f"## {chem.liquid_temperature:,.0f} K liquid (student NVT MD at the crystal volume "
                  f"× {chem.liquid_volume:g}: melted 5 ps at {chem.melt_temperature:,.0f} K, 5 ps at "
                  f"{chem.liquid_temperature:,.0f} K, then 10 frames over 5 ps, relabelled by the teacher)\n",
                  "Frames where the teacher's largest force exceeds 50 eV/Å are rejected, as in `mlip label`.\n",
                  "| system | frames kept / rejected | closest pair (Å) | teacher potential pressure (GPa) | E RMSE (meV/atom) | E mean error | F RMSE (meV/Å) |",
                  "|---|---|---|---|---|---|---|"]
        for name, v in r[key].items():
            if not v["frames"]:
                lines.append(f"| {name} | 0 / {v['rejected']} | {v['min_distance_A']:.2f} | – | – | – | – |")
                continue
            lines.append(f"| {name} | {v['frames']} / {v['rejected']} | {v['min_distance_A']:.2f} | {v['pressure_GPa_teacher']:.1f} | {v['energy_rmse_meV_per_atom']:.1f} | {v['energy_mean_error_meV_per_atom']:+.1f} | {v['forces_rmse_meV_per_A']:.0f} |")
    sp = r["speed"]
    lines += ["", f"## Speed (one core, interleaved, {sp['atoms']}-atom {sp.get('system', 'HEC')})\n",
              f"Student in LAMMPS {sp['student_us_per_atom_step']:.1f} µs/atom-step; teacher ASE calculator "
              f"{sp['teacher_us_per_atom_call']:.0f} µs/atom per energy+forces call: **{sp['speedup']:.0f}×** (median of {sp['rounds']} rounds)."]
    (out / f"{chem.report}.md").write_text("\n".join(lines) + "\n")

    plots = out / "plots"
    plots.mkdir(exist_ok=True)
    prefix = "carbide" if chem.report == "transfer" else "hea"
    n = len(r["properties"])
    fig, axes = plt.subplots((n + 2) // 3, 3, figsize=(12, 3.5 * ((n + 2) // 3)), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (name, row) in zip(axes.flat, r["properties"].items()):
        for who, style in (("teacher", "o"), ("student", "-")):
            c = row[who]["ev_curve"]
            ax.plot(c["V_A3_per_atom"], c["E_eV_per_atom"], style, label=who)
        ax.set(title=name, xlabel="V (Å³/atom)", ylabel="E (eV/atom)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(plots / f"{prefix}_energy_volume.png", dpi=110)
    if key in r:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for name, v in r[key].items():
            if "g_r" not in v:
                continue
            ax.plot(v["g_r"]["r"], v["g_r"]["g"], label=f"{name} (student MD)")
        ax.set(xlabel="r (Å)", ylabel="g(r)", title=f"{chem.liquid_temperature:,.0f} K")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plots / f"{prefix}_liquid_gr.png", dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
