"""The package's import graph, read from the source with :mod:`ast` (nothing is imported).

Every ``import`` and ``from ... import`` counts, at module level and inside functions alike:
an import deferred into a function is still a dependency, and a cycle through one is still a
cycle. tests/test_layers.py checks the layers with it; ``python tools/import_graph.py`` prints
the graph's summary: a cycle if there is one, and what importing each layer loads.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "explainer"


@cache
def _tree(path: Path) -> ast.Module:
    """A file's syntax tree, parsed once per test session (the walks never change it)."""
    return ast.parse(path.read_text())


def module_name(path: Path) -> str:
    parts = ("explainer",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    base = current.split(".") if is_package else current.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _nodes(tree: ast.AST, module_level_only: bool):
    """Every node, or only those that run when the module is imported (not function bodies,
    not ``if TYPE_CHECKING:`` blocks)."""
    if not module_level_only:
        yield from ast.walk(tree)
        return
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            todo.extend(node.orelse)  # for type checkers only: never runs
            continue
        todo.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, known: set[str], module_level_only: bool = False) -> set[str]:
    """The package modules ``name`` imports (packages count as their ``__init__``)."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in _nodes(_tree(path), module_level_only):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve(name, is_package, node.level, node.module) if node.level
                    else node.module or "")
            # `from pkg import sub` imports the submodule when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rsplit(".", 1)[0]  # `explainer.core.spec.X` -> the module
            if target in known and target != name:
                found.add(target)
    return found


@cache
def external_imports_of(path: Path, module_level_only: bool = False) -> frozenset[str]:
    """Top-level names of the third-party / stdlib modules a file imports."""
    found = set()
    for node in _nodes(_tree(path), module_level_only):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return frozenset(found)


def with_packages(targets: set[str]) -> set[str]:
    """``targets`` and every package above them: importing ``a.b.c`` runs ``a`` and ``a.b``
    first (their ``__init__``), which matters for what an import costs, not for cycles."""
    found = set(targets)
    for target in targets:
        parts = target.split(".")
        found |= {".".join(parts[:i]) for i in range(1, len(parts))}
    return found


def graph(module_level_only: bool = False) -> dict[str, set[str]]:
    """Module -> the package modules it imports (all imports, or those run at import time)."""
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known, module_level_only)
            for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


HEAVY = {"tensorflow", "keras", "tf_slim", "torch", "tf2onnx", "onnxruntime", "onnx",
         "matplotlib", "ipywidgets", "sklearn", "nbformat", "nbclient", "nbconvert"}


def heavy_at_import(module: str, mods: dict[str, Path], at_import: dict[str, set[str]],
                    seen: set[str] | None = None) -> set[str]:
    """The heavy libraries that importing ``module`` loads (packages above it included)."""
    seen = set() if seen is None else seen
    if module in seen:
        return set()
    seen.add(module)
    found = external_imports_of(mods[module], module_level_only=True) & HEAVY
    for dep in with_packages(at_import[module] | {module}) - {module}:
        found |= heavy_at_import(dep, mods, at_import, seen)
    return found


def deferred_for_nothing() -> list[tuple[str, str]]:
    """(module, target) pairs where an import inside a function defers no heavy library: the
    module already loads everything the target would, or imports the target at module level
    too. Such an import only hides a dependency (the root package's lazy table aside)."""
    mods, full, at_import = modules(), graph(), graph(module_level_only=True)
    found = []
    for module in sorted(mods):
        if module == "explainer":
            continue
        mine = heavy_at_import(module, mods, at_import)
        for target in sorted(full[module] - at_import[module]):
            if not heavy_at_import(target, mods, at_import) - mine:
                found.append((module, target))
    return found


def imported_twice() -> list[str]:
    """``file:line`` of imports inside functions of modules the file imports at module level."""
    mods = modules()
    known, at_import = set(mods), graph(module_level_only=True)
    found = []
    for module, path in mods.items():
        is_package = path.name == "__init__.py"
        for func in ast.walk(ast.parse(path.read_text())):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and node.level:
                    base = _resolve(module, is_package, node.level, node.module)
                    targets = {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                               for a in node.names}
                    if targets <= at_import[module]:
                        found.append(f"{path.name}:{node.lineno}")
    return found


def main() -> None:
    mods, full = modules(), graph()
    at_import = graph(module_level_only=True)
    cycle = find_cycle(full)
    print(f"{len(mods)} modules, {sum(map(len, full.values()))} imports between them; "
          + (f"import cycle: {' -> '.join(cycle)}" if cycle else "no import cycle"))
    layers = sorted({".".join(name.split(".")[:2]) for name in mods if name != "explainer"})
    for layer in layers:
        heavy = heavy_at_import(layer, mods, at_import)
        print(f"  import {layer}: loads {', '.join(sorted(heavy)) or 'no heavy library'}")


if __name__ == "__main__":
    main()
