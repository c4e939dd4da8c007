"""`python -m explainer scale`: the sweep table, --json, --plot, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import explainer
from explainer.cli import main


def test_table_matches_the_sweep(capsys):
    assert main(["scale", "--variant", "v2", "--scales", "0,0.1,0.17,0.2,1", "--size", "7"]) == 0
    text = capsys.readouterr().out
    block = explainer.build_block35("v2", scale=0.17, seed=0)
    sweep = explainer.scale_sweep(block, explainer.sample_input("v2", size=7), [0, 0.1, 0.17,
                                                                               0.2, 1])
    for line in str(sweep).splitlines():
        assert line in text
    assert "block35 v2" in text and "(1, 7, 7, 320)" in text


def test_json_only_and_plot(tmp_path, capsys):
    png = tmp_path / "sweep.png"
    assert main(["scale", "--json", "--scales", "0,0.5", "--size", "5", "--activation", "relu6",
                 "--plot", str(png)]) == 0
    doc = json.loads(capsys.readouterr().out)  # nothing else on stdout
    assert doc["scales"] == [0.0, 0.5] and doc["activation"] == "relu6"
    block = explainer.build_block35("v1", scale=0.17, activation="relu6", seed=0)
    sweep = explainer.scale_sweep(block, explainer.sample_input("v1", size=5), [0.0, 0.5])
    np.testing.assert_allclose(doc["metrics"]["output_change"], sweep.output_change)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("args", "fragment"), [
    (["--scales", "0,nan"], "scales: scale: got nan"),
    (["--scales", "0,abc"], "scale: got 'abc'"),
    (["--scales", ","], "scales: got ','"),
    (["--plot", "figure.txt"], "plot: got 'figure.txt'"),
])
def test_bad_arguments_one_line_exit_2(args, fragment, capsys):
    with pytest.raises(SystemExit) as info:
        main(["scale", *args])
    assert info.value.code == 2
    err = capsys.readouterr()
    assert err.out == "" and fragment in err.err and err.err.count("\n") == 1


def test_bad_scales_exit_2_before_tensorflow():
    out = subprocess.run([sys.executable, "-m", "explainer", "scale", "--scales", "[]"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().count("\n") == 0 and "scale: got '[]'" in out.stderr
