"""The line's forms a porter meets: PyTorch's two spellings, and Keras' Lambda against a
registered layer, saved and loaded by the installed Keras (notebook 05 prints both)."""

import importlib.util
import inspect

import pytest

import explainer
from explainer import ports
from explainer.ports.keras_serialisation import first_sentence


def test_a_lambda_is_refused_on_load_and_a_registered_layer_is_not():
    lam, layer = ports.lambda_vs_layer(0.3)
    assert lam.safe_load.startswith("ValueError: Requested the deserialization of a `Lambda`")
    assert "marshalled code" in lam.stored and "<lambda>" in lam.stored
    assert lam.other_load.endswith("loads") and lam.same_output  # only when code may run
    assert layer.safe_load == "loads" and layer.same_output
    assert "config scale=0.3" in layer.stored  # the number itself is what the file keeps
    assert "Could not locate class 'ScaledResidual'" in layer.other_load
    # the registration is back after the "not registered" case
    import keras

    assert "explainer>ScaledResidual" in keras.saving.get_custom_objects()


def test_first_sentence_takes_the_innermost_cause():
    message = "Outer could not load. Details.\n\nException encountered: Inner cause. More."
    assert first_sentence(message) == "Inner cause"
    assert first_sentence("x" * 300).endswith("...") and len(first_sentence("x" * 300)) == 170


def test_lambda_vs_layer_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        ports.lambda_vs_layer(float("nan"))


@pytest.mark.skipif(ports.torch_missing() is not None, reason="torch is not installed")
def test_torch_line_forms_are_bit_identical_and_follow_the_scale():
    text = ports.torch_line_forms(explainer.build_block35("v1", scale=0.5, seed=0))
    assert "self.scale * self.up(mixed)" in text and "net + scaled_up" in text
    assert "at scale 0.5" in text and "bit-identical: True" in text
    assert "not net's storage): True" in text


@pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed")
def test_timms_block35_writes_the_form_the_text_names():
    from explainer.ports.timm_port import import_timm

    import_timm()  # timm as the port imports it (torchvision's CPU/CUDA mismatch handled)
    # the module, not the factory function timm.models exports under the same name
    inception_resnet_v2 = importlib.import_module("timm.models.inception_resnet_v2")
    assert "out = out * self.scale + x" in inspect.getsource(inception_resnet_v2.Block35.forward)
