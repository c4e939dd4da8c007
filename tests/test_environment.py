"""environment.yml (conda / Binder) lists exactly what pyproject.toml asks for."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


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


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"])
    for extra in ("dev", "torch", "onnx", "timm", "jax"):
        wanted |= set(project["optional-dependencies"][extra])
    listed = [line for line in _env_pip_lines() if line != "-e ."]
    assert "-e ." in _env_pip_lines(), "environment.yml must install the package itself"
    assert len(listed) == len(set(listed)), "duplicate entries in environment.yml"
    assert set(listed) == wanted, (f"only in environment.yml: {set(listed) - wanted}; "
                                   f"only in pyproject.toml: {wanted - set(listed)}")


def test_torch_is_pinned_everywhere():
    # an unpinned torch pulls a multi-GB CUDA build on these machines
    text = (ROOT / "pyproject.toml").read_text() + (ROOT / "environment.yml").read_text()
    assert "torch==2.13.0" in text and "torch>" not in text and '"torch"' not in text
