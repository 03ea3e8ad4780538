#!/usr/bin/env bash
# Train the shipped default models and copy them (with config and metrics) into models/.
# Usage: benchmarks/accuracy/train_shipped.sh [cu] [cuzr] [hea]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
for sys in "${@:-cu cuzr hea}"; do
  # a short first round (configs/<sys>_round1.yaml, where there is one) whose learned screening,
  # projected onto MEAM windows, starts the main stage (model.screening_from)
  if [[ -f "benchmarks/accuracy/configs/${sys}_round1.yaml" ]]; then
    .venv/bin/mlip-train "benchmarks/accuracy/configs/${sys}_round1.yaml" --quiet
  fi
  .venv/bin/mlip-train "benchmarks/accuracy/configs/$sys.yaml" --quiet
  run="runs/models/$sys"
  # a second stage (configs/<sys>_finetune.yaml, model.init_from the first) where there is one
  if [[ -f "benchmarks/accuracy/configs/${sys}_finetune.yaml" ]]; then
    .venv/bin/mlip-train "benchmarks/accuracy/configs/${sys}_finetune.yaml" --quiet
    run="runs/models/${sys}_finetune"
  fi
  cp "$run/model.pt" "models/$sys.pt"
  cp "$run/metrics.json" "models/$sys.metrics.json"
  cp "$run/config.yaml" "models/$sys.config.yaml"
  .venv/bin/mlip eval "models/$sys.pt" "../shared/data/$sys/test.extxyz"
done
