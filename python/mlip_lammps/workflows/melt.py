"""``mlip melt``: melting temperature by solid–liquid coexistence (the interface method).

Protocol (times for the default 2 fs timestep):

1. *phases*: NPT (anisotropic, zero pressure) of the perfect crystal at the guess temperature
   T_guess, box lengths averaged over the second half; then the crystal is melted (NPT at
   1.6·T_guess) and the liquid equilibrated at T_guess with x and y at the crystal's lengths and only
   Lz barostatted, which gives the liquid's length.
2. *coexistence*, one per seed, box x and y fixed at the crystal's lengths: thermalise the crystal
   (NVT, T_guess); stretch the box so that the upper half has the liquid's length and melt it at
   1.6·T_guess with the lower half held (not integrated); cool the liquid to T_guess (lower half still
   held); then join them in the production run, NPH with only Lz barostatted (no thermostat after
   the set-up: it would remove the latent heat of crystal growing at the interfaces). The
   temperature drifts to the coexistence temperature and stays there while both phases persist.
3. Solid atoms are counted with the q6 bond-order criterion (structures.solid_fraction_lines). The
   solid fraction is rescaled to a crystal fraction between the single phases' values at T_guess
   (from stage 1): a hot or chemically disordered crystal is not all solid-like by q6 (72 % for a
   high-entropy carbide near its melting point), and a liquid not all liquid-like.
   A run *coexists* when its crystal fraction stays within (0.2, 0.8); its temperature is the mean over
   the second half of the production run (samples inside those bounds), with a block-average error.
   When a run melts (freezes) completely, T_guess was too high (low): the guess is bracketed and
   bisected and the run repeated. When the first coexisting run ends further than ``--t-refine``
   from T_guess it is a pilot: T_guess becomes its temperature and the runs start again from there.
4. Further runs (``--runs`` in all, seeds seed, seed+1, ...) at the final T_guess.

T_melt_K is the mean over the coexisting runs (pilot excluded); T_melt_err_K is the larger of the
standard error across runs and the combined block-average error. The temperature of a 1,024-atom
coexistence cell fluctuates by ~25 K with correlation times of ~10 ps, so single runs scatter by
~13 K (Cu_mishin1) and several runs are needed. Units: K, Å, ps, fs for the timestep.

For alloys this gives the temperature at which a random solid solution and a liquid *of the same
composition* coexist on the simulated time scale (no solute partitioning), not the solidus or
liquidus.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from mlip_lammps.workflows.analysis import block_average, mean_and_sem
from mlip_lammps.workflows.potential import (
    LOG, Potential, add_potential_arguments, lammps_header, potential_from_args, run_stage, write_structure)
from mlip_lammps.workflows.structures import (
    Structure, build, default_lattice_constant, elongated_repeats, parse_structure, solid_fraction_lines, unit_cell)

ALLOY_NOTE = ("alloy: T_melt_K is the temperature at which a random solid solution and a liquid of the same "
              "overall composition coexist on the simulated time scale (no solute partitioning between the "
              "phases); it is not the equilibrium solidus or liquidus")


class MeltError(RuntimeError):
    """No coexistence could be established."""


@dataclass
class MeltProtocol:
    """Parameters of the coexistence protocol (temperatures K, timestep fs, steps)."""

    t_guess: float
    runs: int = 10
    n_atoms: int = 1024
    repeats: tuple[int, int, int] | None = None
    timestep_fs: float = 2.0
    phase_steps: int = 5000
    setup_steps: int = 5000
    production_steps: int = 25000
    thermo_every: int = 50
    t_high_factor: float = 1.6
    t_step: float = 100.0
    t_refine: float = 15.0
    max_attempts: int = 6
    solid_fraction_bounds: tuple[float, float] = (0.2, 0.8)
    n_blocks: int = 5
    tdamp_ps: float = 0.1
    pdamp_ps: float = 1.0
    seed: int = 1

    def __post_init__(self) -> None:
        if self.phase_steps % 20 or self.phase_steps <= 0:
            raise ValueError(f"phase_steps must be a positive multiple of 20, got {self.phase_steps}")
        if self.production_steps < 2 * self.n_blocks * self.thermo_every:
            raise ValueError(f"production_steps {self.production_steps} too short for {self.n_blocks} blocks "
                             f"of samples every {self.thermo_every} steps over half the run")
        if self.t_guess <= 0 or self.runs < 1 or self.max_attempts < 1:
            raise ValueError("t_guess, runs and max_attempts must be positive")

    def setup_split(self) -> tuple[int, int, int]:
        """Steps of thermalise, melt and cool (1 : 3 : 1 of setup_steps)."""
        unit = max(1, self.setup_steps // 5)
        return unit, 3 * unit, unit


def phases_input(potential: Potential, structure: Structure, a: float, t: float, p: MeltProtocol) -> str:
    """Box lengths of both phases at ``t`` (K), zero pressure: NPT (anisotropic) of the perfect
    crystal (run 1); the crystal melted by NPT at t_high_factor·t (run 2); the liquid at ``t`` with x
    and y fixed at the crystal's mean lengths and only Lz barostatted (run 3)."""
    n = p.phase_steps
    th = p.t_high_factor * t
    return "\n".join([
        lammps_header(potential, "../crystal.data", p.timestep_fs, f"mlip melt: crystal and liquid box lengths at {t:g} K, zero pressure"),
        solid_fraction_lines(structure.lattice, a),
        "thermo_style    custom step time temp pe press lx ly lz v_fsolid",
        "thermo_modify   format float %.10g",
        f"thermo          {p.thermo_every}",
        f"velocity        all create {t:g} {p.seed} mom yes rot yes dist gaussian",
        "# 1. crystal; x and y lengths averaged over the second half of the run",
        "variable        lx equal lx",
        "variable        ly equal ly",
        f"fix             box all ave/time 10 {n // 20} {n // 2} v_lx v_ly",
        f"fix             npt all npt temp {t:g} {t:g} {p.tdamp_ps:g} aniso 0 0 {p.pdamp_ps:g}",
        f"run             {n}",
        "unfix           npt",
        "variable        Lx equal $(f_box[1])",
        "variable        Ly equal $(f_box[2])",
        "unfix           box",
        f"# 2. melt at {th:g} K",
        f"velocity        all create {th:g} {p.seed + 1} mom yes rot yes dist gaussian",
        f"fix             melt all npt temp {th:g} {th:g} {p.tdamp_ps:g} iso 0 0 {p.pdamp_ps:g}",
        f"run             {n // 2}",
        "unfix           melt",
        "# 3. liquid at T_guess, x and y at the crystal's lengths, Lz barostatted",
        "change_box      all x final $(xlo) $(xlo+v_Lx) y final $(ylo) $(ylo+v_Ly) remap units box",
        f"fix             liquid all npt temp {t:g} {t:g} {p.tdamp_ps:g} z 0 0 {p.pdamp_ps:g}",
        f"run             {n}",
        "",
    ])


def coexistence_input(potential: Potential, structure: Structure, phases: dict, t: float, seed: int, p: MeltProtocol) -> str:
    """Half-melted cell joined into a solid–liquid coexistence run (NPH, Lz barostatted)."""
    lx, ly, lz_s, lz_l = phases["lx_A"], phases["ly_A"], phases["lz_solid_A"], phases["lz_liquid_A"]
    n_th, n_melt, n_cool = p.setup_split()
    t_high = p.t_high_factor * t
    a = lx / p.repeats[0]  # the crystal's lattice constant along x at T_guess
    return "\n".join([
        lammps_header(potential, "../crystal.data", p.timestep_fs, f"mlip melt: solid-liquid coexistence from T_guess = {t:g} K, seed {seed}"),
        f"change_box      all x final 0 {lx:.8f} y final 0 {ly:.8f} z final 0 {lz_s:.8f} remap units box",
        solid_fraction_lines(structure.lattice, a),
        f"region          lower block INF INF INF INF INF {lz_s / 2:.8f} units box",
        "group           lower region lower",
        "group           upper subtract all lower",
        "thermo_style    custom step time temp pe press pzz lz v_fsolid",
        "thermo_modify   format float %.10g",
        f"thermo          {max(p.thermo_every, n_th // 4)}",
        f"velocity        all create {t:g} {seed} mom yes rot yes dist gaussian",
        "# 1. thermalise the crystal (box at the crystal's NPT lengths at T_guess)",
        f"fix             thermalise all nvt temp {t:g} {t:g} {p.tdamp_ps:g}",
        f"run             {n_th}",
        "unfix           thermalise",
        "# 2. give the upper half the liquid's length at T_guess (space opens above it), melt it",
        f"#    at {t_high:g} K; the lower half is held (not integrated)",
        f"change_box      all z final 0 {(lz_s + lz_l) / 2:.8f} units box",
        f"fix             melt upper nvt temp {t_high:g} {t_high:g} {p.tdamp_ps:g}",
        f"run             {n_melt}",
        "unfix           melt",
        "# 3. cool the liquid to T_guess, lower half still held",
        f"fix             cool upper nvt temp {t:g} {t:g} {p.tdamp_ps:g}",
        f"run             {n_cool}",
        "unfix           cool",
        "# 4. join and run: NPH with only Lz barostatted; T drifts to the coexistence temperature",
        f"thermo          {p.thermo_every}",
        f"fix             coexist all nph z 0 0 {p.pdamp_ps:g}",
        f"run             {p.production_steps}",
        "write_data      final.data",
        "",
    ])


def analyse_phases(log: Path) -> dict:
    """Mean box lengths (Å) of crystal and liquid over the second halves of their runs, their
    final solid fractions and the relative volume change on melting."""
    from mlip_lammps.workflows.demo import parse_log

    crystal, hot, liquid = parse_log(log)["runs"][-3:]
    hc, hl = len(crystal["Step"]) // 2, len(liquid["Step"]) // 2
    out = {
        "lx_A": float(crystal["Lx"][hc:].mean()), "ly_A": float(crystal["Ly"][hc:].mean()),
        "lz_solid_A": float(crystal["Lz"][hc:].mean()), "lz_liquid_A": float(liquid["Lz"][hl:].mean()),
        "temperature_K": float(crystal["Temp"][hc:].mean()), "pressure_crystal_bar": float(crystal["Press"][hc:].mean()),
        "solid_fraction_crystal": float(crystal["v_fsolid"][-1]), "solid_fraction_hot": float(hot["v_fsolid"][-1]),
        "solid_fraction_liquid": float(liquid["v_fsolid"][-1]),
        "solid_fraction_crystal_mean": float(crystal["v_fsolid"][hc:].mean()),
        "solid_fraction_liquid_mean": float(liquid["v_fsolid"][hl:].mean()),
    }
    out["volume_change_on_melting"] = out["lz_liquid_A"] / out["lz_solid_A"] - 1
    return out


def crystal_fraction(solid_fraction: np.ndarray, phases: dict) -> np.ndarray:
    """Fraction of the cell that is crystal: the q6 solid fraction rescaled between the mean values
    of the crystal (1) and of the liquid (0) at the same temperature (``analyse_phases``)."""
    fc, fl = phases["solid_fraction_crystal_mean"], phases["solid_fraction_liquid_mean"]
    if fc - fl < 0.3:
        raise MeltError(f"the q6 solid criterion does not tell the crystal ({100 * fc:.0f}% solid-like) from the "
                        f"liquid ({100 * fl:.0f}%) at {phases['temperature_K']:.0f} K")
    return (np.asarray(solid_fraction, dtype=float) - fl) / (fc - fl)


def analyse_coexistence(log: Path, p: MeltProtocol, phases: dict) -> dict:
    """Status and coexistence temperature of one run: *coexisting* when at least half of the
    second-half samples have a crystal fraction (``crystal_fraction``) inside the bounds, else
    *melted* or *frozen*."""
    from mlip_lammps.workflows.demo import parse_log

    runs = parse_log(log)["runs"]
    prod = runs[-1]
    t_ps = (prod["Step"] - prod["Step"][0]) * p.timestep_fs / 1000
    temp, fs = prod["Temp"], crystal_fraction(prod["v_fsolid"], phases)
    lo, hi = p.solid_fraction_bounds
    n_tail = max(1, len(fs) // 20)
    fs_final = float(fs[-n_tail:].mean())
    second = t_ps >= t_ps[-1] / 2
    valid = second & (fs > lo) & (fs < hi)
    out = {
        "solid_fraction_after_melting": float(runs[1]["v_fsolid"][-1]),
        "crystal_fraction_start": float(fs[0]), "crystal_fraction_final": fs_final,
        "production_ps": float(t_ps[-1]), "n_samples_used": int(valid.sum()),
        "time_ps": t_ps.tolist(), "temperature_K": temp.tolist(), "crystal_fraction": fs.tolist(),
    }
    if valid.sum() < max(p.n_blocks, second.sum() // 2):
        below, above = int((second & (fs <= lo)).sum()), int((second & (fs >= hi)).sum())
        out["status"] = "melted" if fs_final <= lo or (fs_final < hi and below >= above) else "frozen"
        return out
    mean, err = block_average(temp[valid], p.n_blocks)
    out.update(status="coexisting", T_mean_K=mean, T_err_blocks_K=err)
    return out


def _next_guess(t: float, lo: float | None, hi: float | None, step: float) -> float:
    if lo is not None and hi is not None:
        return 0.5 * (lo + hi)
    return t - step if hi is not None else t + step


def _plot(runs: list[dict], result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    for r in runs:
        lab = f"seed {r['seed']}, T_guess {r['T_guess_K']:g} K ({r['status']}{', pilot' if r.get('pilot') else ''})"
        t, temp = np.array(r["time_ps"]), np.array(r["temperature_K"])
        window = max(1, int(round(2.0 / (t[1] - t[0])))) if len(t) > 1 else 1
        smooth = np.convolve(temp, np.ones(window) / window, mode="valid")
        line, = ax1.plot(t[window - 1:], smooth, lw=1.2, label=lab)
        ax1.plot(t, temp, lw=0.5, alpha=0.25, color=line.get_color())
        ax2.plot(t, r["crystal_fraction"], lw=0.8, color=line.get_color())
    if result.get("T_melt_K") is not None:
        tm, err = result["T_melt_K"], result["T_melt_err_K"]
        ax1.axhline(tm, color="k", ls="--", lw=1, label=f"T_melt = {tm:.0f} ± {err:.0f} K")
    for b in result["protocol"]["solid_fraction_bounds"]:
        ax2.axhline(b, color="grey", ls=":", lw=1)
    ax1.set_ylabel("temperature (K); thick: 2 ps running mean")
    ax2.set_ylabel("crystal fraction (q6, rescaled)")
    ax2.set_xlabel("time in NPH coexistence (ps)")
    ax1.legend(fontsize=7)
    ax1.set_title(f"{result['structure']} — {result['potential']}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_melt(potential: Potential, structure: Structure, p: MeltProtocol, out: Path, np_ranks: int = 1, threads: int = 1,
             lattice_constant: float | None = None) -> dict:
    """Run (or resume) the coexistence workflow in ``out``; writes ``result.json`` and
    ``melt.png`` there and returns the result."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    a0 = lattice_constant or default_lattice_constant(structure)
    cell = unit_cell(structure, a0)
    p.repeats = p.repeats or elongated_repeats(cell, p.n_atoms, aspect=4.0)
    atoms = build(structure, p.repeats, a0, seed=p.seed)
    # atomic layers normal to z are half a cell apart in every lattice here; shifting them by a
    # quarter cell puts z = 0 and z = Lz/2 between layers, so each half holds exactly half the layers
    atoms.translate([0.0, 0.0, cell.cell.lengths()[2] / 4])
    atoms.wrap()
    write_structure(atoms, out / "crystal.data", potential.types)
    dt_ps = p.timestep_fs / 1000

    def phases_stage(t: float) -> dict:
        folder = out / f"phases_{t:g}K"
        run_stage(folder, phases_input(potential, structure, a0, t, p), 5 * p.phase_steps // 2, f"phases {t:g} K", np_ranks, threads)
        return analyse_phases(folder / LOG)

    def coexistence_stage(t: float, phases: dict, seed: int) -> dict:
        folder = out / f"coexist_{t:g}K_seed{seed}"
        total = sum(p.setup_split()) + p.production_steps
        run_stage(folder, coexistence_input(potential, structure, phases, t, seed, p), total,
                  f"coexistence {t:g} K seed {seed}", np_ranks, threads)
        r = analyse_coexistence(folder / LOG, p, phases)
        if r["solid_fraction_after_melting"] > 0.75:  # about 0.5 + the ordered liquid layers at the held crystal
            raise MeltError(f"the upper half did not melt at {p.t_high_factor * t:g} K within {p.setup_split()[1]} steps "
                            f"({100 * r['solid_fraction_after_melting']:.0f}% solid-like): increase --setup-steps")
        tqdm.write(f"  seed {seed}, T_guess {t:g} K: {r['status']}"
                   + (f", T = {r['T_mean_K']:.1f} ± {r['T_err_blocks_K']:.1f} K" if r["status"] == "coexisting" else
                      f" (crystal fraction {r['crystal_fraction_final']:.2f})"))
        return {"seed": seed, "T_guess_K": t, "folder": folder.name, **r}

    phases: dict[str, dict] = {}
    runs: list[dict] = []

    def attempt(t: float) -> str:
        """Phases and the first coexistence run at ``t``: 'coexisting', 'melted' or 'frozen'."""
        ph = phases[f"{t:g}"] = phases_stage(t)
        if ph["solid_fraction_hot"] > 0.1:
            raise MeltError(f"the crystal did not melt at {p.t_high_factor * t:g} K within {p.phase_steps // 2} steps "
                            f"({100 * ph['solid_fraction_hot']:.0f}% solid-like): increase --phase-steps")
        if ph["solid_fraction_crystal"] < 0.5 or ph["solid_fraction_liquid"] > 0.5:
            melted = ph["solid_fraction_crystal"] < 0.5
            tqdm.write(f"  at {t:g} K the {'crystal melted' if melted else 'liquid crystallised'} on its own")
            return "melted" if melted else "frozen"
        runs.append(coexistence_stage(t, ph, p.seed))
        return runs[-1]["status"]

    t, lo, hi = p.t_guess, None, None
    for _ in range(p.max_attempts):
        status = attempt(t)
        if status == "coexisting":
            break
        lo, hi = (lo, t) if status == "melted" else (t, hi)
        t = _next_guess(t, lo, hi, p.t_step)
    else:
        t = None
    if t is not None and abs(runs[-1]["T_mean_K"] - t) > p.t_refine:
        # the first run is a pilot: x, y lengths and start temperature belong at the coexistence temperature
        pilot, t_new = runs[-1], float(round(runs[-1]["T_mean_K"]))
        tqdm.write(f"  first run ended {pilot['T_mean_K'] - t:+.0f} K from T_guess: continuing at T_guess = {t_new:g} K")
        if attempt(t_new) == "coexisting":
            pilot["pilot"], t = True, t_new
        else:
            tqdm.write(f"  no coexistence from {t_new:g} K: continuing at T_guess = {t:g} K")
    if t is not None:
        for k in range(1, p.runs):
            runs.append(coexistence_stage(t, phases[f"{t:g}"], p.seed + k))

    used = [r for r in runs if r["status"] == "coexisting" and not r.get("pilot")]
    result: dict = {
        "T_melt_K": None, "T_melt_err_K": None,
        "method": "solid-liquid coexistence (interface method): NPH, only Lz barostatted, x and y at the crystal's "
                  "NPT lengths at T_guess; T = mean over the second half of each coexisting run",
        "potential": potential.label, "structure": structure.label, "n_atoms": len(atoms), "repeats": list(p.repeats),
        "interface_normal": "z (the conventional cell's c axis: [001] for cubic lattices, [0001] for hcp)",
        "solid_criterion": "q6 solid-like bonds (orientorder/atom + coord/atom orientorder, dot > 0.5, >= 8 bonds); "
                           "the solid fraction rescaled between the crystal's and the liquid's means at T_guess",
        "protocol": {**asdict(p), "production_ps": p.production_steps * dt_ps},
        "T_guess_used_K": t, "phases": phases,
    }
    if len(structure.species) > 1:
        result["note"] = ALLOY_NOTE
    if used:
        temps = np.array([r["T_mean_K"] for r in used])
        mean, sem_runs = mean_and_sem(temps)
        sem_blocks = float(np.sqrt(sum(r["T_err_blocks_K"] ** 2 for r in used)) / len(used))
        result.update(T_melt_K=mean, T_melt_err_K=max(sem_runs, sem_blocks), T_melt_err_runs_K=sem_runs,
                      T_melt_err_blocks_K=sem_blocks, n_runs_used=len(used))
    result["runs"] = [{k: v for k, v in r.items() if k not in ("time_ps", "temperature_K", "crystal_fraction")} for r in runs]
    result["lammps_loop_time_s"] = _loop_time(out)
    result["wall_time_s"] = time.perf_counter() - t0
    (out / "result.json").write_text(json.dumps(result, indent=2))
    if runs:
        _plot(runs, result, out / "melt.png")
    if not used:
        raise MeltError(f"no coexistence in {p.max_attempts} attempts (bracket: frozen at {lo}, melted at {hi} K); "
                        f"see {out / 'result.json'}; try another --t-guess or more --max-attempts")
    return result


def _loop_time(out: Path) -> float:
    """Total LAMMPS loop time (s) of every stage in ``out`` (including stages run earlier)."""
    from mlip_lammps.workflows.demo import parse_log

    return float(sum(t["seconds"] for log in out.glob(f"*/{LOG}") for t in parse_log(log)["timings"]))


def add_arguments(ap: argparse.ArgumentParser) -> None:
    add_potential_arguments(ap)
    g = ap.add_argument_group("coexistence protocol")
    d = MeltProtocol(t_guess=1.0)
    g.add_argument("--t-guess", type=float, required=True, help="first guess of the melting temperature (K)")
    g.add_argument("--runs", type=int, default=d.runs, help=f"independent coexistence runs (seeds) (default {d.runs})")
    g.add_argument("--n-atoms", type=int, default=d.n_atoms, help=f"about this many atoms, Lz = 4 Lx = 4 Ly (default {d.n_atoms})")
    g.add_argument("--repeats", type=int, nargs=3, metavar=("NX", "NY", "NZ"), help="conventional cells along x y z (overrides --n-atoms)")
    g.add_argument("--timestep", type=float, default=d.timestep_fs, help=f"fs (default {d.timestep_fs:g})")
    g.add_argument("--phase-steps", type=int, default=d.phase_steps,
                   help=f"NPT steps for the crystal's and for the liquid's box lengths, each (default {d.phase_steps}; multiple of 20)")
    g.add_argument("--setup-steps", type=int, default=d.setup_steps,
                   help=f"thermalise + melt + cool steps, split 1:3:1 (default {d.setup_steps})")
    g.add_argument("--production-steps", type=int, default=d.production_steps, help=f"NPH coexistence steps (default {d.production_steps})")
    g.add_argument("--thermo-every", type=int, default=d.thermo_every, help=f"sampling interval in steps (default {d.thermo_every})")
    g.add_argument("--t-step", type=float, default=d.t_step, help=f"T_guess change (K) after a run melts or freezes, before bisection (default {d.t_step:g})")
    g.add_argument("--t-refine", type=float, default=d.t_refine,
                   help=f"when the first coexisting run ends further than this (K) from T_guess, it is a pilot: the runs are "
                        f"repeated from its temperature (default {d.t_refine:g})")
    g.add_argument("--max-attempts", type=int, default=d.max_attempts, help=f"T_guess attempts (default {d.max_attempts})")


def main(args: argparse.Namespace) -> int:
    structure = parse_structure(args.structure, args.composition)
    potential = potential_from_args(args, structure.species)
    p = MeltProtocol(t_guess=args.t_guess, runs=args.runs, n_atoms=args.n_atoms, repeats=tuple(args.repeats) if args.repeats else None,
                     timestep_fs=args.timestep, phase_steps=args.phase_steps, setup_steps=args.setup_steps,
                     production_steps=args.production_steps, thermo_every=args.thermo_every, t_step=args.t_step,
                     t_refine=args.t_refine, max_attempts=args.max_attempts, seed=args.seed)
    r = run_melt(potential, structure, p, Path(args.out).resolve(), args.np, args.threads, args.lattice_constant)
    print(f"T_melt = {r['T_melt_K']:.1f} ± {r['T_melt_err_K']:.1f} K from {r['n_runs_used']} coexistence run(s) "
          f"({r['structure']}, {r['n_atoms']} atoms); {Path(args.out) / 'result.json'}")
    return 0
