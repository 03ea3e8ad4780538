#!/usr/bin/env python
"""Extra SevenNet-0-labelled frames for the shipped students (models/carbide.pt; ``hea_student_md``:
models/hea_sevennet.pt).

    .venv/bin/python benchmarks/foundation/teacher_frames.py --part liquid  [--out runs/foundation/teacher]
    .venv/bin/python benchmarks/foundation/teacher_frames.py --part static  [--out runs/foundation/teacher]
    .venv/bin/python benchmarks/foundation/teacher_frames.py --part liquid_eos   # after --part liquid
    .venv/bin/python benchmarks/foundation/teacher_frames.py --part student_md --part student_eos --part relaxed_strain
    .venv/bin/python benchmarks/foundation/teacher_frames.py --merge        # -> train_{plus,liquid,student,...}.extxyz
    # stage 5: the same parts with other seeds, merged into train_more.extxyz
    .venv/bin/python benchmarks/foundation/teacher_frames.py --part static --seed 1 --out runs/foundation/teacher_s1
    .venv/bin/python benchmarks/foundation/teacher_frames.py --merge --more runs/foundation/teacher_s1 ...

The shared training set (../shared/data/carbide/train.extxyz) has no TiC, NbC or HfC liquid, 18
carbon-deficient frames and no single vacancy. The same recipes as the shared data
(../shared/data/README.md, carbide section), with other random seeds, fill those gaps:

* ``liquid`` (teacher MD, the expensive part): 64-atom cells expanded by 12 % in volume, every atom
  displaced by a Gaussian of 0.4 Å, 100 fs of Langevin MD at 5,000 K (1 fs steps), then 4 frames
  30 fs apart (``--liquid-frames 12 --liquid-every-fs 10``: 12 frames over the same 120 fs, 3× the
  frames for the same teacher calls, since the teacher labels every MD step anyway); a run in which
  an atom exceeds 0.5 Å/fs is restarted from a new start;
* ``md``: constant-volume Langevin MD of the crystals (2 fs steps, 60 fs equilibration, frames
  every 40 fs) at 1,000–3,000 K, lattice expanded by 7e-6 /K from 300 K;
* ``liquid_eos`` (after ``liquid``): each liquid frame scaled to 1.15, 1.3 or 1.5 times its volume,
  so that the student learns the liquid's equation of state away from the +12 % cells;
* ``static`` (one teacher call per frame): independently rattled crystals (σ² = c_s T), single
  carbon vacancies (teacher-relaxed, snapshots along the relaxation, then rattled), carbon-deficient
  cells MC_x rattled, and small random strains (±1.5 %) of the ideal crystals;
* ``student_md`` (stage 4): crystal, MC_x and liquid frames from MD with the stage-3 student, one
  teacher call per frame; ``student_eos`` scales its liquids as ``liquid_eos`` does;
* ``relaxed_strain`` (stage 4): strained HEC cells relaxed by the teacher;
* ``sampled_liquid`` (stage 14): the ``liquid`` recipe run with a student (``--student``, default
  models/carbide.pt) at 4,000 and 5,000 K, ``--liquid-frames`` frames ``--liquid-every-fs`` apart per
  run, labelled by the teacher: one teacher call per liquid frame instead of ~20;
* ``vacancy_strain`` (stage 21e): carbon vacancies relaxed by the teacher in crystals at -1 to +1 %
  strain, and those perfect crystals;
* ``lammps_liquid`` (stage 22): the student's own ps-long hot liquids in LAMMPS (``--liquid-runs``
  per system, 3 ps at 6,000 K then 3 ps at 4,000 K, a frame every ``--liquid-every-fs``), one
  teacher call per frame; a run that stops on atoms closer than 0.5 Å gives no frames.

Every frame goes through ``mlip label``'s screening (forces above 50 eV/Å, atoms closer than 0.5 Å,
non-finite labels are rejected and counted). Parts run independently (one core each) and resume:
the labelling batch by batch, the teacher-MD liquids run by run (``OUT/liquid.runs/``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms, units
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.optimize import BFGS

from mlip_lammps.data.label import label_frames, make_teacher
from mlip_lammps.fileio import atomic_write
from transfer import HEA_SYSTEMS, SYSTEMS, cell  # this folder's transfer report: the same carbides and cells

REPO = Path(__file__).resolve().parents[2]
SHARED_TRAIN = REPO.parent / "shared" / "data" / "carbide" / "train.extxyz"
A0 = {name: spec[2] for name, spec in SYSTEMS.items()}  # teacher minima (Å)
C_S = {"C": 1.08e-5, "Hf": 6.9e-6, "Nb": 9.9e-6, "Ta": 1.16e-5, "Ti": 1.03e-5, "Zr": 7.7e-6}  # Å²/K
# liquid runs per system: TiC, NbC and HfC have no liquid frames in the shared train set
LIQUID_RUNS = {"TiC": 5, "NbC": 3, "HfC": 3, "ZrC": 2, "TaC": 2, "HEC": 3}


def crystal(name: str, seed: int, a: float | None = None, repeats: tuple[int, int, int] = (2, 2, 2)) -> Atoms:
    """By default the 64-site cell (2×2×2 conventional); ``seed`` sets the HEC's random occupation."""
    return cell(name, a or A0[name], repeats, seed=seed)


def expanded(name: str, seed: int, temperature: float, repeats: tuple[int, int, int] = (2, 2, 2)) -> Atoms:
    """The crystal at ``temperature`` with the linear thermal expansion of the shared recipe."""
    return crystal(name, seed, A0[name] * (1 + 7e-6 * max(temperature - 300.0, 0.0)), repeats)


def remove_carbons(atoms: Atoms, n_range: tuple[int, int], rng: np.random.Generator) -> None:
    """Delete a random number in [n_range) of carbon atoms in place (substoichiometric MC_x)."""
    n = int(rng.integers(*n_range))
    del atoms[sorted(rng.choice(np.flatnonzero(atoms.symbols == "C"), size=n, replace=False), reverse=True)]


def liquid_start(name: str, seed: int, rng: np.random.Generator) -> Atoms:
    """The liquid recipe's start: the crystal expanded by 12 % in volume, every atom displaced by a
    Gaussian of 0.4 Å."""
    start = crystal(name, seed=seed)
    start.set_cell(start.cell.array * 1.12 ** (1 / 3), scale_atoms=True)
    start.positions += rng.normal(scale=0.4, size=start.positions.shape)
    return start


def rattle(atoms: Atoms, temperature: float, rng: np.random.Generator) -> Atoms:
    a = atoms.copy()
    sigma = np.sqrt([C_S[s] * temperature for s in a.get_chemical_symbols()])
    a.positions += rng.normal(size=(len(a), 3)) * sigma[:, None]
    return a


def tag(atoms: Atoms, config_type: str, **info) -> Atoms:
    a = atoms.copy()
    a.calc = None
    a.info = {"config_type": config_type, **info}
    return a


def md_frames(start: Atoms, calc, temperature: float, dt_fs: float, equil_fs: float, every_fs: float,
              n_frames: int, rng: np.random.Generator, v_init_factor: float = 1.0) -> list[Atoms] | None:
    """Langevin MD with the teacher; None when an atom exceeds 0.5 Å/fs (a runaway)."""
    atoms = start.copy()
    atoms.calc = calc
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature * v_init_factor, rng=rng)
    dyn = Langevin(atoms, dt_fs * units.fs, temperature_K=temperature, friction=0.01 / units.fs, rng=rng)
    frames = []
    steps_equil, steps_every = round(equil_fs / dt_fs), round(every_fs / dt_fs)
    for k in range(steps_equil + n_frames * steps_every):
        dyn.run(1)
        vmax = np.linalg.norm(atoms.get_velocities(), axis=1).max() * units.fs  # Å/fs
        if not np.isfinite(vmax) or vmax > 0.5:
            return None
        if k + 1 > steps_equil and (k + 1 - steps_equil) % steps_every == 0:
            frames.append(atoms.copy())
    return frames


def liquid_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    # Each finished run is kept in OUT/liquid.runs/ with the random states before and after it, so an
    # interrupted part resumes with the frames an uninterrupted one would have made; a record is reused
    # only where the run would start from the same state with the same settings.
    runs_dir = args.out / "liquid.runs"
    runs_dir.mkdir(exist_ok=True)
    settings = {"liquid_frames": args.liquid_frames, "liquid_every_fs": args.liquid_every_fs}
    frames = []
    for name, runs in (args.liquid_runs or LIQUID_RUNS).items():
        done = 0
        for attempt in range(4 * runs):
            if done == runs:
                break
            record, traj = runs_dir / f"{name}_{attempt}.json", runs_dir / f"{name}_{attempt}.traj"
            before = rng.bit_generator.state
            saved = json.loads(record.read_text()) if record.is_file() else {}
            if saved.get("before") == before and saved.get("settings") == settings:
                rng.bit_generator.state = saved["after"]
                got = ase.io.read(traj, ":") if saved["ok"] else None
            else:
                start = liquid_start(name, 1000 + attempt, rng)
                got = md_frames(start, calc, 5000.0, 1.0, 100.0, args.liquid_every_fs, args.liquid_frames, rng)
                if got:
                    atomic_write(traj, lambda path: ase.io.write(path, got, format="traj"))
                state = {"ok": bool(got), "settings": settings, "before": before, "after": rng.bit_generator.state}
                atomic_write(record, lambda path: Path(path).write_text(json.dumps(state)))
            print(f"liquid {name} run {attempt}: {'ok' if got else 'runaway, restarted'}", flush=True)
            if got:
                frames += [tag(f, "liquid", temperature=5000.0) for f in got]
                done += 1
    return frames


def md_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    frames = []
    for name in A0:
        for temperature in (1000.0, 2000.0, 3000.0):
            got = md_frames(expanded(name, 2000 + int(temperature), temperature), calc, temperature, 2.0, 60.0, 40.0, 3,
                            rng, v_init_factor=2.0)
            frames += [tag(f, "rocksalt_md", temperature=temperature) for f in got or []]
            print(f"md {name} {temperature:g} K: {len(got or [])} frames", flush=True)
    return frames


def static_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    frames = []
    for name in A0:
        ideal = crystal(name, seed=3000)
        for k in range(8):  # rattled crystals at 1,000-3,000 K amplitudes
            temperature = float(rng.choice([1000.0, 1500.0, 2000.0, 2500.0, 3000.0]))
            frames.append(tag(rattle(expanded(name, 3100 + k, temperature), temperature, rng), "rocksalt_rattle",
                              temperature=temperature))
        for k in range(4):  # small strains: elastic constants
            a = crystal(name, seed=3200 + k)
            eps = rng.uniform(-0.015, 0.015, size=(3, 3))
            a.set_cell(a.cell.array @ (np.eye(3) + (eps + eps.T) / 2), scale_atoms=True)
            frames.append(tag(a, "rocksalt_strained"))
        # a single carbon vacancy: the teacher's relaxation path and rattled relaxed cells
        defect = ideal.copy()
        del defect[int(rng.choice(np.flatnonzero(defect.symbols == "C")))]
        defect.calc = calc
        path: list[Atoms] = []
        opt = BFGS(defect, logfile=None)
        opt.attach(lambda: path.append(defect.copy()))
        opt.run(fmax=0.02, steps=200)
        for a in path[::3] + [defect]:
            frames.append(tag(a, "vacancy_relax"))
        for temperature in (300.0, 1000.0, 2000.0):
            frames.append(tag(rattle(defect, temperature, rng), "vacancy_rattle", temperature=temperature))
        frames.append(tag(ideal, "rocksalt_perfect"))
        for k in range(4):  # carbon-deficient MC_x, x = 0.8-0.95, rattled
            a = expanded(name, 3300 + k, 1500.0)
            remove_carbons(a, (2, 7), rng)
            temperature = float(rng.choice([0.0, 1000.0, 2000.0]))
            frames.append(tag(rattle(a, temperature, rng), "substoich_rattle", temperature=temperature))
        print(f"static {name}: {len(frames)} frames so far", flush=True)
    return frames


def scaled_liquids(path: Path) -> list[Atoms]:
    """The ``liquid`` frames of ``path`` scaled affinely to 1.15, 1.3 and 1.5 times their volume:
    without them the student's liquid is unbound at zero pressure (its pressure stays positive
    where the teacher's turns strongly negative, so it vaporises)."""
    frames = []
    for k, a in enumerate(b for b in ase.io.read(path, ":") if b.info["config_type"] == "liquid"):
        factor = (1.15, 1.3, 1.5)[k % 3]
        b = a.copy()
        b.set_cell(b.cell.array * factor ** (1 / 3), scale_atoms=True)
        frames.append(tag(b, "liquid_expanded", temperature=a.info["temperature"], volume_factor=factor))
    return frames


def liquid_eos_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    return scaled_liquids(args.out / "liquid.extxyz")


def student_eos_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    return scaled_liquids(args.out / "student_md.extxyz")


def student_md_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    """Stage 4: frames sampled by MD with the stage-3 student (``carbide_liquid.yaml``, about 1,000
    times cheaper than the teacher), labelled by the teacher: one teacher call per frame instead of
    one per MD step. Crystals at 1,000-3,000 K, MC_x at 2,000-3,000 K and liquids at 4,000-5,000 K
    (as ``liquid``: +12 % volume, 0.4 Å start displacements), all at constant volume."""
    from mlip_lammps import MLIPCalculator

    student = MLIPCalculator(args.student or REPO / "runs" / "models" / "carbide_liquid" / "model.pt")
    frames = []
    for name in A0:
        for temperature in (1000.0, 2000.0, 3000.0):
            got = md_frames(expanded(name, 4000 + int(temperature), temperature), student, temperature, 2.0, 200.0,
                            60.0, 4, rng, v_init_factor=2.0)
            frames += [tag(f, "rocksalt_md", temperature=temperature, sampled_by="student") for f in got or []]
        for temperature in (2000.0, 3000.0):
            a = expanded(name, 4100 + int(temperature), temperature)
            remove_carbons(a, (4, 9), rng)
            got = md_frames(a, student, temperature, 2.0, 200.0, 60.0, 3, rng, v_init_factor=2.0)
            frames += [tag(f, "substoich_md", temperature=temperature, sampled_by="student") for f in got or []]
        for temperature in (4000.0, 5000.0):
            start = liquid_start(name, 4200 + int(temperature), rng)
            got = md_frames(start, student, temperature, 1.0, 300.0, 40.0, 6, rng)
            frames += [tag(f, "liquid", temperature=temperature, sampled_by="student") for f in got or []]
        print(f"student_md {name}: {len(frames)} frames so far", flush=True)
    return frames


def sampled_liquid_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    """Stage 14: the teacher-MD liquids were the force error's bulk and starved of data (a student
    fits its training liquids ever better and held-out ones no better), and each costs ~20 teacher
    calls per kept frame. A student that is right within ~15 meV/atom on the teacher's liquids
    samples them for free; the teacher labels each kept frame once. (Stage 3 sampled liquids that
    sat far from the teacher's, metal pairs at 1.2 Å, and was left out; stage 12, with its ZBL
    walls, keeps them within 0.1 Å of the teacher-MD liquids' closest pairs at the 10th percentile.)"""
    from mlip_lammps import MLIPCalculator

    student = MLIPCalculator(args.student or REPO / "models" / "carbide.pt")
    frames = []
    for name, runs in (args.liquid_runs or LIQUID_RUNS).items():
        for k in range(runs):
            temperature = (5000.0, 4000.0)[k % 2]
            start = liquid_start(name, 9000 + k, rng)
            got = md_frames(start, student, temperature, 1.0, 100.0, args.liquid_every_fs, args.liquid_frames, rng)
            frames += [tag(f, "liquid", temperature=temperature, sampled_by="student") for f in got or []]
            print(f"sampled_liquid {name} run {k} at {temperature:g} K: {len(got or [])} frames", flush=True)
    return frames


def lammps_liquid_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    """Stage 22: the student's own hot liquids as transfer.py makes them, in LAMMPS (``--student``):
    the liquid start (+12 % volume), velocities at 12,000 K, NVT 3 ps at 6,000 K and 3 ps at 4,000 K,
    one frame every ``--liquid-every-fs`` of both. Ps-long runs reach what the 600 fs of
    ``sampled_liquid`` do not: the equivariant stage-21e student bonds half the carbons of the HEC
    liquid into C-C pairs within 2 ps at 6,000 K, 250-350 meV/atom below the teacher's energy."""
    from mlip_lammps.lammps import run_lammps, write_data
    from transfer import CHEMISTRIES, _lammps_head

    species = CHEMISTRIES["carbide"].species
    student = (args.student or REPO / "models" / "carbide.pt").resolve()
    runs_dir = args.out / "lammps_liquid.runs"
    frames = []
    for name, runs in (args.liquid_runs or {"HEC": 12, "TiC": 2}).items():
        for k in range(runs):
            d = runs_dir / f"{name}_{k}"
            d.mkdir(parents=True, exist_ok=True)
            write_data(liquid_start(name, 9500 + k, rng), d / "start.lmp", species)
            every = round(args.liquid_every_fs)
            (d / "in.lammps").write_text("\n".join(_lammps_head(student, species) + [
                f"velocity all create 12000 {int(rng.integers(1, 2**30))} mom yes rot yes dist gaussian",
                f"dump traj all custom {every} traj.dump id element x y z",
                f"dump_modify traj element {' '.join(species)} sort id",
                "fix md all nvt temp 6000 6000 0.1", "run 3000", "unfix md",
                "fix md all nvt temp 4000 4000 0.1", "run 3000", ""]))
            try:
                run_lammps("in.lammps", cwd=d)
            except RuntimeError as err:  # a runaway (pair_mlip stops at atoms 0.5 Å apart): no frames
                print(f"lammps_liquid {name} run {k}: {str(err).splitlines()[0]}", flush=True)
                continue
            got = ase.io.read(d / "traj.dump", "1:", format="lammps-dump-text")
            for a in got:
                a.pbc = True
            frames += [tag(a, "liquid", temperature=6000.0 if i * every <= 3000 else 4000.0, sampled_by="student")
                       for i, a in enumerate(got, start=1)]
            print(f"lammps_liquid {name} run {k}: {len(got)} frames", flush=True)
    return frames


def relaxed_strain_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    """HEC cells (other random occupations than transfer.py's) under random strains of up to 1 %,
    relaxed at fixed cell by the teacher (every third step of the path and the end point): in the
    HEC the ions relax under strain, which the relaxed-ion elastic constants (C12) depend on."""
    frames = []
    for k in range(6):
        a = crystal("HEC", seed=5000 + k)
        eps = rng.uniform(-0.01, 0.01, size=(3, 3))
        a.set_cell(a.cell.array @ (np.eye(3) + (eps + eps.T) / 2), scale_atoms=True)
        a.calc = calc
        path: list[Atoms] = []
        opt = BFGS(a, logfile=None)
        opt.attach(lambda: path.append(a.copy()))
        opt.run(fmax=0.01, steps=200)
        frames += [tag(b, "hec_strain_relax") for b in path[::3] + [a]]
        print(f"relaxed_strain {k}: {len(frames)} frames so far", flush=True)
    return frames


def small_strain_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    """Stage 6: the ideal crystals under small random symmetric strains (normal and shear components
    up to ±0.75 %, ions unrelaxed, no rattle), 2 per cell: 24 HEC occupations (seeds other than
    transfer.py's 7, other ones for each --seed) and ``--strain-cells`` cells of each binary. The
    elastic constants are the slope of stress in strain at small strain; the ±3 % strained and
    rattled frames of the shared set did not pin it (the stage-3 student's unrelaxed HEC C12 was
    10-14 % low for each of 6 occupations)."""
    frames = []
    for name in A0:
        for k in range(24 if name == "HEC" else args.strain_cells):
            for _ in range(2):
                a = crystal(name, seed=7000 + 1000 * args.seed + k)
                eps = rng.uniform(-0.0075, 0.0075, size=(3, 3))
                a.set_cell(a.cell.array @ (np.eye(3) + (eps + eps.T) / 2), scale_atoms=True)
                frames.append(tag(a, "small_strain"))
    return frames


def rattle_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    """Stage 7: ``--rattle-cells`` more rattled crystals per system (the shared ``rocksalt_rattle``
    recipe; other HEC occupations for each --seed) at the hottest amplitudes, 2,000-3,000 K: two
    NbC frames of the test set held a third of stage 6's squared force error (error_budget.py), at
    close contacts that 16 training frames rarely reach."""
    frames = []
    for name in A0:
        for k in range(args.rattle_cells):
            temperature = float(rng.choice([2000.0, 2500.0, 3000.0]))
            frames.append(tag(rattle(expanded(name, 8000 + 1000 * args.seed + k, temperature), temperature, rng), "rocksalt_rattle",
                              temperature=temperature))
    return frames


def hea_student_md_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    """Al-Co-Cr-Fe-Ni: frames of the HEA student's own MD (``--student``, default
    models/hea_sevennet.pt), one teacher call each. Its hot liquids collapsed into 1.2 Å pairs
    (transfer_hea.md): the shared hea set (2NN MEAM MD) never sampled the distances where the teacher
    turns repulsive. Per system of transfer.py: crystals at 1,000-2,000 K (lattice expanded
    1.5e-5 /K, 2 fs steps, 400 fs equilibration, 3 frames 100 fs apart) and liquids at
    1,500-3,000 K (+8 % volume, 0.4 Å start displacements, 1 fs steps, 2 ps, then 6 frames 100 fs
    apart), all at constant volume."""
    from mlip_lammps import MLIPCalculator

    student = MLIPCalculator(args.student or REPO / "models" / "hea_sevennet.pt")
    frames = []
    for name, (_, _, a0, _) in HEA_SYSTEMS.items():
        for temperature in (1000.0, 1500.0, 2000.0):
            start = cell(name, a0 * (1 + 1.5e-5 * (temperature - 300.0)), seed=6000 + int(temperature))
            got = md_frames(start, student, temperature, 2.0, 400.0, 100.0, 3, rng, v_init_factor=2.0)
            frames += [tag(f, "student_crystal_md", temperature=temperature) for f in got or []]
        for temperature in (1500.0, 2000.0, 2500.0, 3000.0):
            start = cell(name, a0 * 1.08 ** (1 / 3), seed=6100 + int(temperature))
            start.positions += rng.normal(scale=0.4, size=start.positions.shape)
            got = md_frames(start, student, temperature, 1.0, 2000.0, 100.0, 6, rng)
            frames += [tag(f, "student_liquid", temperature=temperature) for f in got or []]
        print(f"hea_student_md {name}: {len(frames)} frames so far", flush=True)
    return frames


def vacancy_strain_part(calc, rng: np.random.Generator, args: argparse.Namespace) -> list[Atoms]:
    """Stage 21e: per system, the perfect crystal at isotropic strains of -1 to +1 % and a single
    carbon vacancy in it relaxed by the teacher (its BFGS path, every third frame, and the relaxed
    cell): the neighbourhood of the vacancy energy, which the equivariant student missed for NbC by
    0.2 eV with only the one relaxed cell to learn it from."""
    frames = []
    for name in A0:
        ideal = crystal(name, seed=3000)
        site = int(rng.choice(np.flatnonzero(ideal.symbols == "C")))
        for eps in (-0.01, -0.005, 0.0, 0.005, 0.01):
            perfect = ideal.copy()
            perfect.set_cell(ideal.cell.array * (1.0 + eps), scale_atoms=True)
            frames.append(tag(perfect, "rocksalt_perfect", strain=eps))
            defect = perfect.copy()
            del defect[site]
            defect.calc = calc
            path: list[Atoms] = []
            opt = BFGS(defect, logfile=None)
            opt.attach(lambda: path.append(defect.copy()))
            opt.run(fmax=0.02, steps=200)
            frames += [tag(a, "vacancy_relax", strain=eps) for a in path[::3] + [defect]]
        print(f"vacancy_strain {name}: {len(frames)} frames so far", flush=True)
    return frames


def pinned_frames(static: list[Atoms], copies: int) -> list[Atoms]:
    """Stage 10 (carbide_vacancy.yaml): per system, the teacher-relaxed single carbon vacancy (the last
    ``vacancy_relax`` frame) and the perfect crystal among the ``static`` part's frames, ``copies`` times each. The
    vacancy energy is their difference, and a loss weight on the two frames alone (x100, x300)
    barely moved it: Adam's step size is bounded however large one rare batch's gradient is, so
    the frames must come up in many batches."""
    last: dict[tuple[str, str], Atoms] = {}
    for a in static:
        if a.info["config_type"] in ("vacancy_relax", "rocksalt_perfect"):
            last["".join(sorted(set(a.get_chemical_symbols()))), a.info["config_type"]] = a
    return [a for a in last.values() for _ in range(copies)]


# part: (function, index of its random stream; the streams the shipped frames were drawn with)
PARTS = {"liquid": (liquid_part, 0), "liquid_eos": (liquid_eos_part, 1), "md": (md_part, 2), "static": (static_part, 3),
         "relaxed_strain": (relaxed_strain_part, 3), "student_md": (student_md_part, 5), "student_eos": (student_eos_part, 6),
         "hea_student_md": (hea_student_md_part, 7), "small_strain": (small_strain_part, 8), "rattle": (rattle_part, 11),
         "sampled_liquid": (sampled_liquid_part, 12), "vacancy_strain": (vacancy_strain_part, 13),
         "lammps_liquid": (lammps_liquid_part, 14)}
# training sets of stages 2-4, 6 and 7 (carbide_plus, carbide_liquid, carbide_student, carbide_strain, carbide_rattle.yaml):
# the shared train set + parts
MERGED = {"train_plus": ("liquid", "md", "static"), "train_liquid": ("liquid", "liquid_eos", "md", "static"),
          "train_student": ("static", "student_md", "student_eos", "relaxed_strain"),
          "train_more": ("liquid", "liquid_eos", "md", "static"),
          "train_strain": ("liquid", "liquid_eos", "md", "static", "small_strain"),
          "train_rattle": ("liquid", "liquid_eos", "md", "static", "small_strain", "rattle")}
MERGED["train_all"] = MERGED["train_rattle"] + ("sampled_liquid",)
OPTIONAL = ("sampled_liquid",)  # merged from whichever folders hold it (stage 14)
# The student reaches liquid configurations the teacher's own MD avoids (it restarts runaways), on which the
# teacher's forces run up to its 50 eV/Å rejection limit; the teacher-MD liquids stay below 23 eV/Å.
MERGE_MAX_FORCE = {"sampled_liquid": 25.0}  # eV/Å
# stage 5 (carbide_more.yaml): train_liquid's parts + the same parts of other --seed runs (--more DIR ...);
# stage 9 (carbide_wall.yaml): train_rattle's parts + those of --more runs (the liquids split over 2 processes)
MORE = ("train_more", "train_all")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=sorted(PARTS), action="append", default=[])
    ap.add_argument("--merge", action="store_true", help="write the training sets OUT/train_{plus,liquid,student}.extxyz (the shared train set + the parts in MERGED; train_more with --more)")
    ap.add_argument("--liquid-runs", type=lambda s: {k: int(v) for k, v in (p.split("=") for p in s.split(","))},
                    help="liquid runs per system for --part liquid, e.g. TiC=2,HEC=1 (default: %s)"
                    % ",".join(f"{k}={v}" for k, v in LIQUID_RUNS.items()))
    ap.add_argument("--liquid-frames", type=int, default=4, help="frames kept per liquid run (after 100 fs)")
    ap.add_argument("--liquid-every-fs", type=float, default=30.0, help="fs between the kept frames of a liquid run")
    ap.add_argument("--rattle-cells", type=int, default=24, help="rattled cells per system for --part rattle (stage 7: 24)")
    ap.add_argument("--strain-cells", type=int, default=4, help="cells per binary for --part small_strain (stage 6: 4; HEC: 24)")
    ap.add_argument("--more", type=Path, nargs="+", default=[], help="with --merge: folders of runs with other --seed "
                    f"values, whose parts are added to OUT/{{{','.join(MORE)}}}.extxyz")
    ap.add_argument("--pin-copies", type=int, default=20, help="with --merge: OUT/train_pinned.extxyz = train_all + "
                    "this many copies of each system's relaxed vacancy and perfect crystal (stage 10)")
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "foundation" / "teacher")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--student", type=Path, help="the student of the student_md parts (default: carbide stage 3, "
                    "models/hea_sevennet.pt, models/carbide.pt for sampled_liquid); with another --out per "
                    "active-learning round")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # before any teacher MD: a finished part is not redone, and its labels could not be resumed into
    done = [p for p in args.part if (args.out / f"{p}.extxyz").exists()]
    if done:
        ap.error(f"{', '.join(str(args.out / f'{p}.extxyz') for p in done)} already written: remove it or use another --out")
    calc, teacher = make_teacher("sevenn:7net-0") if args.part else (None, "")
    for part in args.part:
        function, stream = PARTS[part]
        frames = function(calc, np.random.default_rng([args.seed, stream]), args)
        report = label_frames(frames, calc, teacher, args.out / f"{part}.extxyz")
        print(f"{part}: {report['n_labelled']} labelled, {report['n_rejected']} rejected {report['rejected_reasons']}")
    if args.merge:
        shared = ase.io.read(SHARED_TRAIN, ":")
        read: dict[Path, list[Atoms]] = {}  # each part file is read once, though several sets hold it

        def part_frames(path: Path) -> list[Atoms]:
            if path not in read:
                limit = MERGE_MAX_FORCE.get(path.stem, np.inf)
                read[path] = [a for a in ase.io.read(path, ":") if np.abs(a.get_forces()).max() <= limit]
            return read[path]

        for name, parts in MERGED.items():
            if name in MORE and not args.more:
                continue
            missing = [p for p in parts if p not in OPTIONAL and not (args.out / f"{p}.extxyz").exists()]
            if missing:
                print(f"{name}: skipped, run --part {' --part '.join(missing)} first")
                continue
            folders = [args.out] + (args.more if name in MORE else [])
            frames = shared + [a for folder in folders for part in parts if (folder / f"{part}.extxyz").exists()
                               for a in part_frames(folder / f"{part}.extxyz")]
            ase.io.write(args.out / f"{name}.extxyz", frames, format="extxyz")
            print(f"{args.out / name}.extxyz: {len(frames)} frames")
            if name == "train_all":
                frames += pinned_frames(part_frames(args.out / "static.extxyz"), args.pin_copies)
                ase.io.write(args.out / "train_pinned.extxyz", frames, format="extxyz")
                print(f"{args.out / 'train_pinned'}.extxyz: {len(frames)} frames")


if __name__ == "__main__":
    main()
