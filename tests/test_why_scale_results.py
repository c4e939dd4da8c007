"""The stored "why scale" results: provenance, a rerun that reproduces them, the findings
computed from them, the figures, the exercises and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from explainer.exercises import check
from explainer.scaling.experiment import FULL, QUICK, RESULTS_PATH, run_key
from explainer.scaling.training import TrunkRun, train_trunk
from explainer.scaling.why_scale_results import load_why_scale_results

ARRAYS = TrunkRun.ARRAYS
# A rerun on this machine is bit-identical (op determinism); the file keeps 6 significant
# figures, so stored and rerun numbers agree to rtol 1e-5. The tolerance allows 1e-4 for
# another CPU's summation order; flags and steps must match exactly.
RERUN_RTOL, RERUN_ATOL = 1e-4, 1e-6


@pytest.fixture(scope="module")
def document():
    return json.loads(RESULTS_PATH.read_text())


@pytest.fixture(scope="module")
def results():
    return load_why_scale_results()


def test_results_were_made_by_the_current_grid(document):
    assert document["config_hash"] == FULL.hash(), (
        "results/why_scale.json is from another grid or protocol: run `make experiment`")
    assert document["config"] == json.loads(json.dumps(FULL.to_dict()))
    assert document["seeds"] == list(FULL.seeds)
    assert [r["key"] for r in document["runs"]] == [run_key(k) for k in FULL.runs()]
    assert "why-scale" in document["command"]
    assert {"python", "tensorflow", "keras", "numpy", "scikit-learn"} <= set(document["versions"])
    assert document["machine"]["cpu_count"] >= 1
    for run in document["runs"]:
        assert len(run["loss"]) == FULL.steps
        assert np.shape(run["grad_norm"]) == np.shape(run["residual_ratio"]) == \
            (FULL.steps, FULL.depth)


def test_quick_grid_differs_from_the_full_one():
    assert QUICK.hash() != FULL.hash()
    assert len(QUICK.runs()) < len(FULL.runs())


@pytest.mark.slow
def test_rerunning_the_smallest_run_reproduces_the_stored_numbers(document):
    kwargs = FULL.runs()[0]  # the narrowest width, first scale, smallest learning rate, seed 0
    stored = next(r for r in document["runs"] if r["key"] == run_key(kwargs))
    rerun = train_trunk(**kwargs)
    for name in ARRAYS:
        expected = np.array(stored[name], dtype=np.float64)
        np.testing.assert_allclose(rerun[name], expected, rtol=RERUN_RTOL, atol=RERUN_ATOL,
                                   equal_nan=True, err_msg=name)
    for name in ("diverged", "diverged_step", "died", "died_step"):
        assert rerun[name] == stored[name], name
    assert rerun.test_accuracy == pytest.approx(stored["test_accuracy"], abs=1 / 360 + 1e-9)


def _raw_fate(run: dict) -> str:
    return "diverged" if run["diverged"] else "died" if run["died"] else "trained"


def test_stability_map_follows_the_stored_fates(document, results):
    """Recomputed from the raw JSON: the largest lr such that it and every smaller lr trained."""
    runs = {r["key"]: r for r in document["runs"]}
    stable = results.stability_map()
    for i, width in enumerate(results.widths):
        for j, scale in enumerate(results.scales):
            best = math.nan
            for lr in sorted(FULL.lrs):
                key = run_key(dict(width=width, scale=scale, lr=lr, seed=0))
                if _raw_fate(runs[key]) != "trained":
                    break
                best = lr
            assert (math.isnan(best) and math.isnan(stable[i, j])) or best == stable[i, j]


def test_died_and_diverged_flags_agree_with_the_stored_arrays(document):
    for run in document["runs"]:
        loss = np.array(run["loss"], dtype=np.float64)
        dead = np.array(run["dead_fraction"], dtype=np.float64)
        if run["diverged"]:
            assert not np.isfinite(loss[run["diverged_step"]])
            assert run["test_accuracy"] is None
        else:
            assert np.isfinite(loss).all() and 0 <= run["test_accuracy"] <= 1
        if run["died"]:
            assert (dead[run["died_step"]:][np.isfinite(dead[run["died_step"]:])] >= 0.99).all()


def test_conclusion_names_every_width_and_the_grid(results):
    text = results.conclusion()
    for width in results.widths:
        assert f"width {width}" in text
    assert f"{FULL.steps} steps" in text
    assert ("Scale 1 died" in text) or ("Scale 1 never died" in text)


def test_shared_lr_is_on_the_grid(results):
    assert results.shared_lr() in results.lrs


@pytest.mark.parametrize("name", ["plot_stability", "plot_fates", "plot_curves",
                                  "plot_step0_gradients", "plot_accuracy"])
def test_figures_draw_with_a_title_that_states_a_finding(name, results, tmp_path):
    from explainer.plots import why_scale as figures

    fig = getattr(figures, name)(results)
    assert isinstance(fig, Figure)
    title = fig._suptitle.get_text() if fig._suptitle else fig.axes[0].get_title()
    assert len(title) > 30
    fig.savefig(tmp_path / f"{name}.png", dpi=60)
    assert (tmp_path / f"{name}.png").stat().st_size > 5000


def test_exercise_step0_ratio_is_graded_from_the_stored_runs(document):
    runs = {r["key"]: r for r in document["runs"]}
    lr = sorted(FULL.lrs)[0]
    one = runs[run_key(dict(width=1088, scale=1.0, lr=lr, seed=0))]["residual_ratio"][0][0]
    tenth = runs[run_key(dict(width=1088, scale=0.1, lr=lr, seed=0))]["residual_ratio"][0][0]
    assert one / tenth == pytest.approx(10.0, rel=1e-4)  # same weights at step 0
    assert check("why_scale_step0_ratio", one / tenth)
    assert not check("why_scale_step0_ratio", (one / tenth) ** 2)
    assert check("why_scale_step0_ratio", ...).pending


def test_exercise_failures_is_graded_from_the_stored_runs(document):
    failed = sum(_raw_fate(r) != "trained" for r in document["runs"] if r["scale"] == 1.0)
    assert check("why_scale_failures", failed)
    assert not check("why_scale_failures", failed + 1)


def test_cli_refuses_a_bad_out_path_in_one_line():
    done = subprocess.run([sys.executable, "-m", "explainer", "why-scale", "--out", "x.txt"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "out" in done.stderr and ".json" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_notebook_06_ends_with_its_exercises_rendered_from_the_registry():
    from pathlib import Path

    import nbformat

    from explainer.exercises import list_exercises, render

    nb = nbformat.read(Path(__file__).parent.parent / "notebooks" / "06_why_scale.ipynb",
                       as_version=4)
    assert "you will learn" in nb.cells[0].source.lower()
    section = nb.cells[render.section_start(nb.cells):]
    assert [(c.cell_type, c.source) for c in section] == render.exercise_cells("06_why_scale")
    assert {e.name for e in list_exercises("06")} == {"why_scale_step0_ratio",
                                                      "why_scale_failures"}


@pytest.mark.slow
def test_cli_quick_grid_writes_a_results_file(tmp_path):
    out = tmp_path / "quick.json"
    done = subprocess.run([sys.executable, "-m", "explainer", "why-scale", "--quick", "--out",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "run/s" in done.stderr or "s/run" in done.stderr  # the tqdm progress bar
    document = json.loads(out.read_text())
    assert document["config_hash"] == QUICK.hash()
    assert len(document["runs"]) == len(QUICK.runs())
    assert "Largest stable learning rate at width 256" in done.stdout
