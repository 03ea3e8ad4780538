"""The shipped models (models/<system>.pt): they load, name their species, and reproduce on the
small test-data subsets (tests/data, frames of ../shared/data/<system>/test.extxyz kinds;
hea_sevennet.extxyz: the frames of hea.extxyz relabelled by SevenNet-0) the accuracy recorded in
models/<system>.metrics.json, within the scatter of 12 frames."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest

from conftest import DATA, REPO, SPECIES
from mlip_lammps.calculator import MLIPCalculator
from mlip_lammps.contract import load_model


SHIPPED = {**SPECIES, "carbide": ["C", "Hf", "Nb", "Ta", "Ti", "Zr"], "hea_sevennet": SPECIES["hea"]}


@pytest.mark.parametrize("system", list(SHIPPED))
def test_shipped_model_reproduces_its_recorded_accuracy(system):
    path = REPO / "models" / f"{system}.pt"
    if not path.is_file():
        pytest.fail(f"shipped model {path} is missing")
    _, meta = load_model(path)
    assert sorted(meta.species) == sorted(SHIPPED[system])
    assert meta.dtype == "float64"
    recorded = json.loads((REPO / "models" / f"{system}.metrics.json").read_text())["test"]
    calc = MLIPCalculator(path)
    df, de = [], []
    for atoms in ase.io.read(DATA / f"{system}.extxyz", ":"):
        ref_f, ref_e = atoms.get_forces(), atoms.get_potential_energy()
        atoms.calc = calc
        df.append((atoms.get_forces() - ref_f).ravel())
        de.append((atoms.get_potential_energy() - ref_e) / len(atoms))
    f_rmse = 1e3 * float(np.sqrt(np.mean(np.concatenate(df) ** 2)))
    e_rmse = 1e3 * float(np.sqrt(np.mean(np.square(de))))
    assert np.isfinite(f_rmse) and np.isfinite(e_rmse)
    assert f_rmse < 2.0 * recorded["forces_rmse_meV_per_A"], (f_rmse, recorded["forces_rmse_meV_per_A"])
    assert e_rmse < 3.0 * recorded["energy_rmse_meV_per_atom"] + 1.0, (e_rmse, recorded["energy_rmse_meV_per_atom"])
