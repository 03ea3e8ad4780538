"""ZBL short-range repulsion: value against LAMMPS pair_style zbl, smoothness, export to LAMMPS."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms

from conftest import SMALL, random_model
from lammps_utils import single_points
from mlip_lammps import MLIPCalculator
from mlip_lammps.export import export_model
from mlip_lammps.lammps import run_lammps, write_data
from mlip_lammps.models.zbl import ZBLModel


def _export(tmp_path, species, name="zbl.pt"):
    m = ZBLModel(random_model(len(species), seed=5), species, inner=0.8, outer=1.5).double()
    export_model(m, tmp_path / name, species, "nep", {**SMALL, "zbl": {"inner": 0.8, "outer": 1.5}}, dtype="float64")
    plain = random_model(len(species), seed=5)
    export_model(plain, tmp_path / ("plain_" + name), species, "nep", SMALL, dtype="float64")
    return tmp_path / name, tmp_path / ("plain_" + name)


def _dimer(r, a="Cu", b="Zr"):
    return Atoms(f"{a}{b}", positions=[[5, 5, 5], [5 + r, 5, 5]], cell=[20, 20, 20], pbc=True)


def test_zbl_matches_lammps_pair_zbl_inside_inner_radius(tmp_path):
    """Below the inner radius both are pure ZBL; LAMMPS adds a constant there (its switching
    function makes E(outer) = 0), so compare energy differences between distances."""
    zbl, plain = _export(tmp_path, ["Cu", "Zr"])
    ours, lammps = [], []
    for k, r in enumerate((0.3, 0.5, 0.75)):
        d = _dimer(r)
        d.calc = MLIPCalculator(zbl)
        e_zbl = d.get_potential_energy()
        d.calc = MLIPCalculator(plain)
        ours.append(e_zbl - d.get_potential_energy())
        write_data(d, tmp_path / f"d{k}.lmp", ["Cu", "Zr"])
        (tmp_path / "in.zbl").write_text(f"units metal\nread_data d{k}.lmp\npair_style zbl 0.8 1.5\n"
                                         "pair_coeff 1 1 29 29\npair_coeff 1 2 29 40\npair_coeff 2 2 40 40\n"
                                         "thermo_style custom pe\nthermo_modify format float %.15g\nrun 0\n")
        run_lammps("in.zbl", cwd=tmp_path)
        lines = (tmp_path / "log.lammps").read_text().splitlines()
        i = next(i for i, l in enumerate(lines) if l.strip() == "PotEng")
        lammps.append(float(lines[i + 1]))
    assert ours[0] > ours[1] > ours[2] > 0
    # 3.3e-8: LAMMPS metal units round e²/(4πε0) to 14.399645; we use the CODATA 14.3996454784
    np.testing.assert_allclose(np.diff(ours), np.diff(lammps), rtol=1e-7)


def test_zbl_forces_are_gradients_and_vanish_beyond_outer(tmp_path):
    zbl, plain = _export(tmp_path, ["Cu", "Zr"])
    for r in (0.6, 1.0, 1.3, 1.49):
        d = _dimer(r)
        d.calc = MLIPCalculator(zbl)
        f = d.get_forces()[1, 0]
        h = 1e-6
        e = []
        for s in (1, -1):
            x = _dimer(r + s * h)
            x.calc = MLIPCalculator(zbl)
            e.append(x.get_potential_energy())
        assert -(e[0] - e[1]) / (2 * h) == pytest.approx(f, rel=1e-6, abs=1e-8)
    far = _dimer(1.6)
    far.calc = MLIPCalculator(zbl)
    e_far = far.get_potential_energy()
    far.calc = MLIPCalculator(plain)
    assert e_far == pytest.approx(far.get_potential_energy(), abs=1e-12)


def test_zbl_model_in_lammps_equals_calculator(frames, tmp_path):
    zbl, _ = _export(tmp_path, ["Cu", "Zr"])
    fr = [frames["cuzr"][0], _dimer(0.9)]
    res = single_points(zbl, fr, ["Cu", "Zr"], tmp_path / "lmp")
    calc = MLIPCalculator(zbl)
    for r, atoms in zip(res, fr):
        a = atoms.copy()
        a.calc = calc
        assert r["energy"] == pytest.approx(a.get_potential_energy(), rel=1e-10)
        np.testing.assert_allclose(r["forces"], a.get_forces(), rtol=1e-10, atol=1e-9)


def test_training_with_zbl_exports_a_zbl_model(tmp_path):
    from conftest import DATA
    from mlip_lammps.contract import load_model
    from mlip_lammps.training.config import load_config
    from mlip_lammps.training.trainer import train

    cfg = load_config(None, base={
        "output": str(tmp_path / "run"),
        "data": {"train": str(DATA / "cu.extxyz")},
        "model": {"cutoff": 4.5, "cutoff_angular": 4.0, "hidden": [8],
                  "zbl": {"inner": 0.7, "outer": 1.4, "pairs": {"Cu-Cu": [1.0, 1.6]}}},
        "training": {"max_epochs": 1, "threads": 1},
    })
    train(cfg, show_progress=False)
    _, meta = load_model(tmp_path / "run" / "model.pt")
    assert meta.hyperparameters["zbl"] == {"inner": 0.7, "outer": 1.4, "pairs": {"Cu-Cu": [1.0, 1.6]}}
    d = _dimer(0.5, "Cu", "Cu")
    d.calc = MLIPCalculator(tmp_path / "run" / "model.pt")
    assert d.get_potential_energy() > 100.0  # strongly repulsive at 0.5 Å


def test_reexport_sets_the_zbl_range_and_leaves_the_learned_model(tmp_path):
    """reexport --zbl: the learned part is copied, only pairs closer than the new outer radius
    change the energy, by exactly the new ZBL term; adding ZBL to a plain model works the same."""
    from mlip_lammps.contract import load_model
    from mlip_lammps.export.reexport import main as reexport_main

    zbl, plain = _export(tmp_path, ["Cu", "Zr"])
    wall, added = tmp_path / "wall.pt", tmp_path / "added.pt"
    assert reexport_main([str(zbl), str(wall), "--zbl", "1.1", "1.7"]) == 0
    assert reexport_main([str(plain), str(added), "--zbl", "1.1", "1.7"]) == 0
    assert load_model(wall)[1].hyperparameters["zbl"] == {"inner": 1.1, "outer": 1.7}

    def energy(model, r):
        d = _dimer(r)
        d.calc = MLIPCalculator(model)
        return d.get_potential_energy()

    m = ZBLModel(random_model(2, seed=5), ["Cu", "Zr"], inner=1.1, outer=1.7).double()
    for r in (1.0, 1.4, 1.69, 1.75, 2.5):
        ref = energy(plain, r) + float(m.pair_energy(*torch.tensor([29.0, 40.0, r, 1.1, 1.7], dtype=torch.float64)))
        assert energy(wall, r) == pytest.approx(ref, rel=1e-12, abs=1e-12)
        assert energy(added, r) == pytest.approx(ref, rel=1e-12, abs=1e-12)
    assert energy(wall, 1.75) == pytest.approx(energy(plain, 1.75), abs=1e-12)


def test_per_pair_zbl_ranges_wall_off_one_pair_only(tmp_path):
    """reexport --zbl-pair: a Zr-Zr wall to 1.9 Å leaves Cu-Cu and Cu-Zr on the global 0.8-1.5 Å
    range; energies change by exactly that pair's term, forces stay -dE/dx, LAMMPS agrees, and the
    ranges survive a round trip through the file (and a later --zbl keeps them)."""
    from mlip_lammps.contract import load_model
    from mlip_lammps.export.reexport import main as reexport_main

    zbl, plain = _export(tmp_path, ["Cu", "Zr"])
    wall, rescaled = tmp_path / "wall.pt", tmp_path / "rescaled.pt"
    assert reexport_main([str(zbl), str(wall), "--zbl-pair", "Zr-Zr", "1.4", "1.9"]) == 0
    assert load_model(wall)[1].hyperparameters["zbl"] == {"inner": 0.8, "outer": 1.5, "pairs": {"Zr-Zr": [1.4, 1.9]}}
    assert reexport_main([str(wall), str(rescaled), "--zbl", "0.7", "1.4"]) == 0
    assert load_model(rescaled)[1].hyperparameters["zbl"]["pairs"] == {"Zr-Zr": [1.4, 1.9]}

    def energy(model, r, a, b):
        d = _dimer(r, a, b)
        d.calc = MLIPCalculator(model)
        return d.get_potential_energy()

    m = ZBLModel(random_model(2, seed=5), ["Cu", "Zr"]).double()
    for r in (1.2, 1.6, 1.85):
        term = float(m.pair_energy(*torch.tensor([40.0, 40.0, r, 1.4, 1.9], dtype=torch.float64)))
        assert term > 0
        assert energy(wall, r, "Zr", "Zr") == pytest.approx(energy(plain, r, "Zr", "Zr") + term, rel=1e-12)
    for a, b in (("Cu", "Cu"), ("Cu", "Zr")):  # beyond the global outer radius: no ZBL at all
        assert energy(wall, 1.6, a, b) == pytest.approx(energy(plain, 1.6, a, b), abs=1e-12)
    assert energy(wall, 1.2, "Cu", "Zr") == pytest.approx(energy(zbl, 1.2, "Cu", "Zr"), rel=1e-12)
    for r in (1.45, 1.7):
        d = _dimer(r, "Zr", "Zr")
        d.calc = MLIPCalculator(wall)
        h = 1e-6
        fd = -(energy(wall, r + h, "Zr", "Zr") - energy(wall, r - h, "Zr", "Zr")) / (2 * h)
        assert d.get_forces()[1, 0] == pytest.approx(fd, rel=1e-6)
    fr = [_dimer(1.7, "Zr", "Zr"), _dimer(1.3, "Cu", "Zr")]
    res = single_points(wall, fr, ["Cu", "Zr"], tmp_path / "lmp")
    for r, atoms in zip(res, fr):
        a = atoms.copy()
        a.calc = MLIPCalculator(wall)
        assert r["energy"] == pytest.approx(a.get_potential_energy(), rel=1e-10)
        np.testing.assert_allclose(r["forces"], a.get_forces(), rtol=1e-10, atol=1e-9)


def test_per_pair_zbl_keys_expand_and_bad_keys_are_named():
    from mlip_lammps.models.zbl import expand_pairs

    species = ["C", "Hf", "Ti"]
    got = expand_pairs({"Hf,Ti": [1.5, 1.9], "C-Ti": [0.7, 1.1]}, species)
    assert got == {(1, 1): (1.5, 1.9), (1, 2): (1.5, 1.9), (2, 2): (1.5, 1.9), (0, 2): (0.7, 1.1)}
    with pytest.raises(ValueError, match="'Nb'"):
        expand_pairs({"Nb-Ti": [1.5, 1.9]}, species)
    with pytest.raises(ValueError, match="'Hf-Ti'"):
        expand_pairs({"Hf-Ti": [1.9, 1.5]}, species)
    with pytest.raises(ValueError, match="exceeds the model cutoff"):
        ZBLModel(random_model(3, seed=5), species, 0.6, 1.2, pairs={"Hf-Ti": [1.5, 9.0]})
