"""ASE calculator that evaluates an exported model file (docs/model-contract.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from mlip_lammps.contract import committee_forces, force_deviation, load_model, predict
from mlip_lammps.data.dataset import graphs_from_atoms


class MLIPCalculator(Calculator):
    """Energy (eV), forces (eV/Å), stress (eV/Å³, ASE sign) and per-atom energies (eV) of an
    exported mlip model, exactly as ``pair_style mlip`` computes them in LAMMPS. For a committee
    model, ``calc.results["force_deviation"]`` holds the per-atom force deviation (eV/Å).

    >>> atoms.calc = MLIPCalculator("model.pt")
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress", "force_deviation"]

    def __init__(self, model_path: str | Path, device: str = "cpu", **kwargs):
        super().__init__(**kwargs)
        self.model, self.metadata = load_model(model_path, device=device)
        self.model.eval()
        self.device = device
        self.cutoff = self.metadata.cutoff
        self.species = list(self.metadata.species)

    def calculate(self, atoms: Atoms | None = None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        graph = graphs_from_atoms(
            [self.atoms], self.species, self.cutoff, source="MLIPCalculator", require_labels=False, min_distance=0.0
        )[0]
        graph = graph.to(self.metadata.torch_dtype)
        out = predict(self.model, graph)
        energy = float(out["energy"].sum())
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["energies"] = out["atom_energy"].detach().double().numpy()
        self.results["forces"] = out["forces"].detach().double().numpy()
        if self.metadata.committee_size > 1:
            # per-atom committee force deviation (eV/Å): the active-learning signal
            self.results["force_deviation"] = force_deviation(committee_forces(self.model, graph)).detach().double().numpy()
        if self.atoms.pbc.all():
            s = out["stress"][0].detach().double().numpy()
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
