"""The promises of the tracing page under misuse: a trace never changes the model (its variables,
metrics, losses, the random streams, other threads' work) and never crashes on size or depth."""

import threading

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import compose


class Stateful(keras.Model):
    """Updates a metric and adds a loss in `call`, draws unseeded noise, and needs an eager run
    (`.numpy()`), so every strategy, the eager one included, runs it."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(3)
        self.seen = keras.metrics.Mean(name="seen")

    def call(self, x):
        h = self.dense(x)
        self.seen.update_state(h)
        self.add_loss(keras.ops.sum(h))
        if float(np.asarray(h).sum()) > -1e9:  # a Python decision on a value: eager only
            h = h + 0.0 * keras.random.normal(keras.ops.shape(h))
        return h


def test_a_trace_changes_no_variable_loss_or_random_stream():
    keras.utils.set_random_seed(0)
    model = Stateful()
    x = np.ones((2, 4), "float32")
    model(x)
    seen = [v.numpy().copy() for v in model.seen.variables]
    losses = [float(loss) for loss in model.losses]
    keras.utils.set_random_seed(0)
    expected_draw = (keras.random.normal((3,)).numpy(), tf.random.normal((3,)).numpy())
    keras.utils.set_random_seed(0)
    result = compose.trace(model, x)
    assert result.strategy == "eager" and result.coverage.complete
    assert [v.numpy().tolist() for v in model.seen.variables] == [s.tolist() for s in seen]
    assert [float(loss) for loss in model.losses] == losses
    draw = (keras.random.normal((3,)).numpy(), tf.random.normal((3,)).numpy())
    np.testing.assert_array_equal(draw[0], expected_draw[0])
    np.testing.assert_array_equal(draw[1], expected_draw[1])


def test_a_trace_undoes_only_its_own_keras_nodes_not_another_threads(tmp_path):
    shared = layers.Dense(2, name="shared")
    built_elsewhere = {}

    def other_thread():
        x = keras.Input((3,))
        built_elsewhere["model"] = keras.Model(x, shared(x))

    class CallsOut(keras.Model):
        """While it is traced, another thread builds a Functional model on a shared layer."""

        def __init__(self):
            super().__init__()
            self.shared = shared

        def call(self, x):
            worker = threading.Thread(target=other_thread)
            worker.start()
            worker.join()
            return self.shared(x)

    compose.trace(CallsOut(), (None, 3))
    other = built_elsewhere["model"]
    other.save(tmp_path / "other.keras")
    loaded = keras.saving.load_model(tmp_path / "other.keras")
    assert [layer.name for layer in loaded.layers] == ["input_layer", "shared"] or len(loaded.layers) == 2


def test_a_trace_keeps_another_threads_training_step():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    kernel = model.layers[0].kernel
    moved = np.full(kernel.shape, 7.0, "float32")

    class Trains(keras.Model):
        """Another thread updates the shared kernel while this model is traced eagerly."""

        def __init__(self):
            super().__init__()
            self.inner = model

        def call(self, x):
            h = self.inner(x)
            if float(np.asarray(h).sum()) > -1e9:  # eager only
                worker = threading.Thread(target=lambda: kernel.assign(moved))
                worker.start()
                worker.join()
            return h

    traced = Trains()
    traced(np.ones((1, 3), "float32"))
    kernel.assign(np.zeros(kernel.shape, "float32"))
    compose.trace(traced, np.ones((2, 3), "float32"))
    np.testing.assert_array_equal(kernel.numpy(), moved)


class Chain(keras.Model):
    """Two layers with ``length`` TensorFlow ops in a row between them."""

    def __init__(self, length):
        super().__init__()
        self.length = length
        self.a, self.b = layers.Dense(4), layers.Dense(2)

    def call(self, x):
        h = self.a(x)
        for _ in range(self.length):
            h = tf.math.sin(h)
        return self.b(h)


def test_five_thousand_tensorflow_ops_in_a_row_trace_and_show():
    result = compose.trace(Chain(5000), (None, 3))
    assert result.coverage.complete and result.coverage.exact_edges == 5003
    assert "2/2 layers reached" in compose.summary(result, print_fn=None)


def test_containers_nested_150_deep_trace_in_every_strategy():
    class Wrap(layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

        def call(self, x):
            return self.inner(x)

    inner = layers.Dense(2)
    for _ in range(150):
        inner = Wrap(inner)
    model = keras.Sequential([keras.Input((3,)), inner])
    assert compose.trace(model).coverage.complete
    assert compose.trace(model, np.ones((2, 3), "float32")).coverage.complete


@pytest.mark.parametrize("bad,match", [
    ((None, -1), r"axis 1 is int -1"),
    ((None, 3.0), "3.0"),
])
def test_odd_input_shapes_are_refused_naming_them(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        compose.trace(layers.Dense(2), bad)
