"""Committee force deviation inside LAMMPS (pair_style mlip m1.pt m2.pt ..., or a committee file):
mean forces drive MD, and the per-atom deviation (fix pair), its global statistics (compute pair)
and the out_file rows equal MLIPCalculator's, on 1 and 2 MPI ranks. Also the min_dist check."""

from __future__ import annotations

import re

import numpy as np
import pytest
from ase import Atoms

from conftest import SPECIES, export_random, random_model
from mlip_lammps import MLIPCalculator
from mlip_lammps.export import export_model
from mlip_lammps.lammps import run_lammps, write_data

TOL = 1e-10


@pytest.fixture(scope="module")
def members(tmp_path_factory) -> list:
    d = tmp_path_factory.mktemp("committee")
    return [export_random(d / f"m{k}.pt", SPECIES["cuzr"], seed=30 + k) for k in range(3)]


@pytest.fixture(scope="module")
def committee_file(tmp_path_factory):
    from conftest import SMALL
    from mlip_lammps.models.committee import CommitteeModel

    path = tmp_path_factory.mktemp("committee_file") / "committee.pt"
    model = CommitteeModel([random_model(2, seed=40 + k) for k in range(4)]).eval()
    export_model(model, path, SPECIES["cuzr"], "nep", dict(SMALL))
    return path


def _run(pair_args: str, atoms, tmp_path, np_ranks=1, every=1, steps=0) -> dict:
    write_data(atoms, tmp_path / "data.lmp", ["Cu", "Zr"])
    (tmp_path / "in.devi").write_text(f"""\
units metal
atom_style atomic
atom_modify map array sort 0 0
read_data data.lmp
mass * 63.5
pair_style mlip {pair_args} out_freq {every} out_file devi.out
pair_coeff * * Cu Zr
neighbor 1.0 bin
fix devi all pair {every} mlip force_deviation 1
compute dv all pair mlip
thermo_style custom step pe c_dv[1] c_dv[2] c_dv[3] c_dv[4]
thermo_modify format float %.17g
thermo {every}
dump d all custom {every} forces.dump id fx fy fz f_devi
dump_modify d format float %.17g sort id
velocity all create 600 1
fix nve all nve
run {steps}
""")
    run_lammps("in.devi", cwd=tmp_path, np=np_ranks)
    lines = (tmp_path / "forces.dump").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS")) + 1
    rows = np.array([[float(x) for x in l.split()] for l in lines[start : start + len(atoms)]])
    log = (tmp_path / "log.lammps").read_text().splitlines()
    k = next(i for i, l in enumerate(log) if l.split()[:2] == ["Step", "PotEng"])
    thermo = [float(x) for x in log[k + 1].split()]
    devi = np.loadtxt(tmp_path / "devi.out", ndmin=2)
    return {"forces": rows[:, 1:4], "deviation": rows[:, 4], "pe": thermo[1], "stats": thermo[2:], "file": devi}


def _structure(seed=3):
    rng = np.random.default_rng(seed)
    from ase.build import bulk

    atoms = bulk("Cu", "fcc", a=3.75, cubic=True).repeat((3, 3, 3))
    atoms.symbols[rng.choice(len(atoms), 40, replace=False)] = "Zr"
    atoms.positions += rng.normal(0.0, 0.1, atoms.positions.shape)
    return atoms


def _check_against_calculator(res, calc_paths, atoms):
    calc = MLIPCalculator(calc_paths)
    a = atoms.copy()
    a.calc = calc
    e, f = a.get_potential_energy(), a.get_forces()
    dev = calc.results["force_deviation"]
    assert abs(res["pe"] - e) <= TOL * abs(e)
    assert np.abs(res["forces"] - f).max() <= TOL * np.abs(f).max()
    assert np.abs(res["deviation"] - dev).max() <= 1e-9 * dev.max()
    assert dev.min() > 0  # members differ: the check is not trivially zero
    assert res["stats"][:3] == pytest.approx([dev.max(), dev.min(), dev.mean()], rel=1e-9)
    row = res["file"][0]  # written with 7 significant digits
    assert row[0] == 0 and row[1:4] == pytest.approx([dev.max(), dev.min(), dev.mean()], rel=1e-6)
    # energy deviation: std over members of the total energy, per atom
    es = [MLIPCalculator(p).get_potential_energy(atoms.copy()) for p in calc_paths] if isinstance(calc_paths, list) else None
    if es is not None:
        assert row[4] == pytest.approx(np.std(es) / len(atoms), rel=1e-6)
    return dev


@pytest.mark.parametrize("np_ranks,chunk", [(1, 0), (2, 0), (2, 5)])
def test_committee_of_files_matches_calculator(members, np_ranks, chunk, tmp_path):
    atoms = _structure()
    res = _run(" ".join(map(str, members)) + f" chunk {chunk}", atoms, tmp_path, np_ranks=np_ranks)
    _check_against_calculator(res, members, atoms)


def test_committee_file_matches_calculator(committee_file, tmp_path):
    atoms = _structure(seed=4)
    res = _run(str(committee_file), atoms, tmp_path)
    _check_against_calculator(res, committee_file, atoms)


def test_joined_committee_file_matches_member_files(members, tmp_path):
    """`mlip committee m0 m1 m2 -o c.pt` (members trained apart) runs in LAMMPS as the three files do."""
    from mlip_lammps.cli.main import main
    from mlip_lammps.contract import load_model

    joined = tmp_path / "joined.pt"
    assert main(["committee", *map(str, members), "-o", str(joined)]) == 0
    meta = load_model(joined)[1]
    assert meta.committee_size == 3 and [m["file"] for m in meta.training["members"]] == list(map(str, members))
    atoms = _structure(seed=6)
    res = _run(str(joined), atoms, tmp_path)
    _check_against_calculator(res, members, atoms)


def test_joined_committee_rejects_mismatched_members(members, tmp_path, capsys):
    from mlip_lammps.cli.main import main

    other = export_random(tmp_path / "cuzrni.pt", ["Cu", "Zr", "Ni"], seed=2)
    assert main(["committee", str(members[0]), str(other), "-o", str(tmp_path / "bad.pt")]) == 2
    assert f"{other}: species" in capsys.readouterr().err and not (tmp_path / "bad.pt").exists()


def test_deviation_file_every_n_steps_in_md(members, tmp_path):
    atoms = _structure(seed=5)
    res = _run(" ".join(map(str, members)), atoms, tmp_path, every=5, steps=20)
    steps = res["file"][:, 0]
    assert list(steps) == [0, 5, 10, 15, 20]
    assert np.all(res["file"][:, 1] >= res["file"][:, 3]) and np.all(res["file"][:, 3] >= res["file"][:, 2])


COMMITTEE_ERRORS = {
    "out_freq_single_model": ("{m0} out_freq 10", "", r"needs a committee"),
    "fix_pair_single_model": ("{m0}", "fix devi all pair 1 mlip force_deviation 1\n", r"force_deviation needs a committee"),
    "species_mismatch": ("{m0} {cu}", "", r"has species"),
    "keyword_first": ("threads 1", "", r"first argument must be a model file"),
}


@pytest.mark.parametrize("case", sorted(COMMITTEE_ERRORS))
def test_committee_errors(case, members, tmp_path):
    pair_args, extra, pattern = COMMITTEE_ERRORS[case]
    cu = export_random(tmp_path / "cu.pt", ["Cu", "Zr", "Ni"], seed=1)
    atoms = _structure()
    write_data(atoms, tmp_path / "data.lmp", ["Cu", "Zr"])
    (tmp_path / "in.err").write_text(f"units metal\nread_data data.lmp\nmass * 63.5\n"
                                     f"pair_style mlip {pair_args.format(m0=members[0], cu=cu)}\n"
                                     f"pair_coeff * * Cu Zr\n{extra}run 0\n")
    proc = run_lammps("in.err", cwd=tmp_path, check=False, timeout=120)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0
    errors = [l for l in text.splitlines() if "ERROR" in l]
    assert any(re.search(pattern, l) for l in errors), text[-2000:]


@pytest.mark.parametrize("np_ranks", [1, 2])
def test_atoms_too_close_named(members, np_ranks, tmp_path):
    atoms = Atoms("Cu2Zr2", positions=[[1, 1, 1], [1.3, 1, 1], [4, 4, 4], [6.5, 4, 4]], cell=[9, 9, 9], pbc=True)
    write_data(atoms, tmp_path / "data.lmp", ["Cu", "Zr"])
    base = f"units metal\nread_data data.lmp\nmass * 63.5\npair_style mlip {members[0]}{{}}\npair_coeff * * Cu Zr\nrun 0\n"
    (tmp_path / "in.close").write_text(base.format(""))
    proc = run_lammps("in.close", cwd=tmp_path, np=np_ranks, check=False, timeout=120)
    text = proc.stdout + proc.stderr + (tmp_path / "log.lammps").read_text()
    assert proc.returncode != 0
    assert re.search(r"atoms [12] and [12] are 0\.3000 A apart", text), text[-2000:]
    # min_dist 0 switches the check off
    (tmp_path / "in.close").write_text(base.format(" min_dist 0"))
    run_lammps("in.close", cwd=tmp_path, np=np_ranks)
