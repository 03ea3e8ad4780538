"""``mlip-train CONFIG.yaml``: train a potential and export it (docs/training.md)."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mlip-train", description="Train an mlip potential from a YAML config.")
    ap.add_argument("config", help="YAML configuration file")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a setting, e.g. --set training.max_epochs=10 (repeatable)")
    ap.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint.pt")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--ensemble", type=int, metavar="N", help="train a committee of N members (same as training.ensemble)")
    args = ap.parse_args(argv)

    from mlip_lammps.data.dataset import DataError
    from mlip_lammps.training.config import ConfigError, load_config
    from mlip_lammps.training.trainer import TrainingInterrupted, train

    try:
        overrides = args.overrides + ([f"training.ensemble={args.ensemble}"] if args.ensemble else [])
        cfg = load_config(args.config, overrides)
        metrics = train(cfg, resume=args.resume, show_progress=not args.quiet)
    except (ConfigError, DataError, FileNotFoundError, ValueError) as exc:
        print(f"mlip-train: error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        print(f"mlip-train: {exc}", file=sys.stderr)
        return 130
    if metrics["rank"] != 0:  # torchrun: only rank 0 reports and writes
        return 0
    final = metrics.get("test", metrics["valid"])
    keys = ("energy_rmse_meV_per_atom", "forces_rmse_meV_per_A", "stress_rmse_GPa")
    print(json.dumps({"set": "test" if "test" in metrics else "valid", **{k: round(final[k], 4) for k in keys}}))
    if "old_test" in metrics:  # fine-tuning: how much of the original accuracy was kept
        print(json.dumps({"set": "old_test", **{k: round(metrics["old_test"][k], 4) for k in keys}}))
    print(f"model written to {cfg.output / cfg.export.filename}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
