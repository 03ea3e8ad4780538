"""Crystal cells for the physics workflows: ``--structure fcc:Cu`` / ``--composition Cu64Zr36``.

Lattice constants are in Å. Every cell is orthogonal (conventional cubic cells for fcc, bcc, B2
and rocksalt; the orthorhombic 4-atom cell for hcp) so that it can be written as a LAMMPS data file and
elongated along z for solid–liquid coexistence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.data import atomic_masses, atomic_numbers, chemical_symbols, reference_states

LATTICES = ("fcc", "bcc", "hcp", "b2", "rocksalt")
TWO_SUBLATTICES = ("b2", "rocksalt")
IDEAL_C_OVER_A = float(np.sqrt(8.0 / 3.0))


class StructureError(ValueError):
    """A structure or composition string that cannot be understood."""


@dataclass(frozen=True)
class Structure:
    """A lattice decorated with elements.

    ``elements`` are the species of the lattice (one for fcc/bcc/hcp, two for B2 and rocksalt in
    sublattice order: ``rocksalt:ZrC`` is metal, then anion). ``composition`` (atom fractions,
    summing to 1), when given, replaces the decoration by a random solid solution of those species
    on all lattice sites; for rocksalt, on the metal sublattice only (the anion stays), e.g. the
    high-entropy carbide ``rocksalt:ZrC`` with composition ``HfNbTaTiZr``.
    """

    lattice: str
    elements: tuple[str, ...]
    composition: tuple[tuple[str, float], ...] | None = None

    @property
    def species(self) -> list[str]:
        """Species present in the cell, in the order they were named."""
        if self.composition is not None:
            anion = [self.elements[1]] if self.lattice == "rocksalt" else []
            return [el for el, _ in self.composition] + anion
        return list(dict.fromkeys(self.elements))

    @property
    def fractions(self) -> dict[str, float]:
        """Atom fraction of each species."""
        if self.composition is not None and self.lattice == "rocksalt":
            return {**{el: x / 2 for el, x in self.composition}, self.elements[1]: 0.5}
        if self.composition is not None:
            return dict(self.composition)
        n = len(self.elements)
        return {el: self.elements.count(el) / n for el in self.species}

    @property
    def label(self) -> str:
        comp = "".join(f"{el}{100 * x:g}" for el, x in self.composition) if self.composition else ""
        return f"{self.lattice}:{''.join(self.elements)}" + (f" {comp}" if comp else "")


def _check_element(token: str, source: str) -> str:
    if token not in chemical_symbols or token == "X":
        raise StructureError(f"unknown element '{token}' in {source!r}")
    return token


def split_elements(text: str, source: str) -> list[str]:
    """``"CuZr"`` → ``["Cu", "Zr"]``; every token must be a chemical symbol."""
    tokens = re.findall(r"[A-Z][a-z]?", text)
    if "".join(tokens) != text or not tokens:
        raise StructureError(f"cannot read elements from '{text}' in {source!r} (write e.g. Cu or CuZr)")
    return [_check_element(t, source) for t in tokens]


def parse_composition(text: str) -> tuple[tuple[str, float], ...]:
    """``"Cu64Zr36"`` → ``(("Cu", 0.64), ("Zr", 0.36))``: amounts are normalised to fractions."""
    parts = re.findall(r"([A-Z][a-z]?)(\d*\.?\d*)", text)
    if not parts or "".join(el + amt for el, amt in parts) != text:
        raise StructureError(f"cannot read composition '{text}' (write e.g. Cu64Zr36 or Cu0.5Ni0.5)")
    amounts: dict[str, float] = {}
    for el, amt in parts:
        _check_element(el, text)
        if el in amounts:
            raise StructureError(f"element '{el}' appears twice in composition '{text}'")
        amounts[el] = float(amt) if amt else 1.0
        if amounts[el] <= 0:
            raise StructureError(f"amount of '{el}' in composition '{text}' must be positive")
    total = sum(amounts.values())
    return tuple((el, a / total) for el, a in amounts.items())


def parse_structure(text: str, composition: str | None = None) -> Structure:
    """Read ``LATTICE:ELEMENTS`` (``fcc:Cu``, ``bcc:Fe``, ``hcp:Zr``, ``b2:CuZr``, ``rocksalt:ZrC``) and an optional
    composition for a random solid solution on that lattice."""
    lattice, sep, els = text.partition(":")
    lattice = lattice.strip().lower()
    if not sep:
        raise StructureError(f"structure '{text}' must be LATTICE:ELEMENTS, e.g. fcc:Cu or b2:CuZr")
    if lattice not in LATTICES:
        raise StructureError(f"unknown lattice '{lattice}' in structure '{text}' (known: {', '.join(LATTICES)})")
    elements = split_elements(els.strip(), text)
    want = 2 if lattice in TWO_SUBLATTICES else 1
    if len(elements) != want:
        raise StructureError(f"lattice '{lattice}' in structure '{text}' takes {want} element(s), got {len(elements)}")
    comp = parse_composition(composition) if composition else None
    return Structure(lattice, tuple(elements), comp)


def atomic_volume(element: str) -> float:
    """Volume per atom (Å^3) of an element's reference crystal (ASE reference data)."""
    ref = reference_states[atomic_numbers[element]]
    sym = ref.get("symmetry") if ref else None
    if sym == "fcc":
        return ref["a"] ** 3 / 4
    if sym == "bcc":
        return ref["a"] ** 3 / 2
    if sym == "hcp":
        return np.sqrt(3) / 4 * ref["a"] ** 3 * ref["c/a"]
    if sym == "diamond":
        return ref["a"] ** 3 / 8
    raise StructureError(f"no reference lattice constant for {element}; pass --lattice-constant")


def default_lattice_constant(structure: Structure) -> float:
    """Lattice constant a (Å) whose atomic volume is the fraction-weighted mean of the species'
    reference atomic volumes (exact for an element in its own reference lattice; a starting
    guess otherwise: the workflows equilibrate the volume at constant pressure)."""
    if structure.lattice == "rocksalt":
        raise StructureError(f"no default lattice constant for {structure.label}: give it (--lattice-constant)")
    v = sum(x * atomic_volume(el) for el, x in structure.fractions.items())
    if structure.lattice == "fcc":
        return (4 * v) ** (1 / 3)
    if structure.lattice in ("bcc", "b2"):
        return (2 * v) ** (1 / 3)
    return (4 * v / (np.sqrt(3) * IDEAL_C_OVER_A)) ** (1 / 3)


def unit_cell(structure: Structure, a: float) -> Atoms:
    """Orthogonal conventional cell with lattice constant ``a`` (Å); hcp uses the ideal c/a."""
    el = structure.elements
    if structure.lattice in ("fcc", "bcc"):
        return bulk(el[0], structure.lattice, a=a, cubic=True)
    if structure.lattice == "hcp":
        return bulk(el[0], "hcp", a=a, c=IDEAL_C_OVER_A * a, orthorhombic=True)
    if structure.lattice == "rocksalt":
        return bulk(el[0] + el[1], "rocksalt", a=a, cubic=True)
    return Atoms(symbols=list(el), scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=[a, a, a], pbc=True)


def elongated_repeats(cell: Atoms, n_atoms: int, aspect: float) -> tuple[int, int, int]:
    """Repeats of ``cell`` giving about ``n_atoms`` atoms in a box with Lz ≈ aspect · Lx ≈ aspect · Ly."""
    lengths = cell.cell.lengths()
    v_atom = cell.get_volume() / len(cell)
    lx = (n_atoms * v_atom / aspect) ** (1 / 3)
    target = np.array([lx, lx, aspect * lx])
    return tuple(int(max(1, round(t / l))) for t, l in zip(target, lengths))  # type: ignore[return-value]


def build(structure: Structure, repeats: tuple[int, int, int], a: float | None = None, seed: int = 0) -> Atoms:
    """The supercell ``repeats`` of the conventional cell; with a composition, species are assigned
    to sites at random (exact counts, rounded; ``seed`` fixes the arrangement)."""
    if any(r < 1 for r in repeats):
        raise StructureError(f"repeats must be positive, got {repeats}")
    atoms = unit_cell(structure, a or default_lattice_constant(structure)).repeat(repeats)
    if structure.composition is not None:
        sites = np.arange(len(atoms))
        if structure.lattice == "rocksalt":
            sites = np.flatnonzero(atoms.symbols == structure.elements[0])
        n = len(sites)
        counts = [int(round(x * n)) for _, x in structure.composition]
        counts[-1] = n - sum(counts[:-1])
        symbols = atoms.get_chemical_symbols()
        for site, el in zip(sites, np.random.default_rng(seed).permutation(np.repeat([el for el, _ in structure.composition], counts))):
            symbols[site] = str(el)
        atoms.set_chemical_symbols(symbols)
    return atoms


def mass_g_mol(element: str) -> float:
    """Standard atomic mass (g/mol)."""
    return float(atomic_masses[atomic_numbers[element]])


def nearest_neighbour_distance(lattice: str, a: float) -> float:
    """Nearest-neighbour distance (Å) of ``lattice`` with lattice constant ``a`` (ideal hcp)."""
    return {"fcc": a / np.sqrt(2), "bcc": a * np.sqrt(3) / 2, "b2": a * np.sqrt(3) / 2, "hcp": a,
            "rocksalt": a / 2}[lattice]


def solid_fraction_lines(lattice: str, a: float, threshold: float = 0.5, min_bonds: int = 8) -> str:
    """LAMMPS lines defining ``v_fsolid``, the fraction of solid-like atoms, and the per-atom
    ``v_solid`` (1 or 0), by the ten Wolde–Frenkel q6 bond criterion.

    q6m vectors come from the ``nnn`` nearest neighbours (``compute orientorder/atom``; 12 for fcc
    and hcp, the 8 first neighbours for bcc and B2). Two atoms within 1.35 nearest-neighbour
    distances form a solid-like bond when the normalised dot product of their q6m vectors exceeds
    ``threshold``; an atom with at least ``min_bonds`` such bonds is solid-like. Near their melting
    points this marks ≥ 97% of crystal atoms and ≤ 1.5% of liquid atoms as solid-like (checked for
    Cu_mishin1 fcc, Fe_mm bcc and CuZr_mm hcp Zr); CNA marks only ~30% of fcc Cu as fcc at its
    melting point. Rocksalt uses the 6 octahedral neighbours for q6m and bonds out to the 12
    second neighbours (1.6 nearest-neighbour distances).
    """
    nnn = {"bcc": 8, "b2": 8, "rocksalt": 6}.get(lattice, 12)
    cutoff = (1.6 if lattice == "rocksalt" else 1.35) * nearest_neighbour_distance(lattice, a)
    return "\n".join([
        f"compute         q6 all orientorder/atom degrees 1 6 components 6 nnn {nnn} cutoff {cutoff:.4f}",
        f"compute         solidbonds all coord/atom orientorder q6 {threshold}",
        f"variable        solid atom c_solidbonds>={min_bonds}",
        "compute         nsolid all reduce sum v_solid",
        "variable        fsolid equal c_nsolid/atoms",
    ])
