"""The fused C++ kernels (libmlip_ops.so, torch.ops.mlip.*) against the pure-torch NEP model.

float64 results must equal the pure-torch path to rounding (<= 1e-12 relative); float32 loosely.
Edges may come in any order; empty inputs and centres without edges must work. End to end,
pair_style mlip with a fused model must match MLIPCalculator and a pure-torch export of the same
weights.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk

from conftest import SMALL, SPECIES, assert_same_with_threads, random_model
from lammps_utils import single_points
from mlip_lammps import MLIPCalculator
from mlip_lammps.contract import load_model, predict
from mlip_lammps.data.dataset import graphs_from_atoms
from mlip_lammps.export import export_model
from mlip_lammps.models import build_model
from mlip_lammps.ops import load_error, load_ops

if not load_ops():
    pytest.skip(f"libmlip_ops.so not available: {load_error()}", allow_module_level=True)

F64_TOL = 1e-12


def _graph(atoms: Atoms, species: list[str], cutoff: float, shuffle_seed: int | None = None):
    g = graphs_from_atoms([atoms], species, cutoff, require_labels=False, min_distance=0.0)[0]
    center, vec, nbr = g.edge_center, g.edge_vectors, g.edge_neighbor
    if shuffle_seed is None:  # grouped by centre, as LAMMPS passes them
        order = torch.argsort(center, stable=True)
    else:
        order = torch.randperm(len(center), generator=torch.Generator().manual_seed(shuffle_seed))
    species_idx = g.species
    return species_idx, center[order], species_idx[nbr[order]], vec[order], nbr[order]


def _random_structure(species: list[str], n: int = 40, seed: int = 0, box: float = 9.0) -> Atoms:
    """Random (non-overlapping) multi-species periodic structure."""
    rng = np.random.default_rng(seed)
    pos: list[np.ndarray] = []
    while len(pos) < n:
        p = rng.uniform(0, box, 3)
        if all(np.linalg.norm((p - q + box / 2) % box - box / 2) > 1.9 for q in pos):
            pos.append(p)
    return Atoms(rng.choice(species, n), positions=np.array(pos), cell=[box] * 3, pbc=True)


def _ops_args(m, dtype):
    sh = m.spherical_harmonics
    return (m.c_radial.detach().to(dtype), m.c_angular.detach().to(dtype), m.lm_weight.to(dtype),
            sh.parent, sh.axis, sh.coef, m.cutoff, m.cutoff_angular, m.l_max)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b|, per column for 2-D (descriptor columns have different scales)."""
    a, b = a.detach().double(), b.detach().double()
    if a.dim() == 2:
        return float(((a - b).abs().amax(0) / b.abs().amax(0).clamp_min(1e-300)).max())
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


CASES = [
    (["Cu"], {}),
    (["Cu", "Zr"], dict(l_max=3, n_angular=3)),
    (["Cu", "Zr"], dict(l_max=2, linear_term=True)),
    (SPECIES["hea"], dict(l_max=2, n_basis_radial=5, n_basis_angular=6)),
    (["Al", "Ni"], dict(l_max=1, cutoff_angular=3.0)),
    (["Cu"], dict(l_max=4, cutoff=5.5, cutoff_angular=5.0, n_radial=8, n_angular=6, hidden=[64, 64])),  # shipped
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("shuffle", [None, 3])
def test_descriptors_and_edge_grad_float64(case, shuffle):
    species, hyper = CASES[case]
    m = random_model(len(species), seed=case, **hyper)
    atoms = _random_structure(species, seed=case)
    sp, ec, es, vec, _ = _graph(atoms, species, m.cutoff, shuffle)
    q_ref = m.descriptors(sp, ec, es, vec)
    q, A = torch.ops.mlip.nep_descriptors(sp, ec, es, vec, *_ops_args(m, torch.float64))
    assert q.shape == q_ref.shape and A.shape == (len(sp), m.n_angular, m.l_max * (m.l_max + 2))
    assert _rel(q, q_ref) < F64_TOL

    G = torch.randn(q.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    v = vec.clone().requires_grad_(True)
    (g_ref,) = torch.autograd.grad((m.descriptors(sp, ec, es, v) * G).sum(), v)
    g = torch.ops.mlip.nep_edge_grad(sp, ec, es, vec, *_ops_args(m, torch.float64), A, G)
    assert _rel(g, g_ref) < F64_TOL


@pytest.mark.parametrize("shuffle", [None, 3])
def test_screening_ops(shuffle):
    """Screening weights S_eff (mlip::screening_bond), descriptors with them, and the gradient
    (nep_edge_grad_bond plus mlip::screening_grad) equal the torch code and its autograd
    (float64); the whole fused model in float32 is close to the float64 one."""
    from test_screening import _screened_model

    species = SPECIES["hea"]
    m = _screened_model(len(species), seed=7)
    scr = m.screening
    atoms = _random_structure(species, n=50, seed=7, box=8.5)
    sp, ec, es, vec, _ = _graph(atoms, species, m.cutoff, shuffle)
    bond_ref = scr(sp, ec, es, vec, vec.norm(dim=1))
    bond = scr.fused_bond(sp, ec, es, vec)
    assert _rel(bond, bond_ref) < F64_TOL
    assert float(bond_ref.detach().min()) < 0.1 and float(bond_ref.detach().max()) > 1.9  # screened and enhanced bonds
    q, A = torch.ops.mlip.nep_descriptors(sp, ec, es, vec, *_ops_args(m, torch.float64), bond)
    assert _rel(q, m.descriptors(sp, ec, es, vec)) < F64_TOL

    G = torch.randn(q.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    v = vec.clone().requires_grad_(True)
    (g_ref,) = torch.autograd.grad((m.descriptors(sp, ec, es, v) * G).sum(), v)
    g, dE_dbond = torch.ops.mlip.nep_edge_grad_bond(sp, ec, es, vec, *_ops_args(m, torch.float64), A, G, bond)
    g = g + scr.fused_grad(sp, ec, es, vec, dE_dbond)
    assert _rel(g, g_ref) < F64_TOL

    e_ref, g_ref = m(sp, ec, es, vec.clone())
    m32 = m.float()
    m32.fused = True
    e32, g32 = m32(sp, ec, es, vec.float())
    assert e32.dtype == torch.float32 and _rel(e32, e_ref) < 1e-5 and _rel(g32, g_ref) < 1e-4


@pytest.mark.parametrize("case", range(len(CASES)))
def test_fused_forward_equals_pure_torch(case):
    """Energies and edge gradients of the whole model (MLP included), float64 and float32."""
    species, hyper = CASES[case]
    m = random_model(len(species), seed=10 + case, **hyper)
    atoms = _random_structure(species, n=50, seed=10 + case)
    sp, ec, es, vec, _ = _graph(atoms, species, m.cutoff, shuffle_seed=case)
    e_ref, g_ref = m(sp, ec, es, vec.clone())
    m.fused = True
    e, g = m(sp, ec, es, vec)
    assert _rel(e, e_ref) < F64_TOL and _rel(g, g_ref) < F64_TOL
    m32 = random_model(len(species), seed=10 + case, **hyper).float()
    m32.fused = True
    e32, g32 = m32(sp, ec, es, vec.float())
    assert e32.dtype == torch.float32 and g32.dtype == torch.float32
    assert _rel(e32, e_ref) < 1e-5 and _rel(g32, g_ref) < 1e-4


def test_edge_order_does_not_matter():
    """Edges grouped by centre or shuffled: same energies and forces to rounding."""
    from mlip_lammps.contract import forces_and_virial

    m = random_model(2, seed=4)
    m.fused = True
    atoms = _random_structure(["Cu", "Zr"], seed=4)
    results = []
    for shuffle in (None, 1, 2):
        sp, ec, es, vec, nbr = _graph(atoms, ["Cu", "Zr"], m.cutoff, shuffle)
        e, g = m(sp, ec, es, vec)
        forces, virial = forces_and_virial(g, vec, ec, nbr, len(atoms))
        results.append((e, forces, virial))
    for e, forces, virial in results[1:]:
        assert _rel(e, results[0][0]) < 1e-13
        assert _rel(forces, results[0][1]) < 1e-12 and _rel(virial, results[0][2]) < 1e-12


def test_threads_give_identical_results():
    m = random_model(2, seed=5)
    m.fused = True
    atoms = _random_structure(["Cu", "Zr"], n=120, seed=5, box=13.0)
    sp, ec, es, vec, _ = _graph(atoms, ["Cu", "Zr"], m.cutoff)
    assert_same_with_threads(m, (sp, ec, es, vec))


def test_empty_inputs_and_isolated_atoms():
    m = random_model(2, seed=6)
    m.fused = True
    f64 = torch.float64
    empty_i = torch.zeros(0, dtype=torch.long)
    # no atoms at all
    e, g = m(empty_i, empty_i, empty_i, torch.zeros((0, 3), dtype=f64))
    assert e.shape == (0,) and g.shape == (0, 3)
    q, A = torch.ops.mlip.nep_descriptors(empty_i, empty_i, empty_i, torch.zeros((0, 3), dtype=f64), *_ops_args(m, f64))
    assert q.shape == (0, m.n_descriptors) and A.shape[0] == 0
    # atoms without any edge: energy is the MLP of zero descriptors
    sp = torch.tensor([0, 1, 1])
    m.fused = False
    e_ref, _ = m(sp, empty_i, empty_i, torch.zeros((0, 3), dtype=f64))
    m.fused = True
    e, g = m(sp, empty_i, empty_i, torch.zeros((0, 3), dtype=f64))
    assert g.shape == (0, 3) and _rel(e, e_ref) < F64_TOL
    # centres without edges between centres with edges, and pairs beyond the cutoff
    atoms = Atoms("CuZrCuZr", positions=[[0, 0, 0], [2.5, 0, 0], [20, 20, 20], [0, 2.6, 0]], cell=[40] * 3, pbc=True)
    sp, ec, es, vec, _ = _graph(atoms, ["Cu", "Zr"], m.cutoff)
    far = torch.tensor([[m.cutoff, 0.0, 0.0], [0.0, 7.0, 0.0]], dtype=f64)  # r >= cutoff: zero
    ec, es, vec = torch.cat([ec, torch.tensor([2, 2])]), torch.cat([es, torch.tensor([0, 1])]), torch.cat([vec, far])
    m.fused = False
    e_ref, g_ref = m(sp, ec, es, vec.clone())
    m.fused = True
    e, g = m(sp, ec, es, vec)
    assert _rel(e, e_ref) < F64_TOL and _rel(g, g_ref) < F64_TOL
    assert torch.all(g[-2:] == 0)


def test_rounded_ylm_coefficients_are_honoured():
    """A model whose Y_lm coefficient buffer was rounded (float32 training) keeps its numbers."""
    m = random_model(1, seed=7, **CASES[-1][1]).float().double()  # coef rounded to float32
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.rattle(0.1, seed=7)
    sp, ec, es, vec, _ = _graph(atoms, ["Cu"], m.cutoff)
    e_ref, g_ref = m(sp, ec, es, vec.clone())
    m.fused = True
    e, g = m(sp, ec, es, vec)
    assert _rel(e, e_ref) < F64_TOL and _rel(g, g_ref) < F64_TOL


@pytest.mark.parametrize("hidden", [[16], [64, 64], [10, 5, 3], []])
def test_species_mlp(hidden):
    from mlip_lammps.models.nep import SpeciesMLP

    torch.manual_seed(8)
    for n_species, dtype, tol in [(1, torch.float64, F64_TOL), (3, torch.float64, F64_TOL), (2, torch.float32, 1e-5)]:
        mlp = SpeciesMLP(n_species, 11, hidden).to(dtype)
        x = (3 * torch.randn(300, 11, dtype=dtype)).requires_grad_(True)
        sp = torch.randint(0, n_species, (300,))
        y_ref = mlp(x, sp)
        (g_ref,) = torch.autograd.grad(y_ref.sum(), x)
        ws = [l.weight.detach() for net in mlp.nets for l in net if hasattr(l, "weight")]
        bs = [l.bias.detach() for net in mlp.nets for l in net if hasattr(l, "weight")]
        y, g = torch.ops.mlip.species_mlp(x.detach(), sp, ws, bs, n_species)
        assert _rel(y, y_ref) < tol and _rel(g, g_ref) < tol


def test_op_input_errors():
    m = random_model(2, seed=9)
    sp = torch.tensor([0, 1])
    ec = torch.tensor([0, 2])  # centre 2 does not exist
    es = torch.tensor([1, 0])
    vec = torch.tensor([[1.0, 2.0, 0.0], [0.0, 2.0, 1.0]], dtype=torch.float64)
    with pytest.raises(RuntimeError, match="edge_center"):
        torch.ops.mlip.nep_descriptors(sp, ec, es, vec, *_ops_args(m, torch.float64))
    with pytest.raises(RuntimeError, match="edge_neighbor_species"):
        torch.ops.mlip.nep_descriptors(sp, torch.tensor([0, 1]), torch.tensor([0, 5]), vec, *_ops_args(m, torch.float64))
    with pytest.raises(RuntimeError, match="l_max"):
        args = list(_ops_args(m, torch.float64))
        args[-1] = 7
        torch.ops.mlip.nep_descriptors(sp, torch.tensor([0, 1]), es, vec, *args)


# ---------------------------------------------------------------------------------------------
# export, loading, consumers


def test_export_records_required_ops(tmp_path):
    m = random_model(2, seed=11)
    h = dict(SMALL)
    meta = export_model(m, tmp_path / "fused.pt", ["Cu", "Zr"], "nep", h)
    assert meta.requires_ops == "mlip"
    extra = {"metadata.json": ""}
    torch.jit.load(str(tmp_path / "fused.pt"), _extra_files=extra)
    assert json.loads(extra["metadata.json"])["requires_ops"] == "mlip"
    meta = export_model(m, tmp_path / "pure.pt", ["Cu", "Zr"], "nep", h, fused=False)
    assert meta.requires_ops is None
    extra = {"metadata.json": ""}
    pure = torch.jit.load(str(tmp_path / "pure.pt"), _extra_files=extra)
    assert "requires_ops" not in json.loads(extra["metadata.json"])
    assert "mlip::" not in pure.code and "ops.mlip" not in pure.code
    assert not m.fused, "export must not change the caller's model"


def test_model_without_ops_library_gives_clear_error(tmp_path, models):
    """Loading a fused model where libmlip_ops.so is missing names the library; pure models load."""
    pure = tmp_path / "pure.pt"
    export_model(random_model(1, seed=12), pure, ["Cu"], "nep", dict(SMALL), fused=False)
    code = (
        "import sys\n"
        "from mlip_lammps.contract import load_model, ModelContractError\n"
        f"load_model({str(pure)!r})\n"
        "try:\n"
        f"    load_model({str(models['cu'])!r})\n"
        "except ModelContractError as e:\n"
        "    print('ERROR', e)\n"
        "    sys.exit(3)\n"
    )
    env = dict(os.environ, MLIP_OPS_LIBRARY=str(tmp_path / "missing" / "libmlip_ops.so"))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "mlip torch operators" in proc.stdout and "libmlip_ops.so" in proc.stdout


def test_reexport_round_trip(tmp_path):
    """reexport keeps every number (non-persistent buffers included) and the metadata."""
    from mlip_lammps.export.reexport import reexport

    m = random_model(2, seed=13).float().double()  # rounded Y_lm coefficients, as after float32 training
    src, dst = tmp_path / "pure.pt", tmp_path / "fused.pt"
    export_model(m, src, ["Cu", "Zr"], "nep", dict(SMALL), {"note": "kept"}, fused=False)
    meta = reexport(src, dst)
    assert meta.requires_ops == "mlip" and meta.training == {"note": "kept"}
    a, ma = load_model(src)
    b, mb = load_model(dst)
    assert ma.created == mb.created
    atoms = _random_structure(["Cu", "Zr"], seed=13)
    g = graphs_from_atoms([atoms], ["Cu", "Zr"], ma.cutoff, require_labels=False)[0]
    pa, pb = predict(a, g), predict(b, g)
    for k in ("energy", "forces", "stress"):
        assert _rel(pb[k], pa[k]) < F64_TOL, k


def test_wrappers_export_fused(tmp_path):
    """ZBL and committee wrappers export with fused NEP members and give the same numbers."""
    from mlip_lammps.models.committee import CommitteeModel

    h = dict(SMALL, zbl={"inner": 0.8, "outer": 1.5})
    zbl = build_model("nep", 2, h, species=["Cu", "Zr"]).double().eval()
    committee = CommitteeModel([random_model(2, seed=14), random_model(2, seed=15)]).eval()
    atoms = _random_structure(["Cu", "Zr"], seed=14)
    for name, model, hyper in [("zbl", zbl, h), ("committee", committee, dict(SMALL))]:
        fused, pure = tmp_path / f"{name}_fused.pt", tmp_path / f"{name}_pure.pt"
        assert export_model(model, fused, ["Cu", "Zr"], "nep", hyper).requires_ops == "mlip"
        export_model(model, pure, ["Cu", "Zr"], "nep", hyper, fused=False)
        g = graphs_from_atoms([atoms], ["Cu", "Zr"], 5.0, require_labels=False)[0]
        pa, pb = predict(load_model(pure)[0], g), predict(load_model(fused)[0], g)
        for k in ("energy", "forces", "stress"):
            assert _rel(pb[k], pa[k]) < F64_TOL, (name, k)


def test_calculator_uses_fused_model(models, frames):
    calc = MLIPCalculator(models["hea"])
    assert calc.metadata.requires_ops == "mlip"
    atoms = frames["hea"][0].copy()
    atoms.calc = calc
    assert np.isfinite(atoms.get_potential_energy())


@pytest.mark.parametrize("name,extra", [("cuzr", {"linear_term": True}), ("hea", {})])
def test_lammps_fused_equals_pure_and_calculator(name, extra, frames, tmp_path):
    """pair_style mlip with a fused model = MLIPCalculator (fused) = LAMMPS with a pure-torch export
    of the same weights, float64 (1e-10 as tests/test_lammps.py); float32 fused close to float64."""
    species = SPECIES[name]
    m = random_model(len(species), seed=20, **extra)
    hyper = {**SMALL, **extra}
    fused, pure, f32 = tmp_path / "fused.pt", tmp_path / "pure.pt", tmp_path / "f32.pt"
    export_model(m, fused, species, "nep", hyper)
    export_model(m, pure, species, "nep", hyper, fused=False)
    export_model(m, f32, species, "nep", hyper, dtype="float32")
    fr = frames[name][:4]
    res_fused = single_points(fused, fr, species, tmp_path / "fused")
    res_pure = single_points(pure, fr, species, tmp_path / "pure")
    res_f32 = single_points(f32, fr, species, tmp_path / "f32")
    calc = MLIPCalculator(fused)
    for a, b, c, atoms in zip(res_fused, res_pure, res_f32, fr):
        assert a["energy"] == pytest.approx(b["energy"], rel=1e-10, abs=1e-9)
        np.testing.assert_allclose(a["forces"], b["forces"], rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(a["stress"], b["stress"], rtol=0, atol=max(1e-9, 1e-10 * np.abs(b["stress"]).max()))
        at = atoms.copy()
        at.calc = calc
        assert a["energy"] == pytest.approx(at.get_potential_energy(), rel=1e-10, abs=1e-9)
        np.testing.assert_allclose(a["forces"], at.get_forces(), rtol=1e-10, atol=1e-9)
        assert c["energy"] == pytest.approx(a["energy"], rel=1e-5)
        np.testing.assert_allclose(c["forces"], a["forces"], rtol=0, atol=1e-4 + 1e-3 * np.abs(a["forces"]).max())


def test_lammps_log_names_the_ops(models, tmp_path):
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    res = single_points(models["cu"], [atoms], ["Cu"], tmp_path)
    assert np.isfinite(res[0]["energy"])
    assert "uses the mlip torch operators" in (tmp_path / "log.lammps").read_text()


def test_unknown_operator_library_is_refused(models, tmp_path):
    """A model that names another operator library is refused by both consumers."""
    from mlip_lammps.contract import ModelContractError
    from mlip_lammps.lammps import run_lammps, write_data

    extra = {"metadata.json": ""}
    m = torch.jit.load(str(models["cu"]), _extra_files=extra)
    meta = json.loads(extra["metadata.json"])
    meta["requires_ops"] = "other"
    bad = tmp_path / "other.pt"
    torch.jit.save(m, str(bad), _extra_files={"metadata.json": json.dumps(meta)})
    with pytest.raises(ModelContractError, match="'other'"):
        load_model(bad)
    write_data(bulk("Cu", "fcc", a=3.6, cubic=True), tmp_path / "data.lmp", ["Cu"])
    (tmp_path / "in.err").write_text(f"units metal\nread_data data.lmp\npair_style mlip {bad}\npair_coeff * * Cu\nrun 0\n")
    proc = run_lammps("in.err", cwd=tmp_path, check=False, timeout=120)
    errors = [l for l in (proc.stdout + proc.stderr).splitlines() if "ERROR" in l]
    assert proc.returncode != 0 and any("other" in l for l in errors), errors
