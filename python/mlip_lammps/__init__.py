"""mlip-lammps: train machine-learning interatomic potentials, export them to TorchScript and
run them in LAMMPS through ``pair_style mlip``.

Units follow LAMMPS ``metal``: Å, eV, eV/Å, and stress in eV/Å³ (ASE sign convention).
"""

__version__ = "0.1.0"

__all__ = ["MLIPCalculator", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import mlip_lammps` (e.g. for `mlip plugin-path`) does not import torch.
    if name == "MLIPCalculator":
        from mlip_lammps.calculator import MLIPCalculator

        return MLIPCalculator
    raise AttributeError(name)
