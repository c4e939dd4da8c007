"""Values are checked once, at the door (issue 32, item 3).

A public function checks its arguments and hands them to a private implementation that trusts
them; nothing inside checks them again, and no ``*_unchecked`` twin offers a second API. The
checks are counted by a profile hook: every call of a function whose name starts with
``check_`` and whose code lies in the package (``explainer.core.validate``'s, the budget's,
the block tables', the CLI's ...), whether a module imported it by name or not. Before this
was so, ``explain_block()`` made 50 such calls, ``python -m explainer scale`` 50 (the
variant 5 and 3 times, the budget 5 and 4 times, each scale twice) and ``python -m explainer``
14; now 8, 7 and 5.
"""

from __future__ import annotations

import ast
import collections
import os
import pathlib
import sys

import pytest
from cli_support import run_in_process

import explainer
from explainer.core import validate

PACKAGE = pathlib.Path(explainer.__file__).resolve().parent
EXPLAIN_BLOCK_MOST = 8  # seven arguments and the memory budget, each once
SCALE_COMMAND_MOST = 12


def count_checks(call) -> tuple[collections.Counter, object]:
    """``call()``'s result and how often each ``check_*`` function of the package ran in it
    (this thread: the checks run where the call does)."""
    counts: collections.Counter = collections.Counter()
    root = f"{PACKAGE}{os.sep}"

    def hook(frame, event, _arg):
        code = frame.f_code
        if event == "call" and code.co_name.startswith("check_") \
                and os.path.realpath(code.co_filename).startswith(root):
            counts[code.co_name] += 1

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        result = call()
    finally:
        sys.setprofile(previous)
    return counts, result


def test_the_counter_sees_checks_imported_by_name():
    """The hook counts a check however it was reached: the module's attribute, a name a
    module imported with ``from .validate import check_x``, and a check inside a check."""
    from explainer.core.lesson import check_variant  # lesson's own name for it

    counts, _ = count_checks(lambda: (validate.check_scale(0.5), check_variant("v2"),
                                      validate.check_choice("x", "a", ("a",))))
    assert counts == {"check_scale": 1, "check_variant": 1, "check_choice": 1}, counts
    counts, _ = count_checks(lambda: explainer.sample_input("v1", size=2))
    assert sum(counts.values()) >= 6, counts  # a public door: its five arguments, the budget


def test_explain_block_checks_each_argument_once():
    counts, answer = count_checks(explainer.explain_block)
    assert sum(counts.values()) <= EXPLAIN_BLOCK_MOST, counts
    assert max(counts.values()) <= 3, counts  # batch, size and seed are the whole numbers
    assert answer.trace.spec.scale == 0.17 and len(answer.lines) == 5


def test_scale_command_checks_each_argument_once():
    counts, (code, out, err) = count_checks(lambda: run_in_process(["scale"]))
    assert code == 0, err
    assert "ratio = ||scale*up|| / ||net||" in out
    assert sum(counts.values()) <= SCALE_COMMAND_MOST, counts
    assert counts["check_scales"] == 1 and "check_scale" not in counts, counts  # one list


def test_the_answer_command_checks_each_argument_once():
    """``python -m explainer``: argparse checks what was typed (or its string defaults), the
    command its budget, and the answer trusts them (it checked all seven again: 14 checks)."""
    counts, (code, out, err) = count_checks(lambda: run_in_process([]))
    assert code == 0, err
    assert "residual ratio ||scale*up|| / ||net|| = " in out
    assert sum(counts.values()) <= 6 and max(counts.values()) == 1, counts


@pytest.mark.parametrize(("argument", "bad", "expected"), [
    ("variant", "v3", "expected one of 'v1', 'v2'"),
    ("scale", float("nan"), "expected a finite number"),
    ("activation", "tanh", "expected one of 'relu', 'relu6', None"),
    ("batch", 0, "expected a whole number >= 1"),
    ("size", 2.5, "expected a whole number >= 1"),
    ("seed", -1, "expected a whole number >= 0"),
    ("device", "tpu", "expected one of 'auto', 'cpu', 'gpu'"),
])
def test_explain_block_refuses_at_its_door(argument, bad, expected):
    """The inner layers no longer check: each argument is refused by explain_block itself, in
    one line naming it, what was given and what is expected."""
    arguments = {"size": 3, argument: bad}  # a small block, should the check be missing
    with pytest.raises((ValueError, TypeError)) as err:
        explainer.explain_block(**arguments)
    text = str(err.value)
    assert text.startswith(f"{argument}: got ") and expected in text and "\n" not in text, text


def _names(tree: ast.AST) -> set[str]:
    """Every name a module defines, binds, imports or reads an attribute by."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.update(filter(None, (node.name.rsplit(".", 1)[-1], node.asname)))
        elif isinstance(node, ast.arg):
            found.add(node.arg)
    return found


def test_no_unchecked_twin_remains():
    """No ``*_unchecked`` name anywhere in the package, and no public ``*_checked`` method
    beside a checking one (``at_checked`` beside ``at`` was such a twin)."""
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        names = _names(ast.parse(path.read_text(), filename=str(path)))
        bad = sorted(n for n in names if "_unchecked" in n
                     or (n.endswith("_checked") and not n.startswith("_")))
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = bad
    assert not offenders, offenders


def test_the_twin_finder_finds_one():  # the walk above must be able to fail
    tree = ast.parse("from .x import forward_unchecked\nclass S:\n    def at_checked(self): pass\n")
    assert {"forward_unchecked", "at_checked"} <= _names(tree)


def test_the_explorers_other_variant_is_made_for_the_blocks_kind():
    """What a door hands inward must be right, since nothing inside checks it again: the scale
    explorer's toggle makes the other variant's input for the block's own kind (it made a
    block35 input for a block17, which TensorFlow refused with a signature error)."""
    from explainer.core.blocks import build_block
    from explainer.widgets.scale_explorer import scale_explorer

    block = build_block("block17", "v1")
    explorer = scale_explorer(block, explainer.sample_input("v1", size=3, block="block17"))
    assert explorer.update(0.1)
    explorer.switch("v2")
    assert explorer.sweep.net.shape == (1, 3, 3, 1088) and explorer.branch_runs == 2
    assert explorer.update(0.3) and not explorer.error.value
