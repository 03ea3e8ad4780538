"""ASE calculator that evaluates an exported model file (docs/model-contract.md)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from mlip_lammps.contract import ModelContractError, committee_forces, force_deviation, load_model, predict
from mlip_lammps.data.dataset import graphs_from_atoms


class MLIPCalculator(Calculator):
    """Energy (eV), forces (eV/Å), stress (eV/Å³, ASE sign) and per-atom energies (eV) of an
    exported mlip model, exactly as ``pair_style mlip`` computes them in LAMMPS.

    A committee is one committee model file (``mlip-train --ensemble``) or several model files
    with the same species, cutoff and dtype (like ``pair_style mlip m1.pt m2.pt ...``): the results
    are the members' mean, and ``calc.results["force_deviation"]`` holds the per-atom force
    deviation sqrt(<|F_m − <F>|²>_m) in eV/Å.

    >>> atoms.calc = MLIPCalculator("model.pt")
    >>> atoms.calc = MLIPCalculator(["m1.pt", "m2.pt", "m3.pt"])
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress", "force_deviation"]

    def __init__(self, model_path: str | Path | Sequence[str | Path], device: str = "cpu", **kwargs):
        super().__init__(**kwargs)
        paths = [model_path] if isinstance(model_path, (str, Path)) else list(model_path)
        if not paths:
            raise ValueError("MLIPCalculator needs at least one model file")
        loaded = [load_model(p, device=device) for p in paths]
        self.models = [m.eval() for m, _ in loaded]
        self.metadata = loaded[0][1]
        for path, (_, meta) in zip(paths[1:], loaded[1:]):
            for key in ("species", "cutoff", "dtype", "model_type"):
                if getattr(meta, key) != getattr(self.metadata, key):
                    raise ModelContractError(f"committee member {path} has {key} {getattr(meta, key)}, "
                                             f"{paths[0]} has {getattr(self.metadata, key)}")
        if len(paths) > 1 and any(meta.committee_size > 1 for _, meta in loaded):
            raise ModelContractError("give either one committee model or several single models, not a committee "
                                     "model among several files")
        self.model = self.models[0]
        self.n_members = len(paths) if len(paths) > 1 else self.metadata.committee_size
        self.device = device
        self.cutoff = self.metadata.cutoff
        self.species = list(self.metadata.species)

    def calculate(self, atoms: Atoms | None = None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        graph = graphs_from_atoms(
            [self.atoms], self.species, self.cutoff, source="MLIPCalculator", require_labels=False, min_distance=0.0
        )[0]
        graph = graph.to(self.metadata.torch_dtype)
        outs = [predict(model, graph, self.metadata.message_passing) for model in self.models]
        out = {k: torch.stack([o[k] for o in outs]).mean(0) for k in outs[0]} if len(outs) > 1 else outs[0]
        energy = float(out["energy"].sum())
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["energies"] = out["atom_energy"].detach().double().numpy()
        self.results["forces"] = out["forces"].detach().double().numpy()
        if self.n_members > 1:
            # per-atom committee force deviation (eV/Å): the active-learning signal
            members = torch.stack([o["forces"] for o in outs]) if len(outs) > 1 else committee_forces(self.model, graph)
            self.results["force_deviation"] = force_deviation(members).detach().double().numpy()
        if self.atoms.pbc.all():
            s = out["stress"][0].detach().double().numpy()
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
