"""Running single points and short MD in LAMMPS (subprocess ``lmp``, as users do)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlip_lammps.lammps import run_lammps, write_data

NKTV2P = 1.6021765e6  # LAMMPS metal units: eV/Å^3 -> bar


def single_points(model: Path, frames: list, elements: list[str], workdir: Path, np_ranks: int = 1,
                  extra: str = "", pair_extra: str = "", neighbor: str = "1.0 bin") -> list[dict]:
    """Energy (eV), forces (eV/Å, ordered as each frame) and stress (eV/Å^3, ASE sign, Voigt) of each
    frame from one LAMMPS run (``clear`` between frames)."""
    workdir.mkdir(parents=True, exist_ok=True)
    blocks = []
    for k, atoms in enumerate(frames):
        write_data(atoms, workdir / f"data{k}.lmp", elements)
        blocks.append(f"""\
clear
units metal
atom_style atomic
boundary p p p
atom_modify map array sort 0 0
{extra}
read_data data{k}.lmp
pair_style mlip {model} {pair_extra}
pair_coeff * * {' '.join(elements)}
neighbor {neighbor}
thermo_style custom step pe pxx pyy pzz pyz pxz pxy
thermo_modify format float %.17g
dump d all custom 1 forces{k}.dump id fx fy fz
dump_modify d format float %.17g sort id
run 0
undump d
""")
    (workdir / "in.sp").write_text("".join(blocks))
    run_lammps("in.sp", cwd=workdir, np=np_ranks)
    thermo = _thermo_blocks(workdir / "log.lammps")
    return [{**thermo[k], "forces": _read_dump(workdir / f"forces{k}.dump")} for k in range(len(frames))]


def _thermo_blocks(log: Path) -> list[dict]:
    lines = log.read_text().splitlines()
    out = []
    for k, l in enumerate(lines):
        if l.split()[:2] == ["Step", "PotEng"]:
            t = dict(zip(l.split(), [float(x) for x in lines[k + 1].split()]))
            stress = -np.array([t["Pxx"], t["Pyy"], t["Pzz"], t["Pyz"], t["Pxz"], t["Pxy"]]) / NKTV2P
            out.append({"energy": t["PotEng"], "stress": stress})
    return out


def _read_dump(path: Path) -> np.ndarray:
    lines = path.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS")) + 1
    rows = np.array([[float(x) for x in l.split()] for l in lines[start:]])
    return rows[np.argsort(rows[:, 0]), 1:4]


def thermo_table(log: Path, block: int = -1) -> dict[str, np.ndarray]:
    """All rows of one thermo block of a log (default: the last)."""
    lines = log.read_text().splitlines()
    k = [i for i, l in enumerate(lines) if l.split()[:1] == ["Step"]][block]
    cols = lines[k].split()
    rows = []
    for l in lines[k + 1 :]:
        if l.startswith("Loop time"):
            break
        parts = l.split()
        if len(parts) == len(cols):
            rows.append([float(x) for x in parts])
    return {c: np.array([r[i] for r in rows]) for i, c in enumerate(cols)}
