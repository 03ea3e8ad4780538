"""Data reading: DeePMD npy folders, VASP OUTCAR, error messages for bad frames, data summary."""

from __future__ import annotations

import json
import subprocess
import sys

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from conftest import DATA
from mlip_lammps.data.dataset import DataError, graphs_from_atoms, read_structures
from mlip_lammps.data.deepmd import read_deepmd, write_deepmd


def test_deepmd_round_trip(frames, tmp_path):
    fr = frames["cuzr"]
    folders = write_deepmd(fr, tmp_path / "dp", ["Cu", "Zr"])
    back = read_structures(tmp_path / "dp")  # folder of systems, read recursively
    assert len(back) == len(fr) and len(folders) >= 1
    key = lambda a: round(a.get_potential_energy(), 10)  # noqa: E731
    by_e = {key(a): a for a in back}
    for a in fr:
        b = by_e[key(a)]
        assert b.get_chemical_symbols() == a.get_chemical_symbols()
        np.testing.assert_allclose(b.positions, a.positions, atol=1e-12)
        np.testing.assert_allclose(b.get_forces(), a.get_forces(), atol=1e-12)
        np.testing.assert_allclose(b.get_stress(), a.get_stress(), rtol=1e-12, atol=1e-14)
    one = read_deepmd(folders[0])
    assert len(one) >= 1


def _frame(**changes):
    a = Atoms("Cu4", positions=[[0, 0, 0], [1.8, 1.8, 0], [1.8, 0, 1.8], [0, 1.8, 1.8]], cell=[3.6] * 3, pbc=True)
    res = {"energy": -14.0, "forces": np.zeros((4, 3)), "stress": np.zeros(6)}
    res.update(changes.pop("results", {}))
    for k in changes.pop("drop", []):
        res.pop(k)
    a.calc = SinglePointCalculator(a, **res)
    return a


@pytest.mark.parametrize(
    "frame, message",
    [
        (_frame(drop=["energy"]), "frame 0: no energy label"),
        (_frame(drop=["forces"]), "frame 0: no forces label"),
        (_frame(results={"energy": float("nan")}), "energy contains NaN"),
        (_frame(results={"forces": np.full((4, 3), np.nan)}), "forces contains NaN"),
    ],
)
def test_bad_labels_are_named(frame, message):
    with pytest.raises(DataError, match=message):
        graphs_from_atoms([frame], ["Cu"], 4.0, source="bad.extxyz")


def test_close_atoms_rejected():
    a = _frame()
    a.positions[1] = [0.3, 0.0, 0.0]
    with pytest.raises(DataError, match="closer than 0.5"):
        graphs_from_atoms([a], ["Cu"], 4.0)


def test_unknown_species_named():
    with pytest.raises(DataError, match=r"\['Cu'\] are not in the model's species \['Zr'\]"):
        graphs_from_atoms([_frame()], ["Zr"], 4.0)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_structures(tmp_path / "nope.extxyz")
    bad = tmp_path / "bad.extxyz"
    bad.write_text("this is not\nan xyz file\n")
    with pytest.raises(DataError, match="cannot read"):
        read_structures(bad)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(DataError, match="not a DeePMD"):
        read_structures(tmp_path / "emptydir")


def _write_outcar(atoms, energy, forces, stress_ev_a3, path):
    """Minimal VASP OUTCAR with the blocks ASE's reader parses (one ionic step)."""
    symbols = atoms.get_chemical_symbols()
    species = list(dict.fromkeys(symbols))
    counts = [symbols.count(s) for s in species]
    cell = atoms.cell.array
    # VASP prints stress in kB with the opposite sign (positive = compressive)
    s_kb = -stress_ev_a3 * 1602.1766208
    lines = []
    for s in species:
        lines.append(f" POTCAR:    PAW_PBE {s} 08Apr2002")
    for s in species:  # a real OUTCAR lists each POTCAR twice
        lines.append(f" POTCAR:    PAW_PBE {s} 08Apr2002")
    lines.append("   ions per type =  " + "  ".join(str(c) for c in counts))
    lines.append("--------------------------------------- Iteration      1(   1)  ---------------------------------------")
    lines.append(" direct lattice vectors                 reciprocal lattice vectors")
    rec = np.linalg.inv(cell).T
    for k in range(3):
        lines.append("  " + " ".join(f"{x:12.9f}" for x in cell[k]) + "  " + " ".join(f"{x:12.9f}" for x in rec[k]))
    lines.append("")
    lines.append("  FORCE on cell =-STRESS in cart. coord.  units (eV):")
    lines.append("  Direction    XX          YY          ZZ          XY          YZ          ZX")
    lines.append("  --------------------------------------------------------------------------------------")
    order = [0, 1, 2, 5, 3, 4]  # ASE voigt xx yy zz yz xz xy -> VASP xx yy zz xy yz zx
    lines.append("  in kB  " + " ".join(f"{s_kb[k]:11.5f}" for k in order))
    lines.append("")
    lines.append(" POSITION                                       TOTAL-FORCE (eV/Angst)")
    lines.append(" -----------------------------------------------------------------------------------")
    for p, f in zip(atoms.positions, forces):
        lines.append("  " + " ".join(f"{x:12.5f}" for x in p) + "    " + " ".join(f"{x:13.6f}" for x in f))
    lines.append(" -----------------------------------------------------------------------------------")
    lines.append("")
    lines.append("  FREE ENERGIE OF THE ION-ELECTRON SYSTEM (eV)")
    lines.append("  ---------------------------------------------------")
    lines.append(f"  free  energy   TOTEN  =       {energy:.8f} eV")
    lines.append("")
    lines.append(f"  energy  without entropy=      {energy:.8f}  energy(sigma->0) =      {energy:.8f}")
    lines.append("")
    path.write_text("\n".join(lines) + "\n")


def test_vasp_outcar(tmp_path):
    a = Atoms("Cu3Zr", positions=[[0, 0, 0], [1.8, 1.8, 0], [1.8, 0, 1.8], [0, 1.8, 1.8]], cell=[3.6, 3.7, 3.8], pbc=True)
    f = np.random.default_rng(0).normal(size=(4, 3))
    s = np.array([0.01, -0.02, 0.005, 0.001, -0.002, 0.003])
    _write_outcar(a, -20.5, f, s, tmp_path / "OUTCAR")
    (b,) = read_structures(tmp_path / "OUTCAR")
    assert b.get_chemical_symbols() == ["Cu", "Cu", "Cu", "Zr"]
    assert b.get_potential_energy() == pytest.approx(-20.5)
    np.testing.assert_allclose(b.get_forces(), f, atol=1e-6)
    np.testing.assert_allclose(b.get_stress(), s, atol=1e-7)
    (g,) = graphs_from_atoms([b], ["Cu", "Zr"], 4.0)
    assert g.n_graphs == 1 and float(g.energy[0]) == pytest.approx(-20.5)


def test_data_summary_cli():
    out = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.main", "data", "summary", str(DATA / "hea.extxyz"), "--json"],
                         capture_output=True, text=True, check=True)
    s = json.loads(out.stdout)
    assert s["n_frames"] == 12 and set(s["species"]) == {"Al", "Co", "Cr", "Fe", "Ni"}
    assert s["labels"] == {"energy": 12, "forces": 12, "stress": 12}
    assert s["forces_eV_per_A"]["max_magnitude"] > 0
