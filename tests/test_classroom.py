"""The classroom apps: they run headless without TensorFlow, and show the TensorFlow block's
numbers (computed by the numpy engine)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from explainer.classroom.apps import (
    ClassroomScaleExplorer,
    classroom_broadcast_playground,
)
from explainer.core.lesson import lesson_setup
from explainer.scaling.numpy_sweep import SLIDER_SCALES, numpy_net_up, numpy_scale_sweep

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "notebooks" / "apps"
APP_NAMES = ("scale_explorer.ipynb", "broadcast_playground.ipynb")
# The numpy engine computes in float64 and rounds net and up to float32; the Keras block
# computes in float32. Measured gaps: up 7e-7 (values up to 1.7), ratios 1.4e-8, max 4.8e-7.
TOL = {"residual_ratio": 1e-6, "output_change": 1e-6, "relu_flips": 1e-5,
       "net_out_mean": 1e-6, "net_out_std": 1e-6, "net_out_max": 1e-5}


def _run_app(name: str):
    """Execute the app with one extra cell at the end that reports the kernel's modules."""
    nb = nbformat.read(APPS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, json\nprint(json.dumps({'tensorflow': 'tensorflow' in sys.modules, "
        "'keras': 'keras' in sys.modules}))"))
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(APPS)}})
    client.execute()
    return nb


@pytest.mark.parametrize("name", APP_NAMES)
def test_app_runs_headless_without_tensorflow(name):
    nb = _run_app(name)
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], \
        "an app must not print warnings into the page"
    widget_views = [o for o in outputs
                    if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widget_views) == 1  # the app is one widget
    modules = json.loads(outputs[-1].text)
    assert modules == {"tensorflow": False, "keras": False}


@pytest.mark.parametrize("name", APP_NAMES)
def test_app_is_an_explanation_and_the_widget(name):
    nb = nbformat.read(APPS / name, as_version=4)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "code"]
    assert nb.cells[0].source.startswith("# ")
    assert "explainer.classroom.apps" in nb.cells[1].source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_numpy_sweep_equals_the_tensorflow_block(variant):
    from explainer.scaling.sweep import scale_sweep

    setup = lesson_setup(variant)
    tf_sweep = scale_sweep(setup.block, setup.x, SLIDER_SCALES)
    np_sweep = numpy_scale_sweep(variant)
    np.testing.assert_array_equal(np_sweep.scales, tf_sweep.scales)
    for name, atol in TOL.items():
        np.testing.assert_allclose(np_sweep[name], tf_sweep[name], rtol=0, atol=atol,
                                   err_msg=name)


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_numpy_net_and_up_equal_the_traced_block(variant):
    from explainer.core.tracing import trace

    setup = lesson_setup(variant)
    tr = trace(setup.block, setup.x)
    net, up = numpy_net_up(variant)
    np.testing.assert_array_equal(net, tr["net"].value)
    np.testing.assert_allclose(up, tr["up"].value, rtol=0, atol=1e-5)
    assert tr.residual_ratio == pytest.approx(
        numpy_scale_sweep(variant, [setup.scale]).residual_ratio[0], abs=1e-6)


@pytest.fixture(scope="module")
def app():
    return ClassroomScaleExplorer()


@pytest.mark.parametrize("scale", [0.0, 0.17, 0.3, 1.0])
def test_app_shows_the_tensorflow_numbers(app, scale):
    from explainer.scaling.sweep import scale_sweep

    setup = lesson_setup("v1")
    expected = scale_sweep(setup.block, setup.x, [scale]).at(scale)
    assert app.update(scale) is True
    assert f"<b>{expected['residual_ratio']:.4f}</b>" in app.readout.value
    assert f"output change {expected['output_change']:.4f}" in app.readout.value
    assert f"{100 * expected['residual_ratio']:.1f}\u00a0% of the shortcut" in app.readout.value
    assert f"s\u00a0=\u00a0{scale:.2f}" in app.readout.value
    assert app.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert (f"at s = {scale:.2f}: residual ratio {100 * expected['residual_ratio']:.1f} % of "
            "the shortcut") in app.image.tooltip  # the figure's alt text, from its numbers


def test_app_typed_values_variants_and_refusals(app):
    app.text.value = "0.42"
    assert app.slider.value == 0.42 and app.error.value == ""
    assert app.update("abc") is False
    assert "scale: got &#x27;abc&#x27;" in app.error.value
    assert app.update(1.5) is False and "from 0 to 1" in app.error.value
    assert app.update(float("nan")) is False
    app.toggle.value = "v2"
    assert app.variant == "v2" and "block35 v2" in app.readout.value
    expected = numpy_scale_sweep("v2", [0.42]).residual_ratio[0]
    assert f"<b>{expected:.4f}</b>" in app.readout.value
    assert app.frames_built == 2
    app.switch("v1")
    assert app.frames_built == 2  # each variant's sweep and figure are made once


def test_playground_app_asks_numpy_only():
    box = classroom_broadcast_playground()
    e = box.playground.update()
    assert e.compatible and e.tensorflow is None and e.numpy.ok
    box.playground.shape_b.value = "(3,)"
    assert "numpy:" in box.playground.error.value
    assert "tensorflow" not in box.playground.error.value


def test_playground_refuses_a_non_bool_engine():
    from explainer.widgets.broadcast_playground import BroadcastPlayground

    with pytest.raises(TypeError, match="tensorflow: got 'no'"):
        BroadcastPlayground(tensorflow="no")


def test_numpy_sweep_refuses_bad_input():
    with pytest.raises(ValueError, match="variant"):
        numpy_scale_sweep("v3")
    with pytest.raises((TypeError, ValueError), match="scales"):
        numpy_scale_sweep("v1", [])


def test_kernels_share_slider_frames(tmp_path, monkeypatch):
    from explainer.classroom.frame_cache import SharedFrames

    monkeypatch.setenv("EXPLAINER_FRAME_CACHE", str(tmp_path / "frames"))
    first = ClassroomScaleExplorer()  # the first kernel of the machine draws
    first.update(0.42)
    folder = first._pane("v1")[1].shared.folder
    assert {"042.png", "017.png"} <= {p.name for p in folder.glob("*.png")}
    assert SharedFrames(first.sweep, (Path(__file__),)).folder != folder  # other code
    second = ClassroomScaleExplorer()  # as another student's kernel: reads the frame
    second.update(0.42)
    assert second.image.value == first.image.value
    assert second._pane("v1")[1].figure is None  # read, never drawn
    monkeypatch.setenv("EXPLAINER_FRAME_CACHE", "/proc/not-writable")
    alone = ClassroomScaleExplorer()  # no usable folder: draws its own, the same picture
    alone.update(0.42)
    assert alone.image.value == first.image.value
    assert first.update(0.425) and not list(tmp_path.glob("frames/*/*0425*"))  # off-grid


def test_frames_drawn_ahead_spare_the_kernels_matplotlib(tmp_path, monkeypatch):
    """``make classroom`` draws every frame first; a student's kernel then only reads files:
    it never imports matplotlib, and shows the same picture it would have drawn."""
    env = {"EXPLAINER_FRAME_CACHE": str(tmp_path)}
    # one variant here (make classroom draws both: 202 frames, the same code per variant)
    ahead = subprocess.run([sys.executable, "-m", "explainer.classroom.figure", "v2"],
                           capture_output=True, text=True, env={**os.environ, **env},
                           timeout=300, check=True)
    assert "slider frames drawn: 101" in ahead.stdout
    assert len(list(tmp_path.glob("*/*.png"))) == 101
    from explainer.classroom.figure import ClassroomFigure, draw_all_frames

    monkeypatch.setenv("EXPLAINER_FRAME_CACHE", str(tmp_path))
    assert draw_all_frames(("v2",), progress=False) == 0  # a later start finds them drawn
    student = (
        "import sys, json\n"
        "from explainer.classroom.apps import ClassroomScaleExplorer\n"
        "app = ClassroomScaleExplorer('v2')\n"
        "app.update(0.42); app.update(1.0)\n"
        "print(json.dumps({'matplotlib': 'matplotlib' in sys.modules, "
        "'png': app.image.value.hex()}))")
    out = json.loads(subprocess.run([sys.executable, "-c", student], capture_output=True,
                                    text=True, env={**os.environ, **env}, timeout=300,
                                    check=True).stdout)
    assert out["matplotlib"] is False
    sweep = numpy_scale_sweep("v2", SLIDER_SCALES)
    values = {k: float(sweep[k][100]) for k in sweep.names}
    assert bytes.fromhex(out["png"]) == ClassroomFigure(sweep).render(1.0, values)


def test_frames_are_small_palette_pngs():
    from PIL import Image

    from explainer.classroom.figure import ClassroomFigure, palette_png
    from explainer.widgets.images import png_size, rgb_png

    figure = ClassroomFigure(numpy_scale_sweep("v1", SLIDER_SCALES))
    png = figure.render(0.17, numpy_scale_sweep("v1", [0.17]).at(0.17))
    rgba = np.asarray(figure.fig.canvas.buffer_rgba())
    image = Image.open(io.BytesIO(png))
    assert image.mode == "P" and len(image.getcolors()) <= 64
    assert png_size(png) == (rgba.shape[1], rgba.shape[0]) == (1240, 720)
    assert len(png) < len(rgb_png(rgba)) / 2  # measured: 35 KB against 117 KB
    # few colours, but the same picture: off by 0.5 of 255 on average (anti-aliased edges
    # carry the rest; measured: 0.17 % of pixels off by more than 16), white exactly white
    shown = np.asarray(image.convert("RGB"), np.int16)
    error = np.abs(shown - rgba[..., :3].astype(np.int16)).max(axis=2)
    assert error.mean() < 1.0 and (error > 16).mean() < 0.005
    assert (shown[5, 5] == 255).all() and (rgba[5, 5, :3] == 255).all()
    assert palette_png(rgba, colours=16)[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_slider_move_sends_two_widget_messages(monkeypatch):
    """A move from the page costs the kernel two widget messages (the readout and the figure:
    no echo of the slider, one HTML widget for the heading and the numbers)."""
    import ipywidgets as widgets

    app = ClassroomScaleExplorer()
    sent = []
    monkeypatch.setattr(widgets.Widget, "_send",
                        lambda self, msg, buffers=None: sent.append((type(self).__name__, msg)))
    app.slider.set_state({"value": 0.33})  # what the page's slider sends
    assert sorted(name for name, _ in sent) == ["AltImage", "HTML"]  # figure + alt: one
    assert "0.33" in app.readout.value
    app.slider.value = 2.0  # the slider still clamps to its range
    assert app.slider.value == 1.0


@pytest.mark.parametrize("folder", ["/tmp/" + "n" * 300, "/dev/null", "/proc/nope"])
def test_an_unusable_frame_folder_is_one_line(folder, monkeypatch, capsys):
    """``make classroom``'s first step refuses an unusable ``EXPLAINER_FRAME_CACHE`` in one
    line (a 300-character name was a 25-line OSError); a kernel just draws its own frames."""
    from explainer.classroom.figure import main
    from explainer.classroom.frame_cache import SharedFrames

    monkeypatch.setenv("EXPLAINER_FRAME_CACHE", folder)
    assert main(["v1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("python -m explainer.classroom.figure: error: EXPLAINER_FRAME_CACHE: "
                          f"got '{folder[:60]}")
    assert "expected a folder this user can write" in err
    shared = SharedFrames(numpy_scale_sweep("v1", SLIDER_SCALES[:2]))
    assert shared.has(0) is False and shared.get(0) is None and shared.put(0, b"png") is False
