"""mlip label: teachers (exported model, classical LAMMPS potential, foundation models when
installed), provenance, rejection of frames with reasons, resumable batches."""

from __future__ import annotations

import json
import subprocess
import sys

import ase.io
import numpy as np
import pytest

from conftest import DATA, SPECIES, export_random
from mlip_lammps import MLIPCalculator
from mlip_lammps.data.label import TeacherError, label_frames, make_teacher


@pytest.fixture(scope="module")
def teacher_model(tmp_path_factory):
    return export_random(tmp_path_factory.mktemp("teacher") / "teacher.pt", SPECIES["cu"], seed=5)


def _bad_frames():
    frames = ase.io.read(DATA / "cu.extxyz", ":6")
    close = frames[1].copy()
    close.positions[1] = close.positions[0] + [0.3, 0.0, 0.0]
    return frames[:1] + [close] + frames[2:]


def test_label_with_exported_model(teacher_model, tmp_path):
    frames = _bad_frames()
    calc, name = make_teacher(potential=teacher_model)
    r = label_frames(frames, calc, name, tmp_path / "out.extxyz", batch=4, progress=False)
    assert r["n_input"] == 6 and r["n_labelled"] == 5 and r["rejected_reasons"] == {"atoms closer than 0.5 Å": 1}
    assert r["rejected_frames"]["1"]["index"] == 1
    out = ase.io.read(tmp_path / "out.extxyz", ":")
    ref = MLIPCalculator(teacher_model)
    for a, k in zip(out, [0, 2, 3, 4, 5]):
        assert a.info["source_index"] == k and a.info["teacher"].startswith("mlip model") and "labelled_at" in a.info
        b = frames[k].copy()
        b.calc = ref
        # extxyz stores positions and forces with 8 decimals
        assert a.get_potential_energy() == pytest.approx(b.get_potential_energy(), rel=1e-10)
        np.testing.assert_allclose(a.get_forces(), b.get_forces(), rtol=0, atol=1e-7)
        np.testing.assert_allclose(a.get_stress(), b.get_stress(), rtol=1e-8, atol=1e-10)
    report = json.loads((tmp_path / "out.extxyz.report.json").read_text())
    assert report["n_rejected"] == 1


def test_force_limit_and_resume(teacher_model, tmp_path):
    """A force limit rejects frames with the reason; a re-run labels only the missing batches."""
    frames = ase.io.read(DATA / "cu.extxyz", ":6")
    calc, name = make_teacher(potential=teacher_model)
    calls = []

    class Counting(MLIPCalculator):
        def calculate(self, *a, **k):
            calls.append(1)
            super().calculate(*a, **k)

    counting = Counting(teacher_model)
    out = tmp_path / "out.extxyz"
    first = label_frames(frames, counting, name, out, batch=2, max_force=1e9, progress=False)
    n_calls = len(calls)
    (out.with_name(out.name + ".parts") / "frames_0000004.extxyz").unlink()  # "interrupted" in the last batch
    out.unlink()
    second = label_frames(frames, counting, name, out, batch=2, max_force=1e9, progress=False)
    assert second["n_labelled"] == first["n_labelled"] == 6
    assert len(calls) - n_calls <= 2 * 3  # only the last batch (2 frames) again
    with pytest.raises(TeacherError, match="other settings"):
        label_frames(frames, counting, name, out, batch=3, progress=False)
    fmax = max(np.linalg.norm(a.get_forces(), axis=1).max() for a in ase.io.read(out, ":"))
    r = label_frames(frames, calc, name, tmp_path / "strict.extxyz", batch=2, max_force=0.5 * fmax, progress=False)
    assert r["n_rejected"] >= 1 and list(r["rejected_reasons"]) == [f"force above {0.5 * fmax:g} eV/Å"]


def test_label_with_lammps_eam_reproduces_reference_labels(tmp_path):
    """The shared Cu data were labelled by Cu_mishin1 EAM: a LAMMPS eam/alloy teacher gives them back."""
    frames = ase.io.read(DATA / "cu.extxyz", ":3")
    calc, name = make_teacher(pair_style="eam/alloy", pair_coeffs=["* * Cu_mishin1.eam.alloy Cu"], species=["Cu"])
    r = label_frames(frames, calc, name, tmp_path / "eam.extxyz", progress=False)
    assert r["n_labelled"] == 3 and name.startswith("lammps eam/alloy")
    for a, ref in zip(ase.io.read(tmp_path / "eam.extxyz", ":"), frames):
        assert a.get_potential_energy() == pytest.approx(ref.get_potential_energy(), abs=1e-6 * len(a))
        np.testing.assert_allclose(a.get_forces(), ref.get_forces(), atol=1e-5)


def test_cli_label_and_teacher_errors(teacher_model, tmp_path):
    out = tmp_path / "cli.extxyz"
    proc = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.main", "label", str(DATA / "cu.extxyz"), "--potential",
                           str(teacher_model), "--out", str(out), "--batch", "5"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "12 of 12 frames labelled" in proc.stdout and len(ase.io.read(out, ":")) == 12
    proc = subprocess.run([sys.executable, "-m", "mlip_lammps.cli.main", "label", str(DATA / "cu.extxyz"), "--teacher",
                           "nosuchpackage:factory", "--out", str(tmp_path / "x.extxyz")], capture_output=True, text=True)
    assert proc.returncode == 2 and "cannot import teacher 'nosuchpackage:factory'" in proc.stderr
    with pytest.raises(TeacherError, match="exactly one teacher"):
        make_teacher("chgnet", potential=teacher_model)


def test_foundation_teacher_sevenn(tmp_path):
    pytest.importorskip("sevenn", reason="sevenn is not installed (pip install sevenn): SevenNet-0 teacher not tested")
    frames = ase.io.read(DATA / "cu.extxyz", ":1")
    calc, name = make_teacher("sevenn:7net-0")
    r = label_frames(frames, calc, name, tmp_path / "s.extxyz", progress=False)
    assert r["n_labelled"] == 1 and name == "sevenn:7net-0"
