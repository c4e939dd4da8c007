"""The public API: every exported name resolves, has a docstring, and import is light."""

from __future__ import annotations

import inspect
import subprocess
import sys

import explainer


def test_every_export_resolves_and_is_documented():
    for name in explainer._EXPORTS:
        obj = getattr(explainer, name)
        if callable(obj) and not isinstance(obj, type(sys)):
            assert inspect.getdoc(obj), f"explainer.{name} has no docstring"


def test_import_does_not_load_tensorflow():
    code = "import sys, explainer; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute_is_an_attribute_error():
    try:
        explainer.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("expected AttributeError")


def test_listed_submodules_are_reachable_as_attributes():
    import pkgutil

    on_disk = [m.name for m in pkgutil.iter_modules(explainer.__path__)
               if not m.name.startswith("_")]
    assert {"core", "plots", "widgets", "exercises", "answer"} <= set(on_disk)
    for name in on_disk:  # found on disk, served by the one table
        assert explainer._EXPORTS[name] == f"{name}:"
        assert getattr(explainer, name).__name__ == f"explainer.{name}", name
