#!/usr/bin/env bash
# Reference numbers of the physics workflows with the classical Cu EAM (Cu_mishin1, Mishin 2001) that
# the shipped Cu model was distilled from. Writes runs/physics/eam_melt/ and runs/physics/eam_liquid/
# (resumable: re-running skips finished stages) and prints the numbers of benchmarks/physics/README.md.
# Usage (repository root):  benchmarks/physics/run_eam_reference.sh [NP]     NP = MPI ranks (default 2)
# The MLIP column, same protocol:  MODEL=models/cu.pt benchmarks/physics/run_eam_reference.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
NP=${1:-2}
MLIP=${MLIP:-.venv/bin/mlip}
PY=${PY:-.venv/bin/python}
if [[ -n "${MODEL:-}" ]]; then
  POT=(--potential "$MODEL"); TAG=${TAG:-mlip}
else
  POT=(--pair-style eam/alloy --pair-coeff "* * Cu_mishin1.eam.alloy Cu"); TAG=${TAG:-eam}
fi
OUT=runs/physics

timed() { local t0=$SECONDS; echo "+ $*" >&2; "$@"; echo "wall time: $((SECONDS - t0)) s" >&2; }
timed "$MLIP" melt "${POT[@]}" --structure fcc:Cu --t-guess 1300 --np "$NP" --out "$OUT/${TAG}_melt"
timed "$MLIP" liquid "${POT[@]}" --structure fcc:Cu --temperatures 1400 --np "$NP" --out "$OUT/${TAG}_liquid"

"$PY" - "$OUT/${TAG}_melt/result.json" "$OUT/${TAG}_liquid/result.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
l = json.load(open(sys.argv[2]))["temperatures"]["1400"]
tg = f"{m['T_guess_used_K']:g}"
print(f"T_melt_K            {m['T_melt_K']:.1f} ± {m['T_melt_err_K']:.1f} ({m['n_runs_used']} runs at T_guess {tg} K; "
      f"LAMMPS loop time of all stages {m['lammps_loop_time_s']:.0f} s)")
print(f"dV_melt/V_solid     {m['phases'][tg]['volume_change_on_melting']:.4f} (at {tg} K)")
print(f"density_g_cm3       {l['density_g_cm3']:.4f} ± {l['density_err_g_cm3']:.4f}")
print(f"g(r) first peak     {l['gr_first_peak_height']:.3f} at {l['gr_first_peak_r_A']:.3f} Å; "
      f"first minimum {l['gr_first_min_r_A']:.3f} Å; CN {l['coordination_number']:.2f}")
print(f"S(q) first peak     {l['sq_first_peak_height']:.3f} at {l['sq_first_peak_q_inv_A']:.3f} 1/Å")
d = l["diffusion_m2_s"]["Cu"]
print(f"D_Cu (m^2/s)        {d['uncorrected']:.3e} ± {d['uncorrected_err']:.1e} (box), "
      f"{d['corrected']:.3e} ± {d['corrected_err']:.1e} (Yeh-Hummer)")
print(f"viscosity_mPa_s     {l['viscosity_mPa_s']:.3f} ± {l['viscosity_err_mPa_s']:.3f} ({l['viscosity_source']})")
PY
