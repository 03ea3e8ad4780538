#!/usr/bin/env python
"""How much of a carbide student's force error is a pair term? A probe for issue 7.

Fits a per-species-pair cubic B-spline φ_ab(r) (knots every H Å from 0.6 Å; every element ends by
RC, so φ vanishes with two derivatives there) to the student's residuals (teacher − student) on
every STRIDE-th training frame by ridge least squares (forces, and energies per atom × WE), and
prints the shared test set's force RMSE with and without it (the energy with a constant offset
removed). Stage 17b: 161.1 → 161.1 meV/Å fitted on train_all.extxyz (stride 3, LAM 1e-4); on the 231 shared training frames 161.1 → 159.0 (LAM 1e-4), 177.3 (1e-6).

    LD_LIBRARY_PATH=$PWD/.venv/lib OMP_NUM_THREADS=1 LAM=1e-4 .venv/bin/python \
        benchmarks/foundation/probe_pair_residual.py models/carbide.pt runs/foundation/t22m/train_all.extxyz 3
"""
import itertools
import os
import sys
import time
from pathlib import Path

import ase.io
import numpy as np
from ase.neighborlist import neighbor_list
from scipy.interpolate import BSpline

from mlip_lammps import MLIPCalculator

model, trainf, stride = sys.argv[1], sys.argv[2], int(sys.argv[3])
RC = float(os.environ.get('RC', 3.0)); R0 = 0.6; H = float(os.environ.get('H', 0.1)); LAM = float(os.environ.get('LAM', 1e-6))
WE = float(os.environ.get('WE', 30.0))
species = ['C', 'Hf', 'Nb', 'Ta', 'Ti', 'Zr']
pairs = list(itertools.combinations_with_replacement(range(6), 2)); pid = {p: k for k, p in enumerate(pairs)}
k = 3; t = np.arange(R0 - 3 * H, RC + 1e-9, H); nb = len(t) - k - 1  # every element's support ends by RC
basis = [BSpline.basis_element(t[i:i + k + 2], extrapolate=False) for i in range(nb)]
dbasis = [b.derivative() for b in basis]
calc = MLIPCalculator(model)
zmap = {s: i for i, s in enumerate(species)}

def feats(a):
    i, j, d, D = neighbor_list('ijdD', a, RC)
    z = np.array([zmap[s] for s in a.get_chemical_symbols()])
    col = np.array([pid[tuple(sorted((z[x], z[y])))] for x, y in zip(i, j)], dtype=int)
    n = len(a); P = len(pairs) * nb
    B = np.nan_to_num(np.stack([b(d) for b in basis], 1)); dB = np.nan_to_num(np.stack([b(d) for b in dbasis], 1))
    e = np.zeros(P); A = np.zeros((3 * n, P))
    for m in range(nb):
        np.add.at(e, col * nb + m, 0.5 * B[:, m])
        for ax in range(3):
            np.add.at(A, (3 * i + ax, col * nb + m), dB[:, m] * D[:, ax] / d)
    return e / n, A

def resid(a):
    b = a.copy(); b.calc = calc
    return (a.get_potential_energy() - b.get_potential_energy()) / len(a), (a.get_forces() - b.get_forces()).ravel()

tr = ase.io.read(trainf, f'::{stride}')
P = len(pairs) * nb; M = np.zeros((P, P)); v = np.zeros(P); t0 = time.time()
for a in tr:
    de, dF = resid(a); e, A = feats(a)
    M += A.T @ A + WE * np.outer(e, e) * len(a); v += A.T @ dF + WE * e * de * len(a)
print(f'{len(tr)} training frames, {P} coefficients, {time.time()-t0:.0f} s', flush=True)
M += LAM * np.trace(M) / P * np.eye(P)
c = np.linalg.solve(M, v)
te = ase.io.read(Path(__file__).resolve().parents[3] / 'shared' / 'data' / 'carbide' / 'test.extxyz', ':')
errs0, errs1, de0, de1, liq0, liq1 = [], [], [], [], [], []
for a in te:
    de, dF = resid(a); e, A = feats(a)
    errs0.append(dF); errs1.append(dF - A @ c); de0.append(de); de1.append(de - e @ c)
    if a.info['config_type'] == 'liquid': liq0.append(dF); liq1.append(dF - A @ c)
r = lambda x: 1000 * np.sqrt(np.mean(np.concatenate(x) ** 2))
print(f'test F {r(errs0):.1f} -> {r(errs1):.1f}  liquid {r(liq0):.0f} -> {r(liq1):.0f}  '
      f'E {1000*np.sqrt(np.mean(np.square(de0))):.2f} -> {1000*np.sqrt(np.mean(np.square(np.array(de1)-np.mean(np.array(de1)-np.array(de0))))):.2f} (offset removed)')
