"""Python side of the model contract: metadata and error messages."""

from __future__ import annotations

import zipfile

import pytest
import torch

from conftest import rewrite_metadata
from mlip_lammps import MLIPCalculator
from mlip_lammps.contract import CONTRACT_VERSION, ModelContractError, load_model


def test_metadata_round_trip(models):
    _, meta = load_model(models["cuzr"])
    assert meta.contract_version == CONTRACT_VERSION
    assert meta.species == ["Cu", "Zr"] and meta.units == "metal" and meta.dtype == "float64"
    assert meta.cutoff == 5.0 and meta.model_type == "local"
    assert meta.hyperparameters["hidden"] == [16]


def test_missing_file(tmp_path):
    with pytest.raises(ModelContractError, match="not found"):
        MLIPCalculator(tmp_path / "nope.pt")


def test_corrupt_file(tmp_path, models):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(models["cu"].read_bytes()[:2000])
    with pytest.raises(ModelContractError, match="not a valid TorchScript"):
        load_model(bad)


def test_contract_version_mismatch(tmp_path, models):
    p = rewrite_metadata(models["cu"], tmp_path / "v99.pt", contract_version=99)
    with pytest.raises(ModelContractError, match="contract version 99"):
        load_model(p)


def test_wrong_units(tmp_path, models):
    p = rewrite_metadata(models["cu"], tmp_path / "real.pt", units="real")
    with pytest.raises(ModelContractError, match="units 'real'"):
        load_model(p)


def test_bad_num_layers(tmp_path, models):
    p = rewrite_metadata(models["cu"], tmp_path / "layers.pt", num_layers=0)
    with pytest.raises(ModelContractError, match="num_layers must be a positive integer, got 0"):
        load_model(p)


def test_plain_torchscript_without_metadata(tmp_path):
    p = tmp_path / "plain.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(p))
    with pytest.raises(ModelContractError, match="metadata.json"):
        load_model(p)


def test_unknown_element(models, frames):
    atoms = frames["cuzr"][0].copy()
    atoms.calc = MLIPCalculator(models["cu"])
    with pytest.raises(ValueError, match=r"\['Zr'\] are not in the model's species"):
        atoms.get_potential_energy()


def test_export_is_a_zip_with_metadata(models):
    with zipfile.ZipFile(models["hea"]) as z:
        names = z.namelist()
    assert any(n.endswith("extra/metadata.json") for n in names)
