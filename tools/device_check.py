"""The blocks on Keras' PyTorch and JAX backends, on the GPU when there is one and on the CPU,
checked against the numpy reference: a device check that needs no TensorFlow.

    python tools/device_check.py                      # torch and jax, every device found
    python tools/device_check.py --backends torch --devices cpu --size 5
    python tools/device_check.py --bundle build/device_check   # a folder to carry elsewhere

Each backend runs in a process of its own (Keras fixes its backend at import) in which
TensorFlow is blocked (``sys.modules["tensorflow"] = None``). There block35, block17 and block8
(v1 and v2, the seeded weights of ``explainer.core.weight_tables``) are built on each device,
run on one seeded input at their real spatial size (35, 17, 8; ``--size`` for all), and
compared with ``explainer.core.reference`` (numpy, float64). One table comes out: backend,
device, block, max |difference|, time per forward pass (median of ``--repeats``, after one
warm-up pass that compiles).

A machine without Keras (the GPU machine has PyTorch, JAX and numpy, no TensorFlow, no Keras):
``--bundle DIR`` writes the explainer package, this file and the wheels of Keras and the
pure-Python packages it names into DIR (``pip download``, needs the package index; binary
ones for ``--python-version``), at most 64 MiB. DIR must be new or empty (``--force``: its
explainer/ and tools/ are replaced), and never this checkout. There, ``python
tools/device_check.py`` finds the wheels beside it, unpacks them into ``wheels/site`` and
imports Keras from there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent  # the checkout, or the bundle: explainer/ and tools/ side by side
BACKENDS = ("torch", "jax")
KINDS = ("block35", "block17", "block8")
REAL_SIZES = {"block35": 35, "block17": 17, "block8": 8}
# Keras 3.15.1, what it names and what those need (numpy and ml_dtypes come with JAX and
# PyTorch); binary wheels last
KERAS_WHEELS = ("keras==3.15.1", "namex==0.1.0", "absl-py==2.5.1", "rich==15.0.0",
                "markdown-it-py==4.3.0", "mdurl==0.1.2", "pygments==2.21.0", "packaging==26.4",
                "typing-extensions==4.16.0", "optree==0.20.0", "h5py==3.14.0")
BUNDLE_LIMIT = 64 * 2**20


def _import_paths(wheels: Path) -> None:
    """Make ``explainer`` importable from beside this file, and Keras from the bundled wheels
    when it is not installed (unpacked once: compiled modules cannot load from a zip)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        import keras  # noqa: F401
        return
    except ImportError:
        pass
    site = wheels / "site"
    found = sorted(wheels.glob("*.whl"))
    if not found:
        raise SystemExit(f"device_check: Keras is not installed and {wheels} holds no wheels; "
                         "make one with --bundle DIR on a machine with the package index")
    if not site.exists():
        for wheel in found:
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(site)
    sys.path.insert(0, str(site))


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up: compiles (JAX's jit, cuDNN's choices)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child(backend: str, devices: list[str], size: int | None, repeats: int,
          variants: list[str]) -> list[dict]:
    """This process' rows: every block on every asked device that the backend has."""
    import numpy as np

    from explainer.core.backend import backend_version, gpu_names, keras_backend
    from explainer.core.blocks import build_block
    from explainer.core.lesson import sample_input
    from explainer.core.reference import block_forward
    from explainer.core.schedule import REAL_SCALES
    from explainer.core.tracing import forward
    from explainer.core.weight_tables import seeded_weights

    assert keras_backend() == backend, (keras_backend(), backend)
    gpus = gpu_names()
    rows = []
    for device in devices:
        if device == "gpu" and not gpus:
            rows.append({"backend": backend, "version": backend_version(), "device": "gpu",
                         "block": "-", "max_abs_diff": None, "ms_per_forward": None,
                         "note": f"{backend} found no GPU"})
            continue
        for kind in KINDS:
            for variant in variants:
                side = size or REAL_SIZES[kind]
                x = sample_input(variant, batch=1, size=side, seed=0, block=kind)
                block = build_block(kind, variant, device=device, seed=0)
                y = forward(block, x)
                ref = block_forward(x, seeded_weights(variant, 0, kind), variant,
                                    REAL_SCALES[kind], "relu", block=kind)
                seconds = _median_seconds(lambda b=block, x=x: forward(b, x), repeats)
                rows.append({"backend": backend, "version": backend_version(),
                             "device": block.residual_spec.device + (
                                 f" ({gpus[0]})" if device == "gpu" else ""),
                             "block": f"{kind} {variant} 1x{side}x{side}",
                             "max_abs_diff": float(np.abs(y - ref).max()),
                             "ms_per_forward": 1000 * seconds})
    return rows


def _run_backend(backend: str, args) -> list[dict]:
    """One backend's rows, from a process of its own (TensorFlow blocked there)."""
    env = {**os.environ, "KERAS_BACKEND": backend}
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", backend,
            "--devices", *args.devices, "--repeats", str(args.repeats),
            "--variants", *args.variants, "--wheels", str(args.wheels)]
    argv += ["--size", str(args.size)] if args.size else []
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return [{"backend": backend, "version": "-", "device": "-", "block": "-",
                 "max_abs_diff": None, "ms_per_forward": None,
                 "note": lines[-1] if lines else f"exit status {done.returncode}"}]
    return json.loads(done.stdout.strip().splitlines()[-1])


def format_table(rows: list[dict]) -> str:
    head = f"{'backend':<8}{'version':<20}{'device':<26}{'block':<22}{'max |diff|':>11}" \
           f"{'ms/forward':>12}"
    lines = [head, "-" * len(head)]
    for r in rows:
        diff = "-" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}"
        ms = "-" if r["ms_per_forward"] is None else f"{r['ms_per_forward']:.2f}"
        note = f"  {r['note']}" if r.get("note") else ""
        lines.append(f"{r['backend']:<8}{r['version']:<20}{r['device']:<26}{r['block']:<22}"
                     f"{diff:>11}{ms:>12}{note}")
    return "\n".join(lines)


BUNDLED = ("explainer", "tools")  # what --bundle writes into its folder


def bundle_refusal(folder: Path, force: bool) -> str | None:
    """Why ``--bundle folder`` must not be written, in one line, or None. Refused: the
    checkout itself or a folder in its explainer/ (the package would be copied onto itself),
    a symlink, something that is not a folder, and a folder that is not empty unless
    ``force`` (which replaces only its explainer/ and tools/)."""
    shown = repr(str(folder)) if len(str(folder)) <= 120 else repr(str(folder)[:100] + "...")
    source = (ROOT / "explainer").resolve()
    try:
        target = folder.resolve()
    except (OSError, RuntimeError) as err:
        return f"bundle: got {shown}, which cannot be resolved ({err}); expected a folder"
    inside = [target / name for name in BUNDLED]
    if target == ROOT.resolve() or any(p == source or source in p.parents or p in
                                       source.parents for p in [target, *inside]):
        return (f"bundle: got {shown}, which is this checkout or in its explainer/ (the package "
                "would be copied onto itself); expected a new or empty folder, e.g. "
                "build/device_check")
    if folder.is_symlink():
        return f"bundle: got {shown}, which is a symlink; expected a folder of its own"
    if folder.exists() and not folder.is_dir():
        return f"bundle: got {shown}, which is not a folder; expected a new or empty folder"
    if folder.is_dir():
        try:
            entries = sorted(p.name for p in folder.iterdir())
        except OSError as err:
            return f"bundle: got {shown}, which cannot be read ({err.strerror})"
        if entries and not force:
            count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
            return (f"bundle: got {shown}, which is not empty ({count}, e.g. "
                    f"{entries[0]!r}); expected a new or empty folder, or --force to replace "
                    "its explainer/ and tools/")
    return None


def _clear(path: Path) -> None:
    """Remove what a previous bundle left at ``path`` (a link itself, never its target)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def bundle(folder: Path, python_version: str) -> int:
    """The carried folder: explainer/, tools/device_check.py and wheels/ (Keras and what it
    names), at most 64 MiB; returns its size in bytes. Its explainer/ and tools/ are written
    afresh (:func:`bundle_refusal` has checked the folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in BUNDLED:
        _clear(folder / name)
    shutil.copytree(ROOT / "explainer", folder / "explainer", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "tools").mkdir(exist_ok=True)
    shutil.copy2(Path(__file__).resolve(), folder / "tools" / "device_check.py")
    wheels = folder / "tools" / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--python-version", python_version, "--platform", "manylinux2014_x86_64",
                    "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux_2_28_x86_64",
                    "-d", str(wheels), *KERAS_WHEELS], check=True)
    size = sum(p.stat().st_size for name in BUNDLED for p in (folder / name).rglob("*")
               if p.is_file())
    if size > BUNDLE_LIMIT:
        raise SystemExit(f"device_check: the bundle is {size / 2**20:.1f} MiB; at most 64 MiB")
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--devices", nargs="+", choices=("gpu", "cpu"), default=["gpu", "cpu"])
    parser.add_argument("--variants", nargs="+", choices=("v1", "v2"), default=["v1", "v2"])
    parser.add_argument("--size", type=int, default=None,
                        help="height = width of every input (default: each block's real one)")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per block (5)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--wheels", type=Path, default=HERE / "wheels",
                        help="where the bundled wheels are (tools/wheels)")
    parser.add_argument("--bundle", type=Path, help="write the carried folder here and stop")
    parser.add_argument("--python-version", default="3.12", help="for --bundle's wheels (3.12)")
    parser.add_argument("--force", action="store_true",
                        help="--bundle into a folder that is not empty (its explainer/ and "
                             "tools/ are replaced)")
    parser.add_argument("--child", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.size is not None and not 1 <= args.size <= 64:
        parser.error(f"--size: got {args.size}; expected 1..64")
    if args.repeats < 1:
        parser.error(f"--repeats: got {args.repeats}; expected 1 or more")
    if args.bundle:
        refusal = bundle_refusal(args.bundle, args.force)
        if refusal:
            print(f"device_check: error: {refusal}", file=sys.stderr)
            return 2
        size = bundle(args.bundle, args.python_version)
        print(f"wrote {args.bundle} ({size / 2**20:.1f} MiB); there: python "
              "tools/device_check.py")
        return 0
    if args.child:
        sys.modules["tensorflow"] = None  # type: ignore[assignment]  # prove it is not needed
        os.environ["KERAS_BACKEND"] = args.child
        _import_paths(args.wheels)
        print(json.dumps(child(args.child, args.devices, args.size, args.repeats,
                               args.variants)))
        return 0
    rows = [row for backend in args.backends for row in _run_backend(backend, args)]
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0 if all(r.get("max_abs_diff") is not None or "no GPU" in r.get("note", "")
                    for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
