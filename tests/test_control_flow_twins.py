"""Functional twins of models with data-dependent control flow, and twins verified call by call.

A recorded `tf.cond` (or a Python `if` on a tensor, which AutoGraph converts) becomes a `Cond`
layer holding each branch as a Functional model of the model's own layers; a recorded
`tf.while_loop` (or a Python `while`, or `for` over `tf.range`) a `While` layer holding its
condition and body. What a Functional model cannot hold is refused by name. A twin that computes
something else is refused naming the first recorded call that differs.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import compose
from compose._reuse._control_flow import Cond, While


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


def control_layer(twin, kind=Cond):
    """The (first) `Cond` or `While` layer of a twin, or of a branch or body model."""
    return next(layer for layer in twin.layers if isinstance(layer, kind))


def test_a_cond_becomes_a_layer_holding_each_branch_and_equals_the_model_on_both():
    model = Gated(name="gated")
    x, negated = both_ways()
    model(x)
    twin = compose.to_functional(model, (None, 4))
    cond = control_layer(twin)
    # Each branch is a Functional model of the model's very layers: training the twin trains them.
    assert cond.then_branch.get_layer("up") is model.up
    assert cond.else_branch.get_layer("down") is model.down
    assert {id(w) for w in cond.trainable_weights} == {id(w) for w in [*model.up.trainable_weights, *model.down.trainable_weights]}
    for inputs in (x, negated):
        np.testing.assert_allclose(twin(inputs), model(inputs), rtol=1e-6, atol=1e-6)
    assert "up" in twin.compose_layer_names and "down" in twin.compose_layer_names


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
    inner = control_layer(control_layer(twin).then_branch)
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
    with pytest.raises(compose.TraceError, match=r"its layer is called both outside any cond or loop and in a branch of the cond 'cond'; each branch, loop condition and loop body becomes a Functional model"):
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


# -- loops ---------------------------------------------------------------------------------------


class Looped(keras.Model):
    """A block applied `steps` times in a `for` over `tf.range`: AutoGraph makes it a
    tf.while_loop whose body calls the block (the `relu` is a TensorFlow op, so the graph
    strategy traces the model)."""

    def __init__(self, steps=3, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps
        self.encode = layers.Dense(4, name="encode")
        self.block = layers.Dense(4, activation="tanh", name="block")
        self.head = layers.Dense(2, name="head")

    def call(self, x):
        h = tf.nn.relu(self.encode(x))
        for _ in tf.range(self.steps):
            h = self.block(h) + 1.0
        return self.head(h)


def test_a_loop_over_a_range_becomes_a_layer_holding_its_body_and_equals_the_model():
    model = Looped(name="looped")
    x, negated = both_ways()
    model(x)
    twin = compose.to_functional(model, (None, 4))
    loop = control_layer(twin, While)
    # The body is a Functional model of the model's very layer: training the twin trains it.
    assert loop.body.get_layer("block") is model.block
    assert {id(w) for w in loop.trainable_weights} == {id(w) for w in model.block.trainable_weights}
    for inputs in (x, negated, x * 10.0):
        np.testing.assert_allclose(twin(inputs), model(inputs), rtol=1e-6, atol=1e-6)
    assert twin.compose_layer_names["block"] == "block"


@pytest.mark.parametrize(
    ("make", "inner"),
    [
        (lambda: Gated(name="gated"), lambda twin: control_layer(twin).then_branch.get_layer("up")),
        (lambda: Looped(name="looped"), lambda twin: control_layer(twin, While).body.get_layer("block")),
    ],
    ids=["cond", "loop"],
)
def test_a_twin_with_control_flow_saves_loads_safely_and_clones(tmp_path, make, inner):
    model = make()
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
    assert inner(loaded) is not inner(twin)  # the loaded twin's own layer, not the model's


def test_training_the_twin_trains_the_layer_in_the_loop_body():
    model = Looped(name="looped")
    x, _ = both_ways((8, 4))
    model(x)
    twin = compose.to_functional(model, (None, 4))
    block = model.block.kernel.numpy()
    twin.compile(optimizer="sgd", loss="mse")
    twin.fit(x, np.ones((8, 2), "float32"), epochs=1, verbose=0)
    assert not np.allclose(model.block.kernel.numpy(), block)
    np.testing.assert_allclose(twin(x), model(x), rtol=1e-6, atol=1e-6)


class Until(keras.Model):
    """A Python `while` on a tensor with a layer in its condition: the block runs until the
    score says stop, so the number of steps depends on the input."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encode = layers.Dense(4, kernel_initializer="ones", name="encode")
        self.score = layers.Dense(1, kernel_initializer="ones", name="score")
        self.block = layers.Dense(4, kernel_initializer="identity", bias_initializer="ones", name="block")

    def call(self, x):
        h = self.encode(tf.nn.relu(x))
        steps = tf.constant(0.0)
        while tf.reduce_mean(self.score(h)) < 20.0 and steps < 8.0:
            h = self.block(h)
            steps += 1.0
        return h, steps


def test_a_loop_whose_condition_calls_a_layer_runs_as_many_steps_as_the_model():
    model = Until(name="until")
    x = np.abs(np.random.default_rng(0).standard_normal((3, 4)).astype("float32"))
    model(x)
    twin = compose.to_functional(model, (None, 4))
    loop = control_layer(twin, While)
    assert loop.cond.get_layer("score") is model.score and loop.body.get_layer("block") is model.block
    steps = set()
    for inputs in (x * 0.0, x, x * 2.0, x * 100.0):
        (h, n), (twin_h, twin_n) = model(inputs), twin(inputs)
        np.testing.assert_allclose(twin_h, h, rtol=1e-6, atol=1e-6)
        assert float(twin_n) == float(n)
        steps.add(float(n))
    assert len(steps) > 2  # the inputs did take the loop through different numbers of steps
    # AutoGraph tries the condition once in a graph it throws away: that call is no call of the model.
    assert compose.trace(model, (None, 4)).hierarchy.nodes["score"]["calls"] == 1


class Refined(keras.Model):
    """`tf.while_loop` written out, as many steps as the input has features (at most 10), with a
    `tf.cond` between two layers in its body and an outer tensor read on every step."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.up, self.down = layers.Dense(4, name="up"), layers.Dense(4, name="down")

    def call(self, x):
        start = tf.nn.tanh(x)

        def body(i, h):
            h = tf.cond(tf.reduce_mean(h) > 0, lambda: self.up(h), lambda: self.down(h) + start)
            return i + 1, h

        _, h = tf.while_loop(lambda i, h: i < tf.shape(x)[1], body, (0, start), maximum_iterations=10)
        return h


def test_tf_while_loop_with_a_cond_in_its_body_becomes_a_loop_holding_a_cond():
    model = Refined(name="refined")
    x, negated = both_ways()
    model(x)
    twin = compose.to_functional(model, (None, 4))
    inner = control_layer(control_layer(twin, While).body)
    assert inner.then_branch.get_layer("up") is model.up and inner.else_branch.get_layer("down") is model.down
    for inputs in (x, negated, x * 5.0):
        np.testing.assert_allclose(twin(inputs), model(inputs), rtol=1e-5, atol=1e-5)


class Stepped(keras.Model):
    """`keras.ops.fori_loop` in the model's call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = layers.Dense(4, activation="tanh", name="block")

    def call(self, x):
        return keras.ops.fori_loop(0, 3, lambda i, h: self.block(h) + x, x)


class Refiner(layers.Layer):
    """`keras.ops.while_loop` in a block of the model."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.step = layers.Dense(4, activation="tanh", name="step")

    def call(self, h):
        return keras.ops.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, self.step(h)), (0, h))[1]


class Refining(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encode, self.refine, self.head = layers.Dense(4, name="encode"), Refiner(name="refine"), layers.Dense(2, name="head")

    def call(self, x):
        return self.head(self.refine(self.encode(x)) * 2.0)


@pytest.mark.parametrize(
    ("make", "inner"),
    [(Stepped, lambda model: model.block), (Refining, lambda model: model.refine.step)],
    ids=["fori_loop", "while_loop_in_a_block"],
)
def test_a_keras_loop_is_traced_by_the_graph_strategy_and_becomes_a_loop_layer(make, inner):
    model = make(name="model")
    x, negated = both_ways()
    model(x)
    # Keras gives a loop's result without running its functions on KerasTensors: the symbolic
    # strategy hands the loop (the model, or the block holding it) to the graph strategy.
    assert compose.trace(model, (None, 4)).coverage.unreached == ()
    twin = compose.to_functional(model, (None, 4))
    assert control_layer(twin, While).body.get_layer(inner(model).name) is inner(model)
    for inputs in (x, negated):
        np.testing.assert_allclose(twin(inputs), model(inputs), rtol=1e-6, atol=1e-6)


class Collected(keras.Model):
    """Each step's result written into a TensorArray carried by the loop."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = layers.Dense(4, name="block")

    def call(self, x):
        h = tf.nn.relu(x)
        steps = tf.TensorArray(tf.float32, size=3)
        for i in tf.range(3):
            h = self.block(h)
            steps = steps.write(i, h)
        return tf.reduce_sum(steps.stack(), axis=0)


class Widening(keras.Model):
    """A loop variable whose shape the loop may change (a shape invariant of unknown width)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = layers.Dense(4, name="block")

    def call(self, x):
        _, h = tf.while_loop(
            lambda i, h: i < 2,
            lambda i, h: (i + 1, tf.concat([h, h], axis=1)),
            (0, tf.nn.relu(x)),
            shape_invariants=(tf.TensorShape([]), tf.TensorShape([None, None])),
        )
        return self.block(h[:, :4])


class SharedWithLoop(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = layers.Dense(4, name="block")

    def call(self, x):
        h = tf.nn.relu(self.block(x))
        for _ in tf.range(2):
            h = self.block(h)
        return h


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (Collected(name="collected"), r"the while loop 'while' carries a TensorArray .* from one iteration to the next, and a Functional model holds tensors only: keep the loop inside one layer"),
        (Widening(name="widening"), r"the while loop 'while' changes the shape of a variable it carries \(\(None, 4\) before the loop, \(None, None\) inside it\)"),
        (SharedWithLoop(name="shared"), r"block: its layer is called both outside any cond or loop and in the while loop 'while'"),
    ],
    ids=["tensor_array", "changing_shape", "layer_inside_and_outside"],
)
def test_a_loop_a_functional_model_cannot_hold_is_refused_saying_why(model, reason):
    model(np.ones((2, 4), "float32"))
    with pytest.raises(compose.TraceError, match=reason):
        compose.to_functional(model, (None, 4))


def test_intermediates_of_a_layer_inside_a_loop_say_they_are_one_iterations():
    model = Looped(name="looped")
    model(np.ones((2, 4), "float32"))
    with pytest.raises(compose.TraceError, match=r"block: is called inside the while loop 'while': its outputs are one iteration's, inside the loop"):
        compose.intermediates(model, keras.Input((4,)), paths="block")
