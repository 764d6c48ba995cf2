"""A model choosing between two layers with `tf.cond` on a value of its input.

Source: the `tf.cond` reference example of TensorFlow
(https://www.tensorflow.org/api_docs/python/tf/cond, "fun2": `pred = x > 0`, `true_fn = lambda:
...`, `false_fn = lambda: ...`, `tf.cond(pred, true_fn, false_fn)`). The TensorFlow authors.
License: Apache-2.0 (code samples). No example of the Keras gallery calls `tf.cond` in a model's
`call`, so this entry puts the reference example's pattern in one, with a layer in each branch;
the predicate is the mean of the input, so only a graph trace sees both branches.
Changed: the example's scalars become a batch of features and its `y+1`/`y-1` two Dense layers
(8 units); the layers around the cond are ours.
"""

import keras
import numpy as np
import tensorflow as tf

SOURCE = "https://www.tensorflow.org/api_docs/python/tf/cond"
FEATURES = ("tf_cond", "data_dependent_branch", "layers_in_branches")


class Gated(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encode = keras.layers.Dense(8, activation="relu")
        self.up = keras.layers.Dense(8)
        self.down = keras.layers.Dense(8)
        self.head = keras.layers.Dense(2)

    def call(self, x):
        y = self.encode(x)
        pred = tf.reduce_mean(x) > 0
        true_fn = lambda: self.up(y)  # noqa: E731 (the reference example's form)
        false_fn = lambda: self.down(y)  # noqa: E731
        return self.head(tf.cond(pred, true_fn, false_fn))


def build():
    model = Gated(name="gated")
    x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    model(x)
    return model, (x,), {}
