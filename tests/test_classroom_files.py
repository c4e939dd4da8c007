"""The files that serve the classroom: ``make classroom``, voila.json, the classroom template,
and repo2docker's conventions (environment.yml, an executable postBuild) for Binder/JupyterHub.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "share" / "jupyter" / "voila" / "templates" / "classroom"


def _make_dry_run(*args: str) -> str:
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed", "classroom", *args],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout


def test_make_classroom_serves_the_apps_on_an_overridable_port():
    default = _make_dry_run()
    assert "voila notebooks/apps/" in default and "--port=8866" in default
    assert "--template=classroom" in default and "share/jupyter" in default
    config = json.loads(default.split("kernel_pools_config=")[1].split("'")[0])
    assert config == {"default": {"pool_size": 0}, "scale_explorer.ipynb": {"pool_size": 30},
                      "broadcast_playground.ipynb": {"pool_size": 30}}  # a class of 30, each app
    assert "--preheat_kernel" not in _make_dry_run("POOL=0")
    assert "--port=9000" in _make_dry_run("PORT=9000")
    pooled = _make_dry_run("POOL=3", "POOL_APPS=scale_explorer")
    config = json.loads(pooled.split("kernel_pools_config=")[1].split("'")[0])
    # the other apps, without a pool, start a kernel per visit
    assert config == {"default": {"pool_size": 0}, "scale_explorer.ipynb": {"pool_size": 3}}
    assert "--preheat_kernel=True" in pooled
    assert "python -m explainer.classroom.figure" in default  # frames drawn first


def test_voila_json_culls_closed_tabs_within_a_minute():
    config = json.loads((ROOT / "voila.json").read_text())
    culling = config["MappingKernelManager"]
    assert 0 < culling["cull_idle_timeout"] and 0 < culling["cull_interval"]
    assert culling["cull_idle_timeout"] + culling["cull_interval"] <= 60
    assert culling.get("cull_connected", False) is False  # an open tab is never culled
    assert config["VoilaConfiguration"]["show_tracebacks"] is False


def test_classroom_template_has_no_cdn_links():
    assert json.loads((TEMPLATE / "conf.json").read_text())["base_template"] == "lab"
    for name in ("index.html.j2", "page.html"):
        text = (TEMPLATE / name).read_text()
        links = [line for line in text.splitlines()
                 if "<link" in line and "https://" in line and "replace(" not in line]
        assert links == [], f"{name} links a CDN: {links}"
    index = (TEMPLATE / "index.html.j2").read_text()
    assert "fontawesome-free" in index  # it removes exactly the lab template's two links
    assert "block html_head_js_mermaidjs" in index


def test_repo2docker_conventions():
    # repo2docker reads binder/ or .binder/ instead of the root when one exists
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    env = (ROOT / "environment.yml").read_text()
    assert "\ndependencies:\n" in env and "  - python=3.11\n" in env and "  - pip:\n" in env
    post_build = ROOT / "postBuild"
    assert post_build.is_file() and os.access(post_build, os.X_OK), "postBuild: executable"
    text = post_build.read_text()
    assert text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text
    assert "python -m pip install --no-deps -e ." in text  # harmless after the pip section
    assert "share/jupyter/voila/templates/classroom" in text
    subprocess.run(["bash", "-n", str(post_build)], check=True)  # valid shell
    mode = subprocess.run(["git", "ls-files", "-s", "postBuild"], cwd=ROOT, capture_output=True,
                          text=True).stdout
    assert mode == "" or mode.startswith("100755"), "git must keep postBuild executable"


def test_readme_says_how_to_serve_the_apps_from_a_hub():
    readme = (ROOT / "README.md").read_text()
    assert "## Classroom" in readme
    assert "make classroom" in readme
    assert "/voila/render/notebooks/apps/scale_explorer.ipynb" in readme
    config = json.loads((ROOT / "voila.json").read_text())  # the README quotes voila.json
    assert f"`fill_delay` ({config['VoilaKernelManager']['fill_delay']:g} s" in readme
    assert f"`refill_spacing` ({config['ClassroomKernelManager']['refill_spacing']:g} s)" in readme
    culling = config["MappingKernelManager"]
    assert (f"after {culling['cull_idle_timeout']} s idle (checked every "
            f"{culling['cull_interval']} s)") in readme
