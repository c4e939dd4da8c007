"""``python -m explainer``: the answer in a terminal.

Arguments are checked before TensorFlow is imported (it prints its own start-up lines), and a
bad argument is one line on stderr with exit status 2. TensorFlow's own start-up lines are
silenced (set EXPLAINER_VERBOSE=1 to see them). Each subcommand lives in
``explainer/cli/commands/<name>.py`` with ``add_arguments(parser)`` and ``run(args) -> int``;
those modules import TensorFlow only inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ..core.backend import BACKENDS, TensorFlowOnlyError, keras_backend
from ..core.quiet import load_tensorflow_quietly
from ..core.validate import shorten
from .commands import answer

# name -> (module under explainer.cli.commands, one-line help)
COMMANDS = {
    "star": ("star", "what `*` and `+=` do: dispatch, graph ops, in-place, dtypes"),
    "broadcast": ("broadcast", "explain broadcasting of two shapes, e.g. '(2,35,35,256)' '(256,)'"),
    "scale": ("scale", "sweep the residual scale and print ratio / output change / ReLU flips"),
    "port": ("port", "port block35 / block17 / block8 to torch, onnx, dl4j or "
                     "keras.applications, or run the slim original; prints measured differences"),
    "backends": ("backends", "run block35, block17 and block8 on every installed Keras backend "
                             "(TensorFlow, JAX, PyTorch), each in its own process, and compare"),
    "why-scale": ("why_scale", "train a miniature Inception-ResNet trunk over widths x scales x "
                               "learning rates (Szegedy et al. 3.3); resumable"),
    "notebooks": ("notebooks", "copy the lessons and the classroom apps into a folder, for "
                               "`jupyter lab DIR`"),
}


EX_IOERR = 74  # sysexits.h: an output could not be written


def one_line(message: object, limit: int = 500) -> str:
    """A message as one line (a newline typed inside an argument shown as \\n), at most about
    ``limit`` characters: stderr gets one line, whatever was typed."""
    text = str(message).replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else f"{text[:limit - 25]}... ({len(text):,} chars)"


def _stdout_flushed() -> bool:
    """Flush stdout; if it cannot be written (a full disk, /dev/full), point it at /dev/null so
    that Python's own flush at exit does not print a second error, and say False."""
    try:
        sys.stdout.flush()
        return True
    except OSError:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a file (captured in-process)
            pass
        return False


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(2, f"{self.prog}: error: {one_line(message)}\n")

    def _get_values(self, action, arg_strings):
        # argparse drops a '--' given as an option's value (`--batch=--`) and then hands the
        # option an empty list past its type= check, or its const (nargs='?'): refuse it as
        # the value it is
        alone = bool(action.option_strings) and list(arg_strings) == ["--"]
        dashes = bool(action.option_strings) and "--" in arg_strings
        values = super()._get_values(action, arg_strings)
        if alone or dashes and isinstance(values, list) and (not values or action.nargs is None):
            raise argparse.ArgumentError(action, "got '--'; expected a value (a '--' alone "
                                                 "ends the options; it is not a value)")
        return values


def check_keras_backend(args) -> None:
    """The Keras backend this process would load is one the explainer runs on, or one line
    naming where it came from (KERAS_BACKEND, keras.json), before Keras or TensorFlow load:
    Keras' own refusal is a 37-line traceback, or comes after TensorFlow's start-up lines.
    Commands told their backend (``--backend``, ``backends``) choose it themselves."""
    if getattr(args, "backend", None) or args.command == "backends":
        return
    backend = keras_backend()
    if backend in BACKENDS:
        return
    if "keras" in sys.modules:
        source, hint = "the Keras backend this process runs", "start a new process"
    elif os.environ.get("KERAS_BACKEND"):
        source, hint = "KERAS_BACKEND", "unset KERAS_BACKEND for TensorFlow"
    else:
        home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
        source = f"the backend in {shorten(os.path.join(home, 'keras.json'), 120)}"
        hint = "set KERAS_BACKEND=tensorflow, or change that file"
    shown = ", ".join(repr(b) for b in BACKENDS)
    raise ValueError(f"{source}: got {shorten(backend)}; expected one of {shown} (the Keras "
                     f"backends the explainer runs on; {hint})")


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="python -m explainer",
                           description="What does `*` do in `net += scale * up`? "
                                       "Runs the real Inception-ResNet block35 and shows it.")
    answer.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        mod = importlib.import_module(f".commands.{module}", __package__)
        mod.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.own_process = argv is None  # run as a program: free to choose Keras' backend
    module = COMMANDS[args.command][0] if args.command else "answer"
    mod = importlib.import_module(f".commands.{module}", __package__)
    try:
        check_keras_backend(args)  # before the command's checks: they may choose the backend
        if hasattr(mod, "check"):  # argument combinations and budgets, before TensorFlow loads
            mod.check(args)
        needs_tensorflow = getattr(mod, "needs_tensorflow", lambda _args: True)(args)
        if needs_tensorflow and keras_backend() == "tensorflow":
            load_tensorflow_quietly()
        status = int(mod.run(args) or 0)
        if not _stdout_flushed():
            print(f"{parser.prog}: error: stdout: could not write the output (disk full?)",
                  file=sys.stderr)
            return EX_IOERR
        return status
    except (ValueError, TypeError, TensorFlowOnlyError) as err:
        # bad input found after parsing, or a TensorFlow-only command under another Keras
        # backend (KERAS_BACKEND): one line, exit 2
        print(f"{parser.prog}: error: {one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C (why-scale says first what it kept): one line, 130
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `python -m explainer | head`: the reader left; that is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # a write failed (stdout or a file): one line, no traceback
        _stdout_flushed()
        where = shorten(err.filename) if err.filename else "stdout"
        text = err if err.errno is None else f"could not write {where}: {err.strerror}"
        print(f"{parser.prog}: error: {one_line(text)}", file=sys.stderr)
        return EX_IOERR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
