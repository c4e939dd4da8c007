"""What each role installs: the size of a fresh venv per extra of pyproject.toml (`make bench`
does not run this: it installs TensorFlow ten times, about 15 minutes; run it alone).

    python benchmarks/bench_install.py [--extras core,lab,...] [--keep DIR]

The package is built once as a wheel from the checkout's files (as `python -m build` would:
an sdist's files, then `pip wheel`), then for each role a venv is made under /tmp, `pip install
'WHEEL[extra]'` run from the package index (pip's cache serves what it already downloaded),
and measured: the bytes of its files minus those of an empty venv (pip itself), the
distributions it added, and how long the install took. Each venv is removed after it is
measured. Printed: one row per role, and each extra's bytes over the core.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLES = ("core", "lab", "classroom", "torch", "jax", "timm", "onnx", "experiment", "all", "dev")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extras", default=",".join(ROLES),
                        help=f"comma list of roles (default: {','.join(ROLES)})")
    parser.add_argument("--keep", type=Path, default=None,
                        help="a folder for the venvs, kept after (default: a temporary one)")
    args = parser.parse_args()
    roles = [r.strip() for r in args.extras.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        parser.error(f"--extras: got {unknown}; expected some of {', '.join(ROLES)}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="block35_bench_install_"))
    work.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(work / "dist")
    empty = fresh_venv(work / "empty")
    base_bytes, base_dists = tree_bytes(work / "empty"), distributions(empty)
    print(f"wheel {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB; an empty venv "
          f"(pip) {base_bytes / 1e6:.0f} MB, not counted below; {sys.platform}, "
          f"Python {sys.version.split()[0]}", flush=True)
    print(f"{'role':<12}{'installed MB':>13}{'over core MB':>14}{'packages':>10}"
          f"{'install s':>11}", flush=True)
    core_bytes = None
    for role in roles:
        venv = work / role
        python = fresh_venv(venv)
        seconds = install(python, wheel, role)
        size = tree_bytes(venv) - base_bytes
        count = len(distributions(python) - base_dists)
        if role == "core":
            core_bytes = size
        over = f"{(size - core_bytes) / 1e6:>14,.0f}" if core_bytes is not None else f"{'':>14}"
        print(f"{role:<12}{size / 1e6:>13,.0f}{over}{count:>10}{seconds:>11.0f}", flush=True)
        if args.keep is None:
            shutil.rmtree(venv)
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
