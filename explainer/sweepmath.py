"""The arithmetic of the block's tail ``f(net + scale * up)`` over many scales.

Two ways to the same numbers, tested against each other and against real forwards:

* :func:`direct_metrics` evaluates the tail once per scale, in float32 exactly as the Keras
  layers do (``float32(scale) * up``, the relu6 clip, the add, the activation).
* :func:`fast_metrics` uses the tail's shape. Unit ``i`` is on at scale ``s`` when
  ``net_i + s * up_i > 0``, which is one side of the threshold ``t_i = -net_i / up_i``. Sorting
  the thresholds into the gaps between the requested scales (``searchsorted``) and summing
  ``1, net, up, net^2, net*up, up^2`` of the units on at each scale (``bincount`` + ``cumsum``)
  gives every metric as a quadratic in ``s``: two passes over the tensor for all scales instead
  of one pass per scale. It covers ReLU and no activation; relu6 goes the direct way.
"""

from __future__ import annotations

import numpy as np


def apply_tail(net: np.ndarray, scaled_up: np.ndarray, activation: str | None) -> np.ndarray:
    """``activation(net + scaled_up)`` in float32."""
    v = net + scaled_up
    if activation == "relu":
        return np.maximum(v, np.float32(0))
    if activation == "relu6":
        return np.clip(v, np.float32(0), np.float32(6))
    return v


def active(v: np.ndarray, activation: str | None) -> np.ndarray:
    """Where the activation passes its input on (its gradient is 1): the unit is "on".

    relu: v > 0; relu6: 0 < v < 6; no activation: v > 0 (the state a ReLU would have).
    """
    if activation == "relu6":
        return (v > 0) & (v < 6)
    return v > 0


def _sumsq(a: np.ndarray) -> float:
    """Sum of squares, accumulated in float64 (einsum's own loop: no BLAS threads)."""
    return float(np.einsum("i,i->", a.ravel(), a.ravel(), dtype=np.float64))


def tail_statics(net: np.ndarray, up: np.ndarray, activation: str | None) -> dict:
    """What every scale shares: ||net||, ||up||, f(net), ||f(net)|| and the units on at s = 0."""
    f0 = apply_tail(net, np.zeros_like(net), activation)
    return {"norm_net": _sumsq(net) ** 0.5, "norm_up": _sumsq(up) ** 0.5, "f0": f0,
            "norm_f0": _sumsq(f0) ** 0.5, "on0": active(net, activation)}


def direct_metrics(net: np.ndarray, up: np.ndarray, scales: np.ndarray,
                   activation: str | None, statics: dict | None = None) -> dict[str, np.ndarray]:
    """Every metric at every scale, one float32 pass per scale (see module doc).

    ``statics`` is :func:`tail_statics` of the same tensors, when the caller keeps it.
    """
    clip = activation == "relu6"
    st = statics or tail_statics(net, up, activation)
    out = {k: np.empty(len(scales)) for k in
           ("residual_ratio", "output_change", "relu_flips", "net_out_mean", "net_out_std",
            "net_out_max")}
    for i, s in enumerate(scales):
        scaled = np.float32(s) * up
        if clip:
            scaled = np.clip(scaled, np.float32(-6), np.float32(6))
            out["residual_ratio"][i] = _sumsq(scaled) ** 0.5 / st["norm_net"]
        else:  # exactly linear in the scale
            out["residual_ratio"][i] = abs(float(s)) * st["norm_up"] / st["norm_net"]
        v = net + scaled
        y = apply_tail(net, scaled, activation)
        change = _sumsq(y - st["f0"]) ** 0.5
        out["output_change"][i] = change / st["norm_f0"] if st["norm_f0"] else np.nan
        flips = np.count_nonzero(active(v, activation) != st["on0"])
        out["relu_flips"][i] = float(flips) / v.size
        out["net_out_mean"][i] = y.mean(dtype=np.float64)
        out["net_out_std"][i] = y.std(dtype=np.float64)
        out["net_out_max"][i] = float(y.max())
    return out


def _suffix(counts: np.ndarray, m: int) -> np.ndarray:
    """``out[..., j] = counts[..., j + 1:].sum()`` for j < m, summed from the end."""
    return np.cumsum(counts[..., ::-1], axis=-1)[..., ::-1][..., 1:m + 1]


# unit groups: (on at scale 0?, how its state depends on the scale)
_GROUPS = (("on0", "flat"), ("on0", "pos"), ("on0", "neg"),
           ("off0", "flat"), ("off0", "pos"), ("off0", "neg"))


def _on_off_sums(n, u, q, weights):
    """For each sorted scale q_j, the count and the sums of each of ``weights`` over the units
    on at q_j and over those off, separately for the units on and off at scale 0:
    ``{("on0" | "off0", "on" | "off"): array (1 + K, len(q))}``, row 0 the count.

    A unit with up > 0 is on for q > t (t = -net / up), one with up < 0 for q < t, one with
    up == 0 always (net > 0) or never. Every unit falls in one (group, gap between scales)
    bin, so one ``bincount`` per weight sums them all; the on and off sums are cumulative sums
    from either end, never a total minus a part, so an empty set sums to exactly 0.
    """
    m = len(q)
    on0, pos, neg = n > 0, u > 0, u < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -n / u
    # gap: pos units are on for j >= gap (first q_j > t), neg units for j < gap (first
    # q_j >= t). Only thresholds inside (q_0, q_last] need a binary search: below, gap is 0
    # (or 1 for a pos unit exactly at q_0: q is unique); above, m.
    gap = (t > q[-1]).astype(np.int64)
    gap *= m
    gap += pos & (t == q[0])
    inside = (t > q[0]) & (t <= q[-1])
    t_in, pos_in = t[inside], pos[inside]
    left = np.searchsorted(q, t_in, side="left")
    gap[inside] = left + (pos_in & (q[np.minimum(left, m - 1)] == t_in))
    gap *= pos | neg  # flat units: bin 0
    code = pos.view(np.uint8) + 2 * neg.view(np.uint8) + 3 * (~on0).view(np.uint8)
    group = code.astype(np.int64)
    group *= m + 1
    group += gap  # the bin key: (group, gap)
    size = len(_GROUPS) * (m + 1)
    counts = np.stack([np.bincount(group, minlength=size)]
                      + [np.bincount(group, weights=w, minlength=size) for w in weights])
    counts = counts.reshape(len(weights) + 1, len(_GROUPS), m + 1)
    out = {(g, state): np.zeros((len(weights) + 1, m)) for g in ("on0", "off0")
           for state in ("on", "off")}
    for k, (g, kind) in enumerate(_GROUPS):
        c = counts[:, k, :]
        if kind == "flat":
            total = c.sum(axis=1)[:, None] * np.ones(m)
            out[(g, "on" if g == "on0" else "off")] += total
        else:
            lower, upper = np.cumsum(c, axis=1)[:, :m], _suffix(c, m)
            out[(g, "on")] += lower if kind == "pos" else upper
            out[(g, "off")] += upper if kind == "pos" else lower
    return out


def _max_over_lines(net32, up32, q, floor):
    """max_i (net_i + float32(q) * up_i) for each q, over the few units that can be largest."""
    n, u = net32.ravel(), up32.ravel()
    lo, hi = n + np.float32(q[0]) * u, n + np.float32(q[-1]) * u
    keep = np.maximum(lo, hi) >= np.minimum(lo, hi).max()  # a line below this never wins
    n, u = n[keep], u[keep]
    best = np.array([float((n + np.float32(s) * u).max()) for s in q])
    return np.maximum(best, 0.0) if floor else best


def fast_metrics(net: np.ndarray, up: np.ndarray, scales: np.ndarray,
                 activation: str | None) -> dict[str, np.ndarray]:
    """Every metric at every scale from the thresholds (relu or no activation; see module)."""
    if activation not in ("relu", None):
        raise ValueError(f"activation: got {activation!r}; the exact form covers 'relu' and "
                         "None, use direct_metrics for relu6")
    scales = np.asarray(scales, dtype=np.float64)
    ratio = np.abs(scales)  # residual ratio: exactly linear in the requested scale
    # the scale as the float32 Mul sees it, sorted and unique
    q, where = np.unique(scales.astype(np.float32).astype(np.float64), return_inverse=True)
    n = net.astype(np.float64).ravel()
    u = up.astype(np.float64).ravel()
    size = n.size
    norm_net, norm_up = _sumsq(net) ** 0.5, _sumsq(up) ** 0.5
    weights = (n, u, n * n, n * u, u * u) if activation == "relu" else ()
    sums = _on_off_sums(n, u, q, weights)
    flips = (sums[("on0", "off")][0] + sums[("off0", "on")][0]) / size  # on <-> off
    if activation == "relu":
        c1, n1, u1, nn1, nu1, uu1 = sums[("on0", "on")]
        nn1_off = sums[("on0", "off")][3]
        c2, n2, u2, nn2, nu2, uu2 = sums[("off0", "on")]
        nn_on0 = _sumsq(np.maximum(n, 0.0))  # ||relu(net)||^2
        change2 = q * q * uu1 + (nn2 + 2 * q * nu2 + q * q * uu2) + nn1_off
        change = np.sqrt(np.maximum(change2, 0.0)) / np.sqrt(nn_on0) if nn_on0 else q * np.nan
        s1, s2 = n1 + n2 + q * (u1 + u2), nn1 + nn2 + 2 * q * (nu1 + nu2) + q * q * (uu1 + uu2)
    else:
        change = np.abs(q) * norm_up / norm_net
        s1 = n.sum() + q * u.sum()
        nu = float(np.einsum("i,i->", n, u))
        s2 = norm_net ** 2 + 2 * q * nu + q * q * norm_up ** 2
    mean = s1 / size
    std = np.sqrt(np.maximum(s2 / size - mean * mean, 0.0))
    per_q = {"output_change": change, "relu_flips": flips, "net_out_mean": mean,
             "net_out_std": std,
             "net_out_max": _max_over_lines(net, up, q, floor=activation == "relu")}
    out = {"residual_ratio": ratio * norm_up / norm_net}
    out.update({k: np.asarray(v, dtype=np.float64)[where] for k, v in per_q.items()})
    return out
