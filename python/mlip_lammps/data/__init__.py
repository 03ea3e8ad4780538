"""Reading labelled structures and turning them into model-ready graphs."""

from mlip_lammps.data.dataset import DataError, Graph, collate, graphs_from_atoms, read_structures

__all__ = ["DataError", "Graph", "collate", "graphs_from_atoms", "read_structures"]
