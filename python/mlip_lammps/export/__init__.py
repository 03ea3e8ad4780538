"""Writing and reading exported model files."""

from mlip_lammps.export.export import export_model

__all__ = ["export_model"]
