"""Export a foundation model into the model contract, so ``pair_style mlip`` and
``MLIPCalculator`` run it like any mlip model (docs/model-contract.md, "message_passing").

SevenNet (``sevenn``, e.g. SevenNet-0 = ``7net-0``) is a NequIP-type message-passing network:
an atom's energy depends on atoms up to (layers × cutoff) away, through its neighbours'
features. The exported file therefore has ``model_type: "message_passing"`` and takes the node
of every neighbour as a fifth input: its owner centre (the periodic graph of the centres, in
Python and on one LAMMPS rank) or a ghost node (several ranks), so the result equals the
teacher's ASE calculator exactly (float32 rounding).
Weights come from the installed package (no download).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Dict, List, Tuple

import torch
from torch import nn

from mlip_lammps import __version__
from mlip_lammps.contract import CONTRACT_VERSION, ModelMetadata, node_species
from mlip_lammps.export.export import write_scripted


class SevenNetContract(nn.Module):
    """The contract's ``forward`` around a scripted SevenNet graph model (float32).

    ``type_index[k]`` is SevenNet's type index of contract species k. Edges go from node
    ``edge_center`` to node ``edge_neighbor`` (the owner of the neighbour image, or a ghost node
    after the centres), with ``edge_vectors = r_j − r_i`` as in SevenNet's own LAMMPS pair style.
    Energies and their gradient are those of the centres only."""

    def __init__(self, graph_model: torch.jit.ScriptModule, type_index: List[int], cutoff: float):
        super().__init__()
        self.graph_model = graph_model
        self.register_buffer("type_index", torch.tensor(type_index, dtype=torch.long))
        self.cutoff = cutoff

    def forward(self, center_species: torch.Tensor, edge_center: torch.Tensor, edge_neighbor_species: torch.Tensor,
                edge_vectors: torch.Tensor, edge_neighbor: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        n = center_species.shape[0]
        species = node_species(center_species, edge_center, edge_neighbor, edge_neighbor_species)
        # SevenNet's cutoff is strict: pairs at r >= cutoff are not edges
        keep = (edge_vectors * edge_vectors).sum(-1) < self.cutoff * self.cutoff
        vec = edge_vectors.detach().requires_grad_(True)
        count = torch.tensor([species.shape[0]], dtype=torch.long, device=center_species.device)
        data: Dict[str, torch.Tensor] = {
            "x": self.type_index[species],
            "edge_index": torch.stack([edge_center[keep], edge_neighbor[keep]]),
            "edge_vec": vec[keep],
            "num_atoms": count,
            "nlocal": count.cpu(),
        }
        atom_energy = self.graph_model(data)["atomic_energy"].reshape(-1)[:n]
        grad = torch.autograd.grad([atom_energy.sum()], [vec], allow_unused=True)[0]
        if grad is None:  # no edges at all
            grad = torch.zeros_like(vec)
        return atom_energy.detach(), grad


def export_sevennet(path: str | Path, model: str = "7net-0", species: list[str] | None = None,
                    modal: str | None = None) -> ModelMetadata:
    """Write SevenNet ``model`` (a pretrained name such as ``7net-0``, or a checkpoint file) as a
    contract model restricted to ``species`` (default: every element it was trained on)."""
    try:
        import e3nn.util.jit
        from ase.data import chemical_symbols
        from sevenn import __version__ as sevenn_version
        from sevenn.util import load_checkpoint, pretrained_name_to_path
    except ImportError as exc:
        raise RuntimeError(f"exporting SevenNet needs the sevenn package (pip install sevenn): {exc}") from exc
    checkpoint = model if Path(model).is_file() else pretrained_name_to_path(model)
    cp = load_checkpoint(checkpoint)
    graph_model = cp.build_model(enable_cueq=False, enable_flash=False, enable_oeq=False)
    # as sevenn's own LAMMPS deployment: energies only, forces come from the edge gradients
    if "force_output" in graph_model._modules:
        graph_model.delete_module_by_key("force_output")
    if hasattr(graph_model, "eval_type_map"):
        graph_model.eval_type_map = False
    if modal:
        graph_model.prepare_modal_deploy(modal)
    elif graph_model.modal_map:
        raise ValueError(f"SevenNet model {model} is multi-fidelity: give modal= one of {list(graph_model.modal_map)}")
    graph_model.set_is_batch_data(False)
    graph_model.eval()
    type_map: dict[int, int] = cp.config["_type_map"]
    known = {chemical_symbols[z]: idx for z, idx in type_map.items()}
    species = list(species) if species else [chemical_symbols[z] for z in sorted(type_map)]
    unknown = [s for s in species if s not in known]
    if unknown:
        raise ValueError(f"elements {unknown} are not in SevenNet model {model}")
    cutoff = float(cp.config["cutoff"])
    wrapper = SevenNetContract(e3nn.util.jit.script(graph_model), [known[s] for s in species], cutoff)
    for p in wrapper.parameters():
        p.requires_grad_(False)
    scripted = torch.jit.script(wrapper)
    n_layers = int(cp.config.get("num_convolution_layer", 0))
    meta = ModelMetadata(
        contract_version=CONTRACT_VERSION,
        model_type="message_passing",
        species=species,
        cutoff=cutoff,
        units="metal",
        dtype="float32",
        architecture="sevennet",
        hyperparameters={"model": str(model), "checkpoint": Path(checkpoint).name, "modal": modal,
                         "num_interaction_layers": n_layers, "receptive_field_A": n_layers * cutoff},
        training={"source": f"sevenn {sevenn_version} pretrained model {model}"},
        package_version=__version__,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        num_layers=n_layers if n_layers > 0 else None,
    )
    write_scripted(scripted, meta, path)
    return meta
