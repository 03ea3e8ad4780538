#!/usr/bin/env bash
# Train the shipped default models and copy them (with config and metrics) into models/.
# Usage: benchmarks/accuracy/train_shipped.sh [cu] [cuzr] [hea]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
for sys in "${@:-cu cuzr hea}"; do
  .venv/bin/mlip-train "benchmarks/accuracy/configs/$sys.yaml" --quiet
  cp "runs/models/$sys/model.pt" "models/$sys.pt"
  cp "runs/models/$sys/metrics.json" "models/$sys.metrics.json"
  cp "runs/models/$sys/config.yaml" "models/$sys.config.yaml"
  .venv/bin/mlip eval "models/$sys.pt" "../shared/data/$sys/test.extxyz"
done
