"""Train the miniature trunk on scikit-learn's bundled digits and record what the paper watched.

:func:`train_trunk` returns a :class:`TrunkRun` with, for every step, the numbers of that
step's forward and backward pass *before* its update (so step 0 describes the trunk as
initialised): loss, batch accuracy, gradient norm per block, ||scale * up|| / ||net|| per
block, and the fraction of the last block's output units that are exactly zero. A run stops
at the first non-finite loss ("diverged"); it "died" when the last block's output is at least
99 % zeros from some step to the end of the run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from ..core.validate import check_choice, check_positive_int, check_scale, given
from .trunk import IMAGE_SHAPE, block_variables, build_trunk, check_trunk_scale, dead_fraction

DEAD_THRESHOLD = 0.99  # "died": at least 99 % of the last block's outputs exactly zero
TEST_FRACTION = 0.2  # of load_digits' 1,797 images: 1,437 train, 360 test
SPLIT_SEED = 0  # the train/test split is fixed, whatever the run's seed
OPTIMIZERS = ("sgd", "adam")
MOMENTUM = 0.9


@lru_cache(maxsize=1)
def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): load_digits (shipped inside scikit-learn, no
    download) as (N, 8, 8, 1) float32 in [0, 1], split once, stratified, seed 0."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32).reshape((-1, *IMAGE_SHAPE))
    y = digits.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=y)
    return x_train, y_train, x_test, y_test


def first_nonfinite(loss: object) -> int | None:
    """The first step whose loss is NaN or infinite (the run diverged there), else None."""
    values = np.asarray(loss, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    return int(bad[0]) if bad.size else None


def death_step(dead: object, threshold: float = DEAD_THRESHOLD) -> int | None:
    """The step from which the dead fraction stays >= ``threshold`` to the last measured step
    (NaN steps after a divergence are not measured), else None: the run "died" there."""
    values = np.asarray(dead, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size or values[-1] < threshold:
        return None
    alive = np.flatnonzero(values < threshold)
    return int(alive[-1]) + 1 if alive.size else 0


@dataclass(frozen=True, eq=False)
class TrunkRun:
    """One training run. Per-step arrays have ``steps`` rows (NaN after a divergence);
    ``grad_norm`` and ``residual_ratio`` are (steps, depth)."""

    width: int
    depth: int
    scale: float | str
    lr: float
    steps: int
    seed: int
    optimizer: str
    batch: int
    stem_stride: int
    loss: np.ndarray = field(repr=False)
    accuracy: np.ndarray = field(repr=False)
    grad_norm: np.ndarray = field(repr=False)
    residual_ratio: np.ndarray = field(repr=False)
    dead_fraction: np.ndarray = field(repr=False)
    diverged: bool
    diverged_step: int | None
    died: bool
    died_step: int | None
    test_accuracy: float  # NaN when the run diverged (its weights are not numbers)
    seconds: float = field(compare=False)

    ARRAYS = ("loss", "accuracy", "grad_norm", "residual_ratio", "dead_fraction")

    @property
    def stable(self) -> bool:
        """Neither diverged nor died."""
        return not (self.diverged or self.died)

    def __getitem__(self, name: str):
        if name not in self.__dataclass_fields__:
            raise KeyError(f"a trunk run has no {name!r}; it has "
                           f"{', '.join(self.__dataclass_fields__)}")
        return getattr(self, name)

    def to_dict(self, digits: int = 6) -> dict:
        """JSON-ready: arrays as lists rounded to ``digits`` significant figures, NaN as None."""
        out = asdict(self)
        for name in self.ARRAYS:
            out[name] = _rounded(getattr(self, name), digits)
        out["test_accuracy"] = None if math.isnan(self.test_accuracy) else self.test_accuracy
        return out

    @classmethod
    def from_dict(cls, data: dict) -> TrunkRun:
        values = dict(data)
        for name in cls.ARRAYS:
            values[name] = np.array(values[name], dtype=np.float64)  # None -> NaN
        if values["test_accuracy"] is None:
            values["test_accuracy"] = math.nan
        return cls(**values)

    def __str__(self) -> str:
        fate = (f"diverged at step {self.diverged_step}" if self.diverged else
                f"died at step {self.died_step}" if self.died else "trained")
        final = self.loss[np.isfinite(self.loss)]
        last = f"{final[-1]:.3f}" if final.size else "nan"
        dead = self.dead_fraction[np.isfinite(self.dead_fraction)]
        return (f"trunk width {self.width}, depth {self.depth}, scale {self.scale}, "
                f"{self.optimizer} lr {self.lr:g}, {self.steps} steps, seed {self.seed}: "
                f"{fate}; last loss {last}, test accuracy {self.test_accuracy:.3f}, "
                f"dead fraction at the last step {dead[-1]:.3f}")


def _rounded(values: np.ndarray, digits: int) -> list:
    flat = [None if not math.isfinite(v) else float(f"{v:.{digits}g}")
            for v in np.ravel(values).tolist()]
    return np.array(flat, dtype=object).reshape(values.shape).tolist()


def batch_order(n: int, steps: int, batch: int, seed: int) -> np.ndarray:
    """Indices (steps, batch): epochs of seeded permutations, drawn one after another."""
    rng = np.random.default_rng(seed)
    needed = steps * batch
    order = np.concatenate([rng.permutation(n) for _ in range(-(-needed // n))])
    return order[:needed].reshape(steps, batch)


def _make_optimizer(name: str, lr: float):
    import keras

    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=MOMENTUM)
    return keras.optimizers.Adam(learning_rate=lr)


def train_trunk(width: int, depth: int, scale: float | str, lr: float, steps: int,
                seed: int = 0, optimizer: str = "sgd", batch: int = 64,
                stem_stride: int = 1) -> TrunkRun:
    """Train a fresh trunk (seeded weights and batches) for ``steps`` steps; see the module.

    ``scale``: a number, "rezero" or "layerscale". ``optimizer``: "sgd" (momentum 0.9) or
    "adam". ``stem_stride`` 2 makes the blocks work at 4x4 instead of 8x8 (4x cheaper).
    Op determinism is switched on, so the same arguments give the same numbers.
    """
    import time

    import keras
    import tensorflow as tf

    scale = check_trunk_scale(scale)
    lr = check_scale(lr, name="lr", example="0.01")
    if lr <= 0:
        raise ValueError(f"lr: got {lr!r}; expected a learning rate > 0 such as 0.01")
    steps = check_positive_int("steps", steps)
    batch = check_positive_int("batch", batch)
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise TypeError(f"seed: got {given(seed)}; expected a whole number >= 0")
    tf.config.experimental.enable_op_determinism()
    start = time.perf_counter()
    x_train, y_train, x_test, y_test = digits_split()
    model = build_trunk(width, depth, scale, seed=int(seed), stem_stride=stem_stride)
    groups = [block_variables(model, i) for i in range(1, depth + 1)]
    variables = model.trainable_variables
    opt = _make_optimizer(optimizer, lr)
    opt.build(variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    index = {id(v): i for i, v in enumerate(variables)}

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            loss = loss_fn(y, out["logits"])
        grads = tape.gradient(loss, variables)
        norms = tf.stack([tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(grads[index[id(v)]]))
                                            for v in group])) for group in groups])
        ratios = tf.stack([tf.norm(s) / tf.norm(n)
                           for s, n in zip(out["scaled_ups"], out["nets"], strict=True)])
        hits = tf.equal(tf.argmax(out["logits"], axis=1, output_type=tf.int32), y)
        accuracy = tf.reduce_mean(tf.cast(hits, tf.float32))
        opt.apply_gradients(zip(grads, variables, strict=True))  # after the numbers above
        return loss, accuracy, norms, ratios, dead_fraction(out["last"])

    order = batch_order(len(x_train), steps, batch, int(seed))
    rows = np.full((steps, 3 + 2 * depth), np.nan)
    measured = 0
    for step in range(steps):
        loss, accuracy, norms, ratios, dead = train_step(
            tf.constant(x_train[order[step]]), tf.constant(y_train[order[step]]))
        rows[step] = [float(loss), float(accuracy), *norms.numpy(), *ratios.numpy(), float(dead)]
        measured = step + 1
        if not math.isfinite(rows[step, 0]):
            break
    loss, accuracy, dead = rows[:, 0], rows[:, 1], rows[:, -1]
    diverged_at = first_nonfinite(loss[:measured])
    if diverged_at is None:
        logits = model(tf.constant(x_test), training=False)["logits"].numpy()  # moving stats
        test_accuracy = float(np.mean(np.argmax(logits, axis=1) == y_test))
    else:
        test_accuracy = math.nan
    died_at = death_step(dead)
    return TrunkRun(width=model.trunk_config["width"], depth=model.trunk_config["depth"],
                    scale=scale, lr=lr, steps=steps, seed=int(seed), optimizer=optimizer,
                    batch=batch, stem_stride=model.trunk_config["stem_stride"],
                    loss=loss, accuracy=accuracy,
                    grad_norm=rows[:, 2:2 + depth], residual_ratio=rows[:, 2 + depth:2 + 2 * depth],
                    dead_fraction=dead, diverged=diverged_at is not None,
                    diverged_step=diverged_at, died=died_at is not None, died_step=died_at,
                    test_accuracy=test_accuracy, seconds=time.perf_counter() - start)

