"""A MACE/NequIP-like equivariant potential with one interaction layer, so strictly local.

Per atom i (species s_i), with neighbours j inside the cutoff r_c, edge vector r_ij = r_ij r̂_ij:

* radial basis b_k(r) = √(2/r_c) sin(kπ r/r_c) / r, k = 1..n_basis (Bessel), and the polynomial
  envelope u(r) (DimeNet/MACE, p = 6): u(r_c) = u'(r_c) = u''(r_c) = 0, and exactly 0 for r ≥ r_c;
* radial functions R_lc(r) = u(r) · MLP(b(r))_lc, one per (l, channel c), l = 0..l_max (SiLU MLP
  without biases);
* atomic basis (the "A features", equivariant: A_i,lm,c rotates like Y_lm)

      A_i,lm,c = Σ_d W_l,cd Σ_j R_ld(r_ij) Y_lm(r̂_ij) h_d[s_j] / N_avg

  with real spherical harmonics Y_lm (mlip_lammps.models.spherical, plus Y_00), a learned
  neighbour-species embedding h[s] ∈ R^channels, a per-l channel mixing W_l, and N_avg the mean
  number of neighbours of the training data (set by the trainer);
* body-ordered invariants per channel c (the product basis, "correlation" = number of A factors):

      B1_c        = A_00,c                                                       (2-body)
      B2_lc       = Σ_m A_lm,c A_lm,c,                             l = 1..l_max  (3-body)
      B3_(l1l2l3)c = Σ_m1m2m3 G^(l1l2l3)_m1m2m3 A_l1m1,c A_l2m2,c A_l3m3,c        (4-body)

  over 1 ≤ l1 ≤ l2 ≤ l3 ≤ l_max with l1 + l2 + l3 even and the triangle rule; G are the real
  Gaunt coefficients ∫ Y_l1m1 Y_l2m2 Y_l3m3 dΩ (each triple scaled to unit norm), which are the
  real Clebsch–Gordan couplings to an O(3) scalar for even l1 + l2 + l3 (odd sums would be
  pseudoscalars, not invariant under inversion). They are computed once at construction by exact
  quadrature of the same Y_lm the forward pass uses, so no convention can mismatch, and kept as
  buffers: the forward pass is plain torch ops (TorchScript, no e3nn);
* E_i = scale · MLP_{s_i}((B − μ_{s_i}) / σ_{s_i}) + e0[s_i] (per-species tanh MLP, as NEP), with
  the feature mean and spread per centre species set from the training data at initialisation.

Forces and virials come from autograd of the total energy with respect to the edge vectors, as
for NEP.

Inference fast path (as NEP's): export with fused kernels first tabulates the radial functions
(``tabulate_radial``: R_lc(r) depends on r alone, so the radial MLP and the envelope become one
piecewise-cubic Hermite table with exact values and slopes at the knots, ~1e-9 relative from the
MLP); the tabulated model, in torch and in the fused C++ operators ``mlip::eq_features`` /
``mlip::eq_edge_grad`` (cpp/mlip_ops/eq_kernel_impl.h), is then one definition, the same to
rounding on every path.

One layer means no message passing: E_i depends only on the neighbours of i within r_c, so
exported models are exact under any LAMMPS domain decomposition (model_type "local").
"""

from __future__ import annotations

import copy
import math
from typing import List, Tuple

import numpy as np
import torch
from torch import nn

from mlip_lammps.models.base import DescriptorModel
from mlip_lammps.models.nep import SpeciesMLP, per_center_outer_sum
from mlip_lammps.models.spherical import SphericalHarmonics



def bessel_basis(r: torch.Tensor, cutoff: float, n_basis: int) -> torch.Tensor:
    """(E,) distances (0 < r) → (E, n_basis) √(2/r_c) sin(kπ r/r_c)/r (no envelope)."""
    k = torch.arange(1, n_basis + 1, dtype=r.dtype, device=r.device) * (math.pi / cutoff)
    return math.sqrt(2.0 / cutoff) * torch.sin(k * r.unsqueeze(1)) / r.unsqueeze(1)


def polynomial_envelope(r: torch.Tensor, cutoff: float, p: int = 6) -> torch.Tensor:
    """u(r) = 1 − (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) − p(p+1)/2 x^(p+2), x = r/r_c; exactly 0 (and
    with zero derivatives) for r ≥ r_c; u, u' and u'' vanish at r_c."""
    inside = r < cutoff
    x = torch.where(inside, r / cutoff, torch.zeros_like(r))
    xp = x.pow(p)
    u = 1.0 - 0.5 * (p + 1) * (p + 2) * xp + p * (p + 2) * xp * x - 0.5 * p * (p + 1) * xp * x * x
    return torch.where(inside, u, torch.zeros_like(r))


def real_spherical_harmonics_with_l0(u: torch.Tensor, sh: SphericalHarmonics) -> torch.Tensor:
    """Y_lm, l = 0..l_max, of unit vectors (E, 3) → (E, (l_max + 1)²)."""
    return torch.cat([torch.full_like(u[:, :1], 0.5 / math.sqrt(math.pi)), sh(u)], dim=1)


def gaunt_couplings(l_max: int) -> Tuple[List[Tuple[int, int, int]], torch.Tensor, torch.Tensor]:
    """The O(3)-invariant triple couplings 1 ≤ l1 ≤ l2 ≤ l3 ≤ l_max (even sum, triangle rule).

    Returns the triples, an index tensor (4, nnz) of (lm1, lm2, lm3, triple) in the l = 0..l_max
    (l_max + 1)² layout, and the coefficients (nnz,) float64: ∫ Y_a Y_b Y_c dΩ by a product
    quadrature exact for these polynomials (Gauss–Legendre in cos θ, uniform in φ), each triple
    normalised to unit Frobenius norm.
    """
    n_z, n_phi = 2 * l_max + 4, 4 * l_max + 4  # exact up to degree 3 l_max in x, y, z
    z, wz = np.polynomial.legendre.leggauss(n_z)
    phi = 2 * math.pi * np.arange(n_phi) / n_phi
    zz, pp = np.meshgrid(z, phi, indexing="ij")
    s = np.sqrt(1.0 - zz**2)
    pts = torch.tensor(np.stack([s * np.cos(pp), s * np.sin(pp), zz], axis=-1).reshape(-1, 3))
    w = torch.tensor((wz[:, None] * np.full(n_phi, 2 * math.pi / n_phi)[None, :]).reshape(-1))
    Y = real_spherical_harmonics_with_l0(pts, SphericalHarmonics(max(l_max, 1)).double())
    triples, rows, coefs = [], [], []
    for l1 in range(1, l_max + 1):
        for l2 in range(l1, l_max + 1):
            for l3 in range(l2, min(l_max, l1 + l2) + 1):
                if (l1 + l2 + l3) % 2:
                    continue
                s1, s2, s3 = (slice(l * l, (l + 1) ** 2) for l in (l1, l2, l3))
                g = torch.einsum("p,pa,pb,pc->abc", w, Y[:, s1], Y[:, s2], Y[:, s3])
                g = torch.where(g.abs() > 1e-12, g, torch.zeros_like(g))
                g = g / torch.linalg.vector_norm(g)
                t = len(triples)
                triples.append((l1, l2, l3))
                for a, b, c in torch.nonzero(g).tolist():
                    rows.append((l1 * l1 + a, l2 * l2 + b, l3 * l3 + c, t))
                    coefs.append(float(g[a, b, c]))
    index = torch.tensor(rows, dtype=torch.long).reshape(-1, 4).t().contiguous()
    return triples, index, torch.tensor(coefs, dtype=torch.float64)


class RadialMLP(nn.Module):
    """SiLU MLP without biases (as MACE's): a bias would shift every radial function by the same
    amount, which the (standardised) two-body features amplify into large steps early in training."""

    def __init__(self, n_in: int, hidden: List[int], n_out: int):
        super().__init__()
        layers: List[nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, h, bias=False), nn.SiLU()]
            width = h
        layers.append(nn.Linear(width, n_out, bias=False))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class EquivariantModel(DescriptorModel):
    """One-layer MACE-like equivariant potential obeying the model contract."""

    def __init__(
        self,
        n_species: int,
        cutoff: float = 5.0,
        n_basis: int = 8,
        channels: int = 16,
        l_max: int = 2,
        correlation: int = 3,
        radial_hidden: List[int] = [32],
        hidden: List[int] = [64],
    ):
        super().__init__()
        if not 1 <= l_max <= 4:
            raise ValueError(f"l_max must be 1..4, got {l_max}")
        if not 1 <= correlation <= 3:
            raise ValueError(f"correlation must be 1..3, got {correlation}")
        if cutoff <= 0:
            raise ValueError(f"cutoff must be positive, got {cutoff}")
        self.n_species = n_species
        self.cutoff = float(cutoff)
        self.n_basis = n_basis
        self.channels = channels
        self.l_max = l_max
        self.correlation = correlation
        self.n_lm = (l_max + 1) ** 2
        triples, index, coef = gaunt_couplings(l_max) if correlation >= 3 else ([], torch.zeros(4, 0, dtype=torch.long), torch.zeros(0))
        self.triples = triples
        self.n_triples = len(triples)
        self.n_features = channels * (1 + (l_max if correlation >= 2 else 0) + self.n_triples)
        # learned: neighbour-species embedding, channel mixing per l, radial and readout MLPs
        # positive and away from 0: a near-zero channel would make Adam's first steps change its
        # (standardised) features by many standard deviations
        self.species_embedding = nn.Parameter(torch.empty(n_species, channels).uniform_(0.5, 1.5))
        self.channel_mixing = nn.Parameter(torch.randn(l_max + 1, channels, channels) / math.sqrt(channels))
        self.radial = RadialMLP(n_basis, radial_hidden, (l_max + 1) * channels)
        self.mlp = SpeciesMLP(n_species, self.n_features, hidden)
        # statistics (set by the trainer from the data)
        self.register_buffer("avg_num_neighbors", torch.ones(()))
        self.register_buffer("descriptor_mean", torch.zeros(n_species, self.n_features))
        self.register_buffer("descriptor_std", torch.ones(n_species, self.n_features))
        self.register_buffer("energy_scale", torch.ones(()))
        self.register_buffer("species_energy", torch.zeros(n_species))
        # constants of the definition (not learned, kept out of state_dicts)
        lm_l = [l for l in range(l_max + 1) for _ in range(2 * l + 1)]
        self.register_buffer("lm_to_l", torch.tensor(lm_l, dtype=torch.long), persistent=False)
        lm_block = [lm * (l_max + 1) + l for lm, l in enumerate(lm_l)]  # (lm, l) in the (lm, l', c) outer sum
        self.register_buffer("lm_block", torch.tensor(lm_block, dtype=torch.long), persistent=False)
        self.register_buffer("b2_index", torch.tensor([l - 1 for l in lm_l[1:]], dtype=torch.long), persistent=False)
        self.register_buffer("b3_index", index, persistent=False)
        self.register_buffer("b3_coef", coef, persistent=False)
        self.spherical_harmonics = SphericalHarmonics(l_max)
        # tabulated radial functions (tabulate_radial; empty: the radial MLP), per interval k the
        # cubic coefficients in t = r/h − k, (n_intervals, 4, (l_max + 1) channels)
        self.register_buffer("radial_table", torch.zeros(0, 4, (l_max + 1) * channels, dtype=torch.float64), persistent=False)
        self.radial_step = 0.0
        # inference with the fused torch.ops.mlip kernels (export sets it with a radial table)
        self.fused = False
        self.supports_fused = True

    def _radial_mlp(self, r: torch.Tensor) -> torch.Tensor:
        """R_lc(r) = u(r) MLP(b(r)), (E,) → (E, (l_max + 1) channels), zero for r ≥ r_c."""
        rs = torch.where(r < self.cutoff, r, torch.full_like(r, self.cutoff))  # no NaN through 1/r
        return self.radial(bessel_basis(rs, self.cutoff, self.n_basis)) * polynomial_envelope(r, self.cutoff).unsqueeze(1)

    def radial_functions(self, r: torch.Tensor) -> torch.Tensor:
        """R_lc(r), (E,) → (E, (l_max + 1) channels): the table if there is one, else the MLP."""
        n = self.radial_table.shape[0]
        if n == 0:
            return self._radial_mlp(r)
        inside = r < self.cutoff
        x = torch.where(inside, r, torch.zeros_like(r)) / self.radial_step
        k = torch.clamp(torch.floor(x), max=float(n - 1))
        t = (x - k).unsqueeze(1)
        c = self.radial_table.to(r.dtype).index_select(0, k.long())
        R = c[:, 0] + t * (c[:, 1] + t * (c[:, 2] + t * c[:, 3]))
        return torch.where(inside.unsqueeze(1), R, torch.zeros_like(R))

    @torch.jit.unused
    @torch.no_grad()
    def tabulate_radial(self, n_intervals: int = 1000) -> float:
        """Replace the radial MLP by cubic Hermite interpolation on ``n_intervals`` equal intervals
        of [0, r_c] (values and slopes exact at the knots, computed in float64). Returns the
        largest deviation from the MLP at the interval midpoints relative to max |R|."""
        h = self.cutoff / n_intervals
        knots = torch.arange(n_intervals + 1, dtype=torch.float64) * h
        knots[0] = 1e-30  # sin(kπr/r_c)/r at its limit r → 0
        mlp = copy.deepcopy(self).double()
        mlp.radial_table = torch.zeros(0, 4, self.radial_table.shape[2], dtype=torch.float64)
        with torch.enable_grad():
            y, dy = torch.func.jvp(mlp._radial_mlp, (knots,), (torch.ones_like(knots),))
        dy[0] = 0.0  # R(r) is even in r (Bessel basis and envelope are), so R'(0) = 0
        y0, y1, m0, m1 = y[:-1], y[1:], h * dy[:-1], h * dy[1:]
        table = torch.stack([y0, m0, 3 * (y1 - y0) - 2 * m0 - m1, 2 * (y0 - y1) + m0 + m1], dim=1)
        # in the model's own dtype, so that inference converts nothing per call
        self.radial_table = table.to(device=self.radial_table.device, dtype=self.species_embedding.dtype)
        self.radial_step = h
        mid = (torch.arange(n_intervals, dtype=torch.float64) + 0.5) * h
        exact = mlp._radial_mlp(mid)
        mlp.radial_table, mlp.radial_step = table, h
        return float((mlp.radial_functions(mid) - exact).abs().max() / exact.abs().max())

    def atomic_basis(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> torch.Tensor:
        """A_i,lm,c, (n, (l_max + 1)², channels)."""
        n = center_species.shape[0]
        r = torch.linalg.vector_norm(edge_vectors, dim=1)
        rs = torch.where(r < self.cutoff, r, torch.full_like(r, self.cutoff))
        radial = self.radial_functions(r)
        h = self.species_embedding.index_select(0, edge_neighbor_species)
        rh = (radial.view(-1, self.l_max + 1, self.channels) * h.unsqueeze(1)).view(-1, (self.l_max + 1) * self.channels)
        u = edge_vectors / rs.unsqueeze(1)
        y00 = 0.28209479177387814  # 1/√(4π)
        ylm = torch.cat([torch.full_like(u[:, :1], y00), self.spherical_harmonics(u)], dim=1)
        # Σ_j Y_lm ⊗ (R h)_l'c for all (lm, l'), one bmm over per-centre padded edges (the per-edge
        # (E, lm, c) product is never formed), then the l' = l blocks
        A = per_center_outer_sum(edge_center, ylm, rh, n).view(n, -1, self.channels).index_select(1, self.lm_block)
        A = A / self.avg_num_neighbors
        # channel mixing per l: (lm, n, c) @ (lm, c, d)
        mix = self.channel_mixing.index_select(0, self.lm_to_l)
        return torch.bmm(A.transpose(0, 1), mix).transpose(0, 1)

    def descriptors(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> torch.Tensor:
        """Raw (unnormalised) invariant features B, (n, n_features)."""
        A = self.atomic_basis(center_species, edge_center, edge_neighbor_species, edge_vectors)
        n = A.shape[0]
        feats = [A[:, 0, :]]
        if self.correlation >= 2:
            b2 = torch.zeros((n, self.l_max, self.channels), dtype=A.dtype, device=A.device)
            feats.append(b2.index_add(1, self.b2_index, A[:, 1:, :] * A[:, 1:, :]).reshape(n, -1))
        if self.correlation >= 3 and self.n_triples > 0:
            idx = self.b3_index
            prod = A.index_select(1, idx[0]) * A.index_select(1, idx[1]) * A.index_select(1, idx[2])
            prod = prod * self.b3_coef.to(A.dtype).view(1, -1, 1)
            b3 = torch.zeros((n, self.n_triples, self.channels), dtype=A.dtype, device=A.device)
            feats.append(b3.index_add(1, idx[3], prod).reshape(n, -1))
        return torch.cat(feats, dim=1)

    def _forward_fused(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """forward() through the fused kernels (tabulated radial functions): B and A from
        mlip::eq_features, the readout and dE/dB from mlip::species_mlp, dE/d edge_vectors from
        mlip::eq_edge_grad."""
        if self.radial_table.shape[0] == 0:
            raise RuntimeError("the fused equivariant kernels need tabulated radial functions (tabulate_radial)")
        dtype = edge_vectors.dtype
        vectors = edge_vectors.detach()
        table = self.radial_table.to(dtype)
        embedding = self.species_embedding.detach().to(dtype)
        mixing = (self.channel_mixing.detach() / self.avg_num_neighbors).to(dtype)
        coef = self.b3_coef.to(dtype)
        sh = self.spherical_harmonics  # the kernels use the model's Y_lm coefficients
        B, A = torch.ops.mlip.eq_features(
            center_species, edge_center, edge_neighbor_species, vectors, table, self.radial_step, self.cutoff,
            embedding, mixing, self.b3_index, coef, sh.parent, sh.axis, sh.coef, self.l_max, self.correlation,
        )
        energy, dE_dB = self.fused_readout(B, center_species)
        edge_grad = torch.ops.mlip.eq_edge_grad(
            center_species, edge_center, edge_neighbor_species, vectors, table, self.radial_step, self.cutoff,
            embedding, mixing, self.b3_index, coef, sh.parent, sh.axis, sh.coef, self.l_max, self.correlation,
            A, dE_dB,
        )
        return energy, edge_grad
