"""What each role installs: the installed size of every extra of pyproject.toml.

    python benchmarks/bench_install.py                     # every role, from this environment
    python benchmarks/bench_install.py --venvs core,lab    # and those roles in fresh venvs

By default each role's packages are worked out from the requirements of the packages installed
in this environment (``make test``'s, which holds every extra; their markers evaluated here),
the same closure tests/test_environment.py checks, and their files measured on disk (a second).
``--venvs`` also measures real installs (minutes each: TensorFlow every time): the package is
built once as a wheel from the checkout's files (as an sdist would carry them, then ``pip
wheel``), and for each role listed a venv is made under /tmp, ``pip install 'WHEEL[extra]'``
run from the package index (pip's cache serves what it already has), and measured: the bytes
of its files minus an empty venv's (pip itself), the packages it added, the seconds it took.
Each venv is removed after it is measured. Printed: one row per role.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib.metadata import PackageNotFoundError, distribution, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("core", "lab", "classroom", "torch", "jax", "timm", "onnx", "experiment", "all", "dev")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SELF = canonicalize_name(PROJECT["name"])


def pinned(extras: set[str], project: dict = PROJECT) -> set[str]:
    """pyproject.toml's requirement lines of the package with ``extras``, its references to
    its own extras (``block35-explainer[all]``) expanded (read from the file, not from an
    install that may be older)."""
    lines: set[str] = set()
    todo, done = [set(extras)], set()
    while todo:
        wanted = todo.pop() - done
        done |= wanted
        found = list(project["dependencies"])
        for extra in sorted(wanted):
            found += project["optional-dependencies"][extra]
        for line in found:
            req = Requirement(line)
            if canonicalize_name(req.name) == SELF:
                todo.append(set(req.extras))
            else:
                lines.add(line)
    return lines


def closure(extras: set[str], project: dict = PROJECT) -> set[str]:
    """Every distribution ``pip install 'block35-explainer[extras]'`` brings (the package
    itself included), from the requirements of the packages installed here, their markers
    evaluated on this machine."""
    seen: set[tuple[str, frozenset]] = set()
    todo = [(SELF, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        if name == SELF:
            lines = sorted(pinned(set(wanted), project))
        else:
            try:
                lines = requires(name) or []
            except PackageNotFoundError:
                raise AssertionError(f"{name} is required but not installed here") from None
        for line in lines:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e})
                                         for e in (*wanted, "")):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return {name for name, _ in seen}


def installed_bytes(name: str) -> int:
    """The bytes on disk of a distribution installed here (its RECORD's files, the .pyc files
    Python wrote included)."""
    total = 0
    for file in distribution(name).files or ():
        path = Path(file.locate())
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def computed_sizes() -> None:
    """One row per role: its packages and their bytes as installed in this environment."""
    sizes = {name: installed_bytes(name) for name in closure({"dev"}) - {SELF}}
    core = closure(set()) - {SELF}
    print(f"From this environment ({sys.prefix}), each role's packages as its requirements "
          "bring them here:")
    print(f"{'role':<12}{'installed MB':>13}{'over core MB':>14}{'packages':>10}  largest")
    for role in ROLES:
        names = closure(set() if role == "core" else {role}) - {SELF}
        total = sum(sizes[n] for n in names)
        extra = sorted(names - core, key=sizes.get, reverse=True) if role != "core" else \
            sorted(names, key=sizes.get, reverse=True)
        largest = ", ".join(f"{n} {sizes[n] / 1e6:,.0f}" for n in extra[:3])
        over = total - sum(sizes[n] for n in core)
        print(f"{role:<12}{total / 1e6:>13,.0f}{over / 1e6:>14,.0f}{len(names):>10}  {largest}")


def build_wheel(dest: Path) -> Path:
    """The package's wheel, built from a copy of the checkout's tracked and new files (not its
    build/ or caches), into ``dest``; returns its path."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    with tempfile.TemporaryDirectory(prefix="block35_sdist_") as tmp:
        for name in listed:
            source = ROOT / name
            if source.is_file() and not source.is_symlink():
                target = Path(tmp, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                        "--wheel-dir", str(dest), tmp], check=True)
    (wheel,) = dest.glob("block35_explainer-*.whl")
    return wheel


def fresh_venv(path: Path) -> Path:
    """A new venv at ``path`` (the Python running this, its own pip); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True)
    return path / "bin" / "python"


def install(python: Path, wheel: Path, role: str) -> float:
    """``pip install 'wheel[role]'`` (the bare wheel for "core") into the venv; the seconds it
    took."""
    spec = str(wheel) if role == "core" else f"{wheel}[{role}]"
    started = time.perf_counter()
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    spec], check=True)
    return time.perf_counter() - started


def tree_bytes(path: Path) -> int:
    """The bytes of the regular files under ``path`` (links not followed)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            stat = os.lstat(os.path.join(folder, name))
            total += stat.st_size if not os.path.islink(os.path.join(folder, name)) else 0
    return total


def distributions(python: Path) -> set[str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json",
                          "--disable-pip-version-check"], capture_output=True, text=True,
                         check=True).stdout
    return {d["name"].lower() for d in json.loads(out)}


def measured_venvs(roles: list[str], keep: Path | None) -> None:
    """One row per role: a fresh venv with the wheel and that extra, measured."""
    work = keep or Path(tempfile.mkdtemp(prefix="block35_bench_install_"))
    work.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(work / "dist")
    empty = fresh_venv(work / "empty")
    base_bytes, base_dists = tree_bytes(work / "empty"), distributions(empty)
    print(f"\nFresh venvs: wheel {wheel.name} {wheel.stat().st_size / 1e6:.2f} MB; an empty "
          f"venv (pip) {base_bytes / 1e6:.0f} MB, not counted below", flush=True)
    print(f"{'role':<12}{'installed MB':>13}{'packages':>10}{'install s':>11}", flush=True)
    for role in roles:
        venv = work / role
        python = fresh_venv(venv)
        seconds = install(python, wheel, role)
        size = tree_bytes(venv) - base_bytes
        count = len(distributions(python) - base_dists)
        print(f"{role:<12}{size / 1e6:>13,.0f}{count:>10}{seconds:>11.0f}", flush=True)
        if keep is None:
            shutil.rmtree(venv)
    if keep is None:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venvs", default="",
                        help=f"comma list of roles to install in fresh venvs too (of "
                             f"{','.join(ROLES)}; minutes each)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="a folder for the venvs, kept after (default: a temporary one)")
    args = parser.parse_args()
    roles = [r.strip() for r in args.venvs.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        parser.error(f"--venvs: got {unknown}; expected some of {', '.join(ROLES)}")
    print(f"{sys.platform}, Python {sys.version.split()[0]}")
    computed_sizes()
    if roles:
        measured_venvs(roles, args.keep)


if __name__ == "__main__":
    main()
