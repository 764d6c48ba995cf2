"""Tracing cost against Keras's own Functional construction, and how it grows with depth.

Run: python benchmarks/trace.py
"""

import math

import keras
from _timing import best, best_pair
import numpy as np
import tensorflow as tf

from compose import trace
from compose.demo import HybridClassifier


class ResNet(keras.Model):
    def __init__(self, n_layers, tf_ops=False):
        super().__init__()
        self.tf_ops = tf_ops
        self.blocks = [keras.layers.Dense(8) for _ in range(n_layers)]

    def call(self, x):
        for dense in self.blocks:
            h = dense(x)
            x = x + (tf.nn.relu(h) if self.tf_ops else h)
        return x


def functional_twin(model):
    x = keras.Input((8,))
    h = x
    for dense in model.blocks:
        h = h + dense(h)
    return keras.Model(x, h)


def built(n, tf_ops=False):
    model = ResNet(n, tf_ops)
    model(np.ones((1, 8), "float32"))
    return model


model = built(200)
t_trace, t_keras = best_pair(lambda: trace(model, (None, 8)), lambda: functional_twin(model), repeat=9)
print(f"200-layer residual net: trace {t_trace:.3f}s, Keras Functional twin {t_keras:.3f}s, "
      f"ratio {t_trace / t_keras:.2f} (target <= 1.2)")

small, large = built(100), built(800)
t100 = best(lambda: trace(small, (None, 8)))
t800 = best(lambda: trace(large, (None, 8)))
print(f"trace 100 layers {t100:.3f}s, 800 layers {t800:.3f}s, "
      f"exponent {math.log(t800 / t100) / math.log(8):.2f} (target <= 1.1)")

ops_model = built(100, tf_ops=True)
t_graph = best(lambda: trace(ops_model, (None, 8)))
result = trace(ops_model, (None, 8))
t_symbolic = best(lambda: trace(small, (None, 8)))
print(f"graph strategy ({result.strategy}) on 100 layers with tf ops: {t_graph:.3f}s, "
      f"{t_graph / t_symbolic:.2f}x the symbolic trace of the same depth without tf ops")

hybrid = HybridClassifier()
batch = np.ones((2, 8), "float32")
hybrid(batch, inspect=True)
t_eager, t_call = best_pair(lambda: trace(hybrid, (None, 8), inspect=True), lambda: hybrid(batch, inspect=True), repeat=9)
result = trace(hybrid, (None, 8), inspect=True)
print(f"eager strategy ({result.strategy}) on the demo model: {t_eager:.3f}s for the symbolic and graph "
      f"attempts and two eager runs, {t_eager / t_call:.0f}x one eager call of the model")
