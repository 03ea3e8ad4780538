"""``mlip liquid``: structure and transport of the liquid at given temperatures.

Per temperature T (two LAMMPS stages in ``OUT/<T>K/``):

* *equilibrate*: the crystal is melted by NPT at ``--t-melt`` (default 1.5·max T), brought to T by
  NPT (zero pressure), the volume averaged (density), the box set to the mean volume and the liquid
  re-equilibrated by NVT.
* *production*: NVT (Nosé–Hoover, damping 1 ps, weak enough not to disturb the dynamics), cut into
  blocks. Per block: averaged total and partial g(r) (``compute rdf``), mean-squared displacement
  per species from the block's start (``compute msd``, centre-of-mass drift removed) and the
  shear-stress autocorrelation (``fix ave/correlate`` of Pxy, Pxz, Pyz, (Pxx−Pyy)/2, (Pyy−Pzz)/2).
  Sampled along the run: the bond-angle distribution of first-shell neighbours (``compute adf``),
  the icosahedral fraction (``compute cna/atom``: 12 neighbours, all 555) and the Voronoi cells
  (``compute voronoi/atom``: mean number of faces, fraction of 12-face cells), with the
  first-shell cutoff ``FIRST_SHELL`` × the crystal's nearest-neighbour distance.

Results: density (g/cm³); g(r) first peak, first minimum and coordination numbers (integral of
4πρ r² g to the first minimum); total Faber–Ziman S(q) from the partial g(r) (unit scattering
lengths, Lorch window) and, for binary liquids, the Bhatia–Thornton S_NN, S_NC, S_CC; self-diffusion per species from a linear fit of the MSD in its diffusive
regime, with the Yeh–Hummer correction D_inf = D_pbc + 2.837297 k_B T / (6π η L); shear viscosity η
by Green–Kubo (integral of the averaged autocorrelation up to ``--gk-cutoff``). Errors are standard
errors over the blocks. When the Green–Kubo η is too noisy, ``--viscosity`` supplies η for the
correction (recorded as ``viscosity_source``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from mlip_lammps.workflows import analysis as an
from mlip_lammps.workflows.potential import (
    LOG, Potential, add_potential_arguments, lammps_header, melt_lines, potential_from_args, run_stage, write_structure)
from mlip_lammps.workflows.structures import (
    Structure, build, default_lattice_constant, elongated_repeats, mass_g_mol, nearest_neighbour_distance, parse_structure,
    solid_fraction_lines, unit_cell)

NOISY_VISCOSITY = 0.3  # relative standard error above which the Green–Kubo viscosity is flagged
# first-shell cutoff / the crystal's nearest-neighbour distance: the first minimum of g(r) of
# close-packed metallic liquids (Cu: 3.51 Å = 1.37 × 2.556 Å)
FIRST_SHELL = 1.37


@dataclass
class LiquidProtocol:
    """Parameters of the liquid workflow (temperatures K, timestep fs, steps, times ps, Å)."""

    temperatures: tuple[float, ...]
    t_melt: float | None = None
    n_atoms: int = 2048
    timestep_fs: float = 2.0
    melt_steps: int = 5000
    equil_steps: int = 5000
    density_steps: int = 10000
    nvt_equil_steps: int = 2000
    blocks: int = 5
    block_steps: int = 10000
    thermo_every: int = 50
    rdf_every: int = 100
    rdf_dr: float = 0.02
    msd_every: int = 25
    acf_every: int = 2
    acf_steps: int = 1000
    gk_cutoff_ps: float = 1.5
    msd_fit_start: float = 0.2
    tdamp_ps: float = 0.1
    pdamp_ps: float = 1.0
    tdamp_production_ps: float = 1.0
    viscosity_mPa_s: float | None = None
    seed: int = 1

    @property
    def melt_temperature(self) -> float:
        return self.t_melt if self.t_melt is not None else 1.5 * max(self.temperatures)


def _type_of(potential: Potential, element: str) -> int:
    return potential.types.index(element) + 1


def equilibrate_input(potential: Potential, structure: Structure, a: float, t: float, p: LiquidProtocol) -> str:
    """Melt, cool to ``t`` (K) at zero pressure, average the volume, set it, re-equilibrate (NVT)."""
    tm = p.melt_temperature
    return "\n".join([
        lammps_header(potential, "../../crystal.data", p.timestep_fs, f"mlip liquid: melt at {tm:g} K, equilibrate at {t:g} K"),
        solid_fraction_lines(structure.lattice, a),
        "thermo_style    custom step time temp pe press vol density v_fsolid",
        "thermo_modify   format float %.10g",
        f"thermo          {p.thermo_every}",
        *melt_lines(tm, p.seed, p.melt_steps, p.tdamp_ps, p.pdamp_ps),
        f"fix             npt all npt temp {tm:g} {t:g} {p.tdamp_ps:g} iso 0 0 {p.pdamp_ps:g}",
        f"run             {p.equil_steps}",
        "unfix           npt",
        "# density: volume averaged over this run",
        "reset_timestep  0",
        "variable        V equal vol",
        f"fix             vavg all ave/time 10 {p.density_steps // 10} {p.density_steps} v_V",
        f"fix             npt all npt temp {t:g} {t:g} {p.tdamp_ps:g} iso 0 0 {p.pdamp_ps:g}",
        f"run             {p.density_steps}",
        "unfix           npt",
        "variable        scale equal (f_vavg/vol)^(1.0/3.0)",
        "change_box      all x scale ${scale} y scale ${scale} z scale ${scale} remap",
        "unfix           vavg",
        f"fix             nvt all nvt temp {t:g} {t:g} {p.tdamp_ps:g}",
        f"run             {p.nvt_equil_steps}",
        "write_data      equilibrated.data",
        "",
    ])


def production_input(potential: Potential, structure: Structure, a: float, t: float, box_length: float, p: LiquidProtocol) -> str:
    """NVT production in blocks: g(r), MSD per species and stress autocorrelation per block."""
    species = structure.species
    pairs = [(x, y) for i, x in enumerate(species) for y in species[i:]]
    pair_args = " ".join(f"{_type_of(potential, x)} {_type_of(potential, y)}" for x, y in pairs)
    if len(species) > 1:
        pair_args = "* * " + pair_args
    rc = rdf_cutoff(box_length)
    shell = FIRST_SHELL * nearest_neighbour_distance(structure.lattice, a)
    lines = [
        lammps_header(potential, "equilibrated.data", p.timestep_fs, f"mlip liquid: NVT production at {t:g} K"),
        solid_fraction_lines(structure.lattice, a),
        f"comm_modify     cutoff {rc + 2.0:.3f}",
        f"compute         adf all adf 180 * * * 0.0 {shell:.4f} 0.0 {shell:.4f}",
        f"fix             adf all ave/time {p.rdf_every} {p.block_steps // p.rdf_every} {p.block_steps} c_adf[*] file adf.dat mode vector",
        f"compute         cna all cna/atom {shell:.4f}",
        "variable        is_ico atom c_cna==4",
        "compute         nico all reduce sum v_is_ico",
        "variable        fico equal c_nico/atoms",
        "compute         vor all voronoi/atom",
        "variable        is_f12 atom c_vor[2]==12",
        "compute         nf12 all reduce sum v_is_f12",
        "variable        ff12 equal c_nf12/atoms",
        "compute         faces all reduce ave c_vor[2]",
        "thermo_style    custom step time temp pe press v_fsolid v_fico v_ff12 c_faces",
        "thermo_modify   format float %.10g",
        f"thermo          {p.thermo_every * 10}",
        f"fix             nvt all nvt temp {t:g} {t:g} {p.tdamp_production_ps:g}",
        f"compute         rdf all rdf {int(round(rc / p.rdf_dr))} {pair_args} cutoff {rc:.4f}",
        f"fix             rdf all ave/time {p.rdf_every} {p.block_steps // p.rdf_every} {p.block_steps} c_rdf[*] file rdf.dat mode vector",
        "variable        pxy equal pxy",
        "variable        pxz equal pxz",
        "variable        pyz equal pyz",
        "variable        nxy equal 0.5*(pxx-pyy)",
        "variable        nyz equal 0.5*(pyy-pzz)",
        f"fix             acf all ave/correlate {p.acf_every} {p.acf_steps // p.acf_every} {p.block_steps} "
        "v_pxy v_pxz v_pyz v_nxy v_nyz type auto ave one file acf.dat",
    ]
    lines += [f"group           {el} type {_type_of(potential, el)}" for el in species]
    for b in range(p.blocks):
        lines.append(f"# block {b + 1}: MSD from this block's start")
        lines += [f"compute         msd{b}_{el} {el} msd com yes" for el in species]
        cols = " ".join(f"c_msd{b}_{el}[4]" for el in species)
        lines += [f"fix             msd{b} all ave/time {p.msd_every} 1 {p.msd_every} {cols} file msd_block{b + 1}.dat",
                  f"run             {p.block_steps}", f"unfix           msd{b}"]
        lines += [f"uncompute       msd{b}_{el}" for el in species]
    return "\n".join(lines + [""])


def rdf_cutoff(box_length: float) -> float:
    """g(r) range (Å): half the box, at most 15 Å."""
    return min(0.5 * box_length - 0.1, 15.0)


def read_vector_blocks(path: Path) -> list[np.ndarray]:
    """Blocks written by ``fix ave/time mode vector`` / ``fix ave/correlate``: one array (rows ×
    columns, without the row index) per output step after step 0 (``fix ave/correlate`` also
    writes one at step 0, from a single sample)."""
    blocks, rows, expect, step = [], [], 0, 0
    for line in path.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split()
        if expect == 0:
            step, expect, rows = int(parts[0]), int(parts[1]), []
            continue
        rows.append([float(x) for x in parts[1:]])
        expect -= 1
        if expect == 0 and step > 0:
            blocks.append(np.array(rows))
    return blocks


def analyse_temperature(folder: Path, structure: Structure, a: float, p: LiquidProtocol) -> tuple[dict, dict]:
    """All liquid properties at one temperature from the two stages' outputs, and the arrays
    for the plots (also written as gr.dat, sq.dat, msd.dat in ``folder``)."""
    from mlip_lammps.workflows.demo import parse_log

    species = structure.species
    eq_runs = parse_log(folder / "equilibrate" / LOG)["runs"]
    dens = eq_runs[2]
    n_atoms = parse_log(folder / "equilibrate" / LOG)["timings"][-1]["atoms"]
    volume, volume_err = an.block_average(dens["Volume"], 5)
    mass = sum(x * mass_g_mol(el) for el, x in structure.fractions.items()) * n_atoms
    rho_mass, rho_mass_err = an.density_g_cm3(mass, volume), an.density_g_cm3(mass, volume) * volume_err / volume

    prod = parse_log(folder / "production" / LOG)["runs"]
    temp = np.concatenate([r["Temp"] for r in prod])
    fsolid = np.concatenate([r["v_fsolid"] for r in prod])
    prod_dir = folder / "production"
    box_volume = _box_volume(prod_dir / "equilibrated.data")
    box_length = box_volume ** (1 / 3)
    rho = n_atoms / box_volume
    t_mean = float(temp.mean())

    # g(r): columns r, then (g, coordination) per histogram; the first histogram is the total
    rdf_blocks = read_vector_blocks(prod_dir / "rdf.dat")
    r = rdf_blocks[0][:, 0]
    g_all = np.array([blk[:, 1::2] for blk in rdf_blocks])  # blocks × bins × histograms
    g_mean = g_all.mean(axis=0)
    pairs = [(x, y) for i, x in enumerate(species) for y in species[i:]]
    partial = {pair: g_mean[:, k + (1 if len(species) > 1 else 0)] for k, pair in enumerate(pairs)}
    g_tot = g_mean[:, 0]
    r_peak, g_peak = an.first_peak(r, g_tot)
    r_min = an.first_minimum(r, g_tot)
    frac = structure.fractions
    cn_partial = {f"{a}-{b}": an.coordination_number(r, partial[(a, b) if (a, b) in partial else (b, a)], rho * frac[b], r_min)
                  for a in species for b in species}
    q = np.arange(0.5, 15.0 + 1e-9, 0.01)
    s_q = an.faber_ziman(r, partial, frac, rho, q)
    kq = int(np.argmax(s_q))
    s_bt = an.bhatia_thornton(r, partial, frac, rho, q) if len(species) == 2 else None

    # bond angles of first-shell neighbours: columns angle, distribution, cumulative
    adf = np.array([blk[:, 1] for blk in read_vector_blocks(prod_dir / "adf.dat")]).mean(axis=0)
    theta = read_vector_blocks(prod_dir / "adf.dat")[0][:, 0]

    # diffusion: one MSD curve per block, D per block
    dt_ps = p.timestep_fs / 1000
    msd = [np.loadtxt(prod_dir / f"msd_block{b + 1}.dat", comments="#", ndmin=2) for b in range(p.blocks)]
    t_msd = msd[0][:, 0] * dt_ps  # block 1 starts at step 0, every block has the same sampling
    t_block = p.block_steps * dt_ps
    t_fit0 = max(1.0, p.msd_fit_start * t_block)
    d_blocks = {el: np.array([an.fit_diffusion(t_msd, m[:, 1 + k], t_fit0) for m in msd]) for k, el in enumerate(species)}

    # viscosity: Green–Kubo per block
    acf_blocks = read_vector_blocks(prod_dir / "acf.dat")
    lag = acf_blocks[0][:, 0] * dt_ps
    acf = np.array([blk[:, 2:].mean(axis=1) for blk in acf_blocks])  # blocks × lags, bar²
    factor = an.viscosity_factor(box_volume, t_mean)
    eta_blocks = np.array([factor * an.green_kubo(lag, a_b, p.gk_cutoff_ps) for a_b in acf])
    eta_gk, eta_gk_err = an.mean_and_sem(eta_blocks)
    if p.viscosity_mPa_s is not None:
        eta, eta_err, source = p.viscosity_mPa_s * 1e-3, 0.0, "user (--viscosity)"
    else:
        eta, eta_err, source = eta_gk, eta_gk_err, "green-kubo"
    diffusion = {}
    for el in species:
        d, d_err = an.mean_and_sem(d_blocks[el] * an.A2_PS_TO_M2_S)
        entry = {"uncorrected": d, "uncorrected_err": d_err}
        if eta > 0:
            corr = an.yeh_hummer(d, t_mean, eta, box_length) - d
            entry.update(corrected=d + corr, corrected_err=float(np.hypot(d_err, corr * eta_err / eta)), yeh_hummer_correction=corr)
        else:
            entry.update(corrected=None, corrected_err=None, yeh_hummer_correction=None)
        diffusion[el] = entry

    out = {
        "temperature_K_mean": t_mean,
        "density_g_cm3": rho_mass, "density_err_g_cm3": rho_mass_err,
        "volume_A3_per_atom": volume / n_atoms, "number_density_A3": rho, "box_length_A": box_length,
        "gr_first_peak_height": g_peak, "gr_first_peak_r_A": r_peak, "gr_first_min_r_A": r_min,
        "coordination_number": an.coordination_number(r, g_tot, rho, r_min),
        "sq_first_peak_q_inv_A": float(q[kq]), "sq_first_peak_height": float(s_q[kq]),
        "diffusion_m2_s": diffusion,
        "viscosity_mPa_s": eta * 1e3, "viscosity_err_mPa_s": eta_err * 1e3, "viscosity_source": source,
        "viscosity_green_kubo_mPa_s": eta_gk * 1e3, "viscosity_green_kubo_err_mPa_s": eta_gk_err * 1e3,
        "viscosity_green_kubo_blocks_mPa_s": (eta_blocks * 1e3).tolist(),
        "solid_fraction_max": float(fsolid.max()),
        "bond_angle_peaks_deg": an.angle_distribution_peaks(theta, adf),
        "icosahedral_fraction_cna": float(np.concatenate([r_["v_fico"] for r_ in prod]).mean()),
        "voronoi_mean_faces": float(np.concatenate([r_["c_faces"] for r_ in prod]).mean()),
        "voronoi_12_face_fraction": float(np.concatenate([r_["v_ff12"] for r_ in prod]).mean()),
        "first_shell_cutoff_A": FIRST_SHELL * nearest_neighbour_distance(structure.lattice, a),
        "production_ps": p.blocks * t_block, "msd_fit_window_ps": [t_fit0, t_block], "gk_cutoff_ps": p.gk_cutoff_ps,
    }
    if len(species) > 1:
        out["coordination_numbers_partial"] = cn_partial
    if s_bt is not None:
        kcc = int(np.argmax(s_bt["S_CC"]))
        out["bhatia_thornton"] = {"S_NN_first_peak_q_inv_A": float(q[int(np.argmax(s_bt["S_NN"]))]),
                                  "S_CC_max": float(s_bt["S_CC"][kcc]), "S_CC_max_q_inv_A": float(q[kcc]),
                                  "S_CC_ideal": float(np.prod(list(frac.values())))}
    if eta_gk <= 0 or eta_gk_err > NOISY_VISCOSITY * abs(eta_gk):
        out["warning"] = (f"Green-Kubo viscosity {eta_gk * 1e3:.3g} ± {eta_gk_err * 1e3:.2g} mPa s is noisy "
                          f"(> {100 * NOISY_VISCOSITY:.0f}% error): run longer (--blocks/--block-steps) or pass --viscosity")
    if out["solid_fraction_max"] > 0.1:
        out["warning_crystallisation"] = f"up to {100 * out['solid_fraction_max']:.0f}% solid-like atoms: the liquid may be crystallising"
    arrays = {"r": r, "g": g_mean, "q": q, "s_q": s_q, "s_bt": s_bt, "theta": theta, "adf": adf, "t_msd": t_msd, "msd": np.array([m[:, 1:] for m in msd]).mean(axis=0),
              "lag": lag, "acf": acf, "factor": factor}
    _write_tables(folder, species, pairs, arrays)
    return out, arrays


def _box_volume(data_file: Path) -> float:
    """Volume (Å^3) of the orthogonal box of a LAMMPS data file."""
    volume = 1.0
    for line in data_file.read_text().splitlines()[:30]:
        parts = line.split()
        if parts[2:] in (["xlo", "xhi"], ["ylo", "yhi"], ["zlo", "zhi"]):
            volume *= float(parts[1]) - float(parts[0])
    return volume


def _write_tables(folder: Path, species: list[str], pairs: list, arrays: dict) -> None:
    names = ["total"] * (len(species) > 1) + [f"{a}-{b}" for a, b in pairs]
    np.savetxt(folder / "gr.dat", np.column_stack([arrays["r"], arrays["g"]]), header="r_A " + " ".join(f"g_{n}" for n in names))
    np.savetxt(folder / "sq.dat", np.column_stack([arrays["q"], arrays["s_q"]]), header="q_inv_A S_FZ(q)")
    if arrays["s_bt"] is not None:
        bt = arrays["s_bt"]
        np.savetxt(folder / "sq_bhatia_thornton.dat", np.column_stack([arrays["q"], bt["S_NN"], bt["S_NC"], bt["S_CC"]]),
                   header="q_inv_A S_NN S_NC S_CC")
    np.savetxt(folder / "adf.dat", np.column_stack([arrays["theta"], arrays["adf"]]),
               header="theta_deg P(theta) (first-shell bond angles, mean over blocks)")
    np.savetxt(folder / "msd.dat", np.column_stack([arrays["t_msd"], arrays["msd"]]),
               header="t_ps " + " ".join(f"msd_{el}_A2" for el in species) + " (mean over blocks)")


def _plot(results: dict, arrays: dict, species: list[str], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for k, (tk, a) in enumerate(arrays.items()):
        shift = 1.0 * k
        ax.plot(a["r"], a["g"][:, 0] + shift, label=f"{tk} K" + (" total" if len(species) > 1 else ""))
        if len(species) > 1:
            for j in range(1, a["g"].shape[1]):
                ax.plot(a["r"], a["g"][:, j] + shift, lw=0.7, ls="--")
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("g(r) (shifted by 1 per temperature)")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "gr.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for k, (tk, a) in enumerate(arrays.items()):
        ax.plot(a["q"], a["s_q"] + 0.5 * k, label=f"{tk} K")
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set_xlabel("q (1/Å)")
    ax.set_ylabel("S(q), Faber–Ziman (shifted by 0.5 per temperature)")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "sq.png", dpi=120)
    plt.close(fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for tk, a in arrays.items():
        for j, el in enumerate(species):
            d = results[tk]["diffusion_m2_s"][el]["uncorrected"] / an.A2_PS_TO_M2_S
            line, = ax1.plot(a["t_msd"], a["msd"][:, j], label=f"{el} {tk} K, D = {d * an.A2_PS_TO_M2_S:.3g} m²/s")
            t0, t1 = results[tk]["msd_fit_window_ps"]
            tt = np.array([t0, t1])
            ax1.plot(tt, a["msd"][:, j][np.searchsorted(a["t_msd"], t0)] + 6 * d * (tt - t0), color=line.get_color(), ls=":", lw=1)
        gk = np.array([an.running_integral(a["lag"], x) for x in a["acf"]]) * a["factor"] * 1e3
        ax2.plot(a["lag"], gk.mean(axis=0), label=f"{tk} K")
        ax2.fill_between(a["lag"], *(gk.mean(axis=0) + s * gk.std(axis=0, ddof=1) / np.sqrt(len(gk)) for s in (-1, 1)), alpha=0.3)
    ax2.axvline(results[next(iter(results))]["gk_cutoff_ps"], color="grey", ls=":")
    ax1.set_xlabel("t (ps)")
    ax1.set_ylabel("MSD (Å²), mean over blocks; dotted: fit")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("t (ps)")
    ax2.set_ylabel("Green–Kubo running integral η(t) (mPa·s)")
    ax2.legend(fontsize=7)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "msd.png", dpi=120)
    plt.close(fig)


def run_liquid(potential: Potential, structure: Structure, p: LiquidProtocol, out: Path, np_ranks: int = 1, threads: int = 1,
               lattice_constant: float | None = None) -> dict:
    """Run (or resume) the liquid workflow in ``out``; writes ``result.json`` and ``gr.png``,
    ``sq.png``, ``msd.png`` there and returns the result."""
    from mlip_lammps.workflows.demo import parse_log

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    a0 = lattice_constant or default_lattice_constant(structure)
    repeats = elongated_repeats(unit_cell(structure, a0), p.n_atoms, aspect=1.0)
    atoms = build(structure, repeats, a0, seed=p.seed)
    write_structure(atoms, out / "crystal.data", potential.types)
    results, arrays = {}, {}
    for t in p.temperatures:
        folder = out / f"{t:g}K"
        run_stage(folder / "equilibrate", equilibrate_input(potential, structure, a0, t, p),
                  p.melt_steps + p.equil_steps + p.density_steps + p.nvt_equil_steps, f"equilibrate {t:g} K", np_ranks, threads)
        fs_end = float(parse_log(folder / "equilibrate" / LOG)["runs"][2]["v_fsolid"][-1])
        if fs_end > 0.1:
            raise RuntimeError(f"at {t:g} K the cell is {100 * fs_end:.0f}% solid-like after melting at {p.melt_temperature:g} K "
                               "and cooling: raise --t-melt or choose a higher temperature")
        prod_dir = folder / "production"
        prod_dir.mkdir(parents=True, exist_ok=True)
        data = (folder / "equilibrate" / "equilibrated.data").read_bytes()
        if not (prod_dir / "equilibrated.data").is_file() or (prod_dir / "equilibrated.data").read_bytes() != data:
            (prod_dir / "equilibrated.data").write_bytes(data)
        box_length = _box_volume(prod_dir / "equilibrated.data") ** (1 / 3)
        run_stage(prod_dir, production_input(potential, structure, a0, t, box_length, p), p.blocks * p.block_steps,
                  f"production {t:g} K", np_ranks, threads)
        key = f"{t:g}"
        results[key], arrays[key] = analyse_temperature(folder, structure, a0, p)
        r = results[key]
        tqdm.write(f"  {t:g} K: density {r['density_g_cm3']:.4f} g/cm³, g(r) peak {r['gr_first_peak_height']:.3f} at "
                   f"{r['gr_first_peak_r_A']:.3f} Å, η = {r['viscosity_mPa_s']:.3g} ± {r['viscosity_err_mPa_s']:.2g} mPa·s, "
                   + ", ".join(f"D_{el} = {v['uncorrected']:.3g} m²/s" for el, v in r["diffusion_m2_s"].items()))
    result = {
        "temperatures": results,
        "potential": potential.label, "structure": structure.label, "n_atoms": len(atoms),
        "method": "NPT density at zero pressure; NVT production in blocks (errors: standard error over blocks); "
                  "S(q): Faber-Ziman from partial g(r), unit scattering lengths, Lorch window; "
                  "D: linear MSD fit, Yeh-Hummer corrected with eta; eta: Green-Kubo (shear stress ACF)",
        "protocol": {**asdict(p), "t_melt_K": p.melt_temperature},
        "lammps_loop_time_s": float(sum(tm["seconds"] for log in out.glob(f"*/*/{LOG}") for tm in parse_log(log)["timings"])),
        "wall_time_s": time.perf_counter() - t0,
    }
    (out / "result.json").write_text(json.dumps(result, indent=2))
    _plot(results, arrays, structure.species, out, f"{structure.label} — {potential.label}")
    return result


def add_arguments(ap: argparse.ArgumentParser) -> None:
    add_potential_arguments(ap)
    d = LiquidProtocol(temperatures=(0.0,))
    g = ap.add_argument_group("liquid protocol")
    g.add_argument("--temperatures", type=float, nargs="+", required=True, help="temperatures (K)")
    g.add_argument("--t-melt", type=float, help="temperature (K) at which the crystal is melted first (default 1.5 × max T)")
    g.add_argument("--n-atoms", type=int, default=d.n_atoms, help=f"about this many atoms in a near-cubic box (default {d.n_atoms})")
    g.add_argument("--timestep", type=float, default=d.timestep_fs, help=f"fs (default {d.timestep_fs:g})")
    g.add_argument("--equil-steps", type=int, default=d.equil_steps,
                   help=f"steps of melting and of cooling, each (default {d.equil_steps}); the density is averaged over twice as many")
    g.add_argument("--blocks", type=int, default=d.blocks, help=f"production blocks (default {d.blocks})")
    g.add_argument("--block-steps", type=int, default=d.block_steps, help=f"steps per block (default {d.block_steps})")
    g.add_argument("--gk-cutoff", type=float, default=d.gk_cutoff_ps, help=f"Green-Kubo integration limit (ps) (default {d.gk_cutoff_ps:g})")
    g.add_argument("--viscosity", type=float, help="shear viscosity (mPa·s) for the Yeh-Hummer correction instead of Green-Kubo")


def main(args: argparse.Namespace) -> int:
    structure = parse_structure(args.structure, args.composition)
    potential = potential_from_args(args, structure.species)
    n = args.equil_steps
    p = LiquidProtocol(temperatures=tuple(args.temperatures), t_melt=args.t_melt, n_atoms=args.n_atoms, timestep_fs=args.timestep,
                       melt_steps=n, equil_steps=n, density_steps=2 * n, nvt_equil_steps=max(n // 5, 10), blocks=args.blocks,
                       block_steps=args.block_steps, gk_cutoff_ps=args.gk_cutoff, viscosity_mPa_s=args.viscosity, seed=args.seed)
    r = run_liquid(potential, structure, p, Path(args.out).resolve(), args.np, args.threads, args.lattice_constant)
    print(f"liquid results for {', '.join(r['temperatures'])} K in {Path(args.out) / 'result.json'}")
    return 0
