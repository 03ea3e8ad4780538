"""``make demo``: train a Cu potential on shipped data, export it, run LAMMPS MD with it.

Writes ``OUT/model.pt``, ``OUT/log.lammps`` and ``OUT/summary.json`` (test-set errors, LAMMPS
µs/atom/step, NVE energy drift).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from mlip_lammps.lammps import run_lammps
from mlip_lammps.training.config import load_config
from mlip_lammps.training.trainer import train

DEMO_CONFIG = "examples/configs/cu_demo.yaml"  # relative to the repository root (make demo's cwd)

MD_INPUT = """\
# 4,000-atom fcc Cu with the freshly trained mlip model.
# No `plugin load` line: `mlip lmp` / LAMMPS_PLUGIN_PATH makes LAMMPS load the plugin.
units           metal
atom_style      atomic
boundary        p p p
lattice         fcc 3.615
region          box block 0 10 0 10 0 10
create_box      1 box
create_atoms    1 box
mass            1 63.546

pair_style      mlip model.pt
pair_coeff      * * Cu

neighbor        1.0 bin
neigh_modify    every 1 delay 0 check yes
timestep        0.001
velocity        all create {t_init} 4928459 mom yes rot yes dist gaussian
thermo_style    custom step time temp pe ke etotal press vol
thermo_modify   format float %.10g

# NVE: energy conservation and speed
thermo          10
fix             nve all nve
run             {nve_steps}
unfix           nve

# heat at constant pressure towards the melting range
thermo          50
fix             npt all npt temp {t_init} {t_hot} 0.1 iso 0.0 0.0 1.0
run             {npt_steps}
"""


def parse_log(log: Path) -> dict:
    """Thermo blocks and loop timings of a LAMMPS log."""
    text = log.read_text()
    runs, timings = [], []
    lines = text.splitlines()
    k = 0
    while k < len(lines):
        if lines[k].split()[:1] == ["Step"]:
            cols = lines[k].split()
            rows = []
            k += 1
            while k < len(lines) and not lines[k].startswith("Loop time"):
                parts = lines[k].split()
                if len(parts) == len(cols):
                    try:
                        rows.append([float(p) for p in parts])
                    except ValueError:
                        pass
                k += 1
            runs.append({c: np.array([r[i] for r in rows]) for i, c in enumerate(cols)})
            m = re.match(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms", lines[k] if k < len(lines) else "")
            if m:
                timings.append({"seconds": float(m[1]), "procs": int(m[2]), "steps": int(m[3]), "atoms": int(m[4])})
        k += 1
    return {"runs": runs, "timings": timings}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="runs/demo")
    ap.add_argument("--config", default=DEMO_CONFIG)
    ap.add_argument("--nve-steps", type=int, default=200)
    ap.add_argument("--npt-steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2, help="torch threads in LAMMPS")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)

    print(f"[1/3] training ({args.config})", flush=True)
    cfg = load_config(args.config, [f"output={out}"])
    metrics = train(cfg)
    test = metrics.get("test", metrics["valid"])

    print("[2/3] LAMMPS MD with pair_style mlip", flush=True)
    (out / "in.demo").write_text(MD_INPUT.format(t_init=600.0, t_hot=1600.0, nve_steps=args.nve_steps, npt_steps=args.npt_steps))
    t0 = time.perf_counter()
    run_lammps("in.demo", cwd=out, threads=args.threads)
    wall = time.perf_counter() - t0
    log = parse_log(out / "log.lammps")
    nve, npt = log["runs"][0], log["runs"][1]
    timing = log["timings"][0]
    n_atoms = timing["atoms"]
    us_per_atom_step = 1e6 * timing["seconds"] / (timing["steps"] * n_atoms)
    etot = nve["TotEng"] / n_atoms
    t_ps = nve["Time"] - nve["Time"][0]
    slope = float(np.polyfit(t_ps, etot, 1)[0]) if len(t_ps) > 2 else float("nan")

    summary = {
        "model": str(out / "model.pt"),
        "training_time_s": metrics["training_time_s"],
        "epochs": metrics["epochs"],
        "test_set": str(cfg.data.test),
        "test_energy_rmse_meV_per_atom": round(test["energy_rmse_meV_per_atom"], 3),
        "test_forces_rmse_meV_per_A": round(test["forces_rmse_meV_per_A"], 2),
        "test_stress_rmse_GPa": round(test["stress_rmse_GPa"], 4),
        "lammps_atoms": n_atoms,
        "lammps_threads": args.threads,
        "lammps_us_per_atom_step": round(us_per_atom_step, 2),
        "nve_steps": timing["steps"],
        "nve_timestep_fs": 1.0,
        "nve_energy_drift_eV_per_atom": float(etot[-1] - etot[0]),
        "nve_energy_max_deviation_eV_per_atom": float(np.abs(etot - etot[0]).max()),
        "nve_energy_drift_slope_eV_per_atom_per_ps": slope,
        "npt_final_temperature_K": float(npt["Temp"][-1]),
        "npt_final_volume_A3_per_atom": float(npt["Volume"][-1] / n_atoms),
        "lammps_wall_s": round(wall, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print("[3/3] summary (runs/demo/summary.json)")
    for k, v in summary.items():
        print(f"  {k:42s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
