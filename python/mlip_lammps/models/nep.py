"""NEP-style local many-body potential (Fan et al., PRB 104, 104309 (2021)), strictly local.

Per atom i (species s_i), with neighbours j inside the cutoff:

* radial basis f_k(r) = ½ (T_k(x) + 1) f_c(r), x = 2 (r/r_c − 1)² − 1, T_k Chebyshev polynomials and
  f_c(r) = ½ (1 + cos(π r / r_c)) (smooth, zero with zero slope at r_c);
* radial functions g_n(r) = Σ_k c[s_i, s_j, n, k] f_k(r) (species-pair dependent);
* two-body descriptors q_n = Σ_j g_n(r_ij);
* three-body descriptors q_nl = 4π/(2l+1) Σ_m (Σ_j g'_n(r_ij) Y_lm(r̂_ij))² = Σ_jk g'_n g'_n P_l(cos θ_jk),
  l = 1..l_max, with their own (usually shorter) angular cutoff;
* optionally (``screening``) every pair term g_n(r_ij) is multiplied by a learned MEAM-style
  three-body screening factor S_ij (models/screening.py), for references whose bonds switch;
* E_i = scale · MLP_{s_i}(x) + e0[s_i] (with ``linear_term``: MLP_{s_i}(x) + w_{s_i} · x), where
  x = (q − μ_{s_i})/σ_{s_i} uses the descriptor mean and spread per centre species (one global
  normalisation squeezes each species' descriptors into a corner of the MLP input range, which
  slowed multi-element training several-fold).

Forces and virials come from autograd of the total energy with respect to the edge vectors.

Inference fast path: with ``fused = True`` (set by export when ``libmlip_ops.so`` is available,
see mlip_lammps/ops.py and cpp/mlip_ops/), an eval-mode model on the CPU computes the
descriptors (screening included), the MLP with dE/dq, and the edge derivatives with the fused C++ operators
``torch.ops.mlip.*`` (no autograd). Same numbers to rounding, about 10x faster.
Training always uses the pure-torch autograd path below.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from mlip_lammps.models.base import DescriptorModel
from mlip_lammps.models.screening import Screening
from mlip_lammps.models.spherical import SphericalHarmonics


def chebyshev_basis(r: torch.Tensor, cutoff: float, n_basis: int) -> torch.Tensor:
    """(E,) distances → (E, n_basis) NEP radial basis, exactly zero for r ≥ cutoff.

    T_k(x) with x = 2t² − 1, t = r/r_c − 1 ∈ [−1, 0], is cos(2k·acos t): one elementwise op on
    the (E, n_basis) block. The three-term recurrence gives the same numbers, but stacking its
    columns makes the double backward of force training fill an (E, n_basis) zero block per
    column: O(E·n_basis²) work.
    """
    inside = r < cutoff
    # edges beyond the cutoff get a harmless stand-in distance (acos' diverges at r = 0)
    rs = torch.where(inside, r, torch.full_like(r, 0.5 * cutoff))
    fc = torch.where(inside, 0.5 * (1.0 + torch.cos(math.pi * rs / cutoff)), torch.zeros_like(r))
    phi = torch.acos(rs / cutoff - 1.0)
    k = torch.arange(n_basis, dtype=r.dtype, device=r.device)
    T = torch.cos((2.0 * phi).unsqueeze(1) * k)
    return 0.5 * (T + 1.0) * fc.unsqueeze(1)


def per_center_outer_sum(center: torch.Tensor, a: torch.Tensor, b: torch.Tensor, n: int) -> torch.Tensor:
    """Σ_{e: center[e] = i} a_e ⊗ b_e for every centre i → (n, a.shape[1], b.shape[1]).

    Edges are laid out per centre (zero padded) and contracted with one bmm, so the per-edge
    outer product (E, A, B), the memory-bound hot spot of training, is never formed.
    """
    n_edges = center.shape[0]
    if n_edges == 0:
        return torch.zeros((n, a.shape[1], b.shape[1]), dtype=a.dtype, device=a.device)
    order = torch.argsort(center, stable=True)
    c = center.index_select(0, order)
    counts = torch.bincount(c, minlength=n)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.arange(n_edges, device=center.device) - starts.index_select(0, c)
    m = int(counts.max())
    flat = c * m + slot
    a_pad = torch.zeros((n * m, a.shape[1]), dtype=a.dtype, device=a.device).index_copy(0, flat, a.index_select(0, order))
    b_pad = torch.zeros((n * m, b.shape[1]), dtype=b.dtype, device=b.device).index_copy(0, flat, b.index_select(0, order))
    return torch.bmm(a_pad.view(n, m, a.shape[1]).transpose(1, 2), b_pad.view(n, m, b.shape[1]))


class SpeciesMLP(nn.Module):
    """One small MLP per species (tanh hidden layers, linear output), optionally plus a linear
    term w_s · x: a direct path for energy terms linear in the descriptors, such as the pair
    sums of EAM-like metals, which a tanh network otherwise has to build from near-linear units."""

    __constants__ = ["linear_term"]

    def __init__(self, n_species: int, n_in: int, hidden: List[int], linear_term: bool = False):
        super().__init__()
        nets = []
        for _ in range(n_species):
            layers: List[nn.Module] = []
            width = n_in
            for h in hidden:
                layers += [nn.Linear(width, h), nn.Tanh()]
                width = h
            layers.append(nn.Linear(width, 1))
            nets.append(nn.Sequential(*layers))
        self.nets = nn.ModuleList(nets)
        self.linear_term = linear_term
        if linear_term:
            # zero at the start: the initial model is the MLP alone
            self.linear = nn.Parameter(torch.zeros(n_species, n_in))

    def forward(self, x: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        if len(self.nets) == 1:
            for net in self.nets:
                return self.add_linear(net(x).squeeze(1), x, species)
        out = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for s, net in enumerate(self.nets):
            idx = torch.nonzero(species == s).squeeze(1)
            if idx.numel() > 0:
                out = out.index_copy(0, idx, net(x.index_select(0, idx)).squeeze(1))
        return self.add_linear(out, x, species)

    @torch.jit.unused
    def enable_linear_term(self) -> None:
        """Add the linear term (zero weights) to a model trained without it: the model's outputs
        do not change, so fine-tuning can start from it."""
        if not self.linear_term:
            w = self.nets[0][0].weight
            self.linear = nn.Parameter(torch.zeros(len(self.nets), w.shape[1], dtype=w.dtype, device=w.device))
            self.linear_term = True

    def add_linear(self, y: torch.Tensor, x: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """y + w_s · x with the linear term, else y."""
        if self.linear_term:
            return y + (x * self.linear.to(x.dtype).index_select(0, species)).sum(1)
        return y

    def add_linear_grad(self, dy_dx: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """dy/dx of the MLP plus w_s with the linear term (the fused path's input gradient)."""
        if self.linear_term:
            return dy_dx + self.linear.detach().to(dy_dx.dtype).index_select(0, species)
        return dy_dx


class NEPModel(DescriptorModel):
    """NEP-style potential obeying the model contract (docs/model-contract.md)."""

    def __init__(
        self,
        n_species: int,
        cutoff: float = 5.5,
        cutoff_angular: float = 5.0,
        n_basis_radial: int = 8,
        n_basis_angular: int = 8,
        n_radial: int = 8,
        n_angular: int = 6,
        l_max: int = 4,
        hidden: List[int] = [64, 64],
        linear_term: bool = False,
        screening: bool = False,
    ):
        super().__init__()
        if not 1 <= l_max <= 4:
            raise ValueError(f"l_max must be 1..4, got {l_max}")
        if cutoff_angular > cutoff:
            raise ValueError(f"cutoff_angular {cutoff_angular} exceeds cutoff {cutoff}")
        self.n_species = n_species
        self.cutoff = float(cutoff)
        self.cutoff_angular = float(cutoff_angular)
        self.n_basis_radial = n_basis_radial
        self.n_basis_angular = n_basis_angular
        self.n_radial = n_radial
        self.n_angular = n_angular
        self.l_max = l_max
        self.n_descriptors = n_radial + n_angular * l_max
        # 4π/(2l+1) per Y_lm column, so q_nl equals the Legendre-sum form.
        lm_l = [l for l in range(1, l_max + 1) for _ in range(2 * l + 1)]
        self.register_buffer("lm_weight", torch.tensor([4 * math.pi / (2 * l + 1) for l in lm_l]))
        self.register_buffer("lm_to_l", torch.tensor([l - 1 for l in lm_l], dtype=torch.long))
        scale_r = 1.0 / math.sqrt(n_basis_radial)
        scale_a = 1.0 / math.sqrt(n_basis_angular)
        self.c_radial = nn.Parameter(torch.randn(n_species, n_species, n_radial, n_basis_radial) * scale_r)
        self.c_angular = nn.Parameter(torch.randn(n_species, n_species, n_angular, n_basis_angular) * scale_a)
        self.register_buffer("descriptor_mean", torch.zeros(n_species, self.n_descriptors))
        self.register_buffer("descriptor_std", torch.ones(n_species, self.n_descriptors))
        self.register_buffer("energy_scale", torch.ones(()))
        self.register_buffer("species_energy", torch.zeros(n_species))
        self.mlp = SpeciesMLP(n_species, self.n_descriptors, hidden, linear_term)
        self.spherical_harmonics = SphericalHarmonics(l_max)
        # learned MEAM-style three-body screening of every pair term (models/screening.py)
        self.screening = Screening(n_species, cutoff) if screening else None
        # inference with the fused torch.ops.mlip kernels (export sets it; needs mlip_lammps.ops)
        self.fused = False
        self.supports_fused = True  # the kernels cover every option, screening too

    @torch.jit.unused
    @torch.no_grad()
    def grow(self, n_radial: int, n_angular: int, hidden: List[int]) -> torch.Tensor:
        """Widen the model in place without changing its outputs: more radial and angular channels
        (same bases) and wider hidden layers (same depth), for more capacity when fine-tuning.

        New channels start with random coefficients and zero MLP input weights; new hidden units
        start random with zero weights into the units that were there before and into the output.
        Returns a bool mask of the new descriptor columns: their normalisation (mean 0, std 1
        here) is the caller's to set from data."""
        old_hidden = [net[k].out_features for net in self.mlp.nets[:1] for k in range(0, len(net) - 1, 2)]
        if (n_radial < self.n_radial or n_angular < self.n_angular or len(hidden) != len(old_hidden)
                or any(h < o for h, o in zip(hidden, old_hidden))):
            raise ValueError(f"grow: n_radial {self.n_radial} -> {n_radial}, n_angular {self.n_angular} -> "
                             f"{n_angular}, hidden {old_hidden} -> {list(hidden)}: a model only grows, "
                             "at the same depth")
        L = self.l_max
        keep = torch.tensor(list(range(self.n_radial)) + [n_radial + n * L + l for n in range(self.n_angular)
                                                          for l in range(L)])
        n_desc = n_radial + n_angular * L

        def widened(c: torch.Tensor, n: int) -> nn.Parameter:
            new = torch.randn(*c.shape[:2], n, c.shape[3], dtype=c.dtype, device=c.device) / math.sqrt(c.shape[3])
            new[:, :, : c.shape[2]] = c
            return nn.Parameter(new)

        def columns(t: torch.Tensor, fill: float) -> torch.Tensor:
            new = torch.full((t.shape[0], n_desc), fill, dtype=t.dtype, device=t.device)
            new[:, keep] = t
            return new

        self.c_radial = widened(self.c_radial, n_radial)
        self.c_angular = widened(self.c_angular, n_angular)
        self.descriptor_mean = columns(self.descriptor_mean, 0.0)
        self.descriptor_std = columns(self.descriptor_std, 1.0)
        for net in self.mlp.nets:
            inputs = keep
            for k, width in zip(range(0, len(net), 2), list(hidden) + [1]):
                old: nn.Linear = net[k]
                new = nn.Linear(n_desc if k == 0 else hidden[k // 2 - 1], width).to(old.weight)
                new.weight[: old.out_features] = 0.0
                new.weight[: old.out_features, inputs] = old.weight
                new.bias[: old.out_features] = old.bias
                net[k] = new
                inputs = torch.arange(old.out_features)
        if self.mlp.linear_term:
            self.mlp.linear = nn.Parameter(columns(self.mlp.linear, 0.0))
        self.n_radial, self.n_angular, self.n_descriptors = n_radial, n_angular, n_desc
        is_new = torch.ones(n_desc, dtype=torch.bool)
        is_new[keep] = False
        return is_new

    @torch.jit.unused
    @torch.no_grad()
    def extend_reach(self, cutoff: float, cutoff_angular: float, n_basis_radial: int, n_basis_angular: int,
                     r_min: float = 0.8) -> Dict[str, float]:
        """Lengthen the radial and/or angular cutoff in place, keeping the model's outputs close: each
        channel's radial function g_n(r) = Σ_k c_nk f_k(r) is refitted (least squares on a fine grid
        over [r_min, new cutoff]) in the longer basis, to the old g_n inside the old cutoff and to 0
        beyond it. The MLP and the descriptor normalisation are kept; fine-tuning then learns what
        the longer reach sees. More basis functions make the refit closer (the old g_n bends to zero
        at the old cutoff). Returns the largest refit error of each part relative to its channel's
        largest |g_n| (0 where that part is unchanged)."""
        old = (self.cutoff, self.cutoff_angular, self.n_basis_radial, self.n_basis_angular)
        new = (float(cutoff), float(cutoff_angular), int(n_basis_radial), int(n_basis_angular))
        if any(b < a for a, b in zip(old, new)) or new[1] > new[0]:
            raise ValueError(f"extend_reach: cutoff/cutoff_angular/n_basis_radial/n_basis_angular {old} -> {new}: "
                             "the reach and the bases only grow, and cutoff_angular stays <= cutoff")
        if self.screening is not None and new[0] != old[0]:
            raise ValueError("extend_reach: the screening is built for the model's cutoff; it cannot change")
        errors: Dict[str, float] = {}
        for part, (rc, rc_new, nb, nb_new) in (("radial", (old[0], new[0], old[2], new[2])),
                                               ("angular", (old[1], new[1], old[3], new[3]))):
            c = getattr(self, f"c_{part}")
            if (rc, nb) == (rc_new, nb_new):
                errors[part] = 0.0
                continue
            r = torch.linspace(r_min, rc_new, 4000, dtype=torch.float64)[:-1]
            flat = c.detach().double().reshape(-1, nb)
            g_old = chebyshev_basis(r, rc, nb) @ flat.t()  # (grid, pairs·channels)
            basis = chebyshev_basis(r, rc_new, nb_new)
            fitted = torch.linalg.lstsq(basis, g_old).solution  # (nb_new, pairs·channels)
            scale = g_old.abs().amax(0).clamp_min(1e-300)
            errors[part] = float(((basis @ fitted - g_old).abs().amax(0) / scale).max())
            setattr(self, f"c_{part}", nn.Parameter(fitted.t().reshape(*c.shape[:3], nb_new).to(c)))
        self.cutoff, self.cutoff_angular, self.n_basis_radial, self.n_basis_angular = new
        return errors

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # models exported before per-species normalisation hold one (n_descriptors,) row
        for name in ("descriptor_mean", "descriptor_std"):
            t = state_dict.get(prefix + name)
            if t is not None and t.dim() == 1:
                state_dict[prefix + name] = t.expand(self.n_species, -1).clone()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def descriptors(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> torch.Tensor:
        """Raw (unnormalised) descriptors, (n, n_descriptors)."""
        n = center_species.shape[0]
        r = torch.linalg.vector_norm(edge_vectors, dim=1)
        pair = center_species.index_select(0, edge_center) * self.n_species + edge_neighbor_species
        c_rad = self.c_radial.reshape(-1, self.n_radial, self.n_basis_radial)
        c_ang = self.c_angular.reshape(-1, self.n_angular, self.n_basis_angular)

        f_rad = chebyshev_basis(r, self.cutoff, self.n_basis_radial)
        bond: Optional[torch.Tensor] = None
        if self.screening is not None:
            bond = self.screening(center_species, edge_center, edge_neighbor_species, edge_vectors, r)
            f_rad = f_rad * bond.unsqueeze(1)
        g_rad = self._mix(f_rad, pair, c_rad)
        q_rad = torch.zeros((n, self.n_radial), dtype=r.dtype, device=r.device).index_add(0, edge_center, g_rad)

        # Only edges inside the angular cutoff enter the three-body sum.
        ang = torch.nonzero(r < self.cutoff_angular).squeeze(1)
        r_a = r.index_select(0, ang)
        u = edge_vectors.index_select(0, ang) / r_a.unsqueeze(1)
        f_ang = chebyshev_basis(r_a, self.cutoff_angular, self.n_basis_angular)
        if bond is not None:
            f_ang = f_ang * bond.index_select(0, ang).unsqueeze(1)
        g_ang = self._mix(f_ang, pair.index_select(0, ang), c_ang)
        ylm = self.spherical_harmonics(u)
        A = per_center_outer_sum(edge_center.index_select(0, ang), g_ang, ylm, n)
        A2 = A * A * self.lm_weight.to(r.dtype)
        q_ang = torch.zeros((n, self.n_angular, self.l_max), dtype=r.dtype, device=r.device)
        q_ang = q_ang.index_add(2, self.lm_to_l, A2).reshape(n, self.n_angular * self.l_max)
        return torch.cat([q_rad, q_ang], dim=1)

    def _mix(self, f: torch.Tensor, pair: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """g[e] = c[pair[e]] @ f[e]: edges grouped by pair type, one GEMM per type (a per-edge bmm
        of tiny matrices is several times slower, and one GEMM against every type's coefficients
        does n_species² times the work)."""
        if c.shape[0] == 1:
            return f @ c[0].t()
        order = torch.argsort(pair)
        sizes: List[int] = torch.bincount(pair, minlength=c.shape[0]).tolist()
        chunks = torch.split(f.index_select(0, order), sizes)
        g_sorted = torch.cat([chunk @ c[p].t() for p, chunk in enumerate(chunks)])
        return torch.zeros_like(g_sorted).index_copy(0, order, g_sorted)

    def _forward_fused(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """forward() through the fused kernels: q and A_nlm from mlip::nep_descriptors, the MLP
        and dE/dq from mlip::species_mlp, dE/d edge_vectors from mlip::nep_edge_grad."""
        dtype = edge_vectors.dtype
        vectors = edge_vectors.detach()
        c_radial = self.c_radial.detach().to(dtype)
        c_angular = self.c_angular.detach().to(dtype)
        lm_weight = self.lm_weight.to(dtype)
        sh = self.spherical_harmonics  # the kernels use the model's Y_lm coefficients
        bond: Optional[torch.Tensor] = None
        if self.screening is not None:
            bond = self.screening.fused_bond(center_species, edge_center, edge_neighbor_species, vectors)
        q, A = torch.ops.mlip.nep_descriptors(
            center_species, edge_center, edge_neighbor_species, vectors, c_radial, c_angular,
            lm_weight, sh.parent, sh.axis, sh.coef, self.cutoff, self.cutoff_angular, self.l_max, bond,
        )
        energy, dE_dq = self.fused_readout(q, center_species)
        # dE/dv at fixed S_eff (and dE/dS_eff, empty without screening)
        edge_grad, dE_dbond = torch.ops.mlip.nep_edge_grad_bond(
            center_species, edge_center, edge_neighbor_species, vectors, c_radial, c_angular,
            lm_weight, sh.parent, sh.axis, sh.coef, self.cutoff, self.cutoff_angular, self.l_max,
            A, dE_dq, bond,
        )
        if self.screening is not None:  # plus dE/dS_eff through the screening triples
            edge_grad = edge_grad + self.screening.fused_grad(
                center_species, edge_center, edge_neighbor_species, vectors, dE_dbond)
        return energy, edge_grad
