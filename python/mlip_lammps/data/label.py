"""Label structures with a teacher: energies (eV), forces (eV/Å) and stresses (eV/Å³, ASE sign).

A teacher is any ASE calculator: a foundation model (``sevenn:7net-0``, ``chgnet``), a Python
import path (``package.module:factory``), an exported mlip model, or a classical LAMMPS potential
(ASE's ``lammpsrun`` calculator driving the LAMMPS of this environment). Frames are labelled in
batches; each finished batch is written atomically to ``OUT.parts/``, so an interrupted run
resumes where it stopped. Frames the teacher cannot be trusted on are rejected, with the reason
counted: atoms closer than ``min_distance``, a failing teacher, non-finite results, forces above
``max_force``. Every labelled frame records its provenance in ``atoms.info`` (``teacher``,
``source``, ``source_index``, ``labelled_at``).
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import time
from collections import Counter
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from tqdm.auto import tqdm

from mlip_lammps.fileio import atomic_write

FOUNDATION = {
    "sevenn": ("sevenn.calculator", "SevenNetCalculator", "pip install sevenn"),
    "chgnet": ("chgnet.model.dynamics", "CHGNetCalculator", "pip install chgnet"),
}


class TeacherError(ValueError):
    pass


def make_teacher(spec: str | None = None, potential: str | Path | None = None, pair_style: str | None = None,
                 pair_coeffs: list[str] | None = None, species: list[str] | None = None) -> tuple[Calculator, str]:
    """An ASE calculator and its description from one of: ``spec`` (``sevenn[:MODEL]``,
    ``chgnet``, ``module:factory``), an exported model ``potential``, or LAMMPS ``pair_style`` and
    ``pair_coeffs`` (classical potential; ``species`` are the elements to label)."""
    given = [x for x in (spec, potential, pair_style) if x]
    if len(given) != 1:
        raise TeacherError("give exactly one teacher: --teacher SPEC, --potential MODEL.pt or --pair-style/--pair-coeff")
    if potential:
        from mlip_lammps.calculator import MLIPCalculator

        return MLIPCalculator(potential), f"mlip model {Path(potential).resolve()}"
    if pair_style:
        return _lammps_teacher(pair_style, pair_coeffs or [], species or [])
    name, _, arg = spec.partition(":")
    if name in FOUNDATION:
        module, cls, install = FOUNDATION[name]
        try:
            factory = getattr(importlib.import_module(module), cls)
        except ImportError as exc:
            raise TeacherError(f"teacher '{spec}' needs the {name} package ({install}): {exc}") from exc
        if name == "sevenn":
            return factory(arg or "7net-0", device="cpu"), f"{name}:{arg or '7net-0'}"
        return factory(), name
    if not arg:
        raise TeacherError(f"unknown teacher '{spec}': expected sevenn[:MODEL], chgnet or package.module:factory")
    try:
        obj = getattr(importlib.import_module(name), arg)
    except (ImportError, AttributeError) as exc:
        raise TeacherError(f"cannot import teacher '{spec}': {exc}") from exc
    calc = obj() if not isinstance(obj, Calculator) and callable(obj) else obj
    if not isinstance(calc, Calculator):
        raise TeacherError(f"teacher '{spec}' is not an ASE calculator (got {type(calc).__name__})")
    return calc, spec


def _lammps_teacher(pair_style: str, pair_coeffs: list[str], species: list[str]) -> tuple[Calculator, str]:
    """ASE's file-based LAMMPS calculator with this environment's lmp and absolute potential files."""
    import os

    from ase.calculators.lammpsrun import LAMMPS

    from mlip_lammps.lammps import lammps_environment, lmp_executable
    from mlip_lammps.workflows.potential import classical_potential

    pot = classical_potential(pair_style, pair_coeffs, species)
    env = lammps_environment(1)
    os.environ["LAMMPS_PLUGIN_PATH"] = env.get("LAMMPS_PLUGIN_PATH", "")
    files = [t for c in pot.pair_coeffs for t in c.split() if Path(t).is_file()]
    calc = LAMMPS(command=lmp_executable(), pair_style=pot.pair_style, pair_coeff=list(pot.pair_coeffs),
                  specorder=list(pot.types), files=files, keep_tmp_files=False)
    return calc, f"lammps {pot.label}"


def screen(atoms: Atoms, min_distance: float) -> str | None:
    """Why ``atoms`` must not be labelled (None when it may be)."""
    if not np.isfinite(atoms.positions).all() or not np.isfinite(atoms.cell.array).all():
        return "non-finite positions or cell"
    if len(atoms) > 1 and min_distance > 0:
        from mlip_lammps.neighbors import full_neighbor_list

        if len(full_neighbor_list(atoms, min_distance)[0]):
            return f"atoms closer than {min_distance:g} Å"
    return None


def _evaluate(atoms: Atoms, calc: Calculator, max_force: float) -> tuple[dict | None, str | None]:
    a = atoms.copy()
    a.calc = calc
    try:
        e = float(a.get_potential_energy())
        f = np.array(a.get_forces(), dtype=float)
        s = np.array(a.get_stress(), dtype=float) if a.pbc.all() else None
    except Exception as exc:  # a teacher may fail in any way on a bad structure
        return None, f"teacher failed ({type(exc).__name__})"
    if not (np.isfinite(e) and np.isfinite(f).all() and (s is None or np.isfinite(s).all())):
        return None, "non-finite energy, forces or stress"
    if len(f) and np.linalg.norm(f, axis=1).max() > max_force:
        return None, f"force above {max_force:g} eV/Å"
    return {"energy": e, "forces": f, "stress": s}, None


def label_frames(frames: list[Atoms], calc: Calculator, teacher: str, out: Path, sources: list[tuple[str, int]] | None = None,
                 batch: int = 16, max_force: float = 50.0, min_distance: float = 0.5, progress: bool = True) -> dict:
    """Label ``frames`` with ``calc`` into the extxyz file ``out``; returns (and writes to
    ``OUT.report.json``) the counts of labelled and rejected frames with the reasons.

    Resumable: batches already in ``OUT.parts/`` (same batch size) are not labelled again."""
    out = Path(out)
    parts = out.with_name(out.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    settings = {"teacher": teacher, "batch": batch, "n_frames": len(frames), "max_force": max_force, "min_distance": min_distance}
    meta = parts / "settings.json"
    if meta.is_file() and json.loads(meta.read_text()) != settings:
        raise TeacherError(f"{parts} holds a run with other settings {meta.read_text()}; remove it or use another --out")
    atomic_write(meta, lambda p: Path(p).write_text(json.dumps(settings)))
    sources = sources or [("input", k) for k in range(len(frames))]
    t0 = time.perf_counter()
    starts = range(0, len(frames), batch)
    bar = tqdm(total=len(frames), desc="labelling", unit="frame", disable=not progress)
    for b0 in starts:
        name = parts / f"frames_{b0:07d}.extxyz"
        if name.is_file() and (parts / f"rejected_{b0:07d}.json").is_file():
            bar.update(min(batch, len(frames) - b0))
            continue
        labelled, rejected = [], {}
        for k in range(b0, min(b0 + batch, len(frames))):
            atoms = frames[k]
            reason = screen(atoms, min_distance)
            labels = None
            if reason is None:
                labels, reason = _evaluate(atoms, calc, max_force)
            if reason is not None:
                rejected[k] = reason
            else:
                a = atoms.copy()
                a.calc = SinglePointCalculator(a, **{key: v for key, v in labels.items() if v is not None})
                a.info.update(teacher=teacher, source=sources[k][0], source_index=sources[k][1],
                              labelled_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
                labelled.append(a)
            bar.update(1)
        atomic_write(name, lambda p: ase.io.write(p, labelled, format="extxyz"))
        atomic_write(parts / f"rejected_{b0:07d}.json", lambda p: Path(p).write_text(json.dumps(rejected)))
    bar.close()

    frames_out, reasons = [], Counter()
    rejected_all: dict[str, str] = {}
    for b0 in starts:
        frames_out += ase.io.read(parts / f"frames_{b0:07d}.extxyz", ":") if (parts / f"frames_{b0:07d}.extxyz").stat().st_size else []
        rej = json.loads((parts / f"rejected_{b0:07d}.json").read_text())
        rejected_all.update(rej)
        reasons.update(rej.values())
    atomic_write(out, lambda p: ase.io.write(p, frames_out, format="extxyz"))
    report = {"teacher": teacher, "n_input": len(frames), "n_labelled": len(frames_out), "n_rejected": len(rejected_all),
              "rejected_reasons": dict(reasons),
              "rejected_frames": {k: {"source": sources[int(k)][0], "index": sources[int(k)][1], "reason": v}
                                  for k, v in rejected_all.items()},
              "output": str(out), "time_s": round(time.perf_counter() - t0, 2)}
    atomic_write(out.with_name(out.name + ".report.json"), lambda p: Path(p).write_text(json.dumps(report, indent=2)))
    return report
