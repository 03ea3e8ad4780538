"""The plain LAMMPS inputs in examples/lammps_inputs/ run (a few steps each, overridden with -var),
with the classical reference potentials and with an exported model where one is needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SPECIES, export_random
from lammps_utils import thermo_table
from mlip_lammps.lammps import run_lammps
from mlip_lammps.workflows.potential import potentials_dir

REPO = Path(__file__).resolve().parents[1]
INPUTS = REPO / "examples" / "lammps_inputs"

# input -> (-var overrides that keep it to a few dozen steps, thermo columns that must be present)
CASES = {
    "in.cu_nucleation": (["pair", "eam", "nmelt", "20", "nhold", "40", "every", "20", "T", "850"], ["v_nmax", "v_fsolid"]),
    "in.cuzr_cooling": (["pair", "eam", "nmelt", "20", "rate", "20000"], ["v_fico", "v_fcry"]),
    "in.hea_liquid": (["pair", "meam", "nequil", "20", "nprod", "100"], ["v_rho"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_input_runs_with_reference_potential(name, tmp_path, monkeypatch):
    overrides, columns = CASES[name]
    shutil.copy(INPUTS / name, tmp_path / name)
    monkeypatch.setenv("LAMMPS_POTENTIALS", str(potentials_dir()))
    args = [x for k in range(0, len(overrides), 2) for x in ("-var", overrides[k], overrides[k + 1])]
    run_lammps(name, cwd=tmp_path, extra_args=args, timeout=600)
    t = thermo_table(tmp_path / "log.lammps")
    for c in columns:
        assert c in t and len(t[c]) >= 2, (c, list(t))
    if name == "in.cu_nucleation":
        assert 1 <= t["v_nmax"].min() and t["v_nmax"].max() <= 2048
    if name == "in.hea_liquid":
        assert (tmp_path / "hea_msd.dat").stat().st_size > 0 and (tmp_path / "hea_rdf.dat").stat().st_size > 0


def test_hea_example_with_exported_model(tmp_path):
    """The same input drives pair_style mlip with a 5-species model (random weights pull atoms
    together, hence min_dist 0)."""
    model = export_random(tmp_path / "hea.pt", SPECIES["hea"], seed=3)
    shutil.copy(INPUTS / "in.hea_liquid", tmp_path / "in.hea_liquid")
    run_lammps("in.hea_liquid", cwd=tmp_path, timeout=600,
               extra_args=["-var", "model", str(model), "-var", "nequil", "5", "-var", "nprod", "100",
                           "-var", "mlip_args", "min_dist 0"])
    assert len(thermo_table(tmp_path / "log.lammps")["Step"]) >= 2
