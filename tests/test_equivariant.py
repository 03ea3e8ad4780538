"""The equivariant (MACE-like, one layer) architecture: symmetries, derivatives, locality, training,
export, LAMMPS exactness and the config/CLI path. Tiny models, float64."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import ase.io
import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk

from conftest import DATA, assert_same_with_threads, fd_force, fd_stress
from mlip_lammps import MLIPCalculator
from mlip_lammps.contract import load_model, predict
from mlip_lammps.data.dataset import collate, graphs_from_atoms
from mlip_lammps.export import export_model
from mlip_lammps.models import build_model
from mlip_lammps.models.equivariant import EquivariantModel, gaunt_couplings
from mlip_lammps.ops import load_ops
from mlip_lammps.training.config import ConfigError, load_config

SPECIES = ["Cu", "Zr"]
TINY = dict(cutoff=4.0, n_basis=4, channels=4, l_max=2, correlation=3, radial_hidden=[8], hidden=[8])


def tiny_model(seed: int = 0, n_species: int = 2, **hyper) -> EquivariantModel:
    """Random weights and non-trivial statistics, so every term matters."""
    torch.manual_seed(seed)
    m = build_model("equivariant", n_species, {**TINY, **hyper}).double()
    with torch.no_grad():
        m.avg_num_neighbors.fill_(10.0)
        m.descriptor_mean.uniform_(-0.1, 0.1)
        m.descriptor_std.uniform_(0.01, 0.05)
        m.energy_scale.fill_(0.5)
        m.species_energy.copy_(torch.linspace(-4.0, -3.0, n_species))
    return m.eval()


def cuzr_cell(seed: int = 0, repeat: int = 2) -> Atoms:
    rng = np.random.default_rng(seed)
    atoms = bulk("Cu", "fcc", a=3.7, cubic=True).repeat(repeat)
    atoms.set_chemical_symbols(rng.choice(SPECIES, len(atoms)))
    atoms.set_cell(atoms.cell.array @ (np.eye(3) + np.tril(rng.uniform(-0.03, 0.03, (3, 3)))), scale_atoms=True)
    atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
    return atoms


def _predict(model, atoms, dtype=torch.float64):
    from ase.calculators.singlepoint import SinglePointCalculator

    a = atoms.copy()
    a.calc = SinglePointCalculator(a, energy=0.0, forces=np.zeros((len(a), 3)))
    g = graphs_from_atoms([a], SPECIES, model.cutoff)[0].to(dtype)
    return predict(model, g)


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def exported(tmp_path_factory, model):
    path = tmp_path_factory.mktemp("eq") / "eq.pt"
    export_model(model, path, SPECIES, "equivariant", TINY, {"note": "random weights, tests"}, dtype="float64")
    return path


def test_gaunt_couplings_are_invariant():
    """The coupling tensors are invariant under a rotation of the Y_lm: Σ G (DA)(DA)(DA) = Σ G A A A."""
    from mlip_lammps.models.equivariant import real_spherical_harmonics_with_l0
    from mlip_lammps.models.spherical import SphericalHarmonics

    triples, index, coef = gaunt_couplings(3)
    assert triples == [(1, 1, 2), (1, 2, 3), (2, 2, 2), (2, 3, 3)]
    torch.manual_seed(1)
    v = torch.randn(7, 3, dtype=torch.float64)
    Q, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    sh = SphericalHarmonics(3).double()
    w = torch.randn(7, 1, dtype=torch.float64)

    def b3(vec):
        A = (w * real_spherical_harmonics_with_l0(torch.nn.functional.normalize(vec, dim=1), sh)).sum(0)
        p = A[index[0]] * A[index[1]] * A[index[2]] * coef
        return torch.zeros(len(triples), dtype=torch.float64).index_add(0, index[3], p)

    a, b = b3(v), b3(v @ Q.T)
    assert a.abs().min() > 1e-6  # every invariant is non-trivial here
    torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-14)


def test_rotation_reflection_invariance(model):
    atoms = cuzr_cell()
    p0 = _predict(model, atoms)
    rng = np.random.default_rng(3)
    for proper in (True, False):
        Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        if (np.linalg.det(Q) > 0) != proper:
            Q[:, 0] *= -1
        rot = atoms.copy()
        rot.set_cell(atoms.cell.array @ Q.T, scale_atoms=True)
        p = _predict(model, rot)
        assert float(p["energy"][0]) == pytest.approx(float(p0["energy"][0]), rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(p["atom_energy"].numpy(), p0["atom_energy"].numpy(), atol=1e-10)
        np.testing.assert_allclose(p["forces"].numpy(), p0["forces"].numpy() @ Q.T, atol=1e-10)
    assert np.abs(p0["forces"].numpy()).max() > 1e-3  # not a trivial model


def test_permutation_invariance(model):
    atoms = cuzr_cell(1)
    perm = np.random.default_rng(0).permutation(len(atoms))
    p0, p1 = _predict(model, atoms), _predict(model, atoms[perm])
    assert float(p1["energy"][0]) == pytest.approx(float(p0["energy"][0]), rel=1e-12)
    np.testing.assert_allclose(p1["forces"].numpy(), p0["forces"].numpy()[perm], atol=1e-12)
    np.testing.assert_allclose(p1["atom_energy"].numpy(), p0["atom_energy"].numpy()[perm], atol=1e-12)


def test_forces_and_stress_are_energy_derivatives(exported):
    atoms = cuzr_cell(2)
    atoms.calc = MLIPCalculator(exported)
    f = atoms.get_forces()
    s = atoms.get_stress(voigt=False)
    h = 1e-5
    for i in (0, 5, 17):
        for a in range(3):
            assert fd_force(atoms, i, a, h) == pytest.approx(f[i, a], abs=1e-7)
    for a, b in [(0, 0), (1, 2)]:
        assert fd_stress(atoms, a, b, h) == pytest.approx(s[a, b], abs=1e-9)


def test_cutoff_smoothness_and_locality():
    """Atom 2 approaches atom 0 across the cutoff (and stays beyond the cutoff of atom 1): its
    contribution and force go to zero smoothly (C2 envelope), beyond the cutoff it changes nothing
    at all, and atom 1's energy never depends on it (strictly local, no message passing)."""
    m = tiny_model(4)
    rc = m.cutoff

    def run(d):
        atoms = Atoms("CuZrCu", positions=[[0, 0, 0], [-2.4, 0.3, 0.1], [d, 0, 0]], cell=[30, 30, 30], pbc=True)
        p = _predict(m, atoms)
        return float(p["energy"][0]), p["forces"].numpy(), p["atom_energy"].numpy()

    e_far, _, ae_far = run(rc + 0.5)
    e_out, f_out, ae_out = run(rc + 1e-9)
    assert e_out == e_far and np.abs(f_out[2]).max() == 0.0
    e_in, f_in, ae_in = run(rc - 1e-7)
    assert abs(e_in - e_far) < 1e-15 and np.abs(f_in[2]).max() < 1e-10
    d1 = run(rc - 1e-2)[0] - e_far
    d2 = run(rc - 1e-3)[0] - e_far
    assert abs(d1) > 1e-12 and abs(d2) < 2e-2 * abs(d1)  # vanishes faster than (rc − r)²
    for d in (rc - 1.0, rc - 0.5, rc - 1e-2):
        assert run(d)[2][1] == pytest.approx(ae_far[1], abs=1e-13)  # atom 1 never sees atom 2


def test_training_steps_reduce_the_loss():
    from mlip_lammps.training.trainer import initialise_statistics, loss_sums, reference_energies

    frames = ase.io.read(DATA / "cuzr.extxyz", ":4")
    graphs = [g.to(torch.float64) for g in graphs_from_atoms(frames, SPECIES, TINY["cutoff"])]
    torch.manual_seed(0)
    m = build_model("equivariant", 2, TINY).double()
    initialise_statistics(m, graphs, reference_energies(graphs, 2))
    assert 10 < float(m.avg_num_neighbors) < 60
    q = m.descriptors(*(lambda b: (b.species, b.edge_center, b.edge_neighbor_species, b.edge_vectors))(collate(graphs)))
    assert q.shape[1] == m.n_features == 4 * (1 + 2 + 2)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=5e-3)
    batch = collate(graphs)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        sq, counts = loss_sums(m, batch)
        loss = sq["e"] / counts["e"] + 10 * sq["f"] / counts["f"]
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def tabulated(m: EquivariantModel, n_intervals: int = 1000) -> EquivariantModel:
    t = copy.deepcopy(m)
    t.tabulate_radial(n_intervals)
    return t


def test_export_round_trip(model, exported, tmp_path):
    """load_model / MLIPCalculator give the module's numbers (the fused export: of its tabulated
    radial functions); rebuild, pure-torch and float32 exports work."""
    from mlip_lammps.export.reexport import rebuild_module, reexport

    atoms = cuzr_cell(5)
    scripted, meta = load_model(exported)
    fused = meta.requires_ops == "mlip"
    assert fused == load_ops()  # the default export uses the fused kernels where available
    ref = _predict(tabulated(model) if fused else model, atoms)
    assert meta.architecture == "equivariant" and meta.cutoff == TINY["cutoff"]
    assert meta.hyperparameters == TINY
    p = _predict(scripted, atoms)
    torch.testing.assert_close(p["atom_energy"], ref["atom_energy"], rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(p["forces"], ref["forces"], rtol=1e-13, atol=1e-13)
    a = atoms.copy()
    a.calc = MLIPCalculator(exported)
    assert a.get_potential_energy() == pytest.approx(float(ref["energy"][0]), rel=1e-13)
    np.testing.assert_allclose(a.get_forces(), ref["forces"].numpy(), atol=1e-12)
    rebuilt, _ = rebuild_module(exported)  # the trained module (radial MLP, no table): fine-tuning trains it
    assert rebuilt.radial_table.shape[0] == 0
    torch.testing.assert_close(_predict(rebuilt, atoms)["forces"], _predict(model, atoms)["forces"], rtol=1e-13, atol=1e-13)
    reexport(exported, tmp_path / "f32.pt", dtype="float32")
    p32 = _predict(load_model(tmp_path / "f32.pt")[0], atoms, torch.float32)
    assert float(p32["energy"][0]) == pytest.approx(float(ref["energy"][0]), rel=1e-5)
    # the pure-torch export is the trained module itself
    export_model(model, tmp_path / "pure.pt", SPECIES, "equivariant", TINY, fused=False)
    scripted, meta = load_model(tmp_path / "pure.pt")
    assert meta.requires_ops is None
    exact = _predict(model, atoms)
    torch.testing.assert_close(_predict(scripted, atoms)["forces"], exact["forces"], rtol=1e-13, atol=1e-13)
    # with ZBL around it
    zbl = build_model("equivariant", 2, {**TINY, "zbl": {"inner": 0.8, "outer": 1.5}}, SPECIES).double().eval()
    export_model(zbl, tmp_path / "zbl.pt", SPECIES, "equivariant", {**TINY, "zbl": {"inner": 0.8, "outer": 1.5}})
    assert load_model(tmp_path / "zbl.pt")[1].cutoff == TINY["cutoff"]


def test_export_without_ops_library(tmp_path):
    """Where libmlip_ops.so is missing the default export writes a pure-torch model (scripting must
    not compile the fused branch), which loads and runs."""
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from test_equivariant import tiny_model, TINY, SPECIES, cuzr_cell, _predict\n"
        "from mlip_lammps.export import export_model\n"
        "from mlip_lammps.contract import load_model\n"
        "meta = export_model(tiny_model(), %r, SPECIES, 'equivariant', TINY)\n"
        "print('requires_ops', meta.requires_ops, float(_predict(load_model(%r)[0], cuzr_cell())['energy'][0]))\n"
    ) % (str(DATA.parent), str(tmp_path / "p.pt"), str(tmp_path / "p.pt"))
    env = dict(os.environ, MLIP_OPS_LIBRARY=str(tmp_path / "missing" / "libmlip_ops.so"))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.split()
    assert out[-2] == "None" and float(out[-1]) == pytest.approx(float(_predict(tiny_model(), cuzr_cell())["energy"][0]), rel=1e-13)


# ---------------------------------------------------------------------------------------------
# tabulated radial functions and the fused kernels (mlip::eq_features, mlip::eq_edge_grad)

FUSED_CASES = [
    dict(),
    dict(l_max=1, correlation=2, channels=3),
    dict(l_max=3, correlation=3, channels=16, radial_hidden=[16], hidden=[16, 16]),  # the carbide student's shape
    dict(l_max=4, correlation=3, channels=5, radial_hidden=[]),
    dict(l_max=2, correlation=1),
]


def _fused_graph(atoms: Atoms, cutoff: float, shuffle: int | None):
    g = graphs_from_atoms([atoms], SPECIES, cutoff, require_labels=False)[0]
    order = torch.argsort(g.edge_center, stable=True)
    if shuffle is not None:
        order = torch.randperm(len(order), generator=torch.Generator().manual_seed(shuffle))
    return g.species, g.edge_center[order], g.species[g.edge_neighbor[order]], g.edge_vectors[order]


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.detach() - b.detach()).abs().max() / b.detach().abs().max())


def test_tabulated_radial_functions_follow_the_mlp(model):
    """Cubic Hermite table: ~1e-10 from the MLP at the interval midpoints with the export's 1,000
    intervals (error ∝ h⁴), and energies/forces of the tabulated model within 1e-9 / 1e-7."""
    errors = {n: copy.deepcopy(model).tabulate_radial(n) for n in (250, 1000)}
    assert errors[1000] < 1e-9 and errors[250] / errors[1000] > 100
    t = tabulated(model)
    assert t.radial_table.shape == (1000, 4, 3 * TINY["channels"]) and t.radial_step == TINY["cutoff"] / 1000
    r = torch.linspace(0.01, TINY["cutoff"] + 1.0, 5001, dtype=torch.float64)  # the MLP is 0/0 at r = 0
    R, R_ref = t.radial_functions(r), model.radial_functions(r)
    assert torch.all(R[r >= TINY["cutoff"]] == 0) and _rel(R, R_ref) < 1e-9
    atoms = cuzr_cell(8)
    p, p_ref = _predict(t, atoms), _predict(model, atoms)
    assert _rel(p["energy"], p_ref["energy"]) < 1e-9 and _rel(p["forces"], p_ref["forces"]) < 1e-7


needs_ops = pytest.mark.skipif(not load_ops(), reason="libmlip_ops.so not available")


@needs_ops
@pytest.mark.parametrize("case", range(len(FUSED_CASES)))
@pytest.mark.parametrize("shuffle", [None, 5])
def test_fused_kernels_equal_torch(case, shuffle):
    """Features B (mlip::eq_features) and dE/dv from dE/dB (mlip::eq_edge_grad) equal the torch
    code of the tabulated model and its autograd to rounding; so do whole-model energies and edge
    gradients, float64; float32 is close."""
    m = tabulated(tiny_model(20 + case, **FUSED_CASES[case]), 500)
    atoms = cuzr_cell(20 + case, repeat=(3, 2, 2))
    sp, ec, es, vec = _fused_graph(atoms, m.cutoff, shuffle)
    sh = m.spherical_harmonics
    args = (sp, ec, es, vec, m.radial_table, m.radial_step, m.cutoff, m.species_embedding.detach(),
            (m.channel_mixing / m.avg_num_neighbors).detach(), m.b3_index, m.b3_coef, sh.parent, sh.axis,
            sh.coef, m.l_max, m.correlation)
    B, A = torch.ops.mlip.eq_features(*args)
    v = vec.clone().requires_grad_(True)
    B_ref = m.descriptors(sp, ec, es, v)
    assert B.shape == B_ref.shape and _rel(B, B_ref) < 1e-12
    G = torch.randn(B.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(case))
    (g_ref,) = torch.autograd.grad((B_ref * G).sum(), v)
    assert _rel(torch.ops.mlip.eq_edge_grad(*args, A, G), g_ref) < 1e-12

    e_ref, g_ref = m(sp, ec, es, vec.clone())
    m.fused = True
    e, g = m(sp, ec, es, vec)
    assert _rel(e, e_ref) < 1e-12 and _rel(g, g_ref) < 1e-12
    m32 = copy.deepcopy(m).float()
    e32, g32 = m32(sp, ec, es, vec.float())
    assert e32.dtype == torch.float32 and _rel(e32, e_ref) < 1e-5 and _rel(g32, g_ref) < 1e-4


@needs_ops
def test_fused_op_input_errors(model):
    """The operators name what is wrong: a table that does not end at the cutoff, a mixing tensor
    of the wrong shape, an edge species outside the embedding."""
    m = tabulated(model, 100)
    sh = m.spherical_harmonics
    sp, ec, es, vec = torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([[1.0, 2.0, 0.0], [0.0, 2.0, 1.0]], dtype=torch.float64)

    def call(table=m.radial_table, step=m.radial_step, mixing=m.channel_mixing.detach(), species=es):
        return torch.ops.mlip.eq_features(sp, ec, species, vec, table, step, m.cutoff, m.species_embedding.detach(), mixing,
                                          m.b3_index, m.b3_coef, sh.parent, sh.axis, sh.coef, m.l_max, m.correlation)

    call()
    with pytest.raises(RuntimeError, match="must end at the cutoff"):
        call(step=m.radial_step * 0.5)
    with pytest.raises(RuntimeError, match="mixing must be"):
        call(mixing=m.channel_mixing.detach()[:, :2])
    with pytest.raises(RuntimeError, match="edge_neighbor_species"):
        call(species=torch.tensor([1, 2]))


@needs_ops
def test_fused_edge_cases(model):
    """No atoms; atoms without edges; edges at or beyond the cutoff (zero gradient); one or two
    threads give identical numbers."""
    m = tabulated(model, 500)
    m.fused = True
    empty_i, f64 = torch.zeros(0, dtype=torch.long), torch.float64
    e, g = m(empty_i, empty_i, empty_i, torch.zeros((0, 3), dtype=f64))
    assert e.shape == (0,) and g.shape == (0, 3)
    sp = torch.tensor([0, 1, 1, 0])
    ec = torch.tensor([0, 0, 1, 1, 1])
    es = torch.tensor([1, 1, 0, 1, 0])
    vec = torch.tensor([[2.5, 0.1, 0.0], [m.cutoff, 0.0, 0.0], [0.0, -2.2, 0.4], [0.0, 7.0, 0.0], [1.0, 1.0, 1.5]], dtype=f64)
    m.fused = False
    e_ref, g_ref = m(sp, ec, es, vec.clone())
    m.fused = True
    e, g = m(sp, ec, es, vec)
    assert _rel(e, e_ref) < 1e-12 and _rel(g, g_ref) < 1e-12
    assert torch.all(g[[1, 3]] == 0) and e[2] == e_ref[2]  # atom 2 has no edges: the readout of B = 0
    atoms = cuzr_cell(9, repeat=3)
    assert_same_with_threads(m, _fused_graph(atoms, m.cutoff, None))


@pytest.mark.parametrize("np_ranks", [1, 2])
def test_lammps_equals_calculator(exported, tmp_path, np_ranks):
    from lammps_utils import single_points

    frames = [cuzr_cell(6), ase.io.read(DATA / "cuzr.extxyz", "1"), cuzr_cell(7, repeat=(3, 2, 2))]
    res = single_points(exported, frames, SPECIES, tmp_path, np_ranks=np_ranks)
    calc = MLIPCalculator(exported)
    for r, atoms in zip(res, frames):
        atoms = atoms.copy()
        atoms.calc = calc
        e, f, s = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()
        assert r["energy"] == pytest.approx(e, rel=1e-10, abs=1e-9)
        np.testing.assert_allclose(r["forces"], f, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(r["stress"], s, rtol=0, atol=max(1e-9, 1e-10 * np.abs(s).max()))


def test_config_rejects_other_architectures_keys(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(f"data:\n  train: {DATA / 'cu.extxyz'}\nmodel:\n  architecture: equivariant\n")
    cfg = load_config(cfg_file)
    assert cfg.model.hyperparameters() == {"cutoff": 5.0, "n_basis": 8, "channels": 16, "correlation": 3,
                                          "radial_hidden": [32], "l_max": 2, "hidden": [64]}
    with pytest.raises(ConfigError, match=r"model\.n_angular is not a hyperparameter of architecture 'equivariant'"):
        load_config(cfg_file, ["model.n_angular=3"])
    with pytest.raises(ConfigError, match=r"model\.channels is not a hyperparameter of architecture 'nep'"):
        load_config(cfg_file, ["model.architecture=nep", "model.channels=3"])
    with pytest.raises(ConfigError, match=r"model\.correlation"):
        load_config(cfg_file, ["model.correlation=4"])
    # NEP configs keep their keys and defaults, with no equivariant keys in dumps
    nep = load_config(cfg_file, ["model.architecture=nep"]).model.model_dump()
    assert "channels" not in nep and nep["cutoff"] == 5.5 and nep["hidden"] == [64, 64]


def test_cli_train_eval_export(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(
        f"output: {tmp_path / 'run'}\ndata:\n  train: {DATA / 'cu.extxyz'}\n  valid_fraction: 0.25\n"
        "model:\n  architecture: equivariant\n  cutoff: 4.0\n  n_basis: 4\n  channels: 4\n  radial_hidden: [8]\n"
        "  hidden: [8]\ntraining:\n  max_epochs: 2\n  batch_size: 4\n  threads: 1\n"
    )
    proc = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.train", str(cfg_file), "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    _, meta = load_model(tmp_path / "run" / "model.pt")
    assert meta.architecture == "equivariant" and meta.hyperparameters["channels"] == 4 and meta.cutoff == 4.0
    proc = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.main", "eval", str(tmp_path / "run" / "model.pt"),
                           str(DATA / "cu.extxyz"), "--json"], capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout)
    assert out["n_frames"] == 12 and np.isfinite(out["forces_rmse_meV_per_A"])
    proc = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.main", "export", str(tmp_path / "run" / "checkpoint.pt"),
                           "-o", str(tmp_path / "exp.pt")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    from mlip_lammps.export.reexport import rebuild_module

    _, meta2 = rebuild_module(tmp_path / "exp.pt")  # the exported hyperparameters rebuild the model
    assert meta2.hyperparameters == meta.hyperparameters
    # provenance from the checkpoint: the run's config and how far it got
    assert meta2.training["epochs"] == meta.training["epochs"] and meta2.training["best_epoch"] >= 1
    assert meta2.training["config"]["data"]["train"] == str(DATA / "cu.extxyz")
    # --latest: the EMA weights of the last step (a run in progress), not the best epoch's
    proc = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.main", "export", str(tmp_path / "run" / "checkpoint.pt"),
                           "-o", str(tmp_path / "latest.pt"), "--latest"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    ck = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    latest, meta3 = rebuild_module(tmp_path / "latest.pt")
    assert meta3.training["exported_epoch"] == ck["state"]["epoch"]
    w = "species_embedding"
    assert torch.equal(latest.state_dict()[w], ck["ema"][w].double())
