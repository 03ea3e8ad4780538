"""End-to-end workflows built on training, export and LAMMPS."""
