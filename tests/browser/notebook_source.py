"""Read, without running it, how a notebook builds the objects a widget is given.

The browser tests compute the value a widget should show in the test process. To use the same
block and input as the notebook, they read the notebook's literal call arguments, e.g.
``block = explainer.build_block35("v1", scale=0.17, seed=0)``, with :mod:`ast` (only
literals are accepted: nothing from the notebook is executed here).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat


def _code(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code":  # IPython magics and shell lines are not Python
            lines += [ln for ln in cell.source.splitlines()
                      if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def _func_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def widget_arguments(path: Path, widget: str) -> list[str]:
    """The variable names passed to the first call of ``widget`` (e.g. ["block", "x"])."""
    for node in ast.walk(ast.parse(_code(path))):
        if isinstance(node, ast.Call) and _func_name(node) == widget:
            names = [a.id for a in node.args if isinstance(a, ast.Name)]
            if len(names) == len(node.args):
                return names
            raise AssertionError(f"{path.name}: {widget}(...) is called with expressions, "
                                 "not names; the test cannot tell what it is given")
    raise AssertionError(f"{path.name} never calls {widget}(...)")


def literal_call(path: Path, name: str, before_call_to: str) -> tuple[str, list, dict]:
    """``(function, args, kwargs)`` of the last ``name = f(literals...)`` before the first
    call to ``before_call_to``."""
    found = None
    for stmt in ast.parse(_code(path)).body:
        if any(isinstance(n, ast.Call) and _func_name(n) == before_call_to
               for n in ast.walk(stmt)):
            break
        if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)):
            call = stmt.value
            try:
                args = [ast.literal_eval(a) for a in call.args]
                kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
            except ValueError as err:
                raise AssertionError(f"{path.name}: `{ast.unparse(stmt)}` has non-literal "
                                     "arguments; the test needs literals") from err
            found = (_func_name(call), args, kwargs)
    if found is None:
        raise AssertionError(f"{path.name}: no `{name} = f(...)` before {before_call_to}(...)")
    return found
