"""Real orthonormal spherical harmonics Y_lm(r̂) for l = 1..4 as polynomials of the unit vector.

Written out (rather than e3nn's generated code) because the same polynomials must be reproduced
exactly in hand-written kernels; the ordering is m = -l..l within each l.
"""

from __future__ import annotations

import math

import torch


def real_spherical_harmonics(u: torch.Tensor, l_max: int) -> torch.Tensor:
    """Y_lm for l = 1..l_max (l_max ≤ 4) of unit vectors ``u`` (E, 3) → (E, l_max (l_max + 2))."""
    pi = math.pi
    C1 = math.sqrt(3.0 / (4 * pi))
    C2a = 0.5 * math.sqrt(15.0 / pi)
    C2b = 0.25 * math.sqrt(5.0 / pi)
    C2c = 0.25 * math.sqrt(15.0 / pi)
    C3a = 0.25 * math.sqrt(35.0 / (2 * pi))
    C3b = 0.5 * math.sqrt(105.0 / pi)
    C3c = 0.25 * math.sqrt(21.0 / (2 * pi))
    C3d = 0.25 * math.sqrt(7.0 / pi)
    C3e = 0.25 * math.sqrt(105.0 / pi)
    C4a = 0.75 * math.sqrt(35.0 / pi)
    C4b = 0.75 * math.sqrt(35.0 / (2 * pi))
    C4c = 0.75 * math.sqrt(5.0 / pi)
    C4d = 0.75 * math.sqrt(5.0 / (2 * pi))
    C4e = (3.0 / 16.0) * math.sqrt(1.0 / pi)
    C4f = (3.0 / 8.0) * math.sqrt(5.0 / pi)
    C4g = (3.0 / 16.0) * math.sqrt(35.0 / pi)
    x, y, z = u[:, 0], u[:, 1], u[:, 2]
    out = [C1 * y, C1 * z, C1 * x]
    if l_max >= 2:
        x2, y2, z2 = x * x, y * y, z * z
        out += [C2a * x * y, C2a * y * z, C2b * (3 * z2 - 1), C2a * x * z, C2c * (x2 - y2)]
        if l_max >= 3:
            out += [
                C3a * y * (3 * x2 - y2),
                C3b * x * y * z,
                C3c * y * (5 * z2 - 1),
                C3d * z * (5 * z2 - 3),
                C3c * x * (5 * z2 - 1),
                C3e * z * (x2 - y2),
                C3a * x * (x2 - 3 * y2),
            ]
            if l_max >= 4:
                out += [
                    C4a * x * y * (x2 - y2),
                    C4b * y * z * (3 * x2 - y2),
                    C4c * x * y * (7 * z2 - 1),
                    C4d * y * z * (7 * z2 - 3),
                    C4e * (35 * z2 * z2 - 30 * z2 + 3),
                    C4d * x * z * (7 * z2 - 3),
                    C4f * (x2 - y2) * (7 * z2 - 1),
                    C4b * x * z * (x2 - 3 * y2),
                    C4g * (x2 * (x2 - 3 * y2) - y2 * (3 * x2 - y2)),
                ]
    return torch.stack(out, dim=1)
