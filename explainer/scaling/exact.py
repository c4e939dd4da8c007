"""The arithmetic of the block's tail ``f(net + scale * up)`` over many scales.

Two ways to the same numbers, tested against each other and against real forwards:

* :func:`direct_metrics` evaluates the tail once per scale, in float32 exactly as the Keras
  layers do (``float32(scale) * up``, the relu6 clip, the add, the activation).
* :func:`fast_metrics` uses the tail's shape. Unit ``i`` is on at scale ``s`` when
  ``net_i + s * up_i > 0``, which is one side of the threshold ``t_i = -net_i / up_i``, so every
  metric is a quadratic in ``s`` whose coefficients are sums of ``1, net, up, net^2, net*up,
  up^2`` over the units on at ``s``. Binning the units by (on at scale 0, sign of ``up``, gap
  between the sorted scales that holds the threshold) and taking cumulative sums over the gaps
  gives those sums at every scale, from one pass over the tensor in cache-sized blocks. There
  float32 ``net / up`` settles most units (threshold below the first scale or above the last:
  one state at every scale; ``net == 0``: threshold 0), whose sums are dot products; only the
  few thresholds inside the scale range get the float64 threshold, a search and a
  ``bincount``. The pass also keeps the few lines ``net_i + s * up_i`` that can be the
  largest. It covers ReLU and no activation; relu6 goes the direct way.
"""

from __future__ import annotations

import numpy as np

from ..core.reference import tail


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
    f0 = tail(net, np.zeros_like(net), 0.0, activation)  # f(net)
    return {"norm_net": _sumsq(net) ** 0.5, "norm_up": _sumsq(up) ** 0.5, "f0": f0,
            "norm_f0": _sumsq(f0) ** 0.5, "on0": active(net, activation)}


def over(num, den):
    """``num / den``, or NaN where it is undefined: a reference of norm 0 has no ratio (the
    callers' reports say "undefined"; numpy's divide-by-zero warning is not raised)."""
    if den:
        return num / den
    return np.full(np.shape(num), np.nan) if np.ndim(num) else np.nan


def direct_metrics(net: np.ndarray, up: np.ndarray, scales: np.ndarray,
                   activation: str | None, statics: dict | None = None) -> dict[str, np.ndarray]:
    """Every metric at every scale, one float32 pass per scale (see module doc).

    ``statics`` is :func:`tail_statics` of the same tensors, when the caller keeps it. A scale
    whose product with ``up`` overflows float32 gives inf / NaN, as the float32 block does
    (without numpy's RuntimeWarning); the sweep reports those values as undefined.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _direct_metrics(net, up, scales, activation, statics)


def _direct_metrics(net, up, scales, activation, statics) -> dict[str, np.ndarray]:
    st = statics or tail_statics(net, up, activation)
    out = {k: np.empty(len(scales)) for k in
           ("residual_ratio", "output_change", "relu_flips", "net_out_mean", "net_out_std",
            "net_out_max")}
    for i, s in enumerate(scales):
        parts = tail(net, up, np.float32(s), activation, parts=True)  # float32, as Keras does
        v, y = parts["net_sum"], parts["net_out"]
        if activation == "relu6":  # the clip makes it nonlinear
            out["residual_ratio"][i] = over(_sumsq(parts["scaled_up"]) ** 0.5, st["norm_net"])
        else:  # exactly linear in the scale
            out["residual_ratio"][i] = over(abs(float(s)) * st["norm_up"], st["norm_net"])
        change = _sumsq(y - st["f0"]) ** 0.5
        out["output_change"][i] = over(change, st["norm_f0"])
        flips = np.count_nonzero(active(v, activation) != st["on0"])
        out["relu_flips"][i] = float(flips) / v.size
        out["net_out_mean"][i] = y.mean(dtype=np.float64)
        out["net_out_std"][i] = y.std(dtype=np.float64)
        out["net_out_max"][i] = float(y.max())
    return out


def _suffix(counts: np.ndarray, m: int) -> np.ndarray:
    """``out[..., j] = counts[..., j + 1:].sum()`` for j < m, summed from the end."""
    return np.cumsum(counts[..., ::-1], axis=-1)[..., ::-1][..., 1:m + 1]


# unit groups: (on at scale 0?, sign of up); a unit with up == 0 sits in a "pos" bin: 0 (on at
# every scale) or m (never on)
_GROUPS = (("on0", "pos"), ("on0", "neg"), ("off0", "pos"), ("off0", "neg"))


# units per block: a block's temporaries stay in cache and reuse the memory freed by the last
# block (whole-tensor temporaries are mapped fresh each time: page faults cost as much as the math)
_BLOCK = 1 << 13


def _set_sums(n64, u64, mask):
    """``(count, sum n, sum u, sum n^2, sum n*u, sum u^2)`` over the units in ``mask``, in
    float64, where a float32 product is exact."""
    count = np.count_nonzero(mask)
    if not count:
        return (0, 0.0, 0.0, 0.0, 0.0, 0.0)
    a = mask.astype(np.float64)
    na, ua = n64 * a, u64 * a
    return (count, n64 @ a, u64 @ a, na @ n64, na @ u64, ua @ u64)


def _left_of(q, t):
    """``np.searchsorted(q, t)`` (first q_j >= t) for sorted unique q: a table over equal
    buckets of [q_0, q_last] gives a lower bound and a few vector steps finish, instead of a
    binary search per value (which mispredicts its branches); plain search when q is clumped."""
    m, nb = len(q), 4 * len(q)
    width = (q[-1] - q[0]) / nb
    if m < 2 or not width > 0:
        return np.searchsorted(q, t)
    start = np.maximum(np.searchsorted(q, q[0] + width * np.arange(nb)) - 1, 0)  # 1 of slack
    steps = int(np.diff(np.append(start, m)).max()) + 2
    if steps > 8:
        return np.searchsorted(q, t)
    b = np.clip((t - q[0]) / width, 0, nb - 1).astype(np.intp)
    left, q_inf = start[b], np.append(q, np.inf)
    for _ in range(steps):
        left += q_inf[left] < t
    return left


def _bin_sums(n32, u32, q):
    """The count and weight sums (see :func:`_set_sums`) of the units in each bin (group,
    gap): array (6, 4, len(q) + 1); and (n, u) of the lines n + q * u that can be the largest.

    A unit with up > 0 is on at q_j for j >= gap (first q_j > t, t = -net / up), one with
    up < 0 for j < gap (first q_j >= t), one with up == 0 at every j (gap 0) or at none (m).
    Float32 ``net / up`` is -t rounded once more from the float64 t (division's double
    rounding is harmless), so it never crosses a float32 scale: where it says t < q_0 or
    t > q_last (+-inf when up == +-0), the unit has one state at every scale and lands in gap
    0 or m of a "pos" group; where net == 0, t = 0. Those sets are summed per block with dot
    products. Only the rest, thresholds at or inside [q_0, q_last], get the float64 t, a
    search and one ``bincount`` per weight. Every sum is over its own set, so an empty bin
    sums to exactly 0.
    """
    m = len(q)
    counts = np.zeros((6, len(_GROUPS), m + 1))
    at_zero = (np.searchsorted(q, 0.0, side="right"), np.searchsorted(q, 0.0, side="left"))
    lo, hi = -np.float32(q[0]), -np.float32(q[-1])
    q_ends, floor = np.float32(q[[0, -1]]), -np.inf
    zero_inside = q[0] <= 0.0 <= q[-1]  # else every unit with net == 0 is fixed (or 0 / 0)
    rest, lines, fixed_sums = [], [], []  # fixed_sums: ((group, gap), sums) of each block
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 and x / 0 just below
        for s in range(0, n32.size, _BLOCK):
            n, u = n32[s:s + _BLOCK], u32[s:s + _BLOCK]
            ends = (n + q_ends[0] * u, n + q_ends[1] * u)  # each line at q_0 and q_last
            floor = max(floor, float(np.minimum(*ends).max()))
            lines.append(s + np.flatnonzero(np.maximum(*ends) >= floor))  # others never win
            ratio = n / u  # -t; +-inf where up == +-0, NaN only for 0 / 0
            below = ratio > lo  # t < q_0
            fixed = below | (ratio < hi)  # or t > q_last
            on_all = (below ^ np.signbit(u)) & fixed  # up < 0 (or -0.0): on when t > q_last
            on0, zero = n > 0, n == 0
            n64, u64 = n.astype(np.float64), u.astype(np.float64)
            main = _set_sums(n64, u64, on_all & on0)  # "pos" bins: gap 0 = always on,
            fixed_sums.append(((0, 0), main))
            if np.count_nonzero(fixed) > main[0]:  # rare: the other fixed units
                off_all = fixed ^ on_all  # gap m = never on
                fixed_sums += [((2, 0), _set_sums(n64, u64, on_all & ~on0)),
                               ((0, m), _set_sums(n64, u64, off_all & on0)),
                               ((2, m), _set_sums(n64, u64, off_all & ~on0))]
            if zero_inside:  # then net == 0 means t = 0 inside the range (or 0 / 0)
                u_neg = u64 * zero
                u_pos = np.maximum(u_neg, 0.0)
                u_neg -= u_pos
                fixed_sums += [(bin_, (np.count_nonzero(w), 0.0, w.sum(), 0.0, 0.0, w @ w))
                               for bin_, w in (((2, at_zero[0]), u_pos), ((3, at_zero[1]), u_neg))]
            rest.append(s + np.flatnonzero(~(fixed | zero)))
    lines, rest = np.concatenate(lines), np.concatenate(rest)
    n, u = n32[rest].astype(np.float64), u32[rest].astype(np.float64)
    p = u > 0
    t = -n / u
    left = _left_of(q, t)
    gap = left + (p & (q[np.minimum(left, m - 1)] == t))
    key = (1 - p + 2 * (n < 0)) * (m + 1) + gap  # (group, gap); net != 0 and up != 0 here
    size = len(_GROUPS) * (m + 1)
    weights = (n, u, n * n, n * u, u * u)
    inside = [np.bincount(key, minlength=size)] + [np.bincount(key, weights=w, minlength=size)
                                                   for w in weights]
    counts += np.stack(inside).reshape(counts.shape)
    bins, values = zip(*fixed_sums, strict=True)
    np.add.at(counts.transpose(1, 2, 0), tuple(np.transpose(bins)), values)
    counts[0, 2, m] += n32.size - counts[0].sum()  # net == up == 0: never on, not yet counted
    return counts, (n32[lines], u32[lines])


def _on_off_sums(counts):
    """For each sorted scale q_j, the count and weight sums over the units on at q_j and over
    those off, separately for the units on and off at scale 0, from :func:`_bin_sums`'s
    ``counts``: ``{("on0" | "off0", "on" | "off"): array (6, len(q))}``, row 0 the count.

    They are cumulative sums over the gaps from either end, never a total minus a part, so an
    empty set sums to exactly 0.
    """
    m = counts.shape[-1] - 1
    out = {}
    for i, (g, kind) in enumerate(_GROUPS):
        lower, upper = np.cumsum(counts[:, i, :], axis=1)[:, :m], _suffix(counts[:, i, :], m)
        out[(g, "on")] = out.get((g, "on"), 0) + (lower if kind == "pos" else upper)
        out[(g, "off")] = out.get((g, "off"), 0) + (upper if kind == "pos" else lower)
    return out


def _max_over_lines(n, u, q, floor):
    """max_i (n_i + float32(q) * u_i) for each q, over the few lines that can be largest."""
    lo, hi = n + np.float32(q[0]) * u, n + np.float32(q[-1]) * u
    keep = np.flatnonzero(np.maximum(lo, hi) >= np.minimum(lo, hi).max())  # others never win
    n, u, q32 = n[keep, None], u[keep, None], q.astype(np.float32)
    step = max(1, (1 << 20) // keep.size)  # a (lines, scales) float32 block of <= 4 MiB
    best = np.concatenate([(n + q32[j:j + step] * u).max(axis=0)
                           for j in range(0, len(q), step)]).astype(np.float64)
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
    n32 = np.asarray(net, dtype=np.float32).ravel()
    u32 = np.asarray(up, dtype=np.float32).ravel()
    size = n32.size
    counts, lines = _bin_sums(n32, u32, q)
    _, sum_n, sum_u, sum_nn, sum_nu, sum_uu = counts.sum(axis=(1, 2))  # over all units
    norm_net, norm_up = sum_nn ** 0.5, sum_uu ** 0.5
    sums = _on_off_sums(counts)
    flips = (sums[("on0", "off")][0] + sums[("off0", "on")][0]) / size  # on <-> off
    if activation == "relu":
        c1, n1, u1, nn1, nu1, uu1 = sums[("on0", "on")]
        nn1_off = sums[("on0", "off")][3]
        c2, n2, u2, nn2, nu2, uu2 = sums[("off0", "on")]
        nn_on0 = nn1[0] + nn1_off[0]  # ||relu(net)||^2: the units on at scale 0, on or off at q_0
        change2 = q * q * uu1 + (nn2 + 2 * q * nu2 + q * q * uu2) + nn1_off
        change = over(np.sqrt(np.maximum(change2, 0.0)), np.sqrt(nn_on0))
        s1, s2 = n1 + n2 + q * (u1 + u2), nn1 + nn2 + 2 * q * (nu1 + nu2) + q * q * (uu1 + uu2)
    else:
        change = over(np.abs(q) * norm_up, norm_net)
        s1 = sum_n + q * sum_u
        s2 = sum_nn + 2 * q * sum_nu + q * q * sum_uu
    mean = s1 / size
    std = np.sqrt(np.maximum(s2 / size - mean * mean, 0.0))
    per_q = {"output_change": change, "relu_flips": flips, "net_out_mean": mean,
             "net_out_std": std, "net_out_max": _max_over_lines(*lines, q, activation == "relu")}
    out = {"residual_ratio": over(ratio * norm_up, norm_net)}
    out.update({k: np.asarray(v, dtype=np.float64)[where] for k, v in per_q.items()})
    return out
