#!/usr/bin/env bash
# The carbide student's fine-tuning set, labelled afresh by SevenNet-0 (needs sevenn): the recipes
# of stages 6-17b with new seeds (stage 18, carbide_fresh18.yaml), ~55 min on 2 cores, 2,989 frames in
# runs/foundation/t18m/train_pinned_18.extxyz; then stage 19's additions (carbide_fresh19.yaml), ~35 min more,
# 4,239 frames in runs/foundation/t22m/train_pinned_19.extxyz; and stage 20's (carbide_fresh20.yaml, seconds),
# 5,856 frames in runs/foundation/t22m/train_pinned_20.extxyz. runs/ is not committed: a new checkout starts here.
# Finished parts are kept (teacher_frames.py refuses to redo them), so a rerun goes on where it stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH=benchmarks/foundation OMP_NUM_THREADS=1
T=runs/foundation
tf() { local out=$1; shift; local todo=(); while [ $# -gt 1 ] && [ "$1" = --part ]; do
         [ -f "$out/$2.extxyz" ] || todo+=(--part "$2"); shift 2; done
       [ ${#todo[@]} -eq 0 ] || .venv/bin/python benchmarks/foundation/teacher_frames.py "${todo[@]}" "$@" --out "$out"; }
mkdir -p $T/t18m
(tf $T/t18a --part rattle --part small_strain --part static --part md --rattle-cells 80 --seed 18
 tf $T/t20s --part sampled_liquid --liquid-runs TiC=16,NbC=4,HEC=4,ZrC=2,HfC=2,TaC=2 --liquid-frames 20 \
    --liquid-every-fs 25 --seed 20 --student "${STUDENT:-models/carbide.pt}"
 tf $T/t21r --part rattle --rattle-cells 100 --seed 21) > $T/carbide_data_a.log 2>&1 &
(tf $T/t19b --part liquid --liquid-runs TiC=8,NbC=2,HEC=2,HfC=1,ZrC=1,TaC=1 --liquid-frames 12 --liquid-every-fs 10 --seed 19
 tf $T/t19b --part liquid_eos) > $T/carbide_data_b.log 2>&1 &
wait
for p in rattle small_strain static md; do ln -sf ../t18a/$p.extxyz $T/t18m/$p.extxyz; done
for p in liquid liquid_eos; do ln -sf ../t19b/$p.extxyz $T/t18m/$p.extxyz; done
.venv/bin/python benchmarks/foundation/teacher_frames.py --merge --pin-copies 40 --out $T/t18m --more $T/t20s $T/t21r
cp $T/t18m/train_pinned.extxyz $T/t18m/train_pinned_18.extxyz
# stage 19: 9 more TiC teacher-MD liquid runs (the test set's recipe), 600 hot rattled crystals and 460
# liquid frames sampled by stage 17b
(tf $T/t22l --part liquid --liquid-runs TiC=5 --liquid-frames 12 --liquid-every-fs 10 --seed 22
 tf $T/t22l --part liquid_eos --seed 22) > $T/t22l.log 2>&1 &
(tf $T/t23r --part rattle --rattle-cells 100 --seed 23
 tf $T/t24s --part sampled_liquid --liquid-runs TiC=16,NbC=4,HEC=4 --liquid-frames 20 --liquid-every-fs 25 --seed 24 \
    --student "${STUDENT:-models/carbide.pt}"
 tf $T/t26l --part liquid --liquid-runs TiC=4 --liquid-frames 12 --liquid-every-fs 10 --seed 26
 tf $T/t26l --part liquid_eos --seed 26) > $T/t26l.log 2>&1 &
wait
mkdir -p $T/t22m
for p in rattle small_strain static md liquid liquid_eos; do ln -sf ../t18m/$p.extxyz $T/t22m/$p.extxyz; done
.venv/bin/python benchmarks/foundation/teacher_frames.py --merge --pin-copies 40 --out $T/t22m \
    --more $T/t20s $T/t21r $T/t22l $T/t23r $T/t24s $T/t26l
cp $T/t22m/train_pinned.extxyz $T/t22m/train_pinned_19.extxyz
# stage 20: the stage-19 set plus the shared training set (the test set's recipes) 7 more times
.venv/bin/python - "$T/t22m" <<'PY'
import sys
from ase.io import read, write
from mlip_lammps.fileio import atomic_write
d = sys.argv[1]
frames = read(f"{d}/train_pinned_19.extxyz", ":") + read("../shared/data/carbide/train.extxyz", ":") * 7
atomic_write(f"{d}/train_pinned_20.extxyz", lambda path: write(path, frames, format="extxyz"))
PY
