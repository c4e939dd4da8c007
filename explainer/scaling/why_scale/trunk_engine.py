"""One built and compiled training step per trunk shape, reused by every run of that shape.

A grid trains the same trunk (width x depth) at many scales, learning rates and seeds. Building
a depth-20 Keras model and tracing its step takes longer than many of its runs, so
:class:`TrunkEngine` builds the model and its ``tf.function`` step once per (width, depth,
stem_stride, batchnorm, batch, optimizer). A run then only assigns values: the seed's initial
weights (:func:`.trunk.initial_weights`), the scale's gains, which gains train (a mask per
weight), the learning rate, and zeroed optimizer slots.

The optimizer is written out here (Keras' SGD with momentum and Adam formulas) so that its
state is plain variables that a run can reset.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache

import keras
import tensorflow as tf
from tensorflow.python.framework import config as tf_config  # the only switch-off there is

from ...core.spec import UP_SCOPE, keras_name
from .trunk import block_prefix, build_trunk_graph, initial_weights
from .trunk_args import gain_values

MOMENTUM = 0.9
ADAM = (0.9, 0.999, 1e-7)  # Keras' defaults: beta_1, beta_2, epsilon


@contextlib.contextmanager
def op_determinism():
    """TensorFlow's op determinism for the duration of a run, then as it was.

    Left on, it would make every later stateful random op in the process (a Keras
    initializer, tf-slim's graph) raise "Random ops require a seed"."""
    was_on = tf_config.is_op_determinism_enabled()
    tf_config.enable_op_determinism()
    try:
        yield
    finally:
        if not was_on:
            tf_config.disable_op_determinism()


class TrunkEngine:
    """A trunk model with its compiled training step and evaluation (see the module)."""

    def __init__(self, width: int, depth: int, stem_stride: int, batchnorm: bool, batch: int,
                 optimizer: str):
        self.depth, self.optimizer = depth, optimizer
        self.model = build_trunk_graph(width, depth, stem_stride, batchnorm)
        self.trainable = list(self.model.trainable_weights)
        self.masks = [tf.Variable(1.0, trainable=False, name=f"mask{i}")
                      for i in range(len(self.trainable))]
        slots = 1 if optimizer == "sgd" else 2
        self.slots = [[tf.Variable(tf.zeros(v.shape), trainable=False) for v in self.trainable]
                      for _ in range(slots)]
        self.lr = tf.Variable(0.0, trainable=False, name="lr")
        # per weight: the learning-rate multiplier (up_lr on every block's `up` conv, else 1)
        self.lr_multipliers = [tf.Variable(1.0, trainable=False, name=f"lr_multiplier{i}")
                               for i in range(len(self.trainable))]
        self.iterations = tf.Variable(0.0, trainable=False, name="iterations")
        position = {id(v): i for i, v in enumerate(self.trainable)}
        self.groups = []  # per block: indices of its trainable weights
        for index in range(1, depth + 1):
            prefix = block_prefix(index)
            self.groups.append([position[id(v)] for layer in self.model.layers
                                if layer.name.startswith(prefix) for v in layer.trainable_weights])
        self.gain_mask = {}  # index of a gain weight -> which gain it is
        for i, v in enumerate(self.trainable):
            name = v.path.rsplit("/", 1)[-1]
            if name in ("gain", "channel_gain"):
                self.gain_mask[i] = name
        up_layers = {block_prefix(index) + keras_name(UP_SCOPE) for index in range(1, depth + 1)}
        self.up_weights = [position[id(v)] for layer in self.model.layers
                           if layer.name in up_layers for v in layer.trainable_weights]
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.step = tf.function(self._step)
        self.evaluate = tf.function(self._evaluate)

    def reset(self, scale: float | str, lr: float, seed: int, up_init: float = 1.0,
              up_lr: float = 1.0) -> None:
        """Start a run: the seed's weights (every `up` conv's kernel and bias times
        ``up_init``), the scale's gains and masks, ``up_lr`` as the learning-rate multiplier of
        the `up` convs (1 elsewhere), zero optimizer state."""
        self.model.set_weights(initial_weights(self.model, scale, seed, up_init))
        for i, multiplier in enumerate(self.lr_multipliers):
            multiplier.assign(up_lr if i in self.up_weights else 1.0)
        _, _, train_gain, train_channel = gain_values(scale)
        trained = {"gain": train_gain, "channel_gain": train_channel}
        for i, mask in enumerate(self.masks):
            mask.assign(float(trained[self.gain_mask[i]]) if i in self.gain_mask else 1.0)
        for slot in self.slots:
            for variable in slot:
                variable.assign(tf.zeros(variable.shape))
        self.lr.assign(lr)
        self.iterations.assign(0.0)

    def _step(self, x, y):
        """One step; every number is measured before the update (step 0: as initialised)."""
        with tf.GradientTape() as tape:
            out = self.model(x, training=True)
            loss = self.loss_fn(y, out["logits"])
        grads = [g * m for g, m in zip(tape.gradient(loss, self.trainable), self.masks,
                                       strict=True)]
        norms = tf.stack([tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(grads[i])) for i in group]))
                          for group in self.groups])
        net_norms = tf.stack([tf.norm(n) for n in [*out["nets"], out["last"]]])
        ratios = tf.stack([tf.norm(s) for s in out["scaled_ups"]]) / net_norms[:-1]
        hits = tf.equal(tf.argmax(out["logits"], axis=1, output_type=tf.int32), y)
        accuracy = tf.reduce_mean(tf.cast(hits, tf.float32))
        dead = tf.reduce_mean(tf.cast(tf.equal(out["last"], 0.0), tf.float32))
        self._apply(grads)
        return loss, accuracy, norms, ratios, dead, net_norms

    def _apply(self, grads) -> None:
        if self.optimizer == "sgd":  # keras.optimizers.SGD(momentum=0.9)
            for v, g, m, k in zip(self.trainable, grads, self.slots[0], self.lr_multipliers,
                                  strict=True):
                m.assign(MOMENTUM * m - (self.lr * k) * g)
                v.assign_add(m)
            return
        beta_1, beta_2, epsilon = ADAM  # keras.optimizers.Adam
        self.iterations.assign_add(1.0)
        t = self.iterations
        alpha = self.lr * tf.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        for v, g, m, s, k in zip(self.trainable, grads, *self.slots, self.lr_multipliers,
                                 strict=True):
            m.assign_add((g - m) * (1 - beta_1))
            s.assign_add((tf.square(g) - s) * (1 - beta_2))
            v.assign_sub(m * (alpha * k) / (tf.sqrt(s) + epsilon))

    def _evaluate(self, x, y):
        """Test accuracy with the moving BatchNorm statistics."""
        logits = self.model(x, training=False)["logits"]
        hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), y)
        return tf.reduce_mean(tf.cast(hits, tf.float32))


@lru_cache(maxsize=4)
def trunk_engine(width: int, depth: int, stem_stride: int, batchnorm: bool, batch: int,
                 optimizer: str) -> TrunkEngine:
    """The engine of one trunk shape, built once per process (the last four are kept)."""
    return TrunkEngine(width, depth, stem_stride, batchnorm, batch, optimizer)
