#!/usr/bin/env bash
# Crystallisation on cooling, EAM vs MLIP (benchmarks/physics/README.md): 2,048-atom Cu melts
# cooled from 1350 K to 400 K at 3e12 K/s, seeds 1 and 2, with Cu_mishin1 EAM and models/cu.pt;
# and Cu64Zr36 (CuZr_mm EAM/FS) cooled from 1600 K to 300 K at 3e12 K/s (glass formation).
# Resumable (finished stages are skipped). Usage (repository root):
#   benchmarks/physics/run_crystallize.sh [eam|mlip|glass ...]     (default: all three)
# Cost on one core: ~8 min per EAM seed, ~35 min per MLIP seed, ~15 min for the glass.
set -euo pipefail
cd "$(dirname "$0")/../.."
MLIP=${MLIP:-.venv/bin/mlip}
OUT=runs/physics
CU=(--structure fcc:Cu --t-start 1350 --t-end 400 --rate 3 --np "${NP:-1}")
for what in "${@:-eam mlip glass}"; do
  for w in $what; do
    case $w in
      eam)  for s in 1 2; do "$MLIP" crystallize --pair-style eam/alloy --pair-coeff "* * Cu_mishin1.eam.alloy Cu" "${CU[@]}" \
              --seed $s --out $OUT/eam_crystallize/seed$s; done;;
      mlip) for s in 1 2; do "$MLIP" crystallize --potential models/cu.pt "${CU[@]}" --seed $s --out $OUT/mlip_crystallize/seed$s; done;;
      glass) "$MLIP" crystallize --pair-style eam/fs --pair-coeff "* * CuZr_mm.eam.fs Cu Zr" --structure b2:CuZr \
               --composition Cu64Zr36 --t-start 1600 --t-end 300 --rate 3 --np "${NP:-1}" --seed 1 \
               --out $OUT/eam_crystallize/cu64zr36_seed1;;
      *) echo "unknown part $w (eam, mlip, glass)" >&2; exit 2;;
    esac
  done
done
.venv/bin/python benchmarks/physics/report.py
