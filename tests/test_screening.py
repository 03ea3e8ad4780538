"""The learned MEAM-style three-body screening (model.screening): its values against a direct
transcription of the MEAM formula, forces and stress as derivatives, the same numbers in LAMMPS on
1 and 2 ranks and with any skin, and export without the fused kernels."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from ase.build import bulk

from conftest import SMALL, SPECIES, fd_force, fd_stress, random_model
from lammps_utils import single_points
from mlip_lammps import MLIPCalculator
from mlip_lammps.export import export_model
from mlip_lammps.models.screening import Screening

HYPER = {**SMALL, "cutoff": 5.5, "screening": True}


def _meam_screening(pos, species, c_min, c_max, i, j):
    """S_ij by the MEAM formula (LAMMPS meam_dens_init.cpp getscreen), all atoms k ≠ i, j."""
    rij2 = np.sum((pos[j] - pos[i]) ** 2)
    s = 1.0
    for k in range(len(pos)):
        if k in (i, j):
            continue
        xik = np.sum((pos[k] - pos[i]) ** 2) / rij2
        xjk = np.sum((pos[k] - pos[j]) ** 2) / rij2
        a = 1 - (xik - xjk) ** 2
        if a <= 0:
            continue
        c = (2 * (xik + xjk) + a - 2) / a
        lo, hi = c_min[species[i], species[j], species[k]], c_max[species[i], species[j], species[k]]
        if c >= hi:
            continue
        if c <= lo:
            return 0.0
        x = (c - lo) / (hi - lo)
        s *= (1 - (1 - x) ** 4) ** 2
    return s


def _screened_model(n_species: int, seed: int = 0) -> torch.nn.Module:
    """Random weights; C_min spread over 1.5–3.5 so that close-packed triangles (C = 3) and
    second-neighbour bonds (C = 1–2) are partly and fully screened."""
    m = random_model(n_species, seed, cutoff=5.5, screening=True)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        m.screening.c_min.copy_(1.5 + 2.0 * torch.rand(m.screening.c_min.shape, generator=g, dtype=torch.float64))
    return m


@pytest.fixture(scope="module")
def screened(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("screened") / "hea_screened.pt"
    export_model(_screened_model(5), path, SPECIES["hea"], "nep", HYPER, {"note": "random weights, tests"})
    return {"path": path, "model": _screened_model(5)}


def test_screening_equals_meam_formula():
    """S_ij of every bond of a rattled two-species fcc cluster equals the MEAM formula to 1e-12,
    and the cluster has bonds fully screened, partly screened and unscreened."""
    rng = np.random.default_rng(3)
    atoms = bulk("Ni", "fcc", a=3.5, cubic=True).repeat(2)
    atoms.rattle(0.15, seed=4)
    pos = atoms.positions  # a cluster: no periodic images
    n = len(pos)
    species = rng.integers(0, 2, n)
    scr = Screening(2, cutoff=5.5).double()
    with torch.no_grad():
        scr.c_min.copy_(torch.tensor(rng.uniform(0.5, 3.0, (2, 2, 2))))
        scr.c_max.copy_(torch.tensor(rng.uniform(2.0, 4.5, (2, 2, 2))))
    c_min, c_max = (t.detach().numpy() for t in scr.limits())
    pairs = [(i, j) for i, j in itertools.permutations(range(n), 2) if np.linalg.norm(pos[j] - pos[i]) < 5.5]
    center = torch.tensor([p[0] for p in pairs])
    neigh = torch.tensor([p[1] for p in pairs])
    vec = torch.tensor(pos[neigh.numpy()] - pos[center.numpy()])
    r = vec.norm(dim=1)
    sp = torch.tensor(species)
    got = scr(sp, center, sp[neigh], vec, r).detach().numpy()
    inner = r.numpy() < scr.outer - 0.3  # inside the taper the weight is S itself
    want = np.array([_meam_screening(pos, species, c_min, c_max, i, j) for i, j in pairs])
    np.testing.assert_allclose(got[inner], want[inner], rtol=0, atol=1e-12)
    assert (want[inner] == 0).sum() > 10 and ((want[inner] > 0.01) & (want[inner] < 0.99)).sum() > 10
    assert (want[inner] == 1).sum() > 10
    assert np.all(got[r.numpy() >= scr.outer] == 1.0)


def test_screened_forces_and_stress_are_derivatives(screened, frames):
    atoms = frames["hea"][1].copy()
    atoms.calc = MLIPCalculator(screened["path"])
    f = atoms.get_forces()
    rng = np.random.default_rng(1)
    for i in rng.choice(len(atoms), 4, replace=False):
        for a in range(3):
            assert fd_force(atoms, i, a, 1e-5) == pytest.approx(f[i, a], abs=1e-7)
    s = atoms.get_stress(voigt=False)
    for a, b in [(0, 0), (1, 2), (0, 1)]:
        assert fd_stress(atoms, a, b, 1e-6) == pytest.approx(s[a, b], abs=1e-9)


@pytest.mark.parametrize("np_ranks,skin", [(1, 1.0), (2, 0.3), (2, 2.0)])
def test_screened_lammps_equals_calculator(screened, frames, np_ranks, skin, tmp_path):
    """pair_style mlip gives the calculator's energy, forces and stress to 1e-10 on 1 and 2 ranks
    and with any skin: the screening atoms of a bond are in its centre's neighbour list."""
    fr = frames["hea"][:3]
    res = single_points(screened["path"], fr, SPECIES["hea"], tmp_path, np_ranks=np_ranks, neighbor=f"{skin} bin")
    calc = MLIPCalculator(screened["path"])
    for r, atoms in zip(res, fr):
        atoms = atoms.copy()
        atoms.calc = calc
        assert r["energy"] == pytest.approx(atoms.get_potential_energy(), rel=1e-10, abs=1e-9)
        np.testing.assert_allclose(r["forces"], atoms.get_forces(), rtol=1e-10, atol=1e-9)
        s = atoms.get_stress()
        np.testing.assert_allclose(r["stress"], s, rtol=0, atol=max(1e-9, 1e-10 * np.abs(s).max()))


def test_screened_model_exports_without_fused_kernels(tmp_path):
    meta = export_model(_screened_model(2), tmp_path / "m.pt", ["Cu", "Zr"], "nep", HYPER)
    assert meta.requires_ops is None
    with pytest.raises(ValueError, match="no fused kernels"):
        export_model(_screened_model(2), tmp_path / "f.pt", ["Cu", "Zr"], "nep", HYPER, fused=True)


def test_screening_is_a_nep_option_only():
    from mlip_lammps.training.config import ModelConfig

    assert ModelConfig.model_validate({"architecture": "nep", "screening": True}).hyperparameters()["screening"] is True
    with pytest.raises(ValueError, match="model.screening is not a hyperparameter of architecture 'equivariant'"):
        ModelConfig.model_validate({"architecture": "equivariant", "screening": True})
