"""Learned three-body screening of pair contributions, after the screening of the modified
embedded-atom method (MEAM: Baskes, PRB 46, 2727 (1992); LAMMPS ``pair_style meam``).

A third atom k near the bond i–j is described by where it sits on the family of ellipses through i
and j,

    C_ikj = (2 (X_ik + X_jk) − (X_ik − X_jk)² − 1) / (1 − (X_ik − X_jk)²),  X_ik = (r_ik / r_ij)²

(C = 0 on the segment i–j, 3 for an equilateral triangle, → ∞ far from the bond). The bond gets
the weight

    S_ij = 2 σ(−Σ_k h_{s_i s_j s_k}(C_ikj)),   σ(z) = 1 / (1 + e^−z),

with h a cubic B-spline in C on [0, ``C_UPPER``] (knot spacing ``KNOT``), learned per species
triple (symmetric in i and j), zero with two zero derivatives at C_UPPER. MEAM's own
S_ij = Π_k f_c((C − C_min)/(C_max − C_min)) is a sharp case of it (h ≈ −log f_c, S ≈ 2 e^−Σh);
a spline rather than learned thresholds because the thresholds hardly move by gradient descent
(a triple outside its window gets no gradient), while every spline weight does. h starts at 0
(S = 1, the unscreened model). Training keeps the spline weights ≥ 0 (``project_`` after every
optimiser step; B-splines are non-negative), so h ≥ 0 and S ∈ (0, 1] as in MEAM: a third atom
screens a bond or leaves it alone. Unconstrained, a constant-rate round learned S up to 1.8
("anti-screening") where the reference screens, and a model started from it kept that
(benchmarks/accuracy/README.md, Reruns).

Why: a screened reference (e.g. a 2NN MEAM whose C_min sits near the C of its ideal lattices)
switches bonds on and off with sub-0.01 Å moves of a third atom. Smooth descriptors cannot
follow that; pair contributions multiplied by a learned S_ij can, because that is how the
reference is built.

Strict locality: every k with C_ikj < C_UPPER lies within √ε·r_ij of i, ε = C_UPPER² /
(4 (C_UPPER − 1)), so k is in i's neighbour list whenever r_ij < cutoff/√ε. Beyond that the
screening is tapered off (weight 1 − t(r_ij) (1 − S_ij), t = 1 → 0 over ``TAPER`` Å), so no
energy jump occurs when a k crosses the cutoff.
"""

from __future__ import annotations

import math
from typing import Tuple

import torch
from torch import nn

C_UPPER = 4.0  # screening ends here (above 3, the C of a close-packed triangle, which some references screen)
ELLIPSE = C_UPPER * C_UPPER / (4.0 * (C_UPPER - 1.0))  # ε: (r_ik/r_ij)² bound of screening atoms
TAPER = 0.3  # Å over which screening is switched off below the outer radius
KNOT = 0.1  # spline knot spacing in C (MEAM windows C_max − C_min are 0.5–2.5 wide; 0.2 and 0.05 fitted the HEA worse)
SPLINE_SCALE = 16.0  # h = SPLINE_SCALE · Σ w B: Adam's ~lr steps in w move h by a useful amount (4 and 48 fitted the HEA worse)


def edge_triplets(edge_center: torch.Tensor, r: torch.Tensor, first: torch.Tensor, ratio: float
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ordered pairs (e1, e2) of edges with the same centre, e1 ∈ ``first``, e2 ≠ e1 and
    r[e2] < ratio · r[e1] → two (T,) index tensors.

    Edges are sorted by (centre, r), so each e1's partners are one run of that order, found by
    binary search: no candidate beyond the distance bound is ever formed.
    """
    rd = r.detach().to(torch.float64)
    span = float(rd.max()) * max(ratio, 1.0) + 1.0
    key = edge_center.to(torch.float64) * span + rd
    order = torch.argsort(key)
    sorted_key = key.index_select(0, order)
    c1 = edge_center.index_select(0, first).to(torch.float64) * span
    lo = torch.searchsorted(sorted_key, c1)
    reps = torch.searchsorted(sorted_key, c1 + ratio * rd.index_select(0, first)) - lo
    e1 = torch.repeat_interleave(first, reps)
    offset = torch.arange(e1.shape[0], device=e1.device) - torch.repeat_interleave(torch.cumsum(reps, 0) - reps, reps)
    e2 = order.index_select(0, torch.repeat_interleave(lo, reps) + offset)
    keep = torch.nonzero(e1 != e2).squeeze(1)
    return e1.index_select(0, keep), e2.index_select(0, keep)


class Screening(nn.Module):
    """S_ij per edge (dimensionless, 0..1 once trained, 1 = unscreened) from the edge vectors around each centre."""

    __constants__ = ["n_species", "n_knots", "outer", "c_upper", "ellipse", "taper", "knot", "scale"]

    def __init__(self, n_species: int, cutoff: float):
        super().__init__()
        self.n_species = n_species
        self.c_upper = C_UPPER
        self.ellipse = ELLIPSE
        self.taper = TAPER
        self.knot = KNOT
        self.scale = SPLINE_SCALE
        self.outer = cutoff / math.sqrt(ELLIPSE) - 0.01
        if self.outer <= TAPER:
            raise ValueError(f"cutoff {cutoff} Å is too short for screening")
        # B_b(C) = N₃(C/KNOT − b), b = −3 … K − 4 (K = C_UPPER/KNOT): the splines whose support ends
        # by C_UPPER; weight b + 3 is column b + 3 of ``weights``
        self.n_knots = int(round(C_UPPER / KNOT))
        self.weights = nn.Parameter(torch.zeros(n_species, n_species, n_species, self.n_knots))

    @torch.no_grad()
    def project_(self) -> None:
        """Clip the spline weights to ≥ 0 (projected gradient descent): h ≥ 0, so S ≤ 1."""
        self.weights.clamp_(min=0.0)

    def table(self, dtype: torch.dtype) -> torch.Tensor:
        """Spline weights symmetrised in i and j, (S³, n_knots + 3): column b + 3 weighs B_b, and
        the three zero columns are the splines that reach past C_UPPER."""
        w = 0.5 * (self.weights + self.weights.transpose(0, 1))
        return nn.functional.pad(w.reshape(-1, self.n_knots), (0, 3)).to(dtype)

    def spline(self, c: torch.Tensor, triple: torch.Tensor) -> torch.Tensor:
        """h(C) of each triple, (T,), from C (T,) in [0, C_UPPER) and the flat species-triple index (T,)."""
        w = self.table(c.dtype)
        u = torch.clamp(c, min=0.0) / self.knot
        cell = torch.clamp(torch.floor(u), max=float(self.n_knots - 1))
        t = u - cell
        t2 = t * t
        t3 = t2 * t
        s = 1.0 - t
        basis = torch.stack([s * s * s, 3.0 * t3 - 6.0 * t2 + 4.0, -3.0 * t3 + 3.0 * t2 + 3.0 * t + 1.0, t3], 1) / 6.0
        # splines b = cell − 3 … cell, i.e. weight columns cell … cell + 3
        col = cell.to(torch.long).unsqueeze(1) + torch.arange(4, device=c.device)
        flat = triple.unsqueeze(1) * (self.n_knots + 3) + col
        return self.scale * (w.reshape(-1).index_select(0, flat.reshape(-1)).reshape(-1, 4) * basis).sum(1)

    def _ellipse(self, vectors: torch.Tensor, e1: torch.Tensor, e2: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """X_ik, X_jk, 1 − (X_ik − X_jk)² and C_ikj of each triple (i centre, j = e1's, k = e2's neighbour)."""
        v1 = vectors.index_select(0, e1)
        v2 = vectors.index_select(0, e2)
        r12 = (v1 * v1).sum(1)
        x_ik = (v2 * v2).sum(1) / r12
        x_jk = ((v2 - v1) ** 2).sum(1) / r12
        d = x_ik - x_jk
        a = 1.0 - d * d
        return x_ik, x_jk, a, (2.0 * (x_ik + x_jk) + a - 2.0) / a

    def forward(
        self,
        center_species: torch.Tensor,
        edge_center: torch.Tensor,
        edge_neighbor_species: torch.Tensor,
        edge_vectors: torch.Tensor,
        r: torch.Tensor,
    ) -> torch.Tensor:
        """(E,) bond weights S_eff = 1 − t(r_ij)(1 − S_ij) of every edge."""
        first = torch.nonzero(r < self.outer).squeeze(1)
        if first.numel() == 0:
            return torch.ones_like(r)
        # k with C < C_UPPER has X_ik < ε: r_ik < √ε r_ij
        e1, e2 = edge_triplets(edge_center, r, first, math.sqrt(self.ellipse))
        # Keep the triples with C < C_UPPER: all others have h = 0 and no gradient (1 − d² ≤ 0 is
        # outside the ellipse family, C = ∞), so dropping them is exact and keeps C finite.
        x_ik, x_jk, a, c = self._ellipse(edge_vectors.detach(), e1, e2)
        sel = torch.nonzero((x_ik < self.ellipse) & (x_jk < self.ellipse) & (a > 0.0) & (c < self.c_upper)).squeeze(1)
        e1 = e1.index_select(0, sel)
        e2 = e2.index_select(0, sel)
        c = self._ellipse(edge_vectors, e1, e2)[3]
        s_i = center_species.index_select(0, edge_center.index_select(0, e1))
        s_j = edge_neighbor_species.index_select(0, e1)
        s_k = edge_neighbor_species.index_select(0, e2)
        h = self.spline(c, (s_i * self.n_species + s_j) * self.n_species + s_k)
        # edges beyond ``outer`` have no triples: S = 2σ(0) = 1 there
        s = 2.0 * torch.sigmoid(-torch.zeros_like(r).index_add(0, e1, h))
        # taper: t = 1 up to outer − TAPER, then ½(1 + cos) down to 0 at outer
        u = torch.clamp((r - (self.outer - self.taper)) / self.taper, 0.0, 1.0)
        return 1.0 - 0.5 * (1.0 + torch.cos(math.pi * u)) * (1.0 - s)

    # The fused inference path (NEPModel._forward_fused, needs mlip_lammps.ops): the same S_eff
    # and its backward in C++ (cpp/mlip_ops/nep_ops.cpp), no autograd.

    def fused_bond(self, center_species: torch.Tensor, edge_center: torch.Tensor,
                   edge_neighbor_species: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
        """(E,) S_eff of every edge, as forward()."""
        return torch.ops.mlip.screening_bond(
            center_species, edge_center, edge_neighbor_species, vectors, self.table(vectors.dtype).detach(),
            self.knot, self.scale, self.c_upper, self.ellipse, self.outer, self.taper)

    def fused_grad(self, center_species: torch.Tensor, edge_center: torch.Tensor, edge_neighbor_species: torch.Tensor,
                   vectors: torch.Tensor, dE_dbond: torch.Tensor) -> torch.Tensor:
        """(E, 3) Σ_e dE/dS_eff[e] · dS_eff[e]/d edge_vectors, from dE_dbond (E,)."""
        return torch.ops.mlip.screening_grad(
            center_species, edge_center, edge_neighbor_species, vectors, self.table(vectors.dtype).detach(),
            self.knot, self.scale, self.c_upper, self.ellipse, self.outer, self.taper, dE_dbond)


# MEAM windows: the spline of a triple ↔ a cutoff window (C_min, C_max) of MEAM's screening
# function. A learned spline is a noisy, partly learned switch; its nearest window is a clean one,
# and a fresh model started from those windows learns the HEA's forces much faster (docs/training.md).


def meam_cutoff(c: torch.Tensor, c_min: torch.Tensor, c_max: torch.Tensor) -> torch.Tensor:
    """MEAM's single-atom screening f_c((C − C_min)/(C_max − C_min)), f_c(x) = (1 − (1 − x)⁴)² on [0, 1]."""
    x = torch.clamp((c - c_min) / (c_max - c_min), 0.0, 1.0)
    return (1.0 - (1.0 - x) ** 4) ** 2


def _single_atom_screening(screening: Screening, c: torch.Tensor) -> torch.Tensor:
    """(S³, len(c)) S(C) = 2σ(−h(C)) of one screening atom, every species triple (flat index)."""
    n3 = screening.n_species ** 3
    triple = torch.arange(n3).repeat_interleave(c.numel())
    h = screening.spline(c.repeat(n3), triple).detach().double()
    return (2.0 * torch.sigmoid(-h)).reshape(n3, c.numel())


@torch.no_grad()
def fit_windows(screening: Screening, step: float = 0.02) -> torch.Tensor:
    """(S, S, S, 2) windows (C_min, C_max) whose MEAM cutoff best fits (least squares over C ∈
    [0, C_UPPER), grid step ``step``) each triple's learned single-atom screening, capped at 1
    (a window cannot enhance a bond). A triple that never screens gets a window near C = 0."""
    c = torch.linspace(0.0, screening.c_upper - 1e-3, 400, dtype=torch.float64)
    target = torch.clamp(_single_atom_screening(screening, c), max=1.0)
    grid = torch.arange(0.0, screening.c_upper + step / 2, step, dtype=torch.float64)
    lo, hi = torch.meshgrid(grid, grid + 0.05, indexing="ij")
    ok = hi > lo
    lo, hi = lo[ok], hi[ok]
    f = meam_cutoff(c, lo[:, None], hi[:, None])  # (windows, C)
    # mean squared difference of every triple to every window, as one product
    err = (f * f).mean(1) - 2.0 * target @ f.T / c.numel()
    best = err.argmin(1)
    n = screening.n_species
    return torch.stack([lo[best], hi[best]], 1).reshape(n, n, n, 2)


def window_weights(windows: torch.Tensor) -> torch.Tensor:
    """Spline weights (S, S, S, n_knots) whose 2σ(−h(C)) fits the MEAM cutoff of each triple's
    window (C_min, C_max) from ``windows`` (S, S, S, 2); max error ~0.01 in S for the HEA's
    windows. Fitted in S-space: a least-squares fit of h = −log f_c itself is poor (h diverges at C_min).
    Clipped to ≥ 0 as training keeps them (Screening.project_)."""
    one = Screening(1, 5.5).double()
    c = torch.linspace(0.0, one.c_upper - 1e-3, 2000, dtype=torch.float64)
    basis = []
    for b in range(one.n_knots):
        with torch.no_grad():
            one.weights.zero_()
            one.weights[0, 0, 0, b] = 1.0
        basis.append(one.spline(c, torch.zeros_like(c, dtype=torch.long)).detach())
    a = torch.stack(basis, 1)
    flat = windows.double().reshape(-1, 2)
    weights = torch.zeros(flat.shape[0], one.n_knots, dtype=torch.float64)
    for t, (c_min, c_max) in enumerate(flat):
        f = meam_cutoff(c, c_min, c_max)
        start = torch.clamp(-torch.log(torch.clamp(f, min=1e-12)), max=6.0)
        w = torch.linalg.lstsq(a, start.unsqueeze(1)).solution.squeeze(1).requires_grad_(True)
        opt = torch.optim.LBFGS([w], max_iter=500, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = ((2.0 * torch.sigmoid(-(a @ w)) - f) ** 2).mean() + 1e-6 * (w * w).mean()
            loss.backward()
            return loss

        opt.step(closure)
        weights[t] = w.detach().clamp(min=0.0)
    return weights.reshape(*windows.shape[:3], one.n_knots)
