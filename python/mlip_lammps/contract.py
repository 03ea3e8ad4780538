"""The model contract (docs/model-contract.md): metadata, loading with checks, and turning the
model's per-edge gradients into forces and virial.

Every consumer on the Python side goes through this module, so the calculator, training and
evaluation share one implementation of the contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from mlip_lammps.data.dataset import Graph

CONTRACT_VERSION = 1
METADATA_FILE = "metadata.json"
# "local": forward(center_species, edge_center, edge_neighbor_species, edge_vectors);
# "message_passing": the same plus edge_neighbor, the node of each neighbour (its owner centre, or a
# ghost node numbered after the centres: node_species)
SUPPORTED_MODEL_TYPES = ("local", "message_passing")
# optional metadata keys that are left out of the file when None
_OMITTED_IF_NONE = ("requires_ops", "num_layers")


class ModelContractError(ValueError):
    """An exported model file is missing, corrupt or does not satisfy the contract."""


@dataclass(frozen=True)
class ModelMetadata:
    contract_version: int
    model_type: str
    species: list[str]
    cutoff: float
    units: str
    dtype: str
    architecture: str
    hyperparameters: dict[str, Any]
    training: dict[str, Any]
    package_version: str
    created: str
    committee_size: int = 1  # > 1: the module also has committee() (docs/model-contract.md)
    # torch operator library the model calls: "mlip" = libmlip_ops.so (mlip_lammps/ops.py);
    # None (key absent) for models that need only stock torch
    requires_ops: str | None = None
    # message passing: the energy of a centre depends on atoms up to num_layers * cutoff away
    # (a consumer passing ghost nodes needs it); None (key absent) for local models
    num_layers: int | None = None

    @property
    def message_passing(self) -> bool:
        return self.model_type == "message_passing"

    @property
    def torch_dtype(self) -> torch.dtype:
        return {"float64": torch.float64, "float32": torch.float32}[self.dtype]

    def to_json(self) -> str:
        d = {k: v for k, v in self.__dict__.items() if not (k in _OMITTED_IF_NONE and v is None)}
        return json.dumps(d, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "model") -> "ModelMetadata":
        optional = {"committee_size", *_OMITTED_IF_NONE}
        missing = [k for k in cls.__dataclass_fields__ if k not in d and k not in optional]
        if missing:
            raise ModelContractError(f"{source}: metadata lacks keys {missing}")
        md = cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
        md.check(source)
        return md

    def check(self, source: str = "model") -> None:
        if self.contract_version != CONTRACT_VERSION:
            raise ModelContractError(
                f"{source}: model contract version {self.contract_version}, "
                f"this mlip_lammps supports version {CONTRACT_VERSION}"
            )
        if self.model_type not in SUPPORTED_MODEL_TYPES:
            raise ModelContractError(f"{source}: unsupported model_type '{self.model_type}'")
        if self.units != "metal":
            raise ModelContractError(f"{source}: units '{self.units}', only 'metal' is supported")
        if self.dtype not in ("float64", "float32"):
            raise ModelContractError(f"{source}: unsupported dtype '{self.dtype}'")
        if not self.cutoff > 0:
            raise ModelContractError(f"{source}: cutoff must be positive, got {self.cutoff}")
        if self.num_layers is not None and not (isinstance(self.num_layers, int) and self.num_layers >= 1):
            raise ModelContractError(f"{source}: num_layers must be a positive integer, got {self.num_layers!r}")
        if self.requires_ops is not None and self.requires_ops != "mlip":
            raise ModelContractError(f"{source}: needs torch operators '{self.requires_ops}'; only 'mlip' is provided")


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[torch.jit.ScriptModule, ModelMetadata]:
    """Load an exported model file and its metadata, checking the contract."""
    from mlip_lammps.ops import load_error, load_ops

    path = Path(path)
    if not path.is_file():
        raise ModelContractError(f"model file not found: {path}")
    have_ops = load_ops()  # fused models call torch.ops.mlip.*: register them before loading
    extra = {METADATA_FILE: ""}
    try:
        module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except Exception as exc:  # torch raises RuntimeError/ValueError variants for corrupt zips
        if not have_ops and "mlip::" in str(exc):
            raise ModelContractError(
                f"{path}: the model uses the mlip torch operators (libmlip_ops.so), which are not available: "
                f"{load_error()}"
            ) from exc
        raise ModelContractError(f"{path}: not a valid TorchScript mlip model ({exc})") from exc
    if not extra[METADATA_FILE]:
        raise ModelContractError(f"{path}: no {METADATA_FILE} inside; not an mlip_lammps model")
    try:
        meta = json.loads(extra[METADATA_FILE])
    except json.JSONDecodeError as exc:
        raise ModelContractError(f"{path}: corrupt {METADATA_FILE} ({exc})") from exc
    return module, ModelMetadata.from_dict(meta, source=str(path))


def node_species(center_species: torch.Tensor, edge_center: torch.Tensor, edge_neighbor: torch.Tensor,
                 edge_neighbor_species: torch.Tensor) -> torch.Tensor:
    """Species of every node of a message-passing graph (docs/model-contract.md): the n centres
    first, then the ghost nodes n..N-1 a consumer may add (``pair_style mlip`` on several MPI
    ranks), whose species come from the edges that point to them. Scripted into the models."""
    n = center_species.shape[0]
    n_nodes = n
    if edge_center.shape[0] > 0:
        n_nodes = max(n, max(int(edge_center.max()), int(edge_neighbor.max())) + 1)
    species = torch.zeros(n_nodes, dtype=center_species.dtype, device=center_species.device)
    species = species.index_put((edge_neighbor,), edge_neighbor_species)
    species[:n] = center_species
    return species


def species_indices(symbols: list[str] | tuple[str, ...], species: list[str]) -> torch.Tensor:
    """Map chemical symbols to model species indices; unknown symbols raise with their names."""
    lookup = {s: k for k, s in enumerate(species)}
    unknown = sorted(set(symbols) - set(lookup))
    if unknown:
        raise ModelContractError(f"elements {unknown} are not in the model's species {species}")
    return torch.tensor([lookup[s] for s in symbols], dtype=torch.long)


def forces_and_virial(
    edge_grad: torch.Tensor,
    edge_vectors: torch.Tensor,
    edge_center: torch.Tensor,
    edge_neighbor: torch.Tensor,
    n_atoms: int,
    edge_graph: torch.Tensor | None = None,
    n_graphs: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Forces (n_atoms, 3) in eV/Å and virial (n_graphs, 3, 3) in eV from per-edge gradients.

    ``edge_neighbor`` indexes the atom that owns the neighbour (periodic images fold back onto it).
    F_i += g, F_j -= g, W -= r (x) g (docs/model-contract.md). ``edge_graph`` assigns edges to
    structures in a batch.
    """
    forces = torch.zeros((n_atoms, 3), dtype=edge_grad.dtype, device=edge_grad.device)
    forces = forces.index_add(0, edge_center, edge_grad).index_add(0, edge_neighbor, -edge_grad)
    outer = edge_vectors.unsqueeze(2) * edge_grad.unsqueeze(1)
    if edge_graph is None:
        virial = -outer.sum(0, keepdim=True)
    else:
        virial = -torch.zeros((n_graphs, 3, 3), dtype=outer.dtype, device=outer.device).index_add(0, edge_graph, outer)
    return forces, virial


def model_inputs(graph: "Graph", message_passing: bool = False) -> list[torch.Tensor]:
    """The contract's ``forward`` inputs for ``graph`` (plus ``edge_neighbor`` for message passing)."""
    inputs = [graph.species, graph.edge_center, graph.edge_neighbor_species, graph.edge_vectors]
    return inputs + [graph.edge_neighbor] if message_passing else inputs


def predict(model: torch.nn.Module, graph: "Graph", message_passing: bool = False) -> dict[str, torch.Tensor]:
    """Evaluate a contract model on a (batched) Graph (``message_passing``: metadata
    ``model_type == "message_passing"``).

    Returns ``energy`` (B,) eV, ``atom_energy`` (n,) eV, ``forces`` (n, 3) eV/Å,
    ``virial`` (B, 3, 3) eV (LAMMPS sign) and ``stress`` (B, 3, 3) eV/Å³ (ASE sign, NaN without a
    cell).
    """
    atom_energy, edge_grad = model(*model_inputs(graph, message_passing))
    n_graphs = graph.n_graphs
    energy = torch.zeros(n_graphs, dtype=atom_energy.dtype, device=atom_energy.device).index_add(
        0, graph.atom_graph, atom_energy
    )
    forces, virial = forces_and_virial(
        edge_grad, graph.edge_vectors, graph.edge_center, graph.edge_neighbor, int(graph.species.shape[0]),
        graph.edge_graph, n_graphs,
    )
    stress = -virial / graph.volume.to(virial.dtype).reshape(-1, 1, 1)
    return {"energy": energy, "atom_energy": atom_energy, "forces": forces, "virial": virial, "stress": stress}


def committee_forces(model: torch.nn.Module, graph: "Graph") -> torch.Tensor:
    """Forces of every committee member, (M, n, 3) eV/Å, for a model with ``committee()``."""
    _, grads = model.committee(*model_inputs(graph))
    n = int(graph.species.shape[0])
    return torch.stack([forces_and_virial(g, graph.edge_vectors, graph.edge_center, graph.edge_neighbor, n)[0] for g in grads])


def force_deviation(member_forces: torch.Tensor) -> torch.Tensor:
    """Per-atom committee force deviation sqrt(<|F_m − <F>|²>_m) in eV/Å, (n,)."""
    mean = member_forces.mean(0, keepdim=True)
    return (member_forces - mean).pow(2).sum(-1).mean(0).sqrt()
