"""The block itself; imports nothing from the other folders.

``spec`` (tables), ``schedule`` (the real nets' scales, read from the original code),
``validate``, ``weight_tables`` (slim names, shapes, seeded values), ``reference`` (the numpy
block35) and ``lesson`` (the lesson's block and input) need no TensorFlow. ``blocks`` (the
Keras block), ``weights`` (in and out of it), ``tracing`` and ``quiet`` are the TensorFlow side.
"""
