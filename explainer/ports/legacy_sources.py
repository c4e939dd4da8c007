"""The original TF1 texts of block35, block17 and block8, and the edits TF 2.21 needs.

facenet's Inception-ResNet-v1 (``src/models/inception_resnet_v1.py``) and tf-models' slim
Inception-ResNet-v2 (``research/slim/nets/inception_resnet_v2.py``, which computes
``scaled_up = up * scale`` and clips it to [-6, 6] when the activation is relu6), each block
with the imports at the top of its file. facenet's blocks are stored with their concat line in
the TF 0.12 spelling, ``tf.concat(3, [...])`` (axis first, as tf-models' slim file wrote it
before TF 1.0), so that the port shows that change too; facenet's file today writes
``tf.concat(axis=3, values=[...])`` and is otherwise the same text: :func:`facenet_today`
gives it. :data:`CHANGES` lists every edit that makes the stored texts run on TF 2.21 with
tf-slim 1.1.0. Plain text, no TensorFlow: :mod:`.legacy` compiles and runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.block_tables import BLOCK_KINDS, check_block_kind

# facenet src/models/inception_resnet_v1.py, its concat in the TF 0.12 spelling (axis first);
# facenet_today() gives the file's current concat line.
ORIGINAL_V1 = '''\
import tensorflow as tf
import tensorflow.contrib.slim as slim

# Inception-Renset-A
def block35(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Builds the 35x35 resnet block."""
    with tf.variable_scope(scope, 'Block35', [net], reuse=reuse):
        with tf.variable_scope('Branch_0'):
            tower_conv = slim.conv2d(net, 32, 1, scope='Conv2d_1x1')
        with tf.variable_scope('Branch_1'):
            tower_conv1_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
            tower_conv1_1 = slim.conv2d(tower_conv1_0, 32, 3, scope='Conv2d_0b_3x3')
        with tf.variable_scope('Branch_2'):
            tower_conv2_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
            tower_conv2_1 = slim.conv2d(tower_conv2_0, 32, 3, scope='Conv2d_0b_3x3')
            tower_conv2_2 = slim.conv2d(tower_conv2_1, 32, 3, scope='Conv2d_0c_3x3')
        mixed = tf.concat(3, [tower_conv, tower_conv1_1, tower_conv2_2])
        up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                         activation_fn=None, scope='Conv2d_1x1')
        net += scale * up
        if activation_fn:
            net = activation_fn(net)
    return net
'''

# tensorflow/models research/slim/nets/inception_resnet_v2.py, with the relu6 clip.
ORIGINAL_V2 = '''\
import tensorflow as tf

slim = tf.contrib.slim


def block35(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
  """Builds the 35x35 resnet block."""
  with tf.variable_scope(scope, 'Block35', [net], reuse=reuse):
    with tf.variable_scope('Branch_0'):
      tower_conv = slim.conv2d(net, 32, 1, scope='Conv2d_1x1')
    with tf.variable_scope('Branch_1'):
      tower_conv1_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
      tower_conv1_1 = slim.conv2d(tower_conv1_0, 32, 3, scope='Conv2d_0b_3x3')
    with tf.variable_scope('Branch_2'):
      tower_conv2_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
      tower_conv2_1 = slim.conv2d(tower_conv2_0, 48, 3, scope='Conv2d_0b_3x3')
      tower_conv2_2 = slim.conv2d(tower_conv2_1, 64, 3, scope='Conv2d_0c_3x3')
    mixed = tf.concat(axis=3, values=[tower_conv, tower_conv1_1, tower_conv2_2])
    up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                     activation_fn=None, scope='Conv2d_1x1')
    scaled_up = up * scale
    if activation_fn == tf.nn.relu6:
      # Use clip_by_value to simulate bandpass activation.
      scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)

    net += scaled_up
    if activation_fn:
      net = activation_fn(net)
  return net
'''

# The same files' block17 (Inception-ResNet-B) and block8 (Inception-ResNet-C).
ORIGINAL_BLOCK17_V1 = '''\
import tensorflow as tf
import tensorflow.contrib.slim as slim

# Inception-Renset-B
def block17(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Builds the 17x17 resnet block."""
    with tf.variable_scope(scope, 'Block17', [net], reuse=reuse):
        with tf.variable_scope('Branch_0'):
            tower_conv = slim.conv2d(net, 128, 1, scope='Conv2d_1x1')
        with tf.variable_scope('Branch_1'):
            tower_conv1_0 = slim.conv2d(net, 128, 1, scope='Conv2d_0a_1x1')
            tower_conv1_1 = slim.conv2d(tower_conv1_0, 128, [1, 7],
                                        scope='Conv2d_0b_1x7')
            tower_conv1_2 = slim.conv2d(tower_conv1_1, 128, [7, 1],
                                        scope='Conv2d_0c_7x1')
        mixed = tf.concat(3, [tower_conv, tower_conv1_2])
        up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                         activation_fn=None, scope='Conv2d_1x1')
        net += scale * up
        if activation_fn:
            net = activation_fn(net)
    return net
'''

ORIGINAL_BLOCK17_V2 = '''\
import tensorflow as tf

slim = tf.contrib.slim


def block17(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
  """Builds the 17x17 resnet block."""
  with tf.variable_scope(scope, 'Block17', [net], reuse=reuse):
    with tf.variable_scope('Branch_0'):
      tower_conv = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
    with tf.variable_scope('Branch_1'):
      tower_conv1_0 = slim.conv2d(net, 128, 1, scope='Conv2d_0a_1x1')
      tower_conv1_1 = slim.conv2d(tower_conv1_0, 160, [1, 7],
                                  scope='Conv2d_0b_1x7')
      tower_conv1_2 = slim.conv2d(tower_conv1_1, 192, [7, 1],
                                  scope='Conv2d_0c_7x1')
    mixed = tf.concat(axis=3, values=[tower_conv, tower_conv1_2])
    up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                     activation_fn=None, scope='Conv2d_1x1')

    scaled_up = up * scale
    if activation_fn == tf.nn.relu6:
      # Use clip_by_value to simulate bandpass activation.
      scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)

    net += scaled_up
    if activation_fn:
      net = activation_fn(net)
  return net
'''

ORIGINAL_BLOCK8_V1 = '''\
import tensorflow as tf
import tensorflow.contrib.slim as slim

# Inception-Resnet-C
def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """Builds the 8x8 resnet block."""
    with tf.variable_scope(scope, 'Block8', [net], reuse=reuse):
        with tf.variable_scope('Branch_0'):
            tower_conv = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
        with tf.variable_scope('Branch_1'):
            tower_conv1_0 = slim.conv2d(net, 192, 1, scope='Conv2d_0a_1x1')
            tower_conv1_1 = slim.conv2d(tower_conv1_0, 192, [1, 3],
                                        scope='Conv2d_0b_1x3')
            tower_conv1_2 = slim.conv2d(tower_conv1_1, 192, [3, 1],
                                        scope='Conv2d_0c_3x1')
        mixed = tf.concat(3, [tower_conv, tower_conv1_2])
        up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                         activation_fn=None, scope='Conv2d_1x1')
        net += scale * up
        if activation_fn:
            net = activation_fn(net)
    return net
'''

ORIGINAL_BLOCK8_V2 = '''\
import tensorflow as tf

slim = tf.contrib.slim


def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
  """Builds the 8x8 resnet block."""
  with tf.variable_scope(scope, 'Block8', [net], reuse=reuse):
    with tf.variable_scope('Branch_0'):
      tower_conv = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
    with tf.variable_scope('Branch_1'):
      tower_conv1_0 = slim.conv2d(net, 192, 1, scope='Conv2d_0a_1x1')
      tower_conv1_1 = slim.conv2d(tower_conv1_0, 224, [1, 3],
                                  scope='Conv2d_0b_1x3')
      tower_conv1_2 = slim.conv2d(tower_conv1_1, 256, [3, 1],
                                  scope='Conv2d_0c_3x1')
    mixed = tf.concat(axis=3, values=[tower_conv, tower_conv1_2])
    up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None,
                     activation_fn=None, scope='Conv2d_1x1')

    scaled_up = up * scale
    if activation_fn == tf.nn.relu6:
      # Use clip_by_value to simulate bandpass activation.
      scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)

    net += scaled_up
    if activation_fn:
      net = activation_fn(net)
  return net
'''

ORIGINALS_BY_BLOCK = {
    "block35": {"v1": ORIGINAL_V1, "v2": ORIGINAL_V2},
    "block17": {"v1": ORIGINAL_BLOCK17_V1, "v2": ORIGINAL_BLOCK17_V2},
    "block8": {"v1": ORIGINAL_BLOCK8_V1, "v2": ORIGINAL_BLOCK8_V2},
}
ORIGINALS = ORIGINALS_BY_BLOCK["block35"]
SOURCES = {"v1": "facenet src/models/inception_resnet_v1.py (concat in the TF 0.12 spelling)",
           "v2": "tensorflow/models research/slim/nets/inception_resnet_v2.py"}


# facenet's concat lines as its file writes them today (TF >= 1.0: keyword arguments).
FACENET_CONCAT_TODAY = {
    "tf.concat(3, [tower_conv, tower_conv1_1, tower_conv2_2])":
        "tf.concat(axis=3, values=[tower_conv, tower_conv1_1, tower_conv2_2])",
    "tf.concat(3, [tower_conv, tower_conv1_2])": "tf.concat(axis=3, values=[tower_conv, "
                                                 "tower_conv1_2])",
}


def facenet_today(block: str = "block35") -> str:
    """facenet's block as its file writes it today: the stored text with the concat line in
    the TF 1.0 spelling, ``tf.concat(axis=3, values=[...])``."""
    text = ORIGINALS_BY_BLOCK[check_block_kind(block)]["v1"]
    for old, new in FACENET_CONCAT_TODAY.items():
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class Change:
    """One edit that the TF1 code needs on TF 2.21: ``old`` -> ``new`` in the text, and why."""

    variant: str  # "v1", "v2", or "both"
    old: str
    new: str
    why: str
    blocks: tuple[str, ...] = BLOCK_KINDS  # the block kinds whose text it applies to


_CONCAT_WHY = ("TF 1.0 swapped the arguments to tf.concat(values, axis); the old order passes "
               "the list as the axis")
CHANGES = (
    Change("v1", "import tensorflow.contrib.slim as slim", "import tf_slim as slim",
           "tf.contrib was removed in TF 2.0; slim lives on as the tf-slim package"),
    Change("v2", "slim = tf.contrib.slim", "import tf_slim as slim",
           "tf.contrib was removed in TF 2.0; slim lives on as the tf-slim package"),
    Change("both", "tf.variable_scope(", "tf.compat.v1.variable_scope(",
           "variable scopes are TF1 graph API, kept only under tf.compat.v1"),
    Change("v1", "tf.concat(3, [tower_conv, tower_conv1_1, tower_conv2_2])",
           "tf.concat([tower_conv, tower_conv1_1, tower_conv2_2], 3)", _CONCAT_WHY,
           ("block35",)),
    Change("v1", "tf.concat(3, [tower_conv, tower_conv1_2])",
           "tf.concat([tower_conv, tower_conv1_2], 3)", _CONCAT_WHY, ("block17", "block8")),
)
