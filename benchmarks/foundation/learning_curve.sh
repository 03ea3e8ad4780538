#!/usr/bin/env bash
# Active learning vs random selection with SevenNet-0 as the teacher (needs sevenn; ~40 min each
# on one core, run side by side), then the table and plot.
set -euo pipefail
cd "$(dirname "$0")/../.."
cfg=benchmarks/foundation/configs/distill_carbide.yaml
.venv/bin/mlip distill "$cfg" > runs/distill_deviation.log 2>&1 &
.venv/bin/mlip distill "$cfg" --set output=../../../runs/distill/carbide_random --set active_learning.selection=random \
  > runs/distill_random.log 2>&1 &
wait
.venv/bin/python benchmarks/foundation/learning_curve.py
