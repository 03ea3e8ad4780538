"""Physics workflows: analysis numerics against analytic cases, input parsing, and smoke runs of
``mlip melt``/``liquid``/``crystallize`` in LAMMPS on tiny cells (result keys and units)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from mlip_lammps.workflows import analysis as an
from mlip_lammps.workflows.crystallize import CoolingProtocol, run_crystallize
from mlip_lammps.workflows.liquid import LiquidProtocol, run_liquid
from mlip_lammps.workflows.melt import MeltError, MeltProtocol, crystal_fraction, run_melt
from mlip_lammps.workflows.potential import PotentialError, classical_potential, model_potential, potentials_dir
from mlip_lammps.workflows.structures import StructureError, build, parse_composition, parse_structure

EAM = ("eam/alloy", ["* * Cu_mishin1.eam.alloy Cu"])


def pair_distance_histogram(positions: np.ndarray, box: float, r_max: float, dr: float) -> tuple[np.ndarray, np.ndarray]:
    """g(r) of points in a cubic periodic box (minimum image, r_max ≤ box/2)."""
    d = positions[:, None, :] - positions[None, :, :]
    d -= box * np.round(d / box)
    r = np.sqrt((d**2).sum(-1))[np.triu_indices(len(positions), 1)]
    edges = np.arange(0.0, r_max + dr / 2, dr)
    counts, _ = np.histogram(r, edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    rho = len(positions) / box**3
    return centres, 2 * counts / (len(positions) * rho * shell)


def fcc_gr(a: float, r_max: float, dr: float = 0.01, width: float = 0.08) -> tuple[np.ndarray, np.ndarray, float]:
    """g(r) of a perfect fcc crystal, each neighbour shell broadened by a Gaussian of ``width`` Å."""
    n = int(np.ceil(r_max / a)) + 1
    grid = np.array([[i, j, k] for i in range(-n, n + 1) for j in range(-n, n + 1) for k in range(-n, n + 1)], float)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    pts = (grid[:, None, :] + basis[None, :, :]).reshape(-1, 3) * a
    dist = np.linalg.norm(pts, axis=1)
    dist = dist[(dist > 1e-9) & (dist < r_max + 5 * width)]
    r = np.arange(dr / 2, r_max, dr)
    rho = 4 / a**3
    peaks = np.exp(-0.5 * ((r[:, None] - dist[None, :]) / width) ** 2).sum(axis=1) / (width * np.sqrt(2 * np.pi))
    return r, peaks / (4 * np.pi * r**2 * rho), rho


# ---------------------------------------------------------------- analysis numerics


def test_ideal_gas_structure_factor_is_one():
    rng = np.random.default_rng(0)
    box = 24.0
    r, g = pair_distance_histogram(rng.uniform(0, box, (1500, 3)), box, 11.9, 0.05)
    q = np.linspace(1.5, 12.0, 100)
    s = an.structure_factor(r, g, 1500 / box**3, q)
    assert np.abs(s - 1).max() < 0.05
    assert np.allclose(an.structure_factor(r, np.ones_like(r), 0.08, q), 1.0)


def test_fcc_bragg_peaks_and_coordination():
    a = 3.615
    r, g, rho = fcc_gr(a, r_max=25.0)
    q = np.linspace(1.0, 6.0, 2001)
    s = an.structure_factor(r, g, rho, q)
    q111, q200, q220 = 2 * np.pi * np.sqrt(3) / a, 2 * np.pi * 2 / a, 2 * np.pi * np.sqrt(8) / a
    assert abs(q[np.argmax(s)] - q111) < 0.03  # strongest line: (111)
    for qb in (q111, q200, q220):  # local maxima at the Bragg positions
        near = np.abs(q - qb) < 0.1
        k = np.flatnonzero(near)[np.argmax(s[near])]
        assert abs(q[k] - qb) < 0.03 and s[k] > 2.0
    between = (q > q200 + 0.3) & (q < q220 - 0.3)
    assert np.abs(s[between]).max() < 0.3  # no line between (200) and (220)
    assert np.abs(s[q < q111 - 0.3]).max() < 0.3  # nor below (111)
    r_min = an.first_minimum(r, g)
    assert a / np.sqrt(2) < r_min < a
    assert an.coordination_number(r, g, rho, r_min) == pytest.approx(12.0, abs=0.05)
    r_peak, height = an.first_peak(r, g)
    assert r_peak == pytest.approx(a / np.sqrt(2), abs=0.01) and height > 5


def test_faber_ziman_equal_partials_and_weights():
    r = np.arange(0.01, 12, 0.02)
    g = 1 + np.exp(-r) * np.sin(3 * r)
    q = np.linspace(0.5, 10, 50)
    single = an.structure_factor(r, g, 0.07, q)
    binary = an.faber_ziman(r, {("Cu", "Cu"): g, ("Cu", "Zr"): g, ("Zr", "Zr"): g}, {"Cu": 0.64, "Zr": 0.36}, 0.07, q,
                            scattering_lengths={"Cu": 7.7, "Zr": 7.2})
    assert np.allclose(single, binary)
    with pytest.raises(KeyError, match="Cu-Zr"):
        an.faber_ziman(r, {("Cu", "Cu"): g, ("Zr", "Zr"): g}, {"Cu": 0.5, "Zr": 0.5}, 0.07, q)


def test_msd_of_random_walk_gives_diffusion_coefficient():
    rng = np.random.default_rng(1)
    dt, d_true = 0.01, 0.35  # ps, Å^2/ps
    steps = rng.normal(0, np.sqrt(2 * d_true * dt), (1000, 3000, 3))  # time × walkers × xyz
    x = np.cumsum(steps, axis=0)
    t = dt * np.arange(1, len(x) + 1)
    msd = (x**2).sum(-1).mean(-1)
    assert an.fit_diffusion(t, msd, t_min=2.0) == pytest.approx(d_true, rel=0.03)


def test_green_kubo_of_exponential():
    t = np.linspace(0, 5.0, 5001)
    tau, amp = 0.2, 3.0
    assert an.green_kubo(t, amp * np.exp(-t / tau), 4.0) == pytest.approx(amp * tau * (1 - np.exp(-20)), rel=1e-5)  # trapezoid: dt²/(12τ²)
    assert an.running_integral(t, np.ones_like(t))[-1] == pytest.approx(5.0)
    with pytest.raises(ValueError):
        an.green_kubo(t, t, 6.0)


def test_viscosity_and_yeh_hummer_units():
    # eta = V/(kB T) * integral; V = 1000 Å^3, T = 1000 K, integral 1 bar^2 ps
    expected = 1000e-30 / (1.380649e-23 * 1000) * 1e10 * 1e-12
    assert an.viscosity_factor(1000.0, 1000.0) == pytest.approx(expected)
    # 1400 K, 4 mPa s, L = 37.7 Å: correction 2.837297 kB T / (6 pi eta L) ≈ 1.93e-10 m^2/s
    corr = an.yeh_hummer(0.0, 1400.0, 4e-3, 37.7)
    assert corr == pytest.approx(2.837297 * 1.380649e-23 * 1400 / (6 * math.pi * 4e-3 * 37.7e-10))
    assert 1.9e-10 < corr < 1.96e-10
    with pytest.raises(ValueError):
        an.yeh_hummer(1e-9, 1400.0, 0.0, 30.0)
    assert an.density_g_cm3(63.546 * 4, 3.615**3) == pytest.approx(8.9345, abs=0.001)


def test_block_average_of_white_noise():
    rng = np.random.default_rng(2)
    x = rng.normal(5.0, 1.0, 20000)
    mean, err = an.block_average(x, 10)
    assert mean == pytest.approx(5.0, abs=0.03)
    assert 0.5 / np.sqrt(x.size) < err < 2.0 / np.sqrt(x.size)
    assert an.mean_and_sem([3.0]) == (3.0, 0.0)
    with pytest.raises(ValueError):
        an.block_average(x[:3], 5)


def test_onset_below_trend():
    x = np.linspace(1600, 600, 501)
    y = 1e-4 * x + np.random.default_rng(3).normal(0, 1e-4, x.size)
    y[x < 900] -= 0.05
    k = an.onset_below_trend(x, y, x > 1350)
    assert k is not None and abs(x[k] - 900) < 3
    assert an.onset_below_trend(x, 1e-4 * x, x > 1350) is None


# ---------------------------------------------------------------- inputs


def test_structure_strings():
    s = parse_structure("b2:CuZr")
    assert s.species == ["Cu", "Zr"] and len(build(s, (2, 2, 2))) == 16
    assert parse_composition("Cu64Zr36") == (("Cu", 0.64), ("Zr", 0.36))
    alloy = build(parse_structure("fcc:Cu", "Cu64Zr36"), (5, 5, 5), seed=3)
    assert alloy.get_chemical_symbols().count("Zr") == 180
    assert len(build(parse_structure("hcp:Zr"), (2, 2, 2))) == 32
    for bad, token in [("fcc:Qq", "Qq"), ("fcx:Cu", "fcx"), ("fcc", "fcc"), ("b2:Cu", "b2")]:
        with pytest.raises(StructureError, match=token):
            parse_structure(bad)
    with pytest.raises(StructureError, match="Cu64Xy36"):
        parse_composition("Cu64Xy36")


def test_potential_options(cu_model):
    pot = classical_potential(*EAM, ["Cu"])
    assert pot.types == ("Cu",) and str(potentials_dir() / "Cu_mishin1.eam.alloy") in pot.pair_coeffs[0]
    pot = classical_potential("eam/fs", ["* * CuZr_mm.eam.fs Zr Cu"], ["Cu", "Zr"])
    assert pot.types == ("Zr", "Cu")
    with pytest.raises(PotentialError, match="Zr"):
        classical_potential(*EAM, ["Cu", "Zr"])
    assert model_potential(cu_model, ["Cu"]).pair_style.startswith(f"mlip {cu_model.resolve()}")
    with pytest.raises(PotentialError, match="Zr"):
        model_potential(cu_model, ["Zr"])


# ---------------------------------------------------------------- smoke runs in LAMMPS


def _stage_outputs_ok(folder: Path) -> None:
    assert (folder / "in.lammps").is_file()
    assert "Total wall time" in (folder / "log.lammps").read_text()


def test_crystal_fraction_rescales_q6_between_the_phases():
    """A disordered crystal that q6 calls 72 % solid and a liquid at 4 %: a half-and-half cell reads
    38 % solid-like, which is a crystal fraction of 0.5 (the fixed bounds 0.2/0.8 apply to this)."""
    phases = {"solid_fraction_crystal_mean": 0.72, "solid_fraction_liquid_mean": 0.04, "temperature_K": 3600.0}
    assert crystal_fraction(np.array([0.72, 0.38, 0.04]), phases) == pytest.approx([1.0, 0.5, 0.0])
    with pytest.raises(MeltError, match=r"does not tell the crystal \(40% solid-like\) from the liquid \(20%\) at 3600 K"):
        crystal_fraction([0.3], {**phases, "solid_fraction_crystal_mean": 0.4, "solid_fraction_liquid_mean": 0.2})


def test_melt_smoke_and_resume(tmp_path):
    p = MeltProtocol(t_guess=1330.0, runs=2, repeats=(3, 3, 16), phase_steps=1000, setup_steps=2500,
                     production_steps=1000, thermo_every=10, max_attempts=1, t_refine=1000.0)
    r = run_melt(classical_potential(*EAM, ["Cu"]), parse_structure("fcc:Cu"), p, tmp_path)
    assert 1000 < r["T_melt_K"] < 1700 and r["T_melt_err_K"] >= 0
    assert r["n_runs_used"] == 2 and r["n_atoms"] == 576
    assert 0.0 < r["phases"]["1330"]["volume_change_on_melting"] < 0.1
    assert r["phases"]["1330"]["solid_fraction_crystal_mean"] > 0.9 > 0.1 > r["phases"]["1330"]["solid_fraction_liquid_mean"]
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["T_melt_K"] == pytest.approx(r["T_melt_K"]) and "protocol" in saved
    assert (tmp_path / "melt.png").stat().st_size > 0
    for run in r["runs"]:
        _stage_outputs_ok(tmp_path / run["folder"])
    log = tmp_path / r["runs"][0]["folder"] / "log.lammps"
    mtime = log.stat().st_mtime_ns
    again = run_melt(classical_potential(*EAM, ["Cu"]), parse_structure("fcc:Cu"), p, tmp_path)
    assert log.stat().st_mtime_ns == mtime and again["T_melt_K"] == pytest.approx(r["T_melt_K"])


def test_bhatia_thornton_limits_and_relations():
    """Ideal mixture (all g = 1): S_NN = 1, S_NC = 0, S_CC = c1 c2. Equal partials: S_NN equals the
    one-component S(q) and concentration fluctuations stay ideal. S_NN is the number-weighted FZ sum."""
    r = np.arange(0.01, 12, 0.02)
    q = np.linspace(0.5, 10, 50)
    c = {"Cu": 0.64, "Zr": 0.36}
    ones = {("Cu", "Cu"): np.ones_like(r), ("Cu", "Zr"): np.ones_like(r), ("Zr", "Zr"): np.ones_like(r)}
    bt = an.bhatia_thornton(r, ones, c, 0.07, q)
    assert np.allclose(bt["S_NN"], 1) and np.allclose(bt["S_NC"], 0) and np.allclose(bt["S_CC"], 0.64 * 0.36)
    g = 1 + np.exp(-r) * np.sin(3 * r)
    same = {k: g for k in ones}
    bt = an.bhatia_thornton(r, same, c, 0.07, q)
    assert np.allclose(bt["S_NN"], an.structure_factor(r, g, 0.07, q))
    assert np.allclose(bt["S_NC"], 0) and np.allclose(bt["S_CC"], 0.64 * 0.36)
    gz = 1 + np.exp(-r) * np.sin(2.5 * r)
    mixed = {("Cu", "Cu"): g, ("Cu", "Zr"): 0.5 * (g + gz), ("Zr", "Zr"): gz}
    assert np.allclose(an.bhatia_thornton(r, mixed, c, 0.07, q)["S_NN"], an.faber_ziman(r, mixed, c, 0.07, q))
    with pytest.raises(ValueError, match="binary"):
        an.bhatia_thornton(r, ones, {"Cu": 0.5, "Zr": 0.3, "Al": 0.2}, 0.07, q)


def test_angle_distribution_peaks():
    theta = np.arange(0.5, 180, 1.0)
    p = np.exp(-((theta - 60) / 8) ** 2) + 0.6 * np.exp(-((theta - 110) / 15) ** 2)
    peaks = an.angle_distribution_peaks(theta, p)
    assert peaks[0] == pytest.approx(60, abs=1) and peaks[1] == pytest.approx(110, abs=1) and len(peaks) == 2


def test_liquid_smoke(tmp_path):
    p = LiquidProtocol(temperatures=(1500.0,), n_atoms=256, melt_steps=1000, equil_steps=300, density_steps=400,
                       nvt_equil_steps=100, blocks=2, block_steps=1000)
    r = run_liquid(classical_potential(*EAM, ["Cu"]), parse_structure("fcc:Cu"), p, tmp_path)
    t = r["temperatures"]["1500"]
    assert 7.0 < t["density_g_cm3"] < 8.5
    assert 2.3 < t["gr_first_peak_r_A"] < 2.7 and t["gr_first_peak_height"] > 2
    assert 10 < t["coordination_number"] < 14
    assert 2.7 < t["sq_first_peak_q_inv_A"] < 3.3
    d = t["diffusion_m2_s"]["Cu"]
    assert 5e-10 < d["uncorrected"] < 2e-8
    assert set(d) >= {"uncorrected", "corrected"}
    assert "viscosity_mPa_s" in t and t["viscosity_source"] == "green-kubo"
    # close-packed liquid: first-shell bond angles peak near 60° and 110-120°; few icosahedra
    assert 50 < t["bond_angle_peaks_deg"][0] < 70 and any(100 < x < 125 for x in t["bond_angle_peaks_deg"])
    assert 0 <= t["icosahedral_fraction_cna"] < 0.2 and 13 < t["voronoi_mean_faces"] < 16
    for name in ("result.json", "gr.png", "sq.png", "msd.png", "1500K/gr.dat", "1500K/sq.dat", "1500K/msd.dat",
                 "1500K/adf.dat"):
        assert (tmp_path / name).stat().st_size > 0
    _stage_outputs_ok(tmp_path / "1500K" / "production")


def test_binary_liquid_smoke(tmp_path):
    """Cu64Zr36 with the CuZr EAM/FS: partial coordination numbers and Bhatia–Thornton factors."""
    p = LiquidProtocol(temperatures=(1600.0,), n_atoms=250, melt_steps=500, equil_steps=200, density_steps=300,
                       nvt_equil_steps=100, blocks=2, block_steps=1000)
    pot = classical_potential("eam/fs", ["* * CuZr_mm.eam.fs Cu Zr"], ["Cu", "Zr"])
    r = run_liquid(pot, parse_structure("b2:CuZr", "Cu64Zr36"), p, tmp_path)
    t = r["temperatures"]["1600"]
    assert set(t["coordination_numbers_partial"]) == {"Cu-Cu", "Cu-Zr", "Zr-Cu", "Zr-Zr"}
    bt = t["bhatia_thornton"]
    assert bt["S_CC_ideal"] == pytest.approx(0.64 * 0.36) and 2.3 < bt["S_NN_first_peak_q_inv_A"] < 3.0
    d = np.loadtxt(tmp_path / "1600K" / "sq_bhatia_thornton.dat")
    assert d.shape[1] == 4 and np.allclose(d[-50:, 3], 0.64 * 0.36, atol=0.05)  # S_CC -> c1 c2 at large q


def test_crystallize_smoke(tmp_path):
    p = CoolingProtocol(t_start=1800.0, t_end=1000.0, rate_K_ps=500.0, t_melt=2500.0, n_atoms=256, melt_steps=750,
                        thermo_every=20)
    r = run_crystallize(classical_potential(*EAM, ["Cu"]), parse_structure("fcc:Cu"), p, tmp_path)
    assert set(r) >= {"T_onset_pe_K", "T_onset_structure_K", "final_cna_fractions", "crystallized"}
    assert sum(r["final_cna_fractions"].values()) == pytest.approx(1.0)
    assert (tmp_path / "crystallize.png").stat().st_size > 0


def test_isothermal_largest_cluster_of_a_crystal(tmp_path):
    """The nucleation sampling on a perfect fcc crystal held at 300 K: every atom is solid-like and
    all form one cluster, so the largest cluster is N from the first sample (time to nucleate 0)."""
    from mlip_lammps.workflows.crystallize import analyse_isothermal, isothermal_input
    from mlip_lammps.workflows.potential import LOG, run_stage, write_structure
    from mlip_lammps.workflows.structures import elongated_repeats, unit_cell

    pot, st = classical_potential(*EAM, ["Cu"]), parse_structure("fcc:Cu")
    p = CoolingProtocol(t_start=1500.0, isothermal=(300.0,), hold_ps=0.2, thermo_every=20, nucleus_size=100, n_atoms=256)
    atoms = build(st, elongated_repeats(unit_cell(st, 3.615), 256, aspect=1.0), 3.615, seed=1)
    (tmp_path / "melt").mkdir()
    write_structure(atoms, tmp_path / "melt" / "melt.data", pot.types)
    run_stage(tmp_path / "iso", isothermal_input(pot, st, 3.615, p, 300.0), p.hold_steps, "iso")
    r = analyse_isothermal(tmp_path / "iso" / LOG, p)
    assert r["largest_cluster_final"] == len(atoms) == 256
    assert r["series"]["largest_cluster"][0] == 256 and r["time_to_nucleate_ps"] == 0.0
    assert r["final_cna_fractions"]["fcc"] > 0.9


def test_isothermal_nucleation_smoke(tmp_path):
    p = CoolingProtocol(t_start=1800.0, t_melt=2500.0, isothermal=(700.0, 900.0), hold_ps=1.0, n_atoms=256,
                        melt_steps=750, thermo_every=20, nucleus_size=20)
    r = run_crystallize(classical_potential(*EAM, ["Cu"]), parse_structure("fcc:Cu"), p, tmp_path)
    assert set(r["isothermal"]) == {"700", "900"} and "T_onset_pe_K" not in r
    for x in r["isothermal"].values():
        assert 1 <= x["largest_cluster_final"] <= 256
        assert x["time_to_nucleate_ps"] is None or 0.0 <= x["time_to_nucleate_ps"] <= 1.0
    series = json.loads((tmp_path / "isothermal.json").read_text())
    assert len(series["700"]["t_ps"]) == 26 and series["700"]["t_ps"][-1] == pytest.approx(1.0)
    assert (tmp_path / "nucleation.png").stat().st_size > 0
    with pytest.raises(ValueError, match="nothing to do"):
        CoolingProtocol(t_start=1800.0)
    with pytest.raises(ValueError, match="between 0 and t_start"):
        CoolingProtocol(t_start=1800.0, isothermal=(2000.0,))


def test_melt_with_exported_model_runs(tmp_path, cu_model):
    """pair_style mlip through the melt workflow's first stage (256 atoms, 50 steps, ~5 s with the
    NEP model): the crystal's box at T_guess is sensible; 25 steps at 1.6 T_guess cannot melt it,
    so the workflow stops with a clear MeltError."""
    p = MeltProtocol(t_guess=1300.0, runs=1, repeats=(2, 2, 16), phase_steps=20, thermo_every=5, max_attempts=1)
    with pytest.raises(MeltError, match="did not melt .* increase --phase-steps"):
        run_melt(model_potential(cu_model, ["Cu"]), parse_structure("fcc:Cu"), p, tmp_path)
    stage = tmp_path / "phases_1300K"
    _stage_outputs_ok(stage)
    assert "pair_style      mlip" in (stage / "in.lammps").read_text()
    from mlip_lammps.workflows.melt import analyse_phases

    ph = analyse_phases(stage / "log.lammps")
    assert 2 * 3.55 < ph["lx_A"] < 2 * 3.8 and ph["solid_fraction_crystal"] > 0.9
