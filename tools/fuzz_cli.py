"""``make fuzz``: random argument lists for every subcommand of ``python -m explainer``.

Each case runs ``explainer.cli.main(argv)`` in this process (a fresh process costs seconds
each) with stdout and stderr captured and a 30 s alarm, and must end as a user may see it:
exit 0, 1 (broadcast: the shapes do not broadcast), 2 (one line on stderr) or 74 (a write
failed: one line), no traceback, no hang, strict JSON for ``--json`` and no RuntimeWarning on
success. Arguments are drawn from each command's own options and values, hostile values
(numbers past float range, 600-digit whole numbers, ranks past 64, newlines, unicode) and
hostile output paths (a folder, a FIFO, /dev/full, a symlink to it, /proc, /sys, a long name,
a missing folder, a symlink to a user's file of another or the same ending, a dangling one, a
read-only file, an existing file, with and without ``--force``): the user's files must come
out of every case as they went in. ``why-scale`` is stopped where it would start training (its
grid takes minutes and writes results/): its arguments and checks run, the training does not.

    python tools/fuzz_cli.py                 # 1,000 cases per subcommand
    python tools/fuzz_cli.py --cases 50 --seed 3 --commands star scale
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

CASE_SECONDS = 30
EXIT_CODES = {0, 1, 2, 74}
BIG = "9" * 600


class Hang(Exception):
    """A case ran past CASE_SECONDS."""


class WouldTrain(Exception):
    """why-scale got past its checks: the fuzz stops it before the grid trains."""


# files of the user's that no case may change: name -> bytes (a symlink or a read-only file
# among the output paths below names each)
PROTECTED = {"thesis.pdf": b"%PDF-1.4 a thesis", "notes.txt": b"my notes",
             "model.onnx": b"an onnx file of the user's", "results.json": b'{"mine": true}',
             "readonly.png": b"a read-only figure", "readonly.onnx": b"a read-only model"}


def _protect(folder: Path) -> None:
    """(Re)make the user's files and the links to them."""
    for name, data in PROTECTED.items():
        path = folder / name
        if path.exists():
            path.chmod(0o644)
        path.write_bytes(data)
        if name.startswith("readonly"):
            path.chmod(0o444)
    links = {"link_pdf.png": "thesis.pdf", "link_txt.png": "notes.txt",
             "link.onnx": "model.onnx", "link.json": "results.json",
             "dangling.png": "no_such_target.png"}
    for name, target in links.items():
        if not os.path.lexists(folder / name):
            os.symlink(folder / target, folder / name)


def changed_files(folder: Path) -> list[str]:
    """The user's files a case changed (and then put back), or through which link."""
    changed = [name for name, data in PROTECTED.items()
               if not (folder / name).is_file() or (folder / name).read_bytes() != data]
    changed += [f"{name} (now a file)" for name in ("link_pdf.png", "link_txt.png", "link.onnx",
                                                   "link.json", "dangling.png")
                if not (folder / name).is_symlink()]
    if changed:
        for name in ("link_pdf.png", "link_txt.png", "link.onnx", "link.json", "dangling.png"):
            if (folder / name).exists() and not (folder / name).is_symlink():
                (folder / name).unlink()
        _protect(folder)
    return changed


def _paths(folder: Path) -> dict[str, str]:
    """Hostile and ordinary output paths under ``folder``, made once."""
    (folder / "dir.png").mkdir(exist_ok=True)
    for name in ("fifo.png", "fifo.onnx", "fifo.json"):
        if not (folder / name).exists():
            os.mkfifo(folder / name)
    if not (folder / "full.png").exists():
        os.symlink("/dev/full", folder / "full.png")
    out = {"dir": str(folder / "dir.png"), "dir/": str(folder / "dir.png") + "/",
           "/dev/full": "/dev/full", "/dev/null": "/dev/null", "link": str(folder / "full.png"),
           "long": str(folder / ("n" * 300 + ".png")), "missing": str(folder / "no/x.png"),
           "/proc": "/proc/self/x.png", "/sys": "/sys/x.onnx"}
    for ext in ("png", "svg", "pdf", "onnx", "json", "txt"):
        out[ext] = str(folder / f"ok.{ext}")
    _protect(folder)
    for name in ("link_pdf.png", "link_txt.png", "link.onnx", "link.json", "dangling.png",
                 "readonly.png", "readonly.onnx", "thesis.pdf", "model.onnx"):
        out[name] = str(folder / name)
    out.update(fifo=str(folder / "fifo.png"), fifo_onnx=str(folder / "fifo.onnx"),
               fifo_json=str(folder / "fifo.json"))
    return out


def _junk(paths: dict[str, str]) -> list[str]:
    """Values a hostile user types anywhere."""
    return ["", " ", "\n", "x\ny", "-", "--", "--help", "-1", "0", "1", "3", BIG, "-" + BIG,
            "1" + "0" * 400, "1e400", "-1e400", "3.4e38", "nan", "inf", "-inf", "0x10",
            "\u0661\u0662", "é", "\U0001F600", "((((", "(1,)*70", "()", "(" + "1," * 33 + ")",
            "(" + "1," * 80 + ")", "(" + "9" * 30 + ",)", "x" * 5000, "none", "None", "v3",
            *paths.values()]


def _specs(paths: dict[str, str]) -> dict[str, tuple[list[list[str]], dict, list[str]]]:
    """Per subcommand: (positional values, {option: values}, flags); values mostly valid."""
    shapes = ["(2,35,35,256)", "(256,)", "()", "(2,3)", "(3,)", "2x3", "(N,3)", "(a,3)",
              "(" + "1," * 33 + ")", "(" + "2," * 40 + ")", "(" + "1," * 64 + ")", "(x)",
              "[2,3]", "(0,3)", "(4611686018427387904,2)", "(1,1,2)", "(5,1,3)"]
    block = {"--variant": ["v1", "v2"], "--scale": ["0.17", "0", "-0.5", "1", "3.4e38", "1e39"],
             "--activation": ["relu", "relu6", "none"], "--seed": ["0", "7"],
             "--device": ["cpu", "auto", "gpu"], "--batch": ["1", "2", "100000"],
             "--size": ["1", "2", "3", "400", "0"]}
    kinds = ["--block", "block35", "block17", "block8"]
    return {
        "answer": ([], block, ["--json"]),
        "star": ([], {"--scale": ["0.17", "0.3", "-0", "1e39", "3.4e38", "2"],
                      "--backend": ["tensorflow", "jax", "torch", "mxnet"]}, ["--json"]),
        "broadcast": ([shapes, shapes], {"--dims": ["N=2", "a=2,N=3", "a=b", "N=" + BIG]},
                      ["--json"]),
        "scale": ([], {**block, kinds[0]: kinds[1:], "--scales": ["0,0.5", "0,0.17,1", "nan,1",
                                                                  ",", "3e38"],
                       "--plot": [paths[k] for k in ("png", "svg", "fifo", "link", "dir",
                                                     "long", "txt", "/proc", "link_pdf.png",
                                                     "link_txt.png", "dangling.png",
                                                     "readonly.png", "thesis.pdf")]},
                  ["--json", "--force"]),
        "port": ([], {"--to": ["torch", "onnx", "dl4j", "slim", "keras"], kinds[0]: kinds[1:],
                      "--variant": ["v1", "v2"], "--scale": ["0.17", "3.4e38", "-1"],
                      "--activation": ["relu", "none"], "--seed": ["0", "3"],
                      "--index": ["1", "3", "21"],
                      "--out": [paths[k] for k in ("onnx", "fifo_onnx", "/dev/full", "/proc",
                                                   "/sys", "dir/", "long", "png", "link.onnx",
                                                   "readonly.onnx", "model.onnx")]},
                 ["--json", "--force"]),
        "why-scale": ([], {"--out": [paths[k] for k in ("json", "fifo_json", "/dev/null",
                                                        "missing", "dir", "long",
                                                        "link.json")]},
                      ["--quick", "--force", "--no-progress"]),
    }


def _argv(rng: random.Random, command: str, spec, junk: list[str]) -> list[str]:
    """Half well formed (options with values, mostly valid), half a soup of tokens."""
    positional, options, flags = spec
    first = [] if command == "answer" else [command]

    def value(values):
        return rng.choice(junk) if rng.random() < 0.15 else rng.choice(values)

    if rng.random() < 0.5:
        rest = [value(v) for v in positional]
        for option in rng.sample(sorted(options), rng.randint(0, min(4, len(options)))):
            rest += [option, value(options[option])]
        rest += [f for f in flags if rng.random() < 0.3]
        if command == "port" and "--to" not in rest and rng.random() < 0.8:
            rest += ["--to", rng.choice(options["--to"])]
        if "onnx" in rest and "--out" not in rest and rng.random() < 0.7:
            rest += ["--out", rng.choice(options["--out"])]
    else:
        pool = [*flags, *options, *(v for vs in options.values() for v in vs),
                *(v for vs in positional for v in vs)]
        rest = [rng.choice(junk) if rng.random() < 0.2 else rng.choice(pool)
                for _ in range(rng.randint(0, 7))]
    if command in ("answer", "scale") and "--size" not in rest and rng.random() < 0.8:
        rest += ["--size", rng.choice(["2", "3"])]  # keep most real runs small
    return first + rest


def _strict(text: str) -> None:
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")
    json.loads(text, parse_constant=refuse)


def _alarm(signum, frame):
    raise Hang(f"ran past {CASE_SECONDS} s")


def run_case(argv: list[str]) -> tuple[int | str, str, str, list[str]]:
    """(exit code or the escaped exception, stdout, stderr, RuntimeWarnings)."""
    from explainer.cli import main

    out, err = io.StringIO(), io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            try:
                code: int | str = main(argv)
            except SystemExit as stop:  # argparse's own exits (errors, --help)
                code = stop.code if isinstance(stop.code, int) else 2
            except WouldTrain:
                code = 0
            except Hang:
                code = "hang"
            except BaseException as exc:  # noqa: BLE001 - what escaped is the finding
                code = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        signal.alarm(0)
    found = [str(w.message)[:200] for w in caught if issubclass(w.category, RuntimeWarning)]
    return code, out.getvalue(), err.getvalue(), found


def problem(argv: list[str], code, out: str, err: str, runtime_warnings: list[str]) -> str | None:
    """Why this case is not what a user may see, or None."""
    if code not in EXIT_CODES:
        return f"exit {code!r}"
    if "Traceback" in out + err:
        return "a traceback"
    if code in (2, 74) and err.count("\n") != 1:
        return f"exit {code} with {err.count(chr(10))} stderr lines"
    if code == 0 and runtime_warnings:
        return f"RuntimeWarning on success: {runtime_warnings[0]}"
    if code == 0 and "--json" in argv and "--help" not in argv and "-h" not in argv:
        try:
            _strict(out)
        except ValueError as exc:
            return f"--json is not strict JSON: {exc}"[:200]
    return None


def _run_all(opts, rng: random.Random, tmp: Path) -> tuple[dict[str, dict], int]:
    """Every asked command's cases, in ``tmp``: the report and the number of problems."""
    report: dict[str, dict] = {}
    failures = 0
    paths = _paths(tmp)
    specs, junk = _specs(paths), _junk(paths)
    for command in opts.commands or list(specs):
        codes, times, bad = Counter(), [], []
        for _ in range(opts.cases):
            argv = _argv(rng, command, specs[command], junk)
            start = time.perf_counter()
            code, out, err, found = run_case(argv)
            times.append(time.perf_counter() - start)
            codes[str(code) if code in EXIT_CODES else "other"] += 1
            why = problem(argv, code, out, err, found)
            lost = changed_files(tmp)  # put back, so the next case finds them
            if lost and not why:
                why = f"a file of the user's changed: {', '.join(lost)}"
            if why:
                bad.append({"argv": [a[:80] for a in argv], "why": why, "stderr": err[-300:]})
        failures += len(bad)
        report[command] = {"cases": opts.cases, "exit_codes": dict(codes),
                           "seconds": round(sum(times), 1),
                           "mean_s": round(sum(times) / len(times), 3),
                           "max_s": round(max(times), 2), "problems": len(bad),
                           "examples": bad[:10]}
        print(f"{command:<10} {opts.cases} cases  exit {dict(codes)}  {sum(times):.0f} s "
              f"(mean {sum(times) / len(times):.3f} s, max {max(times):.1f} s)  "
              f"problems {len(bad)}", file=sys.__stdout__, flush=True)
        for b in bad[:3]:
            print(f"    {b['why']}: {b['argv']}", file=sys.__stdout__, flush=True)
    return report, failures


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases per subcommand (1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--commands", nargs="*", help="subcommands (default: all)")
    parser.add_argument("--report", default="build/fuzz_cli.json", help="JSON report path")
    opts = parser.parse_args(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from explainer.core.quiet import load_tensorflow_quietly
    from explainer.core.validate import write_atomic
    from explainer.scaling.why_scale import experiment

    load_tensorflow_quietly()

    def stop_before_training(*_, **__):
        raise WouldTrain

    import explainer.cli.commands.why_scale as why_scale_command

    # why-scale: checks run, the grid does not (the command holds its own name for it)
    experiment.run_grid = why_scale_command.run_grid = stop_before_training
    report_path = Path(opts.report).resolve()  # before the cases move to the temporary folder
    rng = random.Random(opts.seed)
    home = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="fuzz_cli_") as tmp:
        os.chdir(tmp)  # default outputs (why-scale's results/, build/) land here, not in ours
        try:
            report, failures = _run_all(opts, rng, Path(tmp))
        finally:
            os.chdir(home)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    # all or nothing, never through a symlink (the report is the tool's own: replaced)
    write_atomic("report", report_path, json.dumps(report, indent=2))
    print(f"report: {opts.report}; {failures} problems", file=sys.__stdout__)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
