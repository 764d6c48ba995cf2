"""Functional twins of models with data-dependent control flow, and twins verified call by call.

A recorded `tf.cond` (or a Python `if` on a tensor, which AutoGraph converts) becomes a `Cond`
layer holding each branch as a Functional model of the model's own layers; a loop calling layers
is refused by name. A twin that computes something else is refused naming the first recorded
call that differs.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import compose
from compose._reuse._cond import Cond


def both_ways(shape=(3, 4), seed=0):
    """Inputs whose mean is positive, and their negation: a cond on the sign takes each branch."""
    x = np.random.default_rng(seed).standard_normal(shape).astype("float32")
    x = x if x.mean() > 0 else -x
    return x, -x


class Gated(keras.Model):
    """A Python `if` on a tensor: AutoGraph makes it a tf.cond with a layer in each branch."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encode = layers.Dense(4, name="encode")
        self.up, self.down = layers.Dense(4, name="up"), layers.Dense(4, name="down")
        self.head = layers.Dense(2, name="head")

    def call(self, x):
        h = self.encode(x)
        if tf.reduce_mean(x) > 0:
            h = self.up(h)
        else:
            h = self.down(h) * 2.0
        return self.head(h)


def cond_layer(twin):
    return next(layer for layer in twin.layers if isinstance(layer, Cond))


def test_a_cond_becomes_a_layer_holding_each_branch_and_equals_the_model_on_both():
    model = Gated(name="gated")
    x, negated = both_ways()
    model(x)
    twin = compose.to_functional(model, (None, 4))
    cond = cond_layer(twin)
    # Each branch is a Functional model of the model's very layers: training the twin trains them.
    assert cond.then_branch.get_layer("up") is model.up
    assert cond.else_branch.get_layer("down") is model.down
    assert {id(w) for w in cond.trainable_weights} == {id(w) for w in [*model.up.trainable_weights, *model.down.trainable_weights]}
    for inputs in (x, negated):
        np.testing.assert_allclose(twin(inputs), model(inputs), rtol=1e-6, atol=1e-6)
    assert "up" in twin.compose_layer_names and "down" in twin.compose_layer_names


def test_a_twin_with_a_cond_saves_loads_safely_and_clones(tmp_path):
    model = Gated(name="gated")
    x, negated = both_ways()
    model(x)
    twin = compose.to_functional(model, (None, 4))
    path = os.path.join(tmp_path, "twin.keras")
    twin.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    clone = keras.models.clone_model(twin)
    clone.set_weights(twin.get_weights())
    for inputs in (x, negated):
        np.testing.assert_allclose(loaded(inputs), model(inputs), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(clone(inputs), model(inputs), rtol=1e-6, atol=1e-6)
    assert cond_layer(loaded).then_branch.get_layer("up") is not model.up  # its own, loaded


def test_training_the_twin_trains_the_branch_the_inputs_take():
    model = Gated(name="gated")
    x, negated = both_ways((8, 4))
    model(x)
    twin = compose.to_functional(model, (None, 4))
    up, down = model.up.kernel.numpy(), model.down.kernel.numpy()
    twin.compile(optimizer="sgd", loss="mse")
    twin.fit(x, np.ones((8, 2), "float32"), epochs=1, verbose=0)
    assert not np.allclose(model.up.kernel.numpy(), up)
    np.testing.assert_array_equal(model.down.kernel.numpy(), down)  # the branch not taken


class Nested(keras.Model):
    """A cond inside a branch, a branch of ops only, and a cond returning two tensors."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a, self.b, self.c = layers.Dense(3, name="a"), layers.Dense(3, name="b"), layers.Dense(3, name="c")

    def call(self, x):
        h = self.a(x)

        def outer():
            return tf.cond(tf.reduce_max(h) > 1.0, lambda: self.b(h), lambda: tf.nn.relu(h))

        left, right = tf.cond(tf.reduce_mean(x) > 0, lambda: (outer(), h), lambda: (self.c(x), h * 3.0))
        return left + right


def test_nested_conds_ops_only_branches_and_several_results():
    model = Nested(name="nested")
    x, negated = both_ways()
    model(x)
    twin = compose.to_functional(model, (None, 4))
    for inputs in (x, negated, x * 10.0, x * 0.01):
        np.testing.assert_allclose(twin(inputs), model(inputs), rtol=1e-5, atol=1e-5)
    inner = next(layer for layer in cond_layer(twin).then_branch.layers if isinstance(layer, Cond))
    assert inner.then_branch.get_layer("b") is model.b


class Sneaky(keras.Model):
    """The branch not taken on the trace's inputs uses a value of the batch size, which the
    trace (batch size unknown) sees as 1: only inputs taking that branch show it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.up, self.down = layers.Dense(2, name="up"), layers.Dense(2, name="down")

    def call(self, x):
        return tf.cond(tf.reduce_mean(x) > 0, lambda: self.up(x), lambda: self.down(x) * float(x.shape[0] or 1))


def test_the_twin_is_verified_on_inputs_taking_each_branch():
    model = Sneaky(name="sneaky")
    x, _ = both_ways()
    model(x)
    with pytest.raises(compose.TraceError, match=r"computes output 0 differently from the model on inputs taking another branch of 'cond' than the trace's \(max abs diff .*\); it differs inside a branch of 'cond'"):
        compose.to_functional(model, x)


class BatchScaled(keras.Model):
    """Reads the batch size in Python: the trace, on an unknown batch size, bakes in 1."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.body, self.head = layers.Dense(4, name="body"), layers.Dense(2, name="head")

    def call(self, x):
        h = self.body(x)
        return self.head(h * (h.shape[0] or 1))


def test_a_twin_that_differs_names_the_first_call_that_differs():
    model = BatchScaled(name="scaled")
    model(np.ones((2, 3), "float32"))
    with pytest.raises(compose.TraceError, match=r"output 0 differently .*; the first recorded call that differs is the op 'multiply'"):
        compose.to_functional(model, (None, 3))


class SharedAcross(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d = layers.Dense(3, name="d")

    def call(self, x):
        h = self.d(x)
        return tf.cond(tf.reduce_mean(x) > 0, lambda: self.d(h), lambda: h)


def test_a_layer_called_inside_a_branch_and_outside_is_refused():
    model = SharedAcross(name="shared")
    model(np.ones((2, 3), "float32"))
    with pytest.raises(compose.TraceError, match=r"its layer is called both outside any cond and in a branch of the cond 'cond'; each branch becomes a Functional model"):
        compose.to_functional(model, (None, 3))


def test_intermediates_of_a_layer_inside_a_branch_say_it_exists_only_when_it_runs():
    model = Gated(name="gated")
    x, _ = both_ways()
    model(x)
    inputs = keras.Input((4,))
    encoded = compose.intermediates(model, inputs, paths="encode")["encode"]
    np.testing.assert_allclose(keras.Model(inputs, encoded)(x), model.encode(x), rtol=1e-6)
    with pytest.raises(compose.TraceError, match=r"up: is called inside a branch of the cond 'cond': its outputs exist only when it runs"):
        compose.intermediates(model, keras.Input((4,)), paths="up")
