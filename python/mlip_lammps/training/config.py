"""Training configuration: one YAML file validated by pydantic (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
import copy
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, ValidationError, model_serializer, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    train: Path = Field(description="labelled structures (any ASE-readable file)")
    valid: Optional[Path] = Field(None, description="validation file; else a random split of train")
    valid_fraction: float = Field(0.1, gt=0.0, lt=1.0)
    test: Optional[Path] = Field(None, description="evaluated once at the end")
    species: Optional[list[str]] = Field(None, description="model species; default: those in train")


class ZBLConfig(_Strict):
    inner: float = Field(0.8, gt=0, description="Å; full ZBL below")
    outer: float = Field(1.5, gt=0, description="Å; no ZBL above")
    pairs: Optional[dict[str, Annotated[list[PositiveFloat], Field(min_length=2, max_length=2)]]] = Field(None, description=(
        "own [inner, outer] Å for some species pairs: 'A-B' one pair, 'A,B,C' every pair among them "
        "(e.g. a metal-metal wall that leaves C-C dimers alone)"))


# Hyperparameters of each architecture with their defaults (keys shared by several architectures,
# e.g. cutoff, l_max, hidden, may default differently). A key of another architecture is an error.
ARCHITECTURE_DEFAULTS: dict[str, dict[str, Any]] = {
    "nep": {"cutoff": 5.5, "cutoff_angular": 5.0, "n_basis_radial": 8, "n_basis_angular": 8, "n_radial": 8,
            "n_angular": 6, "l_max": 4, "hidden": [64, 64], "linear_term": False,
            "screening": False},
    "equivariant": {"cutoff": 5.0, "n_basis": 8, "channels": 16, "l_max": 2, "correlation": 3,
                    "radial_hidden": [32], "hidden": [64]},
}
_ARCHITECTURE_KEYS = {k for d in ARCHITECTURE_DEFAULTS.values() for k in d}


class ModelConfig(_Strict):
    """The model: ``architecture`` and its hyperparameters (see ARCHITECTURE_DEFAULTS), plus ZBL and
    fine-tuning options common to all. Keys of another architecture are rejected by name; the
    keys an architecture does not use are None and left out of dumps."""

    architecture: Literal["nep", "equivariant"] = "nep"
    cutoff: Optional[float] = Field(None, gt=0.0, description="Å (nep: 5.5, equivariant: 5.0)")
    # nep
    cutoff_angular: Optional[float] = Field(None, gt=0.0, description="nep: Å, ≤ cutoff")
    n_basis_radial: Optional[int] = Field(None, ge=2, description="nep")
    n_basis_angular: Optional[int] = Field(None, ge=2, description="nep")
    n_radial: Optional[int] = Field(None, ge=1, description="nep")
    n_angular: Optional[int] = Field(None, ge=1, description="nep")
    linear_term: Optional[bool] = Field(None, description="nep: add a linear function of the descriptors to each "
                                                          "atom's MLP energy (a direct path for pair-sum energies)")
    screening: Optional[bool] = Field(None, description="nep: multiply every pair term by a learned MEAM-style "
                                                        "three-body screening factor (for screened references)")
    # equivariant
    n_basis: Optional[int] = Field(None, ge=1, description="equivariant: Bessel radial basis functions")
    channels: Optional[int] = Field(None, ge=1, description="equivariant: channels per (l, m)")
    correlation: Optional[int] = Field(None, ge=1, le=3, description="equivariant: body order − 1 (A factors per invariant)")
    radial_hidden: Optional[list[int]] = Field(None, description="equivariant: radial MLP hidden widths")
    # both
    l_max: Optional[int] = Field(None, ge=1, le=4, description="nep: 4, equivariant: 2")
    hidden: Optional[list[int]] = Field(None, description="readout MLP hidden widths (nep: [64, 64], equivariant: [64])")
    zbl: Optional["ZBLConfig"] = Field(None, description="add ZBL repulsion below `outer` Å")
    init_from: Optional[Path] = Field(
        None, description="fine-tune: start from the weights, normalisation and reference energies of this exported "
                          "model (.pt); architecture, hyperparameters and species must match")
    screening_from: Optional[Path] = Field(
        None, description="nep with screening: start the screening from this exported model's or run checkpoint's "
                          "(its last weights; same species), projected onto MEAM windows (C_min, C_max per "
                          "species triple); the rest starts fresh")

    @model_validator(mode="before")
    @classmethod
    def _architecture_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        arch = data.get("architecture", "nep")
        if arch not in ARCHITECTURE_DEFAULTS:
            return data  # the Literal reports model.architecture
        own = ARCHITECTURE_DEFAULTS[arch]
        bad = sorted(k for k, v in data.items() if k in _ARCHITECTURE_KEYS and k not in own and v is not None)
        if bad:
            raise ValueError(f"model.{bad[0]} is not a hyperparameter of architecture '{arch}' "
                             f"(it takes {', '.join(own)})" + (f"; also {', '.join(bad[1:])}" if bad[1:] else ""))
        data = dict(data)
        for k, v in own.items():
            if data.get(k) is None:
                data[k] = copy.deepcopy(v)
        return data

    @model_validator(mode="after")
    def _angular_inside(self) -> "ModelConfig":
        if self.architecture == "nep" and self.cutoff_angular > self.cutoff:
            raise ValueError(f"cutoff_angular ({self.cutoff_angular}) must not exceed cutoff ({self.cutoff})")
        return self

    @model_validator(mode="after")
    def _screening_from(self) -> "ModelConfig":
        if self.screening_from is not None:
            if self.architecture != "nep" or not self.screening:
                raise ValueError("screening_from needs architecture 'nep' with screening: true")
            if self.init_from is not None:
                raise ValueError("screening_from starts a fresh model; init_from keeps a whole one: give one of them")
        return self

    @model_serializer(mode="wrap")
    def _drop_other_architectures(self, handler):
        own = ARCHITECTURE_DEFAULTS[self.architecture]
        return {k: v for k, v in handler(self).items() if k not in _ARCHITECTURE_KEYS or k in own}

    def hyperparameters(self) -> dict:
        """The keyword arguments of the architecture's model class (and ``zbl`` if set)."""
        h = self.model_dump(exclude={"architecture", "init_from", "screening_from"})
        if h["zbl"] is None:
            del h["zbl"]
        elif h["zbl"]["pairs"] is None:
            del h["zbl"]["pairs"]
        return h


class TrainingConfig(_Strict):
    max_epochs: int = Field(200, ge=1)
    max_time_s: Optional[float] = Field(None, gt=0, description="stop after this wall time (s)")
    schedule: Literal["epochs", "time"] = Field(
        "epochs", description="what the learning-rate and loss-weight schedules run over: max_epochs, or "
                              "max_time_s (a wall-time budget that still anneals; not bit-reproducible)")
    batch_size: int = Field(4, ge=1, description="structures per step")
    lr: float = Field(5e-3, gt=0)
    lr_final: float = Field(5e-5, gt=0, description="reached at the end (exponential decay)")
    energy_weight: float = Field(1.0, ge=0, description="per (eV/atom)^2")
    forces_weight: float = Field(10.0, ge=0, description="per (eV/Å)^2")
    stress_weight: float = Field(1.0, ge=0, description="per GPa^2")
    energy_weight_final: Optional[float] = Field(None, ge=0, description="linear schedule to this value at the end")
    forces_weight_final: Optional[float] = Field(None, ge=0)
    stress_weight_final: Optional[float] = Field(None, ge=0)
    config_type_weights: dict[str, NonNegativeFloat] = Field(default_factory=dict, description=(
        "loss weight of the frames of a config_type (default 1), e.g. to keep a few frames with huge "
        "forces (collapsed pairs of an active-learning round) from dominating the force loss"))
    patience: Optional[int] = Field(None, ge=1, description="early stopping: epochs without validation improvement")
    reference_energies: Optional[dict[str, float]] = Field(
        None, description="per-element E0 in eV; default: least-squares fit to the training energies"
    )
    ema_decay: float = Field(0.99, ge=0, lt=1)
    grad_clip: Optional[float] = Field(10.0, gt=0)
    seed: int = 0
    dtype: Literal["float32", "float64"] = "float32"
    threads: Optional[int] = Field(None, ge=1, description="torch threads; default: the cores not busy with other processes")
    checkpoint_every_epochs: int = Field(1, ge=1)
    ensemble: int = Field(1, ge=1, description="committee size: members train with seeds seed, seed+1, ...")

    @model_validator(mode="after")
    def _time_schedule_needs_budget(self) -> "TrainingConfig":
        if self.schedule == "time" and self.max_time_s is None:
            raise ValueError("schedule 'time' needs max_time_s")
        return self


class FinetuneConfig(_Strict):
    """Options for fine-tuning a model given by ``model.init_from`` (docs/training.md)."""

    freeze: list[str] = Field(default_factory=list, description=(
        "parameters kept fixed: name prefixes (`mlip lammps` names, e.g. c_radial, mlp.nets.0) or "
        "'descriptor' (everything but the readout MLP)"))
    lr_scale: float = Field(1.0, gt=0, description="multiplies training.lr and training.lr_final")
    replay: Optional[Path] = Field(None, description="the original training data: frames mixed into the new data")
    replay_frames: Optional[int] = Field(None, ge=1, description="random replay frames (default: all)")
    old_test: Optional[Path] = Field(None, description="the original test set: reported as metrics['old_test']")


class ExportConfig(_Strict):
    dtype: Literal["float32", "float64"] = "float64"
    filename: str = "model.pt"


class Config(_Strict):
    output: Path = Field(Path("runs/train"), description="run folder")
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    finetune: Optional[FinetuneConfig] = Field(None, description="fine-tuning options; need model.init_from")
    export: ExportConfig = Field(default_factory=ExportConfig)

    @model_validator(mode="after")
    def _finetune_needs_init(self) -> "Config":
        if self.finetune is not None and self.model.init_from is None:
            raise ValueError("finetune needs model.init_from (the model to fine-tune)")
        return self


class ConfigError(ValueError):
    pass


def _set_path(d: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def validate_with_overrides(model: type[BaseModel], raw: dict, overrides: list[str] | None, error: type[Exception],
                            what: str):
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to ``raw`` and validate it as
    ``model``; problems raise ``error`` naming every offending key path."""
    for ov in overrides or []:
        if "=" not in ov:
            raise error(f"override '{ov}' is not of the form key.sub=value")
        key, value = ov.split("=", 1)
        _set_path(raw, key.strip(), yaml.safe_load(value))
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise error(f"invalid {what}:\n  " + "\n  ".join(lines)) from None


def load_config(path: str | Path | None, overrides: list[str] | None = None, base: dict | None = None) -> Config:
    """Read YAML, apply ``key.sub=value`` overrides (values parsed as YAML), validate.

    Relative data and output paths in the file are resolved against the config file's folder;
    an ``output=`` override is taken relative to the working directory.
    """
    raw: dict = dict(base or {})
    root = Path(".")
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        raw = yaml.safe_load(path.read_text()) or {}
        root = path.parent
    cfg = validate_with_overrides(Config, raw, overrides, ConfigError, "config")
    for section, name in (("data", "train"), ("data", "valid"), ("data", "test"), ("model", "init_from"),
                          ("model", "screening_from"), ("finetune", "replay"), ("finetune", "old_test")):
        p = getattr(getattr(cfg, section), name) if getattr(cfg, section) is not None else None
        if p is not None and not p.is_absolute():
            setattr(getattr(cfg, section), name, (root / p).resolve())
    if not cfg.output.is_absolute() and path is not None and "output" in raw and not any(o.startswith("output=") for o in overrides or []):
        cfg.output = (root / cfg.output).resolve()
    return cfg
