"""What each role installs: pyproject.toml's extras, environment.yml (conda / Binder), and the
imports of the code each role runs, checked against the installed packages' own requirements."""

from __future__ import annotations

import ast
import functools
import json
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_install import PROJECT, closure, pinned  # noqa: E402  (one closure for both)

TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "playwright", "axe-playwright-python",
              "ruff"}


def _env_pip_lines() -> list[str]:
    lines, inside = [], False
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        text = raw.split("#")[0].rstrip()
        if text.strip() == "- pip:":
            inside = True
            continue
        if inside and text.strip().startswith("- "):
            lines.append(text.strip()[2:].strip())
        elif inside and text.strip():
            inside = False
    return lines


def imports(source: str, functions: bool = True) -> set[str]:
    """Top-level names of the absolute imports in ``source`` (inside functions too, unless
    ``functions`` is False)."""
    found: set[str] = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if not functions and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name.split(".")[0] for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and not child.level:
                found.add(child.module.split(".")[0])
            visit(child)

    visit(ast.parse(source))
    return found


@functools.cache
def _module_table() -> dict[str, list[str]]:
    return packages_distributions()  # reads every installed package's file list: 0.2 s


def distributions(modules: set[str], where: str) -> set[str]:
    """The installed distributions that provide ``modules`` (the standard library and the
    package itself left out)."""
    table = _module_table()
    out = set()
    for module in modules - set(sys.stdlib_module_names) - {"explainer", "__future__"}:
        assert module in table, f"{where}: imports {module}, which no installed package provides"
        out.update(canonicalize_name(d) for d in table[module])
    return out


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py"))]


def test_environment_matches_pyproject():
    wanted = pinned({"all"})
    listed = [line for line in _env_pip_lines() if line != "-e ."]
    assert "-e ." in _env_pip_lines(), "environment.yml must install the package itself"
    assert len(listed) == len(set(listed)), "duplicate entries in environment.yml"
    assert set(listed) == wanted, (f"only in environment.yml: {set(listed) - wanted}; "
                                   f"only in pyproject.toml: {wanted - set(listed)}")


def test_torch_is_pinned_everywhere():
    # an unpinned torch pulls a multi-GB CUDA build on these machines
    text = (ROOT / "pyproject.toml").read_text() + (ROOT / "environment.yml").read_text()
    assert "torch==2.13.0" in text and "torch>" not in text and '"torch"' not in text


def test_dev_is_every_extra_and_the_test_tools():
    extras = set(PROJECT["optional-dependencies"]) - {"dev", "all"}
    assert pinned({"all"}) == pinned(extras), "[all] must hold every extra"
    assert pinned({"dev"}) - pinned({"all"}) == {
        line for line in pinned({"dev"}) if canonicalize_name(Requirement(line).name)
        in TEST_TOOLS}, "[dev] is [all] plus the test tools"
    assert {canonicalize_name(Requirement(line).name) for line in pinned({"dev"})} >= TEST_TOOLS


def test_roles_below_dev_bring_no_test_tools():
    for extras in (set(), {"lab"}, {"classroom"}, {"all"}):
        brought = closure(extras) & TEST_TOOLS
        assert not brought, f"[{','.join(extras) or 'core'}] brings {sorted(brought)}"


def test_the_classroom_extra_brings_what_the_classroom_and_the_pages_import():
    # make classroom, make classroom-static and make html run explainer/classroom/ and
    # explainer/site/ (imports inside functions included: they run when the server does)
    have = closure({"classroom"})
    for path in _python_files("explainer/classroom", "explainer/site"):
        missing = distributions(imports(path.read_text()), str(path)) - have
        assert not missing, f"{path.relative_to(ROOT)} imports {sorted(missing)}, which " \
                            "pip install 'block35-explainer[classroom]' does not bring"


def _loads(path: Path) -> set[str]:
    """The package's own modules that ``path`` imports when it loads, relative imports
    resolved (``from .torch_blocks import x`` in explainer/ports/: explainer.ports.torch_blocks
    and explainer.ports.torch_blocks.x, which may be a name, not a module)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(ast.Module(body=[n for n in tree.body if not isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef))], type_ignores=[])):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = f"{base}.{node.module}" if node.module else base
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module.startswith("explainer"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("explainer"))
    return found


def test_the_core_brings_what_every_module_imports_when_it_loads():
    # python -m explainer and the API: a module's own imports when it loads. An optional
    # framework (torch, jax, timm, onnx) may be imported when a module loads only by a module
    # that no other module imports when it loads: the code that needs it imports that module
    # inside the function that needs it, and says which extra brings it.
    have = closure(set())
    optional = closure({"torch", "jax", "timm", "onnx"}) - have
    paths = [p for p in _python_files("explainer")
             if p.relative_to(ROOT / "explainer").parts[0] not in ("classroom", "site")]
    name = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
            for p in paths}
    loaded_by: dict[str, list[str]] = {}
    for module, path in name.items():
        for other in _loads(path):
            loaded_by.setdefault(other, []).append(module)
    for module, path in name.items():
        missing = distributions(imports(path.read_text(), functions=False), str(path)) - have
        assert not missing - optional, f"{path.relative_to(ROOT)} imports " \
            f"{sorted(missing - optional)} when it loads, which pip install block35-explainer " \
            "does not bring"
        assert not missing or not loaded_by.get(module), \
            f"{path.relative_to(ROOT)} imports {sorted(missing)} when it loads, and " \
            f"{sorted(loaded_by[module])} import it when they load: import it where it is used"


def test_the_lab_extra_brings_what_the_lessons_import():
    have = closure({"lab"})
    assert "jupyterlab" in have and "ipykernel" in have
    optional = distributions({"torch", "jax", "timm", "onnx", "onnxruntime", "tf2onnx"}, "")
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        found = set()
        for cell in json.loads(path.read_text())["cells"]:
            code = "\n".join(line for line in "".join(cell["source"]).splitlines()
                             if not line.lstrip().startswith(("%", "!")))  # IPython magics
            if cell["cell_type"] == "code":
                try:
                    found |= imports(code)
                except SyntaxError:  # the notebook's own tests report it, executing it
                    continue
        missing = distributions(found, str(path)) - have - optional
        assert not missing, f"{path.relative_to(ROOT)} imports {sorted(missing)}, which " \
                            "pip install 'block35-explainer[lab]' does not bring"


def test_missing_extra_names_the_extra_that_brings_each_framework():
    from explainer.core.backend import EXTRAS, missing_extra

    for extra, (_, modules) in EXTRAS.items():
        assert extra in PROJECT["optional-dependencies"], extra
        brought = {canonicalize_name(Requirement(line).name) for line in pinned({extra})}
        for module in modules:  # each module the table names comes with that extra
            assert distributions({module}, extra) <= brought, (extra, module)
        assert missing_extra(extra) is None  # [dev] installs every extra


def test_missing_extra_says_in_one_line_which_extra_brings_it(monkeypatch):
    import importlib.util

    from explainer.core.backend import missing_extra

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jaxlib" else real(name, *a))
    assert missing_extra("jax") == ("skipped: this section needs JAX (jaxlib is not installed): "
                                    "pip install 'block35-explainer[jax]'")
    assert missing_extra("torch") is None
    try:
        missing_extra("tensorflow")
    except ValueError as err:
        assert str(err).startswith("extra: got 'tensorflow'") and "'torch'" in str(err)
    else:
        raise AssertionError("expected ValueError")


def test_voila_still_has_the_private_names_the_classroom_pool_reads():
    """explainer/classroom/voila_private.py is the one module that reads Voilà's private names
    (Voilà 0.5.13 has no public hook for its pools); an upgrade that changes one fails here,
    one line each."""
    from explainer.classroom import voila_private

    assert voila_private.changed() == []


def test_only_voila_private_reads_voilas_private_names():
    import re

    pattern = re.compile(r"\b_pools\b|_waiters|\[\"kernel_id\"\]|\[\"task\"\]")
    for path in sorted((ROOT / "explainer").rglob("*.py")):
        if path.name != "voila_private.py":
            hits = [n for n, line in enumerate(path.read_text().splitlines(), 1)
                    if pattern.search(line)]
            assert not hits, f"{path.relative_to(ROOT)}:{hits[0]} reads a private name of Voila"


def test_the_readme_names_every_extra():
    text = (ROOT / "README.md").read_text()
    for extra in PROJECT["optional-dependencies"]:
        assert f"[{extra}]" in text, f"README.md does not name the [{extra}] extra"
