"""Real orthonormal spherical harmonics Y_lm(r̂), l = 1..4, as polynomials of the unit vector.

Written out (rather than e3nn's generated code) because hand-written kernels must reproduce the
same polynomials; the ordering is m = -l..l within each l. ``SphericalHarmonics`` evaluates them as
(monomials of x, y, z) @ (constant coefficient matrix): a few large tensor ops instead of ~100
small ones, which matters for training (double backward) and inference alike.
"""

from __future__ import annotations

import math
from typing import List

import torch


def _ylm_terms(x, y, z, l_max: int) -> list:
    """The defining Y_lm formulas, on anything supporting + and * (tensors, sympy symbols)."""
    pi = math.pi
    c1 = math.sqrt(3.0 / (4 * pi))
    c2a, c2b, c2c = 0.5 * math.sqrt(15.0 / pi), 0.25 * math.sqrt(5.0 / pi), 0.25 * math.sqrt(15.0 / pi)
    c3a, c3b = 0.25 * math.sqrt(35.0 / (2 * pi)), 0.5 * math.sqrt(105.0 / pi)
    c3c, c3d, c3e = 0.25 * math.sqrt(21.0 / (2 * pi)), 0.25 * math.sqrt(7.0 / pi), 0.25 * math.sqrt(105.0 / pi)
    c4a, c4b = 0.75 * math.sqrt(35.0 / pi), 0.75 * math.sqrt(35.0 / (2 * pi))
    c4c, c4d = 0.75 * math.sqrt(5.0 / pi), 0.75 * math.sqrt(5.0 / (2 * pi))
    c4e, c4f, c4g = (3.0 / 16.0) * math.sqrt(1.0 / pi), (3.0 / 8.0) * math.sqrt(5.0 / pi), (3.0 / 16.0) * math.sqrt(35.0 / pi)
    out = [c1 * y, c1 * z, c1 * x]
    x2, y2, z2 = x * x, y * y, z * z
    if l_max >= 2:
        out += [c2a * x * y, c2a * y * z, c2b * (3 * z2 - 1), c2a * x * z, c2c * (x2 - y2)]
    if l_max >= 3:
        out += [
            c3a * y * (3 * x2 - y2),
            c3b * x * y * z,
            c3c * y * (5 * z2 - 1),
            c3d * z * (5 * z2 - 3),
            c3c * x * (5 * z2 - 1),
            c3e * z * (x2 - y2),
            c3a * x * (x2 - 3 * y2),
        ]
    if l_max >= 4:
        out += [
            c4a * x * y * (x2 - y2),
            c4b * y * z * (3 * x2 - y2),
            c4c * x * y * (7 * z2 - 1),
            c4d * y * z * (7 * z2 - 3),
            c4e * (35 * z2 * z2 - 30 * z2 + 3),
            c4d * x * z * (7 * z2 - 3),
            c4f * (x2 - y2) * (7 * z2 - 1),
            c4b * x * z * (x2 - 3 * y2),
            c4g * (x2 * (x2 - 3 * y2) - y2 * (3 * x2 - y2)),
        ]
    return out


def real_spherical_harmonics_reference(u: torch.Tensor, l_max: int) -> torch.Tensor:
    """Y_lm (l = 1..l_max ≤ 4) of unit vectors ``u`` (E, 3) → (E, l_max (l_max + 2)), term by term."""
    return torch.stack(_ylm_terms(u[:, 0], u[:, 1], u[:, 2], l_max), dim=1)


def _monomials(l_max: int) -> tuple[list[tuple[int, int, int]], list[int], list[int]]:
    """Monomial powers of degree 0..l_max, each (after the constant) built as parent × axis."""
    powers = [(0, 0, 0)]
    parents: list[int] = []
    axes: list[int] = []
    frontier = [0]
    for _ in range(l_max):
        nxt = []
        for parent in frontier:
            for axis in range(3):
                p = list(powers[parent])
                p[axis] += 1
                if tuple(p) not in powers:
                    powers.append(tuple(p))
                    parents.append(parent)
                    axes.append(axis)
                    nxt.append(len(powers) - 1)
        frontier = nxt
    return powers, parents, axes


def _coefficients(powers: list[tuple[int, int, int]], l_max: int) -> torch.Tensor:
    """Coefficients of each Y_lm on the monomials, by symbolic expansion of the formulas."""
    import sympy

    X, Y, Z = sympy.symbols("x y z")
    coef = torch.zeros(len(powers), l_max * (l_max + 2), dtype=torch.float64)
    for k, term in enumerate(_ylm_terms(X, Y, Z, l_max)):
        for monom, value in sympy.Poly(sympy.expand(term), X, Y, Z).terms():
            coef[powers.index(tuple(monom)), k] = float(value)
    return coef


class SphericalHarmonics(torch.nn.Module):
    """Y_lm, l = 1..l_max, of unit vectors (E, 3) → (E, l_max (l_max + 2))."""

    def __init__(self, l_max: int):
        super().__init__()
        if not 1 <= l_max <= 4:
            raise ValueError(f"l_max must be 1..4, got {l_max}")
        powers, parents, axes = _monomials(l_max)
        degrees = [sum(p) for p in powers]
        self.degree_ends: List[int] = [degrees.index(d) for d in range(2, l_max + 1)] + [len(powers)]
        # constants of the definition, not learned: kept out of state_dicts
        self.register_buffer("parent", torch.tensor(parents, dtype=torch.long), persistent=False)
        self.register_buffer("axis", torch.tensor(axes, dtype=torch.long), persistent=False)
        self.register_buffer("coef", _coefficients(powers, l_max), persistent=False)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        mono = torch.cat([torch.ones_like(u[:, :1]), u], dim=1)  # degrees 0 and 1
        for end in self.degree_ends:
            start = mono.shape[1]
            if end <= start:
                continue
            parent = self.parent[start - 1 : end - 1]
            axis = self.axis[start - 1 : end - 1]
            mono = torch.cat([mono, mono.index_select(1, parent) * u.index_select(1, axis)], dim=1)
        return mono @ self.coef.to(u.dtype)
