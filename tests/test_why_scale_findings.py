"""The "why scale" findings on small synthetic results documents, built here with known
fates: the verdicts that qualify "trained", the decomposition's sentences (which half of the
scale keeps the stack alive, per width, with the seeds' ranges), every (depth, width) cell in
the headline, the accuracy answer, a file without arms, figures that stay readable, and
results files that are refused before they are read."""

from __future__ import annotations

import json
import math
import os
import threading
import tracemalloc

import numpy as np
import pytest
from matplotlib.figure import Figure

from explainer.scaling.why_scale import findings
from explainer.scaling.why_scale.results import load_why_scale_results, results_from_dict

STEPS = 12
ARMS = ((0.1, 1.0), (1.0, 0.01), (0.3, 1.0), (1.0, 0.09))
KINDS = ("scale 1", "scale s", "a small start", "a slow step")


def record(depth, width, scale, lr, seed, up_init=1.0, up_lr=1.0, fate="trained",
           dead_end=0.5, accuracy=0.8) -> dict:
    """A run record as TrunkRun.to_dict writes it, with the given fate: "died" ends with the
    last block all zeros from step 4, "diverged" has a non-finite loss at step 5."""
    loss = list(np.linspace(2.3, 0.5, STEPS))
    dead = list(np.linspace(0.1, dead_end, STEPS))
    died = diverged = False
    died_step = diverged_step = None
    if fate == "died":
        dead = [0.2] * 4 + [1.0] * (STEPS - 4)
        died, died_step = True, 4
    elif fate == "diverged":
        loss = loss[:5] + [None] * (STEPS - 5)
        dead = dead[:5] + [None] * (STEPS - 5)
        diverged, diverged_step, accuracy = True, 5, None
    return {"key": f"d{depth}_w{width}_s{scale}_lr{lr:g}_seed{seed}_{up_init:g}_{up_lr:g}",
            "width": width, "depth": depth, "scale": scale, "lr": lr, "steps": STEPS,
            "seed": seed, "optimizer": "sgd", "batch": 16, "stem_stride": 2, "batchnorm": True,
            "stop_when_dead": True, "up_init": up_init, "up_lr": up_lr, "loss": loss,
            "accuracy": [0.5] * STEPS, "dead_fraction": dead, "grad_norm": [1.0] * STEPS,
            "residual_ratio": [0.1] * STEPS, "step0_grad_norm": [1.0] * depth,
            "step0_residual_ratio": [0.1] * depth,
            "step0_net_norm": list(np.linspace(1, 1 + depth * (0.1 if isinstance(scale, str)
                                                                   else scale), depth + 1)),
            "diverged": diverged, "diverged_step": diverged_step, "died": died,
            "died_step": died_step, "stopped_step": None, "test_accuracy": accuracy,
            "seconds": 1.0}


def document(edges: dict, arms=ARMS, seed_edges: dict | None = None, other=None,
             depths=(3, 20), widths=(256, 1088), scales=(1.0, 0.3, 0.1, "rezero"),
             lrs=(0.03, 0.1, 0.3), arm_depths=(20,)) -> dict:
    """A results document (by default depths (3, 20), widths (256, 1088), scales (1, 0.3,
    0.1, rezero), lrs (0.03, 0.1, 0.3), seeds (0, 1, 2), the arms at depth 20). ``edges``:
    (setting, width) -> the edge at the deepest depth, (setting, width, depth) at another
    (each rate up to it trains, the ones above die), where a setting is (scale, up_init,
    up_lr); default 0.1. ``seed_edges``: (setting, width, seed) -> an edge for one seed."""
    seeds = (0, 1, 2)
    config = {"depths": list(depths), "widths": list(widths), "scales": list(scales),
              "lrs": list(lrs), "steps": STEPS, "seeds": list(seeds), "optimizer": "sgd",
              "batch": 16, "stem_stride": 2, "batchnorm": True, "stop_when_dead": True,
              "protocol_version": 2}
    if arms:
        config.update(arms=[list(a) for a in arms], arm_depths=list(arm_depths))
    runs = []
    for depth in depths:
        settings = [(s, 1.0, 1.0) for s in scales]
        if arms and depth in arm_depths:
            settings += [(1.0, float(a), float(b)) for a, b in arms]
        for width in widths:
            for setting in settings:
                for seed in seeds:
                    edge = edges.get((setting, width), 0.1) if depth == max(depths) else \
                        edges.get((setting, width, depth), 0.1)
                    edge = (seed_edges or {}).get((setting, width, seed), edge)
                    for lr in lrs:
                        fate = "trained" if lr <= edge else "died"
                        acc = 0.8 if fate == "trained" else 0.3
                        runs.append(record(depth, width, setting[0], lr, seed, setting[1],
                                           setting[2], fate, accuracy=acc))
    out = {"experiment": "why_scale", "config": config, "config_hash": "synthetic",
           "seeds": list(seeds), "seconds_all_runs": 60.0,
           "machine": {"cpu_model": "a test CPU"}, "runs": runs}
    if other is not None:
        out["other_runs"] = other
    return out


ONE, S01, S03 = (1.0, 1.0, 1.0), (0.1, 1.0, 1.0), (0.3, 1.0, 1.0)
START01, STEP01 = (1.0, 0.1, 1.0), (1.0, 1.0, 0.01)
START03, STEP03 = (1.0, 0.3, 1.0), (1.0, 1.0, 0.09)


def both_widths(**settings) -> dict:
    return {(setting, w): edge for setting, edge in settings.values() for w in (256, 1088)}


def test_a_slow_step_that_keeps_the_stack_alive_is_named_per_width_with_the_seeds_range():
    edges = {(ONE, w): 0.03 for w in (256, 1088)}
    edges.update({(S01, w): 0.3 for w in (256, 1088)} | {(S03, w): 0.3 for w in (256, 1088)})
    edges.update({(STEP01, w): 0.3 for w in (256, 1088)} | {(STEP03, w): 0.3 for w in (256, 1088)})
    edges.update({(START01, w): 0.03 for w in (256, 1088)})
    edges.update({(START03, w): 0.1 for w in (256, 1088)})
    results = results_from_dict(document(edges, seed_edges={(START01, 256, 2): 0.1}))
    assert results.arm_values() == (0.3, 0.1)
    assert results.arm_depth() == 20 and len(results.arm_runs) == 4 * 2 * 3 * 3
    verdicts = findings.decomposition_verdicts(results)
    assert verdicts == {(s, w): "the slow step" for s in (0.3, 0.1) for w in (256, 1088)}
    text = results.conclusion()
    line = next(x for x in text.splitlines() if x.startswith("  s = 0.1, width 256"))
    assert "a small start (up_init 0.1) 0.03 (0.03 to 0.1)" in line  # the seeds' range
    assert "a slow step (up_lr 0.01) >=0.3" in line and "scale 0.1 >=0.3" in line
    assert "Of the 6 runs (lr x seed) scale 1 lost and scale 0.1 kept, scale 0.1 keeps 6, a " \
           "small start keeps 1 and a slow step keeps 6." in line
    assert "the slow step keeps the stack alive as far as scale 0.1 (>=0.3);" in line
    assert "the small start alone does not raise it above scale 1's" in line
    s03 = next(x for x in text.splitlines() if x.startswith("  s = 0.3, width 1088"))
    assert "the small start alone raises the edge only to 0.1" in s03
    assert "What keeps the depth-20 stack alive (median edges): at width 256, the slow step " \
           "at s = 0.3 and 0.1; at width 1088, the slow step at s = 0.3 and 0.1." in text
    # the constant-scale grid is not mixed with the arms: scale 1's runs are its own
    assert len(results.grid_runs) == 2 * 2 * 4 * 3 * 3
    assert results.get(20, 256, 1.0, 0.1, 0).fate == "died"
    assert results.get(20, 256, 1.0, 0.1, 0, up_lr=0.01).fate == "trained"
    assert sum(results.death_steps()["1"] and [1]) and \
        len(results.death_steps(depth=20)["1"]) == 2 * 3 * 2


@pytest.mark.parametrize("start, step, word", [
    (0.3, 0.03, "the small start"), (0.3, 0.3, "either"), (0.1, 0.1, "both are needed"),
    (0.03, 0.03, "both are needed")])
def test_which_half_keeps_the_stack_alive_follows_the_edges(start, step, word):
    edges = both_widths(a=(ONE, 0.03), b=(S01, 0.3), c=(START01, start), d=(STEP01, step))
    results = results_from_dict(document(edges, arms=((0.1, 1.0), (1.0, 0.01))))
    assert results.arm_values() == (0.1,)
    assert findings.decomposition_verdicts(results) == {(0.1, 256): word, (0.1, 1088): word}
    text = results.conclusion()
    from explainer.scaling.why_scale.decomposition import SUMMARY_WORDS

    assert f"at width 256, {SUMMARY_WORDS[word]}" in text
    if word == "both are needed":
        assert (f"both are needed: alone, the small start reaches "
                f"{findings.edge_text(start, results.lrs)}") in text


def test_widths_get_their_own_verdicts_and_a_scale_that_moves_nothing_has_nothing_to_split():
    edges = {(ONE, 256): 0.03, (S01, 256): 0.3, (START01, 256): 0.03, (STEP01, 256): 0.3,
             (ONE, 1088): 0.1, (S01, 1088): 0.1, (START01, 1088): 0.1, (STEP01, 1088): 0.1}
    results = results_from_dict(document(edges, arms=((0.1, 1.0), (1.0, 0.01))))
    assert findings.decomposition_verdicts(results) == {(0.1, 256): "the slow step",
                                                        (0.1, 1088): "nothing to split"}
    assert "At width 1088, scale 0.1 does not raise scale 1's edge" in results.conclusion()


def test_a_file_without_arms_says_so_and_its_arm_accessors_are_empty():
    results = results_from_dict(document({}, arms=()))
    assert results.arms == () and results.arm_values() == () and results.arm_runs == ()
    assert results.arm_fates(0.1) == {} and results.arm_edges(0.1) == {}
    assert findings.decomposition_verdicts(results) == {}
    text = results.conclusion()
    assert text.count(findings.NO_ARMS) == 1
    from explainer.plots.why_scale import plot_decomposition

    with pytest.raises(ValueError, match="no arms"):
        plot_decomposition(results)
    with pytest.raises(KeyError, match="up_lr 0.01; the arms"):
        results.get(20, 256, 1.0, 0.1, 0, up_lr=0.01)


def test_an_arm_missing_from_the_grid_is_left_out_not_a_crash():
    edges = both_widths(a=(ONE, 0.03), b=(START03, 0.3))
    results = results_from_dict(document(edges, arms=((0.3, 1.0),)))
    assert results.arm_values() == (0.3,)
    assert set(results.arm_edges(0.3)) == {"scale 1", "scale s", "a small start"}
    assert findings.decomposition_verdicts(results) == {}  # needs all four arms
    assert "s = 0.3, width 256: scale 1 0.03; scale 0.3 0.1; a small start (up_init 0.3) " \
           ">=0.3." in results.conclusion()


@pytest.mark.parametrize("grid", [
    dict(depths=(3,), widths=(64,), scales=(1.0, 0.1), lrs=(0.1,)),  # the CLI's flags
    dict(depths=(2,), widths=(32,), scales=(1.0, 0.1), lrs=(0.1,), arm_depths=(20,)),
    dict(depths=(3, 10), widths=(64, 2080), scales=("rezero", "layerscale"), lrs=(0.1, 0.3)),
    dict(depths=(20,), widths=(256,), scales=(1.0,), lrs=(0.03, 0.1), arm_depths=(20,)),
    dict(depths=(20,), widths=(1088,), scales=(0.3,), lrs=(0.1,), arm_depths=(20,))])
def test_any_grid_the_cli_can_run_gets_a_conclusion_not_a_crash(grid):
    from explainer.plots import why_scale as figures

    results = results_from_dict(document({}, **grid))
    text = results.conclusion()
    assert text.startswith("In short: ") and findings.grid_line(results) in text
    assert findings.summary_text(results) and findings.grid_table_text(results)
    for plot in (figures.plot_edges, figures.plot_accuracy, figures.plot_death_steps):
        plot(results)
    if results.arm_depth() is None:
        assert findings.NO_ARMS in text
    if len(results.widths) == 1 or 1.0 not in results.scales:
        assert "so it cannot say whether width matters" in text


def test_runs_outside_the_grid_are_not_read():
    stray = [record(20, 256, 1.0, 0.1, 0, fate="diverged")]
    results = results_from_dict(document({}, arms=(), other=stray))
    assert "other_runs" not in results.meta
    assert results.get(20, 256, 1.0, 0.1, 0).fate == "trained"


def test_a_run_that_trained_with_its_last_block_mostly_zeros_is_called_so():
    from explainer.scaling.why_scale.training import TrunkRun

    base = record(3, 256, 1.0, 0.1, 0)
    alive = TrunkRun.from_dict({**base, "dead_fraction": [0.1] * (STEPS - 1) + [0.89]})
    dead = TrunkRun.from_dict({**base, "dead_fraction": [0.1] * (STEPS - 1) + [0.95]})
    assert alive.fate == dead.fate == "trained"
    assert findings.verdict(alive) == "trained"
    assert findings.verdict(dead) == "trained (last block >=90% zeros)"
    assert findings.final_dead(dead) == 0.95
    died = TrunkRun.from_dict(record(3, 256, 1.0, 0.1, 0, fate="died"))
    assert findings.verdict(died) == "died"
    gone = TrunkRun.from_dict(record(3, 256, 1.0, 0.1, 0, fate="diverged"))
    assert findings.verdict(gone) == "diverged" and math.isnan(gone.test_accuracy)


def test_the_headline_names_every_depth_and_width_cell_and_the_papers_width():
    # scale 1 below 0.3 and 0.1 at both depths of width 256, equal at width 1088
    edges = {(ONE, 256): 0.03, (S01, 256): 0.3, (S03, 256): 0.3, (ONE, 256, 3): 0.03,
             (S01, 256, 3): 0.3, (S03, 256, 3): 0.1}
    results = results_from_dict(document(edges, arms=()))
    headline = findings.headline(results)
    assert "lower than the best smaller scale's at width 256 (depths 3 and 20)" in headline
    assert "the same as the best smaller scale's at width 1088 (depths 3 and 20)" in headline
    assert "in 2 of 2 depths at width 256 and 0 of 2 at width 1088" in \
        findings.paper_sentence(results)
    assert "the opposite of the paper's framing" in findings.paper_sentence(results)
    table = findings.summary_text(results)
    for depth in (3, 20):
        for width in (256, 1088):
            assert sum(line.split()[:2] == [str(depth), str(width)]
                       for line in table.splitlines()) == 4  # every scale of every cell


def test_the_accuracy_question_is_answered_in_words_from_the_numbers():
    results = results_from_dict(document({}, arms=()))
    answer = findings.accuracy_answer(results)
    # every setting trains to 0.8 at every rate up to 0.1 in this document: no difference
    assert answer.startswith("Does the scale cost accuracy? After 12 steps at the shared lr 0.1")
    assert "(8 comparisons, by the seeds' ranges) is less accurate in 0, more accurate in 0, " \
           "within the seeds' spread in 8" in answer
    assert answer.endswith("So, after 12 steps: no: at its own best rate a smaller scale is "
                           "never less accurate beyond the seeds' spread.")


def test_the_whole_grid_table_gives_every_run_its_verdict_dead_fraction_and_accuracy():
    results = results_from_dict(document({}, arms=ARMS))
    table = findings.grid_table_text(results)
    rows = [line for line in table.splitlines()[3:]]
    assert len(rows) == 2 * 2 * 4 * 3 + 2 * 4 * 3  # depth x width x scale x lr, then the arms
    assert rows[0].split() == ["3", "256", "1", "0.03", "T", "50%", "0.800", "T", "50%",
                               "0.800", "T", "50%", "0.800"]
    assert "D   100% 0.300" in table
    assert rows[-1].split()[:6] == ["20", "1088", "1", "up_lr", "0.09", "0.3"]
    assert sum(" up_init 0.1 " in row for row in rows) == 2 * 3


def _overlaps(box, boxes) -> bool:
    return any(box.overlaps(other) for other in boxes)


def readable(fig: Figure) -> None:
    """At most 8 lines per panel; legends only outside the panels; a title with a number."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    panels = [ax.get_window_extent(renderer) for ax in fig.axes]
    for ax in fig.axes:
        assert len(ax.get_lines()) <= 8, (ax.get_title(), len(ax.get_lines()))
        assert ax.get_legend() is None, ax.get_title()
    for legend in fig.legends:
        assert not _overlaps(legend.get_window_extent(renderer), panels)
    title = fig._suptitle.get_text()
    assert any(ch.isdigit() for ch in title), title


def test_the_decomposition_figure_is_readable_and_titled_by_its_finding():
    from explainer.plots.why_scale import plot_decomposition

    edges = both_widths(a=(ONE, 0.03), b=(S01, 0.3), c=(S03, 0.3), d=(STEP01, 0.3),
                        e=(STEP03, 0.3))
    fig = plot_decomposition(results_from_dict(document(edges)))
    readable(fig)
    assert fig._suptitle.get_text().startswith("What keeps the depth-20 stack alive")
    assert len(fig.axes) == 4 and all(len(ax.get_lines()) == 4 for ax in fig.axes)


# Reading a results file: kind and size first -------------------------------------------

def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            load_why_scale_results(fifo)
        except ValueError as err:
            outcome.append(str(err))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(timeout=20)
    if thread.is_alive():  # unblock the reader so the suite goes on, then fail
        with open(fifo, "w"):
            pass
        pytest.fail("load_why_scale_results waited on a FIFO")
    assert outcome and "which is a FIFO, not a regular file" in outcome[0]


def test_a_device_and_a_folder_are_refused_with_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"^path: got '/dev/zero', which is a device, not a "
                                         r"regular file; expected a results file"):
        load_why_scale_results("/dev/zero")
    with pytest.raises(ValueError, match="which is a folder; expected a results file"):
        load_why_scale_results(tmp_path)
    with pytest.raises(ValueError, match="which does not exist"):
        load_why_scale_results(tmp_path / "none.json")


def test_a_file_too_large_for_the_memory_budget_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(2**30)  # sparse: 1 GiB that takes no disk
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"1,073,741,824 bytes\): reading this results "
                                             r"file needs about 16 GiB of memory"):
            load_why_scale_results(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # not a byte of the file was read


def test_broken_and_non_strict_json_are_refused_with_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"runs": [')
    with pytest.raises(ValueError, match="which is not JSON"):
        load_why_scale_results(bad)
    bad.write_text('{"runs": [], "x": NaN}')
    with pytest.raises(ValueError, match=r"which holds NaN \(not strict JSON\)"):
        load_why_scale_results(bad)
    bad.write_bytes(b'{"runs": "\xff"}')
    with pytest.raises(ValueError, match="which is not UTF-8 text"):
        load_why_scale_results(bad)
    bad.write_text(json.dumps({"config": {}, "runs": []}))
    with pytest.raises(ValueError, match="does not hold a results document|does not describe"):
        load_why_scale_results(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document({}, arms=())))
    assert len(load_why_scale_results(good).runs) == 2 * 2 * 4 * 3 * 3


def test_a_verdict_by_the_medians_that_a_seed_does_not_bear_out_says_so():
    edges = both_widths(a=(ONE, 0.03), b=(S01, 0.3), c=(START01, 0.3), d=(STEP01, 0.3))
    results = results_from_dict(document(edges, arms=((0.1, 1.0), (1.0, 0.01)),
                                         seed_edges={(START01, 256, 2): 0.1}))
    assert findings.decomposition_verdicts(results)[0.1, 256] == "either"
    line = next(x for x in findings.decomposition_lines(results)
                if x.startswith("  s = 0.1, width 256"))
    assert line.endswith("(by the medians: the lowest seed of the small start stops at 0.1, "
                         "scale 0.1's at >=0.3).")
    other = next(x for x in findings.decomposition_lines(results)
                 if x.startswith("  s = 0.1, width 1088"))
    assert "by the medians" not in other


def test_runs_a_half_keeps_with_the_last_block_mostly_zeros_are_counted_as_such():
    edges = both_widths(a=(ONE, 0.03), b=(S01, 0.3), c=(START01, 0.03), d=(STEP01, 0.3))
    doc = document(edges, arms=((0.1, 1.0), (1.0, 0.01)))
    for run in doc["runs"]:  # the slow step's runs at lr 0.3 end 95 % zeros
        if run["up_lr"] == 0.01 and run["lr"] == 0.3 and not run["died"]:
            run["dead_fraction"][-1] = 0.95
    results = results_from_dict(doc)
    line = next(x for x in findings.decomposition_lines(results)
                if x.startswith("  s = 0.1, width 256"))
    assert "a slow step keeps 6 (3 ending with the last block >=90% zeros)." in line
    assert findings.decomposition_summary(results).endswith(
        "Alive means the stored fate: 6 of the 12 runs a half alone kept (where scale 1 "
        "failed) end with the last block >=90% zeros.")
