"""``mlip``: subcommands around exported models and LAMMPS.

  mlip plugin-path            absolute path of the pair_style mlip plugin (.so)
  mlip lmp [ARGS...]          run LAMMPS with the plugin auto-loaded (no `plugin load` needed)
  mlip info MODEL             print a model's metadata
  mlip eval MODEL DATA        errors of a model on labelled data
  mlip export CKPT -o OUT     export the best model of a training checkpoint
  mlip data summary DATA      frames, species, config types and label statistics
  mlip melt ...               melting temperature by solid-liquid coexistence
  mlip liquid ...             liquid density, g(r), S(q), diffusion, viscosity
  mlip crystallize ...        crystallisation onset on continuous cooling
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _plugin_path(args) -> int:
    from mlip_lammps.lammps import PluginNotFound, plugin_path

    try:
        print(plugin_path())
    except PluginNotFound as exc:
        print(f"mlip: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _lmp(args) -> int:
    from mlip_lammps.lammps import lammps_environment, lmp_executable

    exe = lmp_executable()
    os.execve(exe, [exe, *args.lmp_args], lammps_environment())
    return 0  # not reached


def _info(args) -> int:
    from mlip_lammps.contract import load_model

    _, meta = load_model(args.model)
    print(meta.to_json())
    return 0


def _eval(args) -> int:
    from mlip_lammps.contract import load_model
    from mlip_lammps.data.dataset import graphs_from_atoms, read_structures
    from mlip_lammps.training.metrics import predictions, summarize

    model, meta = load_model(args.model)
    model.eval()
    graphs = graphs_from_atoms(read_structures(args.data), meta.species, meta.cutoff, source=args.data)
    result = summarize(predictions(model, graphs, message_passing=meta.message_passing), meta.species)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.model} on {args.data}: {result['n_frames']} frames")
    header = f"{'config_type':24s} {'frames':>6s} {'E RMSE':>10s} {'F RMSE':>10s} {'S RMSE':>9s}"
    print(header + "\n" + f"{'':24s} {'':6s} {'meV/atom':>10s} {'meV/Å':>10s} {'GPa':>9s}")
    rows = [("ALL", result)] + list(result["by_config_type"].items())
    for name, r in rows:
        print(f"{name:24s} {r['n_frames']:6d} {r['energy_rmse_meV_per_atom']:10.3f} {r['forces_rmse_meV_per_A']:10.2f} {r['stress_rmse_GPa']:9.4f}")
    for el, v in result.get("forces_rmse_meV_per_A_by_element", {}).items():
        print(f"forces RMSE {el}: {v:.2f} meV/Å")
    return 0


def _data_summary(args) -> int:
    from mlip_lammps.data.dataset import read_structures
    from mlip_lammps.data.summary import summarize_frames

    result = summarize_frames(read_structures(args.data))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.data}: {result['n_frames']} frames, {result['n_atoms']} atoms "
          f"({result['atoms_per_frame'].get('min')}-{result['atoms_per_frame'].get('max')} per frame)")
    print("species:      " + ", ".join(f"{k} {v}" for k, v in result["species"].items()))
    print("labels:       " + ", ".join(f"{k} {v}" for k, v in result["labels"].items()))
    for key in ("energy_per_atom_eV", "forces_eV_per_A", "stress_GPa"):
        if key in result:
            print(f"{key + ':':14s}" + ", ".join(f"{k} {v:.4g}" for k, v in result[key].items()))
    print("config types:")
    for k, v in result["config_types"].items():
        print(f"  {k:28s} {v}")
    return 0


def _committee(args) -> int:
    from mlip_lammps.export.reexport import join_committee

    try:
        meta = join_committee(args.members, args.output, args.dtype)
    except ValueError as exc:  # members that do not fit together
        print(f"mlip committee: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}: committee of {meta.committee_size} ({meta.dtype}, requires_ops={meta.requires_ops})")
    return 0


def _export(args) -> int:
    from mlip_lammps.export import export_model
    from mlip_lammps.training.config import ModelConfig
    from mlip_lammps.training.trainer import model_from_checkpoint

    model, species, ck = model_from_checkpoint(args.checkpoint, latest=args.latest)
    cfg, state = ck["config"], ck["state"]
    hyper = ModelConfig.model_validate(cfg["model"]).hyperparameters()  # what build_model takes
    # provenance: the run's config (data, init_from, training settings) and how far it got
    info = {"checkpoint": str(args.checkpoint), "epochs": state["epoch"],
            "exported_epoch": state["epoch"] if args.latest else state["best_epoch"],
            "best_epoch": state["best_epoch"], "training_time_s": round(state["elapsed_s"], 1), "config": cfg}
    meta = export_model(model, args.output, species, cfg["model"]["architecture"], hyper, info, dtype=args.dtype)
    print(f"wrote {args.output} ({meta.dtype}, species {meta.species}, cutoff {meta.cutoff} Å)")
    return 0


def _export_foundation(args) -> int:
    from mlip_lammps.export.foundation import export_sevennet

    name, _, model = args.spec.partition(":")
    if name != "sevenn":
        print(f"mlip export-foundation: error: unsupported foundation model '{args.spec}': expected sevenn[:MODEL]",
              file=sys.stderr)
        return 2
    try:
        meta = export_sevennet(args.output, model or "7net-0", args.species, args.modal)
    except (RuntimeError, ValueError) as exc:
        print(f"mlip export-foundation: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({meta.architecture}, {meta.model_type}, {meta.dtype}, {len(meta.species)} species, "
          f"cutoff {meta.cutoff} Å per layer)")
    return 0


def _workflow(name: str):
    """Subcommand function running ``mlip_lammps.workflows.<name>.main``; bad inputs and failed
    LAMMPS runs are reported in one line (exit 2)."""

    def run(args) -> int:
        import importlib

        from mlip_lammps.contract import ModelContractError
        from mlip_lammps.workflows.potential import PotentialError
        from mlip_lammps.workflows.structures import StructureError

        try:
            return importlib.import_module(f"mlip_lammps.workflows.{name}").main(args)
        except (StructureError, PotentialError, ModelContractError, RuntimeError, FileNotFoundError, ValueError) as exc:
            print(f"mlip {name}: error: {exc}", file=sys.stderr)
            return 2

    return run


def _label_doc() -> str:
    from mlip_lammps.data import label

    return label.__doc__


def _label(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mlip_lammps.data.dataset import read_structures
    from mlip_lammps.data.label import label_frames, make_teacher

    frames, sources = [], []
    for path in args.data:
        got = read_structures(path)
        frames += got
        sources += [(str(path), k) for k in range(len(got))]
    species = sorted({s for a in frames for s in a.get_chemical_symbols()})
    calc, teacher = make_teacher(args.teacher, args.potential, args.pair_style, args.pair_coeff, species)
    r = label_frames(frames, calc, teacher, Path(args.out), sources, args.batch, args.max_force, args.min_distance)
    print(f"{r['n_labelled']} of {r['n_input']} frames labelled by {teacher} -> {args.out}; {r['n_rejected']} rejected"
          + "".join(f"\n  {n} x {why}" for why, n in r["rejected_reasons"].items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="mlip", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plugin-path", help="print the plugin's absolute path")
    p.set_defaults(func=_plugin_path)
    p = sub.add_parser("lmp", help="run LAMMPS with the plugin auto-loaded", add_help=False)
    p.add_argument("lmp_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_lmp)
    p = sub.add_parser("info", help="print model metadata")
    p.add_argument("model")
    p.set_defaults(func=_info)
    p = sub.add_parser("eval", help="evaluate a model on labelled data")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_eval)
    p = sub.add_parser("data", help="data tools: `mlip data summary DATA`")
    p.add_argument("action", choices=["summary"])
    p.add_argument("data", help="any ASE-readable file or a DeePMD npy folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_data_summary)
    p = sub.add_parser("export", help="export a checkpoint's best model")
    p.add_argument("checkpoint")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--latest", action="store_true",
                   help="the EMA weights of the checkpoint's last step instead of its best epoch (a run in progress)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.set_defaults(func=_export)
    p = sub.add_parser("committee", help="join exported models into one committee model (mean; deviation for active learning)")
    p.add_argument("members", nargs="+", help="exported single models with the same species, architecture and hyperparameters")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--dtype", choices=["float64", "float32"], default=None, help="default: the first member's")
    p.set_defaults(func=_committee)
    p = sub.add_parser("export-foundation", help="export a foundation model (SevenNet) for pair_style mlip",
                       description="Write a pretrained foundation model as a message-passing contract model: "
                       "pair_style mlip runs it on any number of MPI ranks (ghost nodes num_layers x cutoff deep), "
                       "MLIPCalculator anywhere. Weights come from the "
                       "installed package.")
    p.add_argument("spec", help="sevenn[:MODEL] (default 7net-0) or sevenn:CHECKPOINT.pth")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--species", nargs="+", help="elements to keep (default: all the model knows)")
    p.add_argument("--modal", help="fidelity of a multi-fidelity SevenNet model (e.g. mpa)")
    p.set_defaults(func=_export_foundation)
    p = sub.add_parser("label", help="label structures with a teacher (foundation model, mlip model or LAMMPS potential)",
                       description=_label_doc())
    p.add_argument("data", nargs="+", help="structures: any ASE-readable files (all frames) or DeePMD npy folders")
    p.add_argument("--out", required=True, help="labelled extxyz file (OUT.parts/ holds finished batches: re-running resumes)")
    p.add_argument("--teacher", help="sevenn[:MODEL] (default 7net-0), chgnet, or package.module:factory returning an ASE calculator")
    p.add_argument("--potential", metavar="MODEL.pt", help="an exported mlip model as the teacher")
    p.add_argument("--pair-style", help='a classical LAMMPS potential as the teacher, e.g. "eam/alloy"')
    p.add_argument("--pair-coeff", action="append", default=[], help='e.g. "* * Cu_mishin1.eam.alloy Cu" (repeatable)')
    p.add_argument("--batch", type=int, default=16, help="frames per saved batch (default 16)")
    p.add_argument("--max-force", type=float, default=50.0, help="reject frames with a force above this (eV/Å, default 50)")
    p.add_argument("--min-distance", type=float, default=0.5, help="reject frames with atoms closer than this (Å, default 0.5)")
    p.set_defaults(func=_label)
    from mlip_lammps.workflows import crystallize, distill, liquid, melt

    for name, module in (("melt", melt), ("liquid", liquid), ("crystallize", crystallize), ("distill", distill)):
        p = sub.add_parser(name, help=module.__doc__.splitlines()[0].split(": ", 1)[1], description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(func=_workflow(name))
    args = ap.parse_args(argv)
    from mlip_lammps.contract import ModelContractError
    from mlip_lammps.data.dataset import DataError
    from mlip_lammps.data.label import TeacherError
    from mlip_lammps.workflows.potential import PotentialError

    try:
        return args.func(args)
    except (ModelContractError, DataError, FileNotFoundError, TeacherError, PotentialError) as exc:
        print(f"mlip {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
