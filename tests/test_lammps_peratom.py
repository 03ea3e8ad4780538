"""Per-atom outputs (compute pe/atom, stress/atom) and LAMMPS box/atom operations with pair_style mlip."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from conftest import SPECIES
from lammps_utils import NKTV2P, thermo_table
from mlip_lammps import MLIPCalculator
from mlip_lammps.lammps import run_lammps, write_data


def _read_dump(path):
    lines = path.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS")) + 1
    rows = np.array([[float(x) for x in l.split()] for l in lines[start:]])
    return rows[np.argsort(rows[:, 0])]


@pytest.mark.parametrize("np_ranks", [1, 2])
def test_pe_atom_and_stress_atom(models, frames, tmp_path, np_ranks):
    atoms = frames["hea"][1]
    write_data(atoms, tmp_path / "data.lmp", SPECIES["hea"])
    (tmp_path / "in.lmp").write_text(f"""\
units metal
atom_style atomic
read_data data.lmp
pair_style mlip {models['hea']}
pair_coeff * * {' '.join(SPECIES['hea'])}
compute pe all pe/atom
compute s all stress/atom NULL virial
compute ssum all reduce sum c_s[1] c_s[2] c_s[3] c_s[4] c_s[5] c_s[6]
compute pesum all reduce sum c_pe
thermo_style custom step pe c_pesum pxx pyy pzz pxy pxz pyz vol c_ssum[*]
thermo_modify format float %.17g
dump d all custom 1 peratom.dump id c_pe c_s[*]
dump_modify d format float %.17g sort id
run 0
""")
    run_lammps("in.lmp", cwd=tmp_path, np=np_ranks)
    d = _read_dump(tmp_path / "peratom.dump")
    a = atoms.copy()
    a.calc = MLIPCalculator(models["hea"])
    np.testing.assert_allclose(d[:, 1], a.get_potential_energies(), rtol=1e-10, atol=1e-10)
    t = {k: v[-1] for k, v in thermo_table(tmp_path / "log.lammps").items()}
    assert t["c_pesum"] == pytest.approx(t["PotEng"], rel=1e-12)
    # sum rule: sum_i stress/atom = -P V (no kinetic part: zero velocities); LAMMPS order xx yy zz xy xz yz
    V = t["Volume"]
    for k, comp in enumerate(("Pxx", "Pyy", "Pzz", "Pxy", "Pxz", "Pyz")):
        assert t[f"c_ssum[{k + 1}]"] == pytest.approx(-t[comp] * V, rel=1e-9, abs=1e-6)
    # and the same per-atom virial summed by hand in ASE units
    s = a.get_stress(voigt=False)
    assert d[:, 2].sum() / V / NKTV2P == pytest.approx(s[0, 0], rel=1e-9, abs=1e-12)


def test_restart_replicate_delete_change_box(models, tmp_path):
    """write/read_restart with pair_style re-specified; run 0 after replicate, delete_atoms, change_box."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=4)
    write_data(atoms, tmp_path / "data.lmp", ["Cu"])
    model = models["cu"]
    (tmp_path / "in.a").write_text(f"""\
units metal
read_data data.lmp
pair_style mlip {model}
pair_coeff * * Cu
velocity all create 600 1 mom yes
fix 1 all nve
thermo_style custom step pe etotal press
thermo_modify format float %.17g
run 20
write_restart state.restart
run 20
""")
    run_lammps("in.a", cwd=tmp_path, log="log.a")
    ref = thermo_table(tmp_path / "log.a")
    (tmp_path / "in.b").write_text(f"""\
units metal
read_restart state.restart
pair_style mlip {model}
pair_coeff * * Cu
fix 1 all nve
thermo_style custom step pe etotal press
thermo_modify format float %.17g
run 20
replicate 2 1 1
run 0
delete_atoms group all compress yes
create_atoms 1 single 0.1 0.1 0.1
create_atoms 1 single 1.9 1.7 0.2
run 0
change_box all x scale 1.02 remap
run 0
""")
    run_lammps("in.b", cwd=tmp_path, log="log.b")
    text = (tmp_path / "log.b").read_text()
    blocks = [l for l in text.splitlines() if l.split()[:2] == ["Step", "PotEng"]]
    assert len(blocks) == 4
    first = thermo_table(tmp_path / "log.b", block=0)
    np.testing.assert_allclose(first["PotEng"][-1], ref["PotEng"][-1], rtol=1e-12)
    np.testing.assert_allclose(first["TotEng"][-1], ref["TotEng"][-1], rtol=1e-12)


def test_close_atoms_give_finite_result_or_clear_error(models, tmp_path):
    """Two atoms 0.3 Å apart: the run either completes with finite numbers or stops with an ERROR."""
    from ase import Atoms

    atoms = Atoms("Cu2", positions=[[1, 1, 1], [1.3, 1, 1]], cell=[8, 8, 8], pbc=True)
    write_data(atoms, tmp_path / "data.lmp", ["Cu"])
    (tmp_path / "in.lmp").write_text(f"units metal\nread_data data.lmp\npair_style mlip {models['cu']}\npair_coeff * * Cu\n"
                                     "thermo_style custom step pe press\nrun 0\n")
    proc = run_lammps("in.lmp", cwd=tmp_path, check=False, timeout=60)
    text = proc.stdout + (tmp_path / "log.lammps").read_text()
    if proc.returncode == 0:
        t = thermo_table(tmp_path / "log.lammps")
        assert np.isfinite(t["PotEng"]).all() and np.isfinite(t["Press"]).all()
    else:
        assert "ERROR" in text
