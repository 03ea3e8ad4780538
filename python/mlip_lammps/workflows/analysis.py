"""Numerics of the physics workflows, independent of LAMMPS.

Units: distances Å, number densities Å^-3, wave numbers Å^-1, times ps, MSD Å^2, diffusion
coefficients Å^2/ps unless a name says m2_s (1 Å^2/ps = 1e-8 m^2/s), temperatures K, pressures bar
(LAMMPS metal units), viscosities Pa·s unless a name says mPa_s.
"""

from __future__ import annotations

import numpy as np

KB_J_K = 1.380649e-23  # Boltzmann constant, J/K
AVOGADRO = 6.02214076e23  # 1/mol
YEH_HUMMER_XI = 2.837297  # cubic-lattice constant of the Yeh–Hummer correction
A2_PS_TO_M2_S = 1e-8  # Å^2/ps → m^2/s
BAR_TO_PA = 1e5


def block_average(x: np.ndarray, n_blocks: int = 5) -> tuple[float, float]:
    """Mean of ``x`` and its standard error from ``n_blocks`` contiguous block means (the
    first ``len(x) % n_blocks`` samples are dropped so that blocks have equal length)."""
    x = np.asarray(x, dtype=float)
    if n_blocks < 2 or len(x) < n_blocks:
        raise ValueError(f"need at least {n_blocks} ≥ 2 samples for {n_blocks} blocks, got {len(x)}")
    blocks = x[len(x) % n_blocks:].reshape(n_blocks, -1).mean(axis=1)
    return float(blocks.mean()), float(blocks.std(ddof=1) / np.sqrt(n_blocks))


def mean_and_sem(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of independent estimates (error 0 for a single value)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("no values")
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def _parabola_vertex(x: np.ndarray, y: np.ndarray, k: int) -> tuple[float, float]:
    """Vertex of the parabola through points k-1, k, k+1 (falls back to point k at the edges)."""
    if k <= 0 or k >= len(x) - 1:
        return float(x[k]), float(y[k])
    y0, y1, y2 = y[k - 1], y[k], y[k + 1]
    denom = y0 - 2 * y1 + y2
    if denom == 0:
        return float(x[k]), float(y1)
    d = 0.5 * (y0 - y2) / denom
    h = x[k + 1] - x[k]
    return float(x[k] + d * h), float(y1 - 0.25 * (y0 - y2) * d)


def first_peak(r: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Position (Å) and height of the first (highest) peak of g(r), refined by a parabola."""
    k = int(np.argmax(g))
    return _parabola_vertex(np.asarray(r), np.asarray(g), k)


def first_minimum(r: np.ndarray, g: np.ndarray, smooth_A: float = 0.1, span: float = 1.6) -> float:
    """Position (Å) of the first minimum of g(r): the lowest point of g (running mean over
    ``smooth_A``) between the first peak r1 and ``span``·r1 (liquids: ~1.4 r1; the second peak
    lies beyond ~1.7 r1), refined by a parabola."""
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    width = max(1, int(round(smooth_A / (r[1] - r[0]))))
    gs = np.convolve(g, np.ones(width) / width, mode="same")
    r1 = first_peak(r, g)[0]
    window = np.flatnonzero((r > r1) & (r < span * r1))
    if window.size < 3 or window[-1] >= len(r) - 1:
        raise ValueError(f"g(r) does not extend to {span}x its first peak ({span * r1:.2f} Å)")
    k = window[np.argmin(gs[window])]
    return _parabola_vertex(r, gs, k)[0]


def coordination_number(r: np.ndarray, g: np.ndarray, rho: float, r_max: float) -> float:
    """Number of neighbours within ``r_max``: 4πρ ∫_0^r_max r² g(r) dr (ρ in Å^-3, the density of
    the neighbour species for a partial g(r))."""
    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    mask = r < r_max
    rr = np.append(r[mask], r_max)
    gg = np.append(g[mask], np.interp(r_max, r, g))
    return float(4 * np.pi * rho * np.trapezoid(rr**2 * gg, rr))


def lorch_window(r: np.ndarray, r_max: float) -> np.ndarray:
    """Lorch modification function sin(πr/R)/(πr/R), which damps truncation ripples of the
    Fourier transform of g(r) cut at R = ``r_max``."""
    return np.sinc(np.asarray(r) / r_max)


def structure_factor(r: np.ndarray, g: np.ndarray, rho: float, q: np.ndarray, window: bool = True) -> np.ndarray:
    """S(q) = 1 + 4πρ ∫ r² (g(r) − 1) sin(qr)/(qr) W(r) dr over the tabulated r (uniform grid);
    W is the Lorch window when ``window`` (else 1)."""
    r = np.asarray(r, dtype=float)
    h = np.asarray(g, dtype=float) - 1.0
    if window:
        h = h * lorch_window(r, r[-1] + (r[1] - r[0]) / 2)
    qr = np.outer(np.asarray(q, dtype=float), r)
    kernel = np.sinc(qr / np.pi)  # sin(qr)/(qr)
    return 1.0 + 4 * np.pi * rho * np.trapezoid(kernel * (r**2 * h), r, axis=1)


def faber_ziman(r: np.ndarray, partials: dict[tuple[str, str], np.ndarray], fractions: dict[str, float], rho: float,
                q: np.ndarray, scattering_lengths: dict[str, float] | None = None, window: bool = True) -> np.ndarray:
    """Total Faber–Ziman S(q) = Σ_ab c_a c_b b_a b_b S_ab(q) / (Σ_a c_a b_a)² with
    S_ab(q) = 1 + 4πρ ∫ r² (g_ab − 1) sin(qr)/(qr) W dr; ``partials`` holds each unordered pair
    once (either order); ``scattering_lengths`` default to 1 for every species (number–number weights)."""
    b = scattering_lengths or {el: 1.0 for el in fractions}
    norm = sum(fractions[a] * b[a] for a in fractions) ** 2
    total = np.zeros(len(q))
    for a in fractions:
        for c in fractions:
            g = partials.get((a, c), partials.get((c, a)))
            if g is None:
                raise KeyError(f"partial g(r) for pair {a}-{c} missing")
            total += fractions[a] * fractions[c] * b[a] * b[c] * structure_factor(r, g, rho, q, window)
    return total / norm


def bhatia_thornton(r: np.ndarray, partials: dict[tuple[str, str], np.ndarray], fractions: dict[str, float], rho: float,
                    q: np.ndarray, window: bool = True) -> dict[str, np.ndarray]:
    """Bhatia–Thornton number–number, number–concentration and concentration–concentration
    structure factors of a binary liquid from its Faber–Ziman partials S_ab (see faber_ziman):
    S_NN = Σ c_a c_b S_ab, S_NC = c1 c2 [c1 (S_11 − S_12) − c2 (S_22 − S_12)],
    S_CC = c1 c2 [1 + c1 c2 (S_11 + S_22 − 2 S_12)] (ideal mixture: 1, 0, c1 c2)."""
    if len(fractions) != 2:
        raise ValueError(f"Bhatia–Thornton structure factors are for binary liquids, got {sorted(fractions)}")
    (a, c1), (b, c2) = fractions.items()

    def s(x: str, y: str) -> np.ndarray:
        g = partials.get((x, y), partials.get((y, x)))
        if g is None:
            raise KeyError(f"partial g(r) for pair {x}-{y} missing")
        return structure_factor(r, g, rho, q, window)

    s11, s22, s12 = s(a, a), s(b, b), s(a, b)
    return {"S_NN": c1 * c1 * s11 + c2 * c2 * s22 + 2 * c1 * c2 * s12,
            "S_NC": c1 * c2 * (c1 * (s11 - s12) - c2 * (s22 - s12)),
            "S_CC": c1 * c2 * (1.0 + c1 * c2 * (s11 + s22 - 2 * s12))}


def angle_distribution_peaks(theta_deg: np.ndarray, p: np.ndarray) -> list[float]:
    """Angles (degrees) of the local maxima of a bond-angle distribution, strongest first
    (maxima below 5% of the highest are ignored)."""
    p = np.convolve(np.asarray(p, dtype=float), np.ones(5) / 5, mode="same")
    k = [i for i in range(1, len(p) - 1) if p[i] >= p[i - 1] and p[i] > p[i + 1] and p[i] > 0.05 * p.max()]
    return [float(theta_deg[i]) for i in sorted(k, key=lambda i: -p[i])]


def fit_diffusion(t: np.ndarray, msd: np.ndarray, t_min: float, t_max: float | None = None, dim: int = 3) -> float:
    """Self-diffusion coefficient from the slope of the MSD: D = slope / (2·dim), fitted by least
    squares on t_min ≤ t ≤ t_max (the diffusive regime). Units: MSD unit per time unit."""
    t = np.asarray(t, dtype=float)
    mask = (t >= t_min) & (t <= (t[-1] if t_max is None else t_max))
    if mask.sum() < 3:
        raise ValueError(f"fewer than 3 MSD points in the fit window [{t_min}, {t_max}]")
    slope = np.polyfit(t[mask], np.asarray(msd, dtype=float)[mask], 1)[0]
    return float(slope / (2 * dim))


def running_integral(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid integral ∫_0^t y dt' at every t (starting at 0)."""
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    return np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(t))])


def green_kubo(t: np.ndarray, acf: np.ndarray, t_cut: float) -> float:
    """Green–Kubo integral ∫_0^t_cut acf(t) dt (trapezoid, linear interpolation at t_cut)."""
    t = np.asarray(t, dtype=float)
    if t_cut > t[-1] + 1e-12:
        raise ValueError(f"t_cut {t_cut} beyond the correlation window (max {t[-1]})")
    return float(np.interp(t_cut, t, running_integral(t, acf)))


def viscosity_factor(volume_A3: float, temperature_K: float) -> float:
    """Factor turning ∫<P_xy(0) P_xy(t)> dt in bar²·ps into the shear viscosity in Pa·s:
    η = V/(k_B T) ∫ <P_xy(0) P_xy(t)> dt."""
    return volume_A3 * 1e-30 / (KB_J_K * temperature_K) * BAR_TO_PA**2 * 1e-12


def yeh_hummer(d_pbc_m2_s: float, temperature_K: float, viscosity_Pa_s: float, box_length_A: float) -> float:
    """Infinite-system self-diffusion coefficient (m²/s) from the periodic cubic box value:
    D_inf = D_pbc + ξ k_B T / (6π η L), ξ = 2.837297 (Yeh & Hummer 2004)."""
    if viscosity_Pa_s <= 0:
        raise ValueError(f"viscosity must be positive for the finite-size correction, got {viscosity_Pa_s}")
    return d_pbc_m2_s + YEH_HUMMER_XI * KB_J_K * temperature_K / (6 * np.pi * viscosity_Pa_s * box_length_A * 1e-10)


def density_g_cm3(total_mass_g_mol: float, volume_A3: float) -> float:
    """Mass density (g/cm³) of atoms of total molar mass ``total_mass_g_mol`` in ``volume_A3``."""
    return total_mass_g_mol / AVOGADRO / (volume_A3 * 1e-24)


def onset_below_trend(x: np.ndarray, y: np.ndarray, fit_mask: np.ndarray, n_sigma: float = 5.0, persist: int = 5) -> int | None:
    """Index of the first sample (in order) from which ``y`` falls more than ``n_sigma`` residual
    standard deviations below the straight line fitted on ``fit_mask``, for at least ``persist``
    consecutive samples; None if it never does. Used for the crystallisation onset, where the
    potential energy drops below the liquid's trend."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if fit_mask.sum() < 3:
        raise ValueError("fewer than 3 samples to fit the trend")
    coef = np.polyfit(x[fit_mask], y[fit_mask], 1)
    resid = y - np.polyval(coef, x)
    sigma = resid[fit_mask].std(ddof=2)
    below = resid < -n_sigma * sigma
    run = 0
    for k, b in enumerate(below):
        run = run + 1 if b else 0
        if run >= persist:
            return k - persist + 1
    return None
