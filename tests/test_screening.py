"""The learned MEAM-style three-body screening (model.screening): its values against a direct
transcription of the MEAM formula, forces and stress as derivatives, the same numbers in LAMMPS on
1 and 2 ranks and with any skin, and the fused C++ kernels equal to the pure-torch path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from ase.build import bulk

from conftest import SMALL, SPECIES, export_random, fd_force, fd_stress, random_model
from lammps_utils import single_points
from mlip_lammps import MLIPCalculator
from mlip_lammps.export import export_model
from mlip_lammps.models.screening import C_UPPER, KNOT, SPLINE_SCALE, TAPER, Screening

HYPER = {**SMALL, "cutoff": 5.5, "screening": True}


def _reference_screening(pos, species, weights, i, j):
    """S_ij = 2 σ(−Σ_k h(C_ikj)) with the ellipse parameter C_ikj as in LAMMPS's MEAM
    (meam_dens_init.cpp, getscreen) and h a scipy B-spline, all atoms k ≠ i, j."""
    from scipy.interpolate import BSpline

    knots = np.arange(-3, C_UPPER / KNOT + 4) * KNOT  # the last three splines (past C_UPPER) are zero
    rij2 = np.sum((pos[j] - pos[i]) ** 2)
    total = 0.0
    for k in range(len(pos)):
        if k in (i, j):
            continue
        xik = np.sum((pos[k] - pos[i]) ** 2) / rij2
        xjk = np.sum((pos[k] - pos[j]) ** 2) / rij2
        a = 1 - (xik - xjk) ** 2
        if a <= 0:
            continue
        c = (2 * (xik + xjk) + a - 2) / a
        if c >= C_UPPER:
            continue
        w = 0.5 * (weights[species[i], species[j], species[k]] + weights[species[j], species[i], species[k]])
        total += SPLINE_SCALE * BSpline(knots, np.r_[w, 0, 0, 0], 3, extrapolate=False)(c)
    return 2.0 / (1.0 + np.exp(total))


def _screened_model(n_species: int, seed: int = 0) -> torch.nn.Module:
    """Random weights, screening included (S_ij from ~0 to ~2)."""
    m = random_model(n_species, seed, cutoff=5.5, screening=True)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        m.screening.weights.copy_(torch.randn(m.screening.weights.shape, generator=g, dtype=torch.float64) * 0.05)
    return m


@pytest.fixture(scope="module")
def screened(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("screened") / "hea_screened.pt"
    export_model(_screened_model(5), path, SPECIES["hea"], "nep", HYPER, {"note": "random weights, tests"})
    return {"path": path, "model": _screened_model(5)}


def test_screening_equals_reference_formula():
    """S_ij of every bond of a rattled two-species fcc cluster equals a direct transcription
    (MEAM's ellipse parameter, scipy's B-spline) to 1e-12; bonds are screened, enhanced and free."""
    rng = np.random.default_rng(3)
    atoms = bulk("Ni", "fcc", a=3.5, cubic=True).repeat(2)
    atoms.rattle(0.15, seed=4)
    pos = atoms.positions  # a cluster: no periodic images
    n = len(pos)
    species = rng.integers(0, 2, n)
    scr = Screening(2, cutoff=5.5).double()
    with torch.no_grad():
        scr.weights.copy_(torch.tensor(rng.normal(0.0, 0.5, scr.weights.shape)))
    weights = scr.weights.detach().numpy()
    pairs = [(i, j) for i, j in itertools.permutations(range(n), 2) if np.linalg.norm(pos[j] - pos[i]) < 5.5]
    center = torch.tensor([p[0] for p in pairs])
    neigh = torch.tensor([p[1] for p in pairs])
    vec = torch.tensor(pos[neigh.numpy()] - pos[center.numpy()])
    r = vec.norm(dim=1)
    sp = torch.tensor(species)
    got = scr(sp, center, sp[neigh], vec, r).detach().numpy()
    inner = r.numpy() < scr.outer - TAPER  # inside the taper the weight is S itself
    want = np.array([_reference_screening(pos, species, weights, i, j) for i, j in pairs])
    np.testing.assert_allclose(got[inner], want[inner], rtol=0, atol=1e-12)
    assert (want[inner] < 0.2).sum() > 10 and (want[inner] > 1.2).sum() > 10
    assert np.all(got[r.numpy() >= scr.outer] == 1.0)


def test_untrained_screening_is_neutral(tmp_path):
    """Fresh screening weights are zero: S = 1, the model equals the unscreened one."""
    plain = random_model(2, 5, cutoff=5.5)
    screened = random_model(2, 5, cutoff=5.5, screening=True)
    screened.load_state_dict(plain.state_dict(), strict=False)
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.rattle(0.1, seed=2)
    atoms.numbers[::3] = 40
    energies = []
    for name, m, screening in (("plain", plain, False), ("screened", screened, True)):
        export_model(m, tmp_path / f"{name}.pt", ["Cu", "Zr"], "nep", {**SMALL, "cutoff": 5.5, "screening": screening})
        energies.append(MLIPCalculator(tmp_path / f"{name}.pt").get_potential_energy(atoms))
    assert energies[1] == pytest.approx(energies[0], rel=1e-13)


def test_screened_forces_and_stress_are_derivatives(screened, frames):
    atoms = frames["hea"][1].copy()
    atoms.calc = MLIPCalculator(screened["path"])
    f = atoms.get_forces()
    rng = np.random.default_rng(1)
    for i in rng.choice(len(atoms), 4, replace=False):
        for a in range(3):
            # the random screening is strongly curved: central differences at h = 1e-5 Å are off
            # by O(h²) ~ 1e-7 (they converge as h², 100× per decade, down to 1e-8 at 1e-6)
            assert fd_force(atoms, i, a, 1e-5) == pytest.approx(f[i, a], abs=5e-7)
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


def test_screened_fused_export_equals_pure_torch(frames, tmp_path):
    """The fused kernels (mlip::screening_bond/_grad, nep_* with bond weights) give the pure-torch
    export's energy, forces and stress to 1e-12, float64, on 5-species frames."""
    from mlip_lammps.ops import load_error, load_ops

    if not load_ops():
        pytest.skip(f"libmlip_ops.so not available: {load_error()}")
    m = _screened_model(5, seed=2)
    assert export_model(m, tmp_path / "f.pt", SPECIES["hea"], "nep", HYPER, fused=True).requires_ops == "mlip"
    assert export_model(m, tmp_path / "p.pt", SPECIES["hea"], "nep", HYPER, fused=False).requires_ops is None
    fused, pure = MLIPCalculator(tmp_path / "f.pt"), MLIPCalculator(tmp_path / "p.pt")
    for atoms in frames["hea"][:3]:
        a, b = atoms.copy(), atoms.copy()
        a.calc, b.calc = fused, pure
        assert a.get_potential_energy() == pytest.approx(b.get_potential_energy(), rel=1e-12)
        f = b.get_forces()
        np.testing.assert_allclose(a.get_forces(), f, rtol=0, atol=1e-12 * np.abs(f).max())
        s = b.get_stress()
        np.testing.assert_allclose(a.get_stress(), s, rtol=0, atol=1e-12 * np.abs(s).max())


def test_screening_is_a_nep_option_only():
    from mlip_lammps.training.config import ModelConfig

    assert ModelConfig.model_validate({"architecture": "nep", "screening": True}).hyperparameters()["screening"] is True
    with pytest.raises(ValueError, match="model.screening is not a hyperparameter of architecture 'equivariant'"):
        ModelConfig.model_validate({"architecture": "equivariant", "screening": True})


def test_window_projection_recovers_meam_windows():
    """window_weights turns MEAM windows (C_min, C_max) into a spline whose single-atom screening
    fits MEAM's cutoff function, and fit_windows finds those windows again from the spline."""
    from mlip_lammps.models.screening import fit_windows, meam_cutoff, window_weights

    g = torch.Generator().manual_seed(1)
    lo = torch.rand(2, 2, 2, generator=g, dtype=torch.float64) * 2.4
    windows = torch.stack([lo, lo + 0.5 + torch.rand(2, 2, 2, generator=g, dtype=torch.float64)], -1)
    windows = 0.5 * (windows + windows.transpose(0, 1))  # screening is symmetric in i and j
    s = Screening(2, 5.5).double()
    with torch.no_grad():
        s.weights.copy_(window_weights(windows))
    c = torch.linspace(0.0, C_UPPER - 1e-3, 500, dtype=torch.float64)
    for i, j, k in itertools.product(range(2), repeat=3):
        got = 2.0 * torch.sigmoid(-s.spline(c, torch.full_like(c, (i * 2 + j) * 2 + k, dtype=torch.long))).detach()
        want = meam_cutoff(c, *windows[i, j, k])
        assert float((got - want).abs().max()) < 0.02
    torch.testing.assert_close(fit_windows(s), windows, rtol=0, atol=0.03)


def test_screening_from_starts_a_fresh_model_from_projected_windows(screened, tmp_path):
    """model.screening_from: the new model's screening is the projection of the given model's, the
    rest is fresh; mismatched species, a model without screening and bad combinations are named."""
    from conftest import DATA
    from mlip_lammps.export.reexport import rebuild_module
    from mlip_lammps.models import base_model
    from mlip_lammps.models.screening import fit_windows, window_weights
    from mlip_lammps.training.config import ConfigError, load_config
    from mlip_lammps.training.trainer import train

    def cfg(out, source, data="hea.extxyz", **model):
        return load_config(None, base={
            "output": str(out), "data": {"train": str(DATA / data), "valid_fraction": 0.25},
            "model": {**HYPER, "hidden": [8], "screening_from": str(source), **model},
            "training": {"max_epochs": 1, "batch_size": 2, "dtype": "float64", "threads": 1,
                         "lr": 1e-30, "lr_final": 1e-30, "ema_decay": 0.0}})

    train(cfg(tmp_path / "run", screened["path"]), show_progress=False)
    got = base_model(rebuild_module(tmp_path / "run" / "model.pt")[0]).screening.weights
    source = base_model(rebuild_module(screened["path"])[0]).screening.double()
    torch.testing.assert_close(got, window_weights(fit_windows(source)), rtol=0, atol=1e-12)
    # a run's checkpoint: its last (not averaged) weights
    train(cfg(tmp_path / "run2", tmp_path / "run" / "checkpoint.pt"), show_progress=False)
    last = Screening(5, 5.5).double()
    with torch.no_grad():
        last.weights.copy_(torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["model"]["screening.weights"])
    got = base_model(rebuild_module(tmp_path / "run2" / "model.pt")[0]).screening.weights
    torch.testing.assert_close(got, window_weights(fit_windows(last)), rtol=0, atol=1e-12)

    with pytest.raises(ValueError, match="screening_from .* has species"):
        train(cfg(tmp_path / "cu", screened["path"], data="cu.extxyz"), show_progress=False)
    plain = export_random(tmp_path / "plain.pt", SPECIES["hea"], cutoff=5.5)
    with pytest.raises(FileNotFoundError, match="screening_from: no file"):
        train(cfg(tmp_path / "none", tmp_path / "missing.pt"), show_progress=False)
    with pytest.raises(ValueError, match="screening_from .* without screening"):
        train(cfg(tmp_path / "plain", plain), show_progress=False)
    with pytest.raises(ConfigError, match="screening_from needs architecture 'nep' with screening: true"):
        cfg(tmp_path / "x", plain, screening=False)
    with pytest.raises(ConfigError, match="give one of them"):
        cfg(tmp_path / "x", plain, init_from=str(plain))


def test_training_keeps_screening_at_most_one(screened, tmp_path):
    """Training clips the spline weights to ≥ 0 after every step (and a start that breaks that,
    here a random init_from model, at the start), so no third atom enhances a bond: S ≤ 1."""
    from conftest import DATA
    from mlip_lammps.export.reexport import rebuild_module
    from mlip_lammps.models import base_model
    from mlip_lammps.models.screening import _single_atom_screening
    from mlip_lammps.training.config import load_config
    from mlip_lammps.training.trainer import train

    def cfg(out, lr, **model):
        return load_config(None, base={
            "output": str(out), "data": {"train": str(DATA / "hea.extxyz"), "valid_fraction": 0.25},
            "model": {**HYPER, **model},
            "training": {"max_epochs": 2, "batch_size": 2, "dtype": "float64", "threads": 1,
                         "lr": lr, "lr_final": lr, "ema_decay": 0.0}})

    source = base_model(rebuild_module(screened["path"])[0]).screening.weights.detach()
    assert float(source.min()) < 0  # the random start anti-screens somewhere
    train(cfg(tmp_path / "ft", 1e-30, init_from=str(screened["path"])), show_progress=False)
    got = base_model(rebuild_module(tmp_path / "ft" / "model.pt")[0]).screening
    torch.testing.assert_close(got.weights.detach(), source.clamp(min=0.0), rtol=0, atol=1e-12)

    train(cfg(tmp_path / "fresh", 0.05), show_progress=False)
    weights = torch.load(tmp_path / "fresh" / "checkpoint.pt", weights_only=False)["model"]["screening.weights"]
    assert float(weights.max()) > 0 and float(weights.min()) == 0.0  # learned, and held at the bound somewhere
    s = base_model(rebuild_module(tmp_path / "fresh" / "model.pt")[0]).screening.double()
    c = torch.linspace(0.0, C_UPPER - 1e-3, 400, dtype=torch.float64)
    assert float(_single_atom_screening(s, c).max()) <= 1.0
