"""Train the miniature trunk on scikit-learn's bundled digits and record what the paper watched.

:func:`train_trunk` returns a :class:`TrunkRun` with, for every step, the numbers of that
step's forward and backward pass *before* its update (so step 0 describes the trunk as
initialised): loss, batch accuracy, gradient norm per block, ||scale * up|| / ||net|| per
block, and the fraction of the last block's output units that are exactly zero; and, at step 0,
the norm of the stream before and after every block (its growth with depth).

A run stops at the first non-finite loss ("diverged"). It "died" when the last block's output
is at least 99 % zeros from some step to the end of the run. With ``stop_when_dead`` it also
stops once every unit of the last block has been exactly zero for :data:`DEAD_PATIENCE` steps
in a row: a ReLU that outputs 0 everywhere passes no gradient back, so nothing below it learns
any more and only the optimizer's decaying momentum still moves the weights; the run records
``stopped_step`` and its later steps are not measured (NaN).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from ...core.backend import require_tensorflow
from ...core.validate import check_choice, check_scale, given
from .trunk_args import IMAGE_SHAPE, check_trunk_arguments

DEAD_THRESHOLD = 0.99  # "died": at least 99 % of the last block's outputs exactly zero
DEAD_PATIENCE = 20  # steps of a wholly zero last block after which a run may stop (module doc)
TEST_FRACTION = 0.2  # of load_digits' 1,797 images: 1,437 train, 360 test
SPLIT_SEED = 0  # the train/test split is fixed, whatever the run's seed
OPTIMIZERS = ("sgd", "adam")
# train_trunk's parameters, in order: a stored run keeps them under these names
PARAMETERS = ("width", "depth", "scale", "lr", "steps", "seed", "optimizer", "batch",
              "stem_stride", "batchnorm", "stop_when_dead", "up_init", "up_lr")
# Parameters added after runs were first stored: a stored record without one ran with this value
LATER_PARAMETERS = {"up_init": 1.0, "up_lr": 1.0}


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
    """One training run: its arguments, per-step arrays (``steps`` rows; NaN where a step was
    not run, after a divergence or a final death), step-0 arrays per block, and verdicts.

    Per step: ``loss``, batch ``accuracy``, ``dead_fraction`` of the last block's outputs,
    ``grad_norm`` (of every block's weights together) and ``residual_ratio`` (the last
    block's ||scale*up|| / ||net||). At step 0, per block: ``step0_grad_norm``,
    ``step0_residual_ratio``, and ``step0_net_norm`` (depth + 1: the stream before block 1
    and after each block).
    """

    width: int
    depth: int
    scale: float | str
    lr: float
    steps: int
    seed: int
    optimizer: str
    batch: int
    stem_stride: int
    batchnorm: bool
    stop_when_dead: bool
    up_init: float
    up_lr: float
    loss: np.ndarray = field(repr=False)
    accuracy: np.ndarray = field(repr=False)
    dead_fraction: np.ndarray = field(repr=False)
    grad_norm: np.ndarray = field(repr=False)
    residual_ratio: np.ndarray = field(repr=False)
    step0_grad_norm: np.ndarray = field(repr=False)
    step0_residual_ratio: np.ndarray = field(repr=False)
    step0_net_norm: np.ndarray = field(repr=False)
    diverged: bool
    diverged_step: int | None
    died: bool
    died_step: int | None
    stopped_step: int | None  # the step a final death ended the run at, else None
    test_accuracy: float  # NaN when the run diverged (its weights are not numbers)
    seconds: float = field(compare=False)

    ARRAYS = ("loss", "accuracy", "dead_fraction", "grad_norm", "residual_ratio",
              "step0_grad_norm", "step0_residual_ratio", "step0_net_norm")

    @property
    def stable(self) -> bool:
        """Neither diverged nor died."""
        return not (self.diverged or self.died)

    @property
    def fate(self) -> str:
        return "diverged" if self.diverged else "died" if self.died else "trained"

    @property
    def growth(self) -> float:
        """||net after the last block|| / ||net before block 1|| at step 0."""
        return float(self.step0_net_norm[-1] / self.step0_net_norm[0])

    def arguments(self) -> dict:
        """The keyword arguments of :func:`train_trunk` that rerun this run."""
        return {name: getattr(self, name) for name in PARAMETERS}

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
        out["seconds"] = round(self.seconds, 2)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> TrunkRun:
        """A run from :meth:`to_dict`'s form; a missing or malformed field is a ValueError."""
        data = {**LATER_PARAMETERS, **data}
        missing = [name for name in cls.__dataclass_fields__ if name not in data]
        if missing:
            raise ValueError(f"run: got a record without {', '.join(missing)}; expected a "
                             "record written by TrunkRun.to_dict")
        values = {name: data[name] for name in cls.__dataclass_fields__}
        try:
            for name in cls.ARRAYS:
                values[name] = np.array(values[name], dtype=np.float64)  # None -> NaN
        except (TypeError, ValueError) as err:
            raise ValueError(f"run: the array {name!r} does not read as numbers ({err})") from None
        if values["test_accuracy"] is None:
            values["test_accuracy"] = math.nan
        return cls(**values)

    def describe(self) -> str:
        """The run's setting: depth, width, batch, steps, scale, optimizer and seed."""
        return (f"depth {self.depth}, width {self.width}, scale {scale_text(self.scale)}, "
                + arm_text(self.up_init, self.up_lr)
                + f"{self.optimizer} lr {self.lr:g}, batch {self.batch}, {self.steps} steps, "
                f"seed {self.seed}" + ("" if self.batchnorm else ", no BatchNorm"))

    def __str__(self) -> str:
        fate = (f"diverged at step {self.diverged_step}" if self.diverged else
                f"died at step {self.died_step}" if self.died else "trained")
        if self.stopped_step is not None:
            fate += f" (stopped at step {self.stopped_step}: last block all zeros)"
        final = self.loss[np.isfinite(self.loss)]
        last = f"{final[-1]:.3f}" if final.size else "nan"
        dead = self.dead_fraction[np.isfinite(self.dead_fraction)]
        accuracy = "undefined" if math.isnan(self.test_accuracy) else f"{self.test_accuracy:.3f}"
        return (f"trunk {self.describe()}: {fate}; last loss {last}, test accuracy {accuracy}, "
                f"dead fraction at the last measured step {dead[-1]:.3f}")


def scale_text(scale: float | str) -> str:
    return scale if isinstance(scale, str) else f"{scale:g}"


def arm_text(up_init: float, up_lr: float) -> str:
    """The `up` conv's multipliers as a phrase ("up_init 0.1, "), empty when both are 1."""
    parts = [f"{name} {value:g}" for name, value in (("up_init", up_init), ("up_lr", up_lr))
             if value != 1.0]
    return "".join(part + ", " for part in parts)


def check_multiplier(name: str, value: object) -> float:
    """A finite multiplier > 0 (``up_init``, ``up_lr``)."""
    value = check_scale(value, name=name, example="0.1")
    if value <= 0:
        raise ValueError(f"{name}: got {value!r}; expected a multiplier > 0 such as 0.1 "
                         "(1 leaves the `up` conv as it is)")
    return value


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


def check_lr(lr: object) -> float:
    lr = check_scale(lr, name="lr", example="0.01")
    if lr <= 0:
        raise ValueError(f"lr: got {lr!r}; expected a learning rate > 0 such as 0.01")
    return lr


def train_trunk(width: int, depth: int, scale: float | str, lr: float, steps: int,
                seed: int = 0, optimizer: str = "sgd", batch: int = 16, stem_stride: int = 2,
                batchnorm: bool = True, stop_when_dead: bool = False, up_init: float = 1.0,
                up_lr: float = 1.0) -> TrunkRun:
    """Train a fresh trunk (seeded weights and batches) for ``steps`` steps; see the module.

    ``up_init`` and ``up_lr`` act on every block's `up` conv (the 1x1 conv whose output is
    scaled; kernel and bias) and on nothing else: ``up_init`` multiplies its initial weights,
    ``up_lr`` its learning rate (the update, not the gradient). They split what a constant
    ``scale=s`` does under training: with SGD (momentum, no weight decay) ``scale=s`` is the
    same run as ``scale=1, up_init=s, up_lr=s**2`` (the folded weights ``s*W`` move at ``s**2``
    the rate); with Adam, which divides out the gradient's size, the matching ``up_lr`` is
    ``s`` (tests/test_reparametrisation.py).

    ``scale``: a number, "rezero" or "layerscale". ``optimizer``: "sgd" (momentum 0.9) or
    "adam". ``stem_stride`` 2 makes the blocks work at 4x4 (1: 8x8, 4x the cost).
    ``batchnorm=False``: branches without BatchNorm. The trunk of each shape is built and
    compiled once per process and reused (:mod:`.trunk_engine`). Op determinism is on, so the
    same arguments give the same numbers on one machine.
    """
    require_tensorflow("train_trunk (a tf.function training step)")
    import time

    import tensorflow as tf

    from .trunk_engine import op_determinism, trunk_engine

    args = check_trunk_arguments(width=width, depth=depth, scale=scale, seed=seed,
                                 stem_stride=stem_stride, batchnorm=batchnorm, steps=steps,
                                 batch=batch)
    lr = check_lr(lr)
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    if not isinstance(stop_when_dead, bool):
        raise TypeError(f"stop_when_dead: got {given(stop_when_dead)}; expected True or False")
    up_init, up_lr = check_multiplier("up_init", up_init), check_multiplier("up_lr", up_lr)
    width, depth, steps, batch, seed = (args[k] for k in ("width", "depth", "steps", "batch",
                                                          "seed"))
    start = time.perf_counter()
    x_train, y_train, x_test, y_test = digits_split()
    engine = trunk_engine(width, depth, args["stem_stride"], args["batchnorm"], batch, optimizer)
    with op_determinism():
        engine.reset(args["scale"], lr, seed, up_init, up_lr)
        order = batch_order(len(x_train), steps, batch, seed)
        rows = np.full((steps, 5), np.nan)
        step0 = None
        zero_run, stopped, diverged_at = 0, None, None
        for step in range(steps):
            loss, accuracy, norms, ratios, dead, net_norms = engine.step(
                tf.constant(x_train[order[step]]), tf.constant(y_train[order[step]]))
            norms, ratios = norms.numpy().astype(np.float64), ratios.numpy().astype(np.float64)
            if step0 is None:
                step0 = (norms, ratios, net_norms.numpy().astype(np.float64))
            rows[step] = [float(loss), float(accuracy), float(dead),
                          math.sqrt(float(np.sum(np.square(norms)))), ratios[-1]]
            if not math.isfinite(rows[step, 0]):
                diverged_at = step
                break
            zero_run = zero_run + 1 if rows[step, 2] == 1.0 else 0
            if stop_when_dead and zero_run >= DEAD_PATIENCE and step + 1 < steps:
                stopped = step + 1
                break
        test_accuracy = math.nan  # undefined: a diverged run's weights are not numbers
        if diverged_at is None:
            test_accuracy = float(engine.evaluate(tf.constant(x_test), tf.constant(y_test)))
    loss, dead = rows[:, 0], rows[:, 2]
    died_at = death_step(dead)
    return TrunkRun(**{**args, "lr": lr, "optimizer": optimizer,
                       "stop_when_dead": stop_when_dead, "up_init": up_init, "up_lr": up_lr},
                    loss=loss, accuracy=rows[:, 1], dead_fraction=dead, grad_norm=rows[:, 3],
                    residual_ratio=rows[:, 4], step0_grad_norm=step0[0],
                    step0_residual_ratio=step0[1], step0_net_norm=step0[2],
                    diverged=diverged_at is not None, diverged_step=diverged_at,
                    died=died_at is not None, died_step=died_at, stopped_step=stopped,
                    test_accuracy=test_accuracy, seconds=time.perf_counter() - start)
