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


def _make_dry_run(*args: str, target: str = "classroom") -> str:
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed", target, *args],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout


def _pool_config(dry_run: str) -> dict:
    """Voilà's kernel pools as the classroom server builds them from the make line's
    options."""
    import shlex

    from explainer.classroom.server import kernel_pools

    words = shlex.split(dry_run.split("-m explainer.classroom.server", 1)[1].replace("\\\n", " "))
    options = dict(w[2:].split("=", 1) for w in words if w.startswith("--ClassroomVoila."))
    return kernel_pools(int(options.get("ClassroomVoila.pool", 0)),
                        options.get("ClassroomVoila.pool_apps", ""))


def test_make_classroom_serves_one_app_for_one_class_on_loopback():
    default = _make_dry_run()
    assert "-m explainer.classroom.server notebooks/apps/" in default
    assert "--port='8866'" in default
    assert "--Voila.ip='127.0.0.1'" in default  # this machine only, unless asked
    assert "--template=classroom" in default and "share/jupyter" in default
    # one class (30 seats) on one app; the other app starts a kernel per visit
    assert _pool_config(default) == {"default": {"pool_size": 0},
                                     "scale_explorer.ipynb": {"pool_size": 30}}
    assert _pool_config(_make_dry_run("POOL=0")) == {}
    assert "--port='9000'" in _make_dry_run("PORT=9000")
    both = _make_dry_run("POOL=3", "APP=scale_explorer broadcast_playground")
    assert _pool_config(both) == {"default": {"pool_size": 0},
                                  "scale_explorer.ipynb": {"pool_size": 3},
                                  "broadcast_playground.ipynb": {"pool_size": 3}}
    # Voilà's dict-on-the-command-line form warns (traitlets 5): not used
    assert "kernel_pools_config" not in both and "preheat_kernel" not in both
    assert "max_kernels" not in default  # the default cap: twice the seats, at least 10
    assert "--ClassroomKernelManager.max_kernels='12'" in _make_dry_run("MAX_KERNELS=12")
    lines = default.splitlines()
    frames = next(i for i, ln in enumerate(lines) if "-m explainer.classroom.figure" in ln)
    urls = next(i for i, ln in enumerate(lines) if "-m explainer.classroom.network" in ln)
    voila = next(i for i, ln in enumerate(lines) if "-m explainer.classroom.server " in ln)
    assert frames < urls < voila  # frames drawn, then the URL printed, then the server


def test_host_is_an_explicit_choice_for_both_classrooms():
    room = _make_dry_run("HOST=0.0.0.0")
    assert "--Voila.ip='0.0.0.0'" in room and "--host '0.0.0.0'" in room
    static = _make_dry_run("HOST=0.0.0.0", "PORT=8000", target="classroom-static")
    assert "-m explainer.classroom.static_server 'build/html' --host '0.0.0.0' --port '8000'" \
        in static
    assert "--host '127.0.0.1'" in _make_dry_run(target="classroom-static")


def test_voila_json_culls_closed_tabs_within_a_minute():
    config = json.loads((ROOT / "voila.json").read_text())
    culling = config["MappingKernelManager"]
    assert 0 < culling["cull_idle_timeout"] and 0 < culling["cull_interval"]
    assert culling["cull_idle_timeout"] + culling["cull_interval"] <= 60
    assert culling.get("cull_connected", False) is False  # an open tab is never culled
    assert config["VoilaConfiguration"]["show_tracebacks"] is False
    # the page's template and theme are the server's: ?template=../../etc is refused
    assert config["VoilaConfiguration"]["allow_template_override"] == "NO"
    assert config["VoilaConfiguration"]["allow_theme_override"] == "NO"


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
