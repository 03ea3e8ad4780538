"""Model physics: descriptors, derivatives, invariances, smoothness, export round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ase.build import bulk

from conftest import fd_force, fd_stress, random_model
from mlip_lammps import MLIPCalculator
from mlip_lammps.models.nep import NEPModel, chebyshev_basis
from mlip_lammps.models.spherical import SphericalHarmonics, real_spherical_harmonics_reference


def test_spherical_harmonics_addition_theorem():
    torch.manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(50, 3, dtype=torch.float64), dim=1)
    b = torch.nn.functional.normalize(torch.randn(50, 3, dtype=torch.float64), dim=1)
    sh = SphericalHarmonics(4).double()
    ya, yb = sh(a), sh(b)
    np.testing.assert_allclose(ya.numpy(), real_spherical_harmonics_reference(a, 4).numpy(), atol=1e-14)
    c = (a * b).sum(1)
    legendre = [None, c, 0.5 * (3 * c**2 - 1), 0.5 * (5 * c**3 - 3 * c), (35 * c**4 - 30 * c**2 + 3) / 8]
    o = 0
    for l in range(1, 5):
        s = (ya[:, o : o + 2 * l + 1] * yb[:, o : o + 2 * l + 1]).sum(1)
        o += 2 * l + 1
        assert torch.allclose(s, (2 * l + 1) / (4 * math.pi) * legendre[l], atol=1e-14)


def test_radial_basis_vanishes_smoothly_at_cutoff():
    r = torch.tensor([4.999999, 5.0, 5.2], dtype=torch.float64, requires_grad=True)
    f = chebyshev_basis(r, 5.0, 8)
    assert torch.all(f[1:] == 0)
    (g,) = torch.autograd.grad(f.sum(), r)
    assert abs(float(g[0])) < 1e-5 and float(g[1]) == 0.0  # slope vanishes linearly (C1 cutoff)


def test_radial_basis_is_nep_chebyshev_basis():
    # the closed form cos(2k acos t) must equal NEP's definition by the Chebyshev recurrence
    r = torch.linspace(0.5, 6.9, 2001, dtype=torch.float64)
    rc = 7.0
    x = 2.0 * (r / rc - 1.0) ** 2 - 1.0
    T = [torch.ones_like(x), x]
    for _ in range(2, 24):
        T.append(2.0 * x * T[-1] - T[-2])
    fc = 0.5 * (1.0 + torch.cos(math.pi * r / rc))
    expected = 0.5 * (torch.stack(T, 1) + 1.0) * fc.unsqueeze(1)
    assert torch.allclose(chebyshev_basis(r, rc, 24), expected, rtol=0, atol=1e-12)


def test_pair_type_mix_equals_per_edge_product():
    torch.manual_seed(0)
    model = NEPModel(n_species=3).double()
    f = torch.randn(500, 8, dtype=torch.float64)
    pair = torch.randint(0, 9, (500,))
    c = torch.randn(9, 5, 8, dtype=torch.float64)
    expected = torch.einsum("enk,ek->en", c[pair], f)
    assert torch.allclose(model._mix(f, pair, c), expected, rtol=0, atol=1e-12)
    # a pair type with no edges (8) is an empty group
    pair = torch.where(pair == 8, torch.zeros_like(pair), pair)
    assert torch.allclose(model._mix(f, pair, c), torch.einsum("enk,ek->en", c[pair], f), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["cu", "cuzr", "hea"])
def test_forces_are_minus_energy_gradient(models, frames, name):
    atoms = frames[name][1].copy()
    atoms.calc = MLIPCalculator(models[name])
    f = atoms.get_forces()
    h = 1e-5
    rng = np.random.default_rng(1)
    for i in rng.choice(len(atoms), 4, replace=False):
        for a in range(3):
            assert fd_force(atoms, i, a, h) == pytest.approx(f[i, a], abs=1e-7)


@pytest.mark.parametrize("name", ["cu", "hea"])
def test_stress_is_strain_derivative(models, frames, name):
    atoms = frames[name][1].copy()  # triclinic cell
    atoms.calc = MLIPCalculator(models[name])
    s = atoms.get_stress(voigt=False)
    h = 1e-6
    for a, b in [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]:
        assert fd_stress(atoms, a, b, h) == pytest.approx(s[a, b], abs=1e-9)


def test_rotation_translation_permutation_invariance(models, frames):
    atoms = frames["hea"][0].copy()
    atoms.calc = MLIPCalculator(models["hea"])
    e0, f0 = atoms.get_potential_energy(), atoms.get_forces()
    rot = atoms.copy()
    rot.rotate(37, (1, 2, 3), rotate_cell=True)
    rot.translate((0.3, -1.1, 2.0))
    rot.calc = MLIPCalculator(models["hea"])
    assert rot.get_potential_energy() == pytest.approx(e0, rel=1e-12)
    R = np.linalg.solve(atoms.cell.array, rot.cell.array)  # row-vector rotation
    np.testing.assert_allclose(rot.get_forces(), f0 @ R, atol=1e-10)
    perm = np.random.default_rng(0).permutation(len(atoms))
    p = atoms[perm]
    p.calc = MLIPCalculator(models["hea"])
    assert p.get_potential_energy() == pytest.approx(e0, rel=1e-12)
    np.testing.assert_allclose(p.get_forces(), f0[perm], atol=1e-12)


def test_supercell_is_extensive(models):
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=1)
    atoms.calc = MLIPCalculator(models["cu"])
    e1 = atoms.get_potential_energy()
    big = atoms.repeat((2, 3, 1))
    big.calc = MLIPCalculator(models["cu"])
    assert big.get_potential_energy() == pytest.approx(6 * e1, rel=1e-12)
    np.testing.assert_allclose(big.get_stress(), atoms.get_stress(), atol=1e-12)


def test_per_atom_energies_sum_to_total(models, frames):
    atoms = frames["cuzr"][0].copy()
    atoms.calc = MLIPCalculator(models["cuzr"])
    assert atoms.get_potential_energies().sum() == pytest.approx(atoms.get_potential_energy(), rel=1e-13)


def test_float32_export_close_to_float64(tmp_path, frames):
    from conftest import export_random

    p64 = export_random(tmp_path / "m64.pt", ["Cu", "Zr"], seed=3)
    p32 = export_random(tmp_path / "m32.pt", ["Cu", "Zr"], seed=3, dtype="float32")
    a = frames["cuzr"][2].copy()
    a.calc = MLIPCalculator(p64)
    f64 = a.get_forces()
    a.calc = MLIPCalculator(p32)
    f32 = a.get_forces()
    assert np.abs(f32 - f64).max() < 1e-4 * np.abs(f64).max()


def test_untrained_model_energy_not_trivial():
    m = random_model(2)
    assert m.n_descriptors == 6 + 4 * 4
