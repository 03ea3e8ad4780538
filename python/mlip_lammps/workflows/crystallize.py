"""``mlip crystallize``: crystallisation of the liquid on continuous cooling and at fixed undercooling.

LAMMPS stages: ``OUT/melt/``, the crystal melted by NPT at ``--t-melt`` (default 1.5·t_start)
and held at ``--t-start``; ``OUT/cooling/``, the melt cooled at zero pressure (NPT, linear
temperature ramp) to ``--t-end`` at ``--rate`` (K/ps); ``OUT/isothermal_<T>K/`` for each
``--isothermal T``, the melt quenched to T and held there (NPT, zero pressure) for ``--hold-ps``,
sampling the largest cluster of solid-like atoms (q6 bonds, ``compute cluster/atom`` with the
solid-bond cutoff): the time to nucleate is when it first reaches ``--nucleus-size`` atoms (a
post-critical nucleus at typical undercoolings; None if it never does).
Sampled along the ramp: potential energy per atom, volume, the q6 solid-like fraction
(structures.solid_fraction_lines) and common-neighbour-analysis fractions (``compute cna/atom``:
fcc, hcp, bcc, icosahedral, other).

Onsets (K): ``T_onset_pe_K``, where the potential energy first falls persistently (5 consecutive
samples) more than 5 residual standard deviations below a straight line fitted to the liquid's
first quarter of the ramp (the latent heat released on crystallisation); ``T_onset_structure_K``,
from which the crystalline CNA fraction (fcc + hcp + bcc, with the cutoff of the given lattice)
stays above ``--crystal-threshold``. Both are None when the liquid does not crystallise (glass or
too fast cooling); ``crystallized`` means that more than half of the atoms end crystalline. The q6
solid-like fraction is recorded too, but it also grows in the deeply undercooled liquid (local
icosahedral-like order) without crystallisation, so it does not define the onset. They depend on the cooling rate and system
size (homogeneous nucleation): they are kinetic undercooling limits, not equilibrium temperatures.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mlip_lammps.workflows.analysis import onset_below_trend
from mlip_lammps.workflows.potential import (
    LOG, Potential, add_potential_arguments, lammps_header, melt_lines, potential_from_args, run_stage, write_structure)
from mlip_lammps.workflows.structures import (
    Structure, build, default_lattice_constant, elongated_repeats, nearest_neighbour_distance, parse_structure,
    solid_fraction_lines, unit_cell)

CNA_TYPES = ("fcc", "hcp", "bcc", "ico", "other")  # compute cna/atom values 1..5


@dataclass
class CoolingProtocol:
    """Cooling parameters (K, K/ps, fs, steps)."""

    t_start: float
    t_end: float | None = None  # with rate_K_ps: the cooling ramp (None: no ramp)
    rate_K_ps: float | None = None
    t_melt: float | None = None
    isothermal: tuple[float, ...] = ()  # hold temperatures (K) for isothermal nucleation
    hold_ps: float = 100.0
    nucleus_size: int = 100
    n_atoms: int = 2048
    timestep_fs: float = 2.0
    melt_steps: int = 5000
    thermo_every: int = 100
    crystal_threshold: float = 0.1
    tdamp_ps: float = 0.1
    pdamp_ps: float = 1.0
    seed: int = 1

    def __post_init__(self) -> None:
        if (self.t_end is None) != (self.rate_K_ps is None):
            raise ValueError("a cooling ramp needs both t_end and rate")
        if self.t_end is None and not self.isothermal:
            raise ValueError("nothing to do: give a cooling ramp (t_end and rate) and/or isothermal temperatures")
        if self.t_end is not None and not self.t_start > self.t_end > 0:
            raise ValueError(f"need t_start > t_end > 0, got {self.t_start} and {self.t_end}")
        if self.rate_K_ps is not None and self.rate_K_ps <= 0:
            raise ValueError(f"cooling rate must be positive, got {self.rate_K_ps}")
        bad = [t for t in self.isothermal if not 0 < t < self.t_start]
        if bad:
            raise ValueError(f"isothermal temperatures must lie between 0 and t_start = {self.t_start:g} K, got {bad}")

    @property
    def melt_temperature(self) -> float:
        return self.t_melt if self.t_melt is not None else 1.5 * self.t_start

    @property
    def cooling_steps(self) -> int:
        return int(round((self.t_start - self.t_end) / self.rate_K_ps / (self.timestep_fs / 1000)))

    @property
    def hold_steps(self) -> int:
        return int(round(self.hold_ps / (self.timestep_fs / 1000)))


def cna_lines(lattice: str, a: float) -> str:
    """LAMMPS lines defining ``v_f_fcc`` … ``v_f_other``, the CNA fractions, with the cutoff between
    the first and second neighbour shells of ``lattice`` (Å, from the lattice constant ``a``)."""
    d = nearest_neighbour_distance(lattice, a)
    cutoff = 1.394 * d if lattice in ("bcc", "b2") else 1.207 * d
    lines = [f"compute         cna all cna/atom {cutoff:.4f}"]
    for k, name in enumerate(CNA_TYPES, start=1):
        lines += [f"variable        is_{name} atom c_cna=={k}",
                  f"compute         n_{name} all reduce sum v_is_{name}",
                  f"variable        f_{name} equal c_n_{name}/atoms"]
    return "\n".join(lines)


def melt_input(potential: Potential, structure: Structure, a: float, p: CoolingProtocol) -> str:
    """Melt the crystal by NPT at the melting temperature, then hold the liquid at t_start."""
    tm = p.melt_temperature
    return "\n".join([
        lammps_header(potential, "../crystal.data", p.timestep_fs, f"mlip crystallize: melt at {tm:g} K, hold at {p.t_start:g} K"),
        solid_fraction_lines(structure.lattice, a),
        "thermo_style    custom step time temp pe vol v_fsolid",
        "thermo_modify   format float %.10g",
        f"thermo          {p.thermo_every}",
        *melt_lines(tm, p.seed, p.melt_steps, p.tdamp_ps, p.pdamp_ps),
        f"fix             npt all npt temp {p.t_start:g} {p.t_start:g} {p.tdamp_ps:g} iso 0 0 {p.pdamp_ps:g}",
        f"run             {p.melt_steps}",
        "write_data      melt.data",
        "",
    ])


def _npt_stage(potential: Potential, structure: Structure, a: float, p: CoolingProtocol, title: str, t0: float,
               t1: float, steps: int, extra: list[str], extra_thermo: str = "") -> str:
    """An NPT stage of the melt from t0 to t1 (K) over ``steps``, sampling the potential energy,
    the q6 solid-like and CNA fractions (and ``extra_thermo``, defined by the ``extra`` lines)."""
    fractions = " ".join(f"v_f_{n}" for n in CNA_TYPES)
    return "\n".join([
        lammps_header(potential, "../melt/melt.data", p.timestep_fs, title),
        solid_fraction_lines(structure.lattice, a),
        cna_lines(structure.lattice, a),
        *extra,
        "variable        pe_atom equal pe/atoms",
        f"thermo_style    custom step time temp pe v_pe_atom vol v_fsolid {extra_thermo}{fractions}",
        "thermo_modify   format float %.10g",
        f"thermo          {p.thermo_every}",
        f"fix             npt all npt temp {t0:g} {t1:g} {p.tdamp_ps:g} iso 0 0 {p.pdamp_ps:g}",
        f"run             {steps}",
        "write_data      final.data",
        "",
    ])


def cooling_input(potential: Potential, structure: Structure, a: float, p: CoolingProtocol) -> str:
    """Linear NPT cooling ramp of the melt from t_start to t_end, sampling energy and structure."""
    return _npt_stage(potential, structure, a, p,
                      f"mlip crystallize: cool from {p.t_start:g} K to {p.t_end:g} K at {p.rate_K_ps:g} K/ps",
                      p.t_start, p.t_end, p.cooling_steps, [])


def analyse_cooling(log: Path, p: CoolingProtocol) -> dict:
    """Onset temperatures and structure fractions along the cooling ramp."""
    from mlip_lammps.workflows.demo import parse_log

    ramp = parse_log(log)["runs"][-1]
    # the ramp's set-point temperature (the instantaneous one fluctuates)
    t_set = p.t_start + (p.t_end - p.t_start) * (ramp["Step"] - ramp["Step"][0]) / p.cooling_steps
    pe, fs = ramp["v_pe_atom"], ramp["v_fsolid"]
    crystalline = ramp["v_f_fcc"] + ramp["v_f_hcp"] + ramp["v_f_bcc"]
    quarter = t_set >= p.t_start - 0.25 * (p.t_start - p.t_end)
    k_pe = onset_below_trend(t_set, pe, quarter)
    above = crystalline > p.crystal_threshold
    k_st = next((k for k in range(len(above)) if above[k:].all()), None)
    final = {n: float(ramp[f"v_f_{n}"][-1]) for n in CNA_TYPES}
    return {
        "T_onset_pe_K": float(t_set[k_pe]) if k_pe is not None else None,
        "T_onset_structure_K": float(t_set[k_st]) if k_st is not None else None,
        "crystallized": bool(crystalline[-1] > 0.5),
        "final_crystalline_fraction": float(crystalline[-1]),
        "final_solid_fraction": float(fs[-1]),
        "final_cna_fractions": final,
        "final_pe_eV_per_atom": float(pe[-1]),
        "series": {"T_set_K": t_set.tolist(), "T_K": ramp["Temp"].tolist(), "pe_eV_per_atom": pe.tolist(),
                   "volume_A3": ramp["Volume"].tolist(), "solid_fraction": fs.tolist(),
                   **{f"cna_{n}": ramp[f"v_f_{n}"].tolist() for n in CNA_TYPES}},
    }


def isothermal_input(potential: Potential, structure: Structure, a: float, p: CoolingProtocol, temperature: float) -> str:
    """The melt quenched to ``temperature`` and held (NPT, zero pressure), sampling the largest
    cluster of solid-like atoms, the solid-like and CNA fractions."""
    bond = 1.35 * nearest_neighbour_distance(structure.lattice, a)  # as the q6 solid bonds
    clusters = [
        # clusters of solid-like atoms; atom 1 always belongs to the group so that it is never
        # empty (an empty chunk vector cannot be reduced), which can only make a cluster of 1
        "variable        in_solid atom v_solid||(id==1)",
        f"group           solidlike dynamic all var in_solid every {p.thermo_every}",
        f"compute         cluster solidlike cluster/atom {bond:.4f}",
        "compute         cchunk solidlike chunk/atom c_cluster nchunk every ids every compress yes",
        "compute         csize solidlike property/chunk cchunk count",
        "variable        nmax equal max(c_csize)",
    ]
    return _npt_stage(potential, structure, a, p, f"mlip crystallize: isothermal at {temperature:g} K", temperature,
                      temperature, p.hold_steps, clusters, "v_nmax ")


def analyse_isothermal(log: Path, p: CoolingProtocol) -> dict:
    """Time to nucleate (ps) and the largest solid-like cluster vs time of one isothermal hold."""
    from mlip_lammps.workflows.demo import parse_log

    run = parse_log(log)["runs"][-1]
    t = (run["Step"] - run["Step"][0]) * p.timestep_fs / 1000.0
    nmax = run["v_nmax"]
    k = next((k for k in range(len(nmax)) if nmax[k] >= p.nucleus_size), None)
    return {
        "time_to_nucleate_ps": float(t[k]) if k is not None else None,
        "largest_cluster_final": int(nmax[-1]),
        "final_solid_fraction": float(run["v_fsolid"][-1]),
        "final_cna_fractions": {n: float(run[f"v_f_{n}"][-1]) for n in CNA_TYPES},
        "mean_temperature_K": float(run["Temp"][len(t) // 10 :].mean()),
        "series": {"t_ps": t.tolist(), "largest_cluster": nmax.tolist(), "solid_fraction": run["v_fsolid"].tolist(),
                   "pe_eV_per_atom": run["v_pe_atom"].tolist()},
    }


def _plot_isothermal(iso: dict, p: CoolingProtocol, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for temp, r in iso.items():
        label = f"{temp} K" + (f": nucleates at {r['time_to_nucleate_ps']:.0f} ps" if r["time_to_nucleate_ps"] is not None else "")
        ax.plot(r["series"]["t_ps"], r["series"]["largest_cluster"], lw=1, label=label)
    ax.axhline(p.nucleus_size, color="k", ls=":", lw=1, label=f"nucleus size {p.nucleus_size}")
    ax.set_xlabel("time at temperature (ps)")
    ax.set_ylabel("largest solid-like cluster (atoms)")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot(r: dict, p: CoolingProtocol, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = r["series"]
    t = np.array(s["T_set_K"])
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    ax1.plot(t, s["pe_eV_per_atom"], lw=0.8)
    ax1.set_ylabel("potential energy (eV/atom)")
    ax2.plot(t, s["solid_fraction"], color="k", lw=1.2, label="solid-like (q6)")
    for n in CNA_TYPES[:4]:
        ax2.plot(t, s[f"cna_{n}"], lw=0.8, label=f"CNA {n}")
    for ax in (ax1, ax2):
        for key, ls in (("T_onset_pe_K", "--"), ("T_onset_structure_K", ":")):
            if r[key] is not None:
                ax.axvline(r[key], color="r", ls=ls, lw=1, label=f"{key} = {r[key]:.0f} K" if ax is ax1 else None)
    if r["T_onset_pe_K"] is not None or r["T_onset_structure_K"] is not None:
        ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    ax2.set_ylabel("fraction of atoms")
    ax2.set_xlabel(f"set-point temperature (K), cooling at {p.rate_K_ps:g} K/ps")
    ax2.invert_xaxis()
    ax1.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_crystallize(potential: Potential, structure: Structure, p: CoolingProtocol, out: Path, np_ranks: int = 1,
                    threads: int = 1, lattice_constant: float | None = None) -> dict:
    """Run (or resume) the cooling workflow in ``out``; writes ``result.json`` and
    ``crystallize.png`` there and returns the result."""
    from mlip_lammps.workflows.demo import parse_log

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    a0 = lattice_constant or default_lattice_constant(structure)
    atoms = build(structure, elongated_repeats(unit_cell(structure, a0), p.n_atoms, aspect=1.0), a0, seed=p.seed)
    write_structure(atoms, out / "crystal.data", potential.types)
    run_stage(out / "melt", melt_input(potential, structure, a0, p), 2 * p.melt_steps, "melt", np_ranks, threads)
    fs = parse_log(out / "melt" / LOG)["runs"][-1]["v_fsolid"][-1]
    if fs > 0.05:
        raise RuntimeError(f"{100 * fs:.0f}% of the atoms are solid-like after melting at {p.melt_temperature:g} K and "
                           f"holding at {p.t_start:g} K: raise --t-melt or --t-start")
    result: dict = {"potential": potential.label, "structure": structure.label, "n_atoms": len(atoms)}
    stages = ["melt"]
    if p.rate_K_ps is not None:
        run_stage(out / "cooling", cooling_input(potential, structure, a0, p), p.cooling_steps, "cooling", np_ranks,
                  threads)
        stages.append("cooling")
        r = analyse_cooling(out / "cooling" / LOG, p)
        result.update({
            "T_onset_pe_K": r["T_onset_pe_K"], "T_onset_structure_K": r["T_onset_structure_K"],
            "crystallized": r["crystallized"], "final_crystalline_fraction": r["final_crystalline_fraction"],
            "final_solid_fraction": r["final_solid_fraction"],
            "final_cna_fractions": r["final_cna_fractions"],
            "rate_K_per_ps": p.rate_K_ps, "rate_K_per_s": p.rate_K_ps * 1e12,
        })
        (out / "cooling.json").write_text(json.dumps(r["series"]))
        _plot(r, p, out / "crystallize.png", f"{structure.label} — {potential.label}")
    if p.isothermal:
        iso = {}
        for temp in p.isothermal:
            stage = f"isothermal_{temp:g}K"
            run_stage(out / stage, isothermal_input(potential, structure, a0, p, temp), p.hold_steps, stage, np_ranks,
                      threads)
            stages.append(stage)
            iso[f"{temp:g}"] = analyse_isothermal(out / stage / LOG, p)
        result["isothermal"] = {t: {k: v for k, v in r.items() if k != "series"} for t, r in iso.items()}
        (out / "isothermal.json").write_text(json.dumps({t: r["series"] for t, r in iso.items()}))
        _plot_isothermal(iso, p, out / "nucleation.png", f"{structure.label} — {potential.label}")
    result.update({
        "method": "NPT (zero pressure). Cooling: linear ramp of the melt; onsets from the potential-energy drop below "
                  "the liquid trend and from the CNA crystalline (fcc+hcp+bcc) fraction. Isothermal: melt quenched to T "
                  "and held; time to nucleate = first time the largest cluster of q6 solid-like atoms reaches "
                  "nucleus_size",
        "protocol": {**asdict(p), "t_melt_K": p.melt_temperature,
                     "cooling_steps": p.cooling_steps if p.rate_K_ps is not None else 0,
                     "hold_steps": p.hold_steps if p.isothermal else 0},
        "lammps_loop_time_s": float(sum(tm["seconds"] for stage in stages
                                        for tm in parse_log(out / stage / LOG)["timings"])),
        "wall_time_s": time.perf_counter() - t0,
    })
    (out / "result.json").write_text(json.dumps(result, indent=2))
    return result


def add_arguments(ap: argparse.ArgumentParser) -> None:
    add_potential_arguments(ap)
    d = CoolingProtocol(t_start=2.0, t_end=1.0, rate_K_ps=1.0)
    g = ap.add_argument_group("cooling protocol")
    g.add_argument("--t-start", type=float, required=True, help="starting temperature (K) of the ramp, above the melting point")
    g.add_argument("--t-melt", type=float, help="temperature (K) at which the crystal is melted first (default 1.5 × t_start)")
    g.add_argument("--t-end", type=float, help="final temperature (K) of the cooling ramp")
    g.add_argument("--rate", type=float, help="cooling rate (K/ps; 1 K/ps = 1e12 K/s)")
    g.add_argument("--isothermal", type=float, nargs="+", default=[], metavar="T",
                   help="also (or instead) hold the melt at these undercooled temperatures (K): isothermal nucleation")
    g.add_argument("--hold-ps", type=float, default=d.hold_ps, help=f"duration of each isothermal hold (ps, default {d.hold_ps:g})")
    g.add_argument("--nucleus-size", type=int, default=d.nucleus_size,
                   help=f"largest-cluster size (atoms) that counts as nucleated (default {d.nucleus_size})")
    g.add_argument("--n-atoms", type=int, default=d.n_atoms, help=f"about this many atoms in a near-cubic box (default {d.n_atoms})")
    g.add_argument("--timestep", type=float, default=d.timestep_fs, help=f"fs (default {d.timestep_fs:g})")
    g.add_argument("--melt-steps", type=int, default=d.melt_steps,
                   help=f"steps at t_melt, and again at t_start, before cooling (default {d.melt_steps})")
    g.add_argument("--thermo-every", type=int, default=d.thermo_every, help=f"sampling interval in steps (default {d.thermo_every})")
    g.add_argument("--crystal-threshold", type=float, default=d.crystal_threshold,
                   help=f"crystalline (CNA fcc+hcp+bcc) fraction that marks the structural onset (default {d.crystal_threshold:g})")


def main(args: argparse.Namespace) -> int:
    structure = parse_structure(args.structure, args.composition)
    potential = potential_from_args(args, structure.species)
    p = CoolingProtocol(t_start=args.t_start, t_end=args.t_end, rate_K_ps=args.rate, t_melt=args.t_melt,
                        isothermal=tuple(args.isothermal), hold_ps=args.hold_ps, nucleus_size=args.nucleus_size,
                        n_atoms=args.n_atoms, timestep_fs=args.timestep, melt_steps=args.melt_steps,
                        thermo_every=args.thermo_every, crystal_threshold=args.crystal_threshold, seed=args.seed)
    r = run_crystallize(potential, structure, p, Path(args.out).resolve(), args.np, args.threads, args.lattice_constant)
    fmt = lambda v, unit: "none" if v is None else f"{v:.0f} {unit}"  # noqa: E731
    if p.rate_K_ps is not None:
        print(f"cooling at {p.rate_K_ps:g} K/ps: crystallisation onset {fmt(r['T_onset_pe_K'], 'K')} (energy), "
              f"{fmt(r['T_onset_structure_K'], 'K')} (structure)")
    for temp, x in r.get("isothermal", {}).items():
        print(f"isothermal {temp} K: nucleation after {fmt(x['time_to_nucleate_ps'], 'ps')}, largest cluster "
              f"{x['largest_cluster_final']} atoms at the end")
    print(Path(args.out) / "result.json")
    return 0
