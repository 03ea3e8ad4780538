#!/usr/bin/env bash
# LAMMPS speed and peak memory of pair_style deepmd, 1 MPI rank, 1 thread, fcc Cu.
#
#   benchmarks/deepmd/lmp_speed.sh [SYSTEM_DIR] [REP] [STEPS]
#     SYSTEM_DIR: folder with frozen_model.pb and compressed_model.pb (default runs/deepmd/cu)
#     REP: fcc cells per edge (10 -> 4,000 atoms); STEPS: timed steps after 5 warm-up steps (20)
#
# Reads the "Loop time" of the timed run (the second `run`, so TensorFlow start-up and the first
# graph execution are excluded), LAMMPS' "% CPU use" of that run (below 100 % the core was
# shared with other jobs; us_per_atom_step_cpu_time = wall figure x CPU use) and the max RSS of the whole process from /usr/bin/time -v.
# Writes SYSTEM_DIR/lammps_speed.json and leaves the logs in SYSTEM_DIR/lammps/.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="$(cd "${1:-$REPO/runs/deepmd/cu}" && pwd)"; REP=${2:-10}; STEPS=${3:-20}
export OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2
export DP_INTRA_OP_PARALLELISM_THREADS=1 DP_INTER_OP_PARALLELISM_THREADS=1
mkdir -p "$DIR/lammps"; cd "$DIR/lammps"
for m in frozen compressed; do
  [ -z "${SKIP_RUN:-}" ] || break   # SKIP_RUN=1: only re-parse existing logs
  /usr/bin/time -v -o time_$m.txt "$REPO/.venv-deepmd/bin/lmp" -in "$REPO/benchmarks/deepmd/in.speed" \
    -var model "$DIR/${m}_model.pb" -var rep "$REP" -var steps "$STEPS" -log log_$m.lammps -screen none \
    > stdout_$m.txt 2>&1 || { tail -20 log_$m.lammps stdout_$m.txt >&2; exit 1; }
done
"$REPO/.venv-deepmd/bin/python" - "$DIR" <<'PY'
import json, re, sys, os, platform
from pathlib import Path
d = Path(sys.argv[1]); res = {"host": platform.node(), "load_average_at_end": os.getloadavg(), "threads": 1, "mpi_ranks": 1}
for m in ("frozen", "compressed"):
    log = (d / "lammps" / f"log_{m}.lammps").read_text()
    t, p, n, a = re.findall(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms", log)[-1]
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", (d / "lammps" / f"time_{m}.txt").read_text()).group(1))
    res[m] = {"model": str(d / f"{m}_model.pb"), "atoms": int(a), "steps": int(n), "loop_time_s": float(t),
              "us_per_atom_step": 1e6 * float(t) / (int(a) * int(n)),
              "max_rss_MB": rss / 1024, "max_rss_MB_per_atom": rss / 1024 / int(a)}
    cpu = re.findall(r"([\d.]+)% CPU use with", log)
    if cpu:  # LAMMPS' own CPU-use figure for the timed run: < 100 % means the core was shared
        res[m]["lammps_cpu_use_percent"] = float(cpu[-1])
        res[m]["us_per_atom_step_cpu_time"] = res[m]["us_per_atom_step"] * float(cpu[-1]) / 100
(d / "lammps_speed.json").write_text(json.dumps(res, indent=2) + "\n")
print(json.dumps(res, indent=2))
PY
