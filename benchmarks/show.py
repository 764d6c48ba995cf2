"""Showing cost against Keras: compose.summary of a 200-layer subclassed net vs Keras's summary of
its Functional twin (target ratio <= 1.5), and plot-to-DOT vs Keras's `model_to_dot`.

compose's times include tracing the model, as a user calling `compose.summary(model)` pays it;
the "given a Trace" lines show the cost of the showing alone.

Run: python benchmarks/show.py
"""

import os

import tempfile

import keras
from _timing import best
import numpy as np

import compose
from compose import trace

N_LAYERS = 200


class ResNet(keras.Model):
    def __init__(self, n_layers):
        super().__init__()
        self.blocks = [keras.layers.Dense(8) for _ in range(n_layers)]

    def call(self, x):
        for dense in self.blocks:
            x = x + dense(x)
        return x


def functional_twin(n_layers):
    x = keras.Input((8,))
    h = x
    for i in range(n_layers):
        h = h + keras.layers.Dense(8, name=f"blocks.{i}")(h)
    return keras.Model(x, h)


def quiet(*args, **kwargs):
    """A print_fn that drops the text: we time making the table, not the terminal."""


model = ResNet(N_LAYERS)
model(np.ones((1, 8), "float32"))
twin = functional_twin(N_LAYERS)
traced = trace(model, (None, 8))
dot_path = os.path.join(tempfile.mkdtemp(), "model.dot")

t_keras_summary = best(repeat=5, fn=lambda: twin.summary(print_fn=quiet))
t_summary = best(repeat=5, fn=lambda: compose.summary(model, (None, 8), print_fn=None))
t_summary_trace = best(repeat=5, fn=lambda: compose.summary(traced, print_fn=None))
t_keras_dot = best(repeat=5, fn=lambda: keras.utils.model_to_dot(twin, show_shapes=True))
t_plot = best(repeat=5, fn=lambda: compose.plot(model, (None, 8), to_file=dot_path))
t_plot_trace = best(repeat=5, fn=lambda: compose.plot(traced, to_file=dot_path))

print(f"{N_LAYERS}-layer residual net ({len(traced.graph)} nodes in the trace)")
print(f"summary: compose {t_summary:.3f}s vs Keras (Functional twin) {t_keras_summary:.3f}s, "
      f"ratio {t_summary / t_keras_summary:.2f} (target <= 1.5); "
      f"given a Trace {t_summary_trace:.3f}s, ratio {t_summary_trace / t_keras_summary:.2f}")
print(f"plot to DOT: compose {t_plot:.3f}s vs Keras model_to_dot {t_keras_dot:.3f}s, "
      f"ratio {t_plot / t_keras_dot:.2f}; "
      f"given a Trace {t_plot_trace:.3f}s, ratio {t_plot_trace / t_keras_dot:.2f}")
