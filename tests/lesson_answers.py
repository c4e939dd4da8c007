"""The lesson checks appended to each notebook's run (tests/notebook_runs.py): for each
exercise, an expression over the names the notebook defines that computes its answer."""

# exercise -> an expression over the names its notebook defines (after running it) that
# computes the answer; the test appends `check(name, <expression>)` and expects "Right".
FROM_NOTEBOOK = {
    "00_start_here": {
        "start_scale": "block.residual_spec.scale",
        "start_star": "'b' if np.array_equal(answer.trace['scaled_up'].value, "
                      "np.float32(answer.trace.spec.scale) * answer.trace['up'].value) else '?'",
        "start_ratio": "sweep.at(0.17)['residual_ratio']",
    },
    "01_what_does_star_do": {
        "scale_on_shortcut": "float(np.linalg.norm(up) / np.linalg.norm(scale * net))",
        "scale_after_sum": "float(np.linalg.norm(scale * (net + up)) / "
                           "np.linalg.norm(net + scale * up))",
        "star_graph_op": "ops.compute_types[0]",
        "star_gradient": "max(grad.d_up_values_on)",
        "star_inplace": "cases[0].alias_sees_change",
    },
    "02_block35_walkthrough": {
        "walk_mixed_channels": "trace_v1['mixed'].shape[-1]",
        "walk_up_shape": "str(trace_v1['up'].shape).replace(' ', '')",  # typed as text
        "walk_scale_is_weight": "bool(block_v1.get_layer('scaled_up').weights)",
    },
    "03_residual_scaling": {
        "relu6_clip": "int(np.sum(relu6['scaled_up'].value != "
                      "np.float32(0.17) * relu6['up'].value))",
        "scale_ratio": "sweep.at(0.3)['residual_ratio']",
        "scale_ratio_double": "fine.at(0.34)['residual_ratio'] / fine.at(0.17)['residual_ratio']",
        "scale_zero_identity": "bool(np.array_equal(sweep.net_out(0.0), sweep.net))",
    },
    "04_broadcasting": {
        "broadcast_per_channel": "per_channel.result_shape",
        "broadcast_per_sample": "next(e.scale_shape for e in catalogue "
                                "if e.label.startswith('per-sample'))",
        "broadcast_silent_mistake": "not next(e.explanation.compatible for e in coincide "
                                    "if e.label == 'mistake: (N,)')",
        "scale_per_sample_vs_channel": "(lambda keep: float(np.count_nonzero("
                                       "(keep * np.ones((256, 4, 4, 256), np.float32))[0]) / "
                                       "(4 * 4 * 256)))(np.r_[np.float32(0), np.ones(255)])",
    },
    "05_porting": {
        "port_swap_bn": "float(np.max(np.abs(explainer.forward("
                        "ports.from_slim(SWAP(run.variables)), x) - run.net_out)))",
        "port_v2_changes": "next(i for i, (_, outcome) in "
                           "enumerate(translation.original_errors('v2')) if outcome == 'runs')",
        "port_kernel_shape": "np.transpose(explainer.block_weights(block)['Conv2d_1x1/weights'], "
                             "(3, 2, 0, 1)).shape",
    },
}
# what the learner is asked to write in notebook 05 before answering port_swap_bn
SWAP_SOURCE = """
def SWAP(variables):
    out = dict(variables)
    for name in variables:
        if name.endswith("/BatchNorm/beta"):
            mean = name.removesuffix("beta") + "moving_mean"
            out[name], out[mean] = variables[mean], variables[name]
    return out
"""


def check_cells(stem: str) -> list[str]:
    """The cells appended after notebook ``stem``'s stored cells: SWAP, then one
    ``check(name, expression)`` per exercise (none for a notebook without exercises here)."""
    if stem not in FROM_NOTEBOOK:
        return []
    return ["import numpy as np\n" + SWAP_SOURCE] + [
        f"print(explainer.exercises.check({name!r}, {expression}))"
        for name, expression in FROM_NOTEBOOK[stem].items()]
