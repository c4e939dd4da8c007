"""Running a source's own lines of the residual: the helpers of :mod:`.spellings`.

:func:`run_lines` executes the lines as written (compiled from the source's text, as
:mod:`.legacy` runs the stored blocks); :func:`watch_tensorflow` records which ``tf.Tensor``
operator methods (``__mul__``, ``__rmul__``, ``__add__`` ...) the lines themselves called, with
``sys.setprofile``; :func:`mul_operands` evaluates the two operands of the line's ``*``.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import textwrap

_OPERATORS = ("__mul__", "__rmul__", "__add__", "__radd__", "__iadd__")


def product(lines: tuple[str, ...]) -> ast.BinOp:
    """The ``*`` node of the lines (the first multiplication that involves ``scale``)."""
    tree = ast.parse("\n".join(statement(line) for line in lines))
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and "scale" in \
                ast.unparse(node):
            return node
    raise ValueError(f"no `* scale` product in {lines!r}")


def statement(line: str) -> str:
    """A line that parses on its own: ``return x`` -> ``result = x``; an ``if`` gets a body."""
    if line.startswith("return "):
        return "result = " + line[len("return "):]
    if line.endswith(":"):
        return line + " pass"
    return line


def tensorflow_operators(up) -> dict:
    """(code object, op_name) of each operator method of tf.Tensor -> its public name."""
    table = {}
    for name in _OPERATORS:
        fn = getattr(type(up), name, None)
        if fn is None:
            continue
        inner = inspect.unwrap(fn)
        op = inspect.getclosurevars(inner).nonlocals.get("op_name")
        table[(inner.__code__, op)] = f"tf.Tensor.{name}"
    return table


def watch_tensorflow(run, is_source, up) -> tuple[object, list[str]]:
    """Run ``run()``; return its result and the tf.Tensor operator methods that were called
    directly from the source's own lines (a frame whose code ``is_source(code)`` accepts)."""
    import tensorflow as tf

    table = tensorflow_operators(up)
    seen: list[str] = []
    tf_root = os.path.dirname(tf.__file__) + os.sep  # .../site-packages/tensorflow/

    def profile(frame, event, arg):
        if event != "call":
            return
        op = frame.f_locals.get("op_name") if "op_name" in frame.f_code.co_varnames or \
            "op_name" in frame.f_code.co_freevars else None
        name = table.get((frame.f_code, op))
        if name is None:
            return
        caller = frame.f_back
        while caller is not None and caller.f_code.co_filename.startswith(tf_root):
            caller = caller.f_back
        if caller is not None and is_source(caller.f_code):
            seen.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = run()
    finally:
        sys.setprofile(previous)
    return result, seen


def run_lines(lines: tuple[str, ...], namespace: dict, filename: str) -> dict:
    """Execute the source's own lines (an ``if`` line keeps the line after it as its body)."""
    lines = tuple(line for line in lines if not line.startswith("#"))
    body, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.endswith(":"):
            body += [line, "    " + lines[i + 1]]
            i += 2
            continue
        body.append(statement(line))
        i += 1
    text = textwrap.dedent("\n".join(body)) + "\n"
    exec(compile(text, filename, "exec"), namespace)  # noqa: S102 - the source's own text
    return namespace


def mul_operands(lines, namespace: dict) -> tuple[object, object]:
    """The values of the two operands of the lines' ``*`` (its own sub-expressions, such as
    ``inputs[1]`` and ``self.scale``, evaluated in ``namespace``)."""
    node = product(lines)
    values: dict = {}
    text = f"_left = {ast.unparse(node.left)}\n_right = {ast.unparse(node.right)}\n"
    exec(compile(text, "<operands>", "exec"), {**namespace}, values)  # noqa: S102
    return values["_left"], values["_right"]
