"""The folders are the architecture: imports go down the layers, never up, and never round.

The import graph is read from the source (tools/import_graph.py), so imports inside functions
count too. ``explainer.LAYERS`` is the one place the order is written.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import pytest

import explainer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import import_graph  # noqa: E402 - tools/ is not a package

GRAPH = import_graph.graph()
MODULES = import_graph.modules()
UI_LIBRARIES = {"matplotlib", "ipywidgets", "IPython", "nbformat", "nbclient", "nbconvert"}
HEAVY_LIBRARIES = {"tensorflow", "keras", "tf_slim", "torch", "tf2onnx", "onnxruntime"}
# What a classroom kernel uses: these must import (and run) without TensorFlow.
LIGHT = ("explainer.core.spec", "explainer.core.schedule", "explainer.core.validate",
         "explainer.core.weight_tables", "explainer.core.reference", "explainer.core.lesson",
         # the why-scale grid and its results: `why-scale` refuses a bad --out before
         # TensorFlow loads, and a results file reads without it
         "explainer.scaling.why_scale.trunk_args", "explainer.scaling.why_scale.experiment",
         "explainer.scaling.why_scale.results", "explainer.cli.commands.why_scale")


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and not parts[1].startswith("_") else None


RANK = {name: rank for rank, group in enumerate(explainer.LAYERS) for name in group}


def test_every_folder_and_top_module_has_a_layer():
    on_disk = {layer_of(m) for m in MODULES} - {None}
    assert on_disk == set(RANK), f"unplaced: {on_disk - set(RANK)}, gone: {set(RANK) - on_disk}"


def test_no_import_cycles():
    assert import_graph.find_cycle(GRAPH) is None, import_graph.find_cycle(GRAPH)


def test_cycle_finder_finds_a_cycle():  # the check above must be able to fail
    assert import_graph.find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert import_graph.find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_go_down_the_layers():
    upward = [(m, t) for m, targets in GRAPH.items() for t in targets
              if layer_of(m) and layer_of(t) and RANK[layer_of(t)] > RANK[layer_of(m)]]
    assert not upward, upward


def test_core_imports_nothing_from_other_folders():
    outside = [(m, t) for m, targets in GRAPH.items() if layer_of(m) == "core"
               for t in targets if layer_of(t) != "core"]
    assert not outside, outside


def test_engine_never_imports_plots_widgets_or_ui_libraries():
    for module, path in MODULES.items():
        if layer_of(module) in explainer.ENGINE:
            assert not import_graph.external_imports_of(path) & UI_LIBRARIES, module


def _imported_with(start: str) -> set[str]:
    """The package modules that importing ``start`` runs (imports in functions wait)."""
    at_import = import_graph.graph(module_level_only=True)
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(import_graph.with_packages(at_import[module]) - {module})
    return seen


@pytest.mark.parametrize("module", LIGHT)
def test_light_modules_never_reach_tensorflow_through_their_imports(module):
    for dep in _imported_with(module):
        heavy = (import_graph.external_imports_of(MODULES[dep], module_level_only=True)
                 & HEAVY_LIBRARIES)
        assert not heavy, f"{module} reaches {dep}, which imports {heavy}"


def test_numpy_engine_runs_without_tensorflow():
    code = ("import sys\n"
            "from explainer.core.lesson import lesson_setup\n"
            "from explainer.core.reference import block_forward\n"
            "s = lesson_setup()\n"
            "out = block_forward(s.x, s.weights, s.variant, s.scale, s.activation)\n"
            "print(out.shape, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "(1, 35, 35, 256) False False", out.stdout + out.stderr


def test_imports_inside_functions_defer_something():
    """An import moved into a function must keep a heavy library (TensorFlow, matplotlib ...)
    from loading at import time; one that defers nothing only hides a dependency."""
    assert not import_graph.deferred_for_nothing(), import_graph.deferred_for_nothing()
    assert not import_graph.imported_twice(), import_graph.imported_twice()


# Modules that would be one idea forced apart under 320 lines may hold up to 400 (issue 32,
# item 5): the argument checks, each a public check over its private work, and the trace.
ONE_IDEA = {"explainer.core.validate": 400, "explainer.core.tracing": 400}


def test_modules_stay_short():
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text().splitlines())) > ONE_IDEA.get(m, 320)}
    assert not long, f"modules over ~300 lines (split them): {long}"


def test_every_package_says_what_it_is():
    for module, path in MODULES.items():
        if path.name == "__init__.py":
            assert ast.get_docstring(ast.parse(path.read_text())), f"{module} has no docstring"


def test_public_names_come_from_one_table():
    """Every public name resolves through the package's one table: the documented module names
    (``port``, ``legacy``, ``plots``, ``widgets``, ``exercises``) to their modules, the
    functions to the module that defines them; the old pre-layer module names are gone. The
    package's resolver is called itself (an attribute read once is cached in the package, and
    would not go through the table again)."""
    names = ("port", "legacy", "plots", "widgets", "exercises", "build_block35", "scale_sweep",
             "run_slim_block35")
    resolved = {n: explainer.__getattr__(n) for n in names}
    found = {n: [v.__name__, None if isinstance(v, types.ModuleType) else v.__module__]
             for n, v in resolved.items()}
    assert found["port"] == ["explainer.ports", None]
    assert found["legacy"] == ["explainer.ports.legacy", None]
    for package in ("plots", "widgets", "exercises"):
        assert found[package] == [f"explainer.{package}", None]
    assert found["build_block35"] == ["build_block35", "explainer.core.blocks"]
    assert found["scale_sweep"] == ["scale_sweep", "explainer.scaling.sweep"]
    assert found["run_slim_block35"] == ["run_slim_block35", "explainer.ports.legacy"]
    assert set(explainer.__all__) == set(explainer._EXPORTS)
    for old in ("sweepmath", "blocks", "port_torch", "static_widgets", "Block35Spec"):
        with pytest.raises(AttributeError):
            getattr(explainer, old)


def test_the_classroom_has_one_home_on_top():
    """Issue 21: the classroom's code (apps, kernel manager, pool wait, frames, servers) lives
    in ``explainer/classroom/``, the top layer, which nothing imports; the static pages
    (``site``) build without it and read ``finding()`` from below both."""
    assert explainer.LAYERS[-1] == ("classroom",)
    classroom = {m for m in MODULES if layer_of(m) == "classroom"}
    assert {f"explainer.classroom.{name}" for name in (
        "apps", "figure", "frame_cache", "pool_wait", "kernel_manager", "seats", "network",
        "static_server")} <= classroom
    users = {m for m, targets in GRAPH.items() if targets & classroom} - classroom
    assert users == set(), f"imports of the top layer: {users}"
    for gone in ("explainer.widgets.classroom", "explainer.widgets.classroom_figure",
                 "explainer.widgets.frame_cache", "explainer.widgets.pool_wait",
                 "explainer.site.classroom_server"):
        assert gone not in MODULES
    assert "explainer.scaling.findings" in GRAPH["explainer.site.scale_page"]
    assert "explainer.scaling.findings" in GRAPH["explainer.classroom.apps"]
    assert not any(layer_of(t) == "widgets" for t in GRAPH["explainer.site.scale_page"])
    assert {explainer._EXPORTS[f"classroom_{app}"] for app in ("scale_explorer",
                                                               "broadcast_playground")} == \
        {"classroom.apps"}
