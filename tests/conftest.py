"""Shared fixtures: exported models (random weights unless trained), test structures."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
import pytest
import torch

from mlip_lammps.export import export_model
from mlip_lammps.models import build_model

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[1]
SPECIES = {"cu": ["Cu"], "cuzr": ["Cu", "Zr"], "hea": ["Al", "Cr", "Fe", "Co", "Ni"]}
SMALL = dict(cutoff=5.0, cutoff_angular=4.5, n_radial=6, n_angular=4, hidden=[16])


def random_model(n_species: int, seed: int = 0, **hyper) -> torch.nn.Module:
    """A NEP model with random weights and non-trivial statistics (so every term matters)."""
    torch.manual_seed(seed)
    h = {**SMALL, **hyper}
    m = build_model("nep", n_species, h).double()
    with torch.no_grad():
        m.descriptor_mean.uniform_(0.0, 0.5)
        m.descriptor_std.uniform_(0.5, 2.0)
        m.energy_scale.fill_(0.5)
        m.species_energy.copy_(torch.linspace(-4.0, -3.0, n_species))
        if m.mlp.linear_term:
            m.mlp.linear.uniform_(-1.0, 1.0)
    return m.eval()


def export_random(path: Path, species: list[str], seed: int = 0, dtype: str = "float64", **hyper) -> Path:
    h = {**SMALL, **hyper}
    export_model(random_model(len(species), seed, **hyper), path, species, "nep", h, {"note": "random weights, tests"}, dtype=dtype)
    return path


def rewrite_metadata(src: Path, dst: Path, **changes) -> Path:
    """Copy an exported model with some metadata keys changed (to test consumers' checks)."""
    import json

    extra = {"metadata.json": ""}
    m = torch.jit.load(str(src), _extra_files=extra)
    meta = json.loads(extra["metadata.json"])
    meta.update(changes)
    torch.jit.save(m, str(dst), _extra_files={"metadata.json": json.dumps(meta)})
    return dst


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """Exported float64 models with random weights for cu (1), cuzr (2) and hea (5 species).

    The hea species order differs from alphabetical/atomic-number order on purpose.
    """
    d = tmp_path_factory.mktemp("models")
    return {name: export_random(d / f"{name}.pt", sp, seed=k) for k, (name, sp) in enumerate(SPECIES.items())}


@pytest.fixture(scope="session")
def frames() -> dict[str, list]:
    return {name: ase.io.read(DATA / f"{name}.extxyz", ":") for name in SPECIES}


@pytest.fixture(scope="session")
def cu_model() -> Path:
    """The shipped trained Cu model (physically sensible: used for MD tests)."""
    path = REPO / "models" / "cu.pt"
    if not path.is_file():
        pytest.fail(f"shipped model {path} is missing")
    return path


def assert_same_with_threads(model: torch.nn.Module, inputs: tuple) -> None:
    """``model(*inputs)`` gives bit-identical outputs with one and two torch threads."""
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        e1, g1 = model(*inputs)
        torch.set_num_threads(2)
        e2, g2 = model(*inputs)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(e1, e2) and torch.equal(g1, g2)


def fd_force(atoms, i: int, a: int, h: float) -> float:
    """−dE/dx of atom i along axis a by central differences (eV/Å); positions restored."""
    e = []
    for sign in (1, -1):
        p = atoms.positions.copy()
        p[i, a] += sign * h
        atoms.positions = p
        e.append(atoms.get_potential_energy())
        p[i, a] -= sign * h
        atoms.positions = p
    return -(e[0] - e[1]) / (2 * h)


def fd_stress(atoms, a: int, b: int, h: float) -> float:
    """(1/V) dE/dε_ab for a symmetric strain, by central differences (eV/Å³); cell restored."""
    cell0, pos0, v = atoms.cell.array.copy(), atoms.positions.copy(), atoms.get_volume()
    e = []
    for sign in (1, -1):
        eps = np.eye(3)
        eps[a, b] += sign * h / 2
        eps[b, a] += sign * h / 2
        atoms.set_cell(cell0 @ eps, scale_atoms=False)
        atoms.positions = pos0 @ eps
        e.append(atoms.get_potential_energy())
    atoms.set_cell(cell0)
    atoms.positions = pos0
    return (e[0] - e[1]) / (2 * h) / v
