"""Unbuilt models and layers through a trace (issue 11, items 3 and 4): a trace that fails leaves
them unbuilt; one that succeeds builds them as calling the model would; and each strategy runs
the model's ``call`` as few times as it needs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import compose
from compose import trace


class Inner(keras.layers.Layer):
    """A container with no ``build`` of its own: Keras builds it by running its ``call``."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(4, name="inner_dense")

    def call(self, x):
        return keras.ops.relu(self.dense(x))


class Nested(keras.Model):
    """Every kind of unbuilt state: a subclassed container, a Sequential without an input shape
    (its build makes a Functional twin), MultiHeadAttention (its build makes sublayers), a Block
    (its generated build runs its call) and a layer built before, shared."""

    def __init__(self, shared=None, **kwargs):
        super().__init__(**kwargs)
        self.embed = keras.layers.Dense(4, name="embed")
        self.inner = Inner(name="inner")
        self.seq = keras.Sequential([keras.layers.Dense(4, name="s1"), keras.layers.Dense(4, name="s2")], name="seq")
        self.attention = keras.layers.MultiHeadAttention(num_heads=2, key_dim=2, name="attention")
        self.block = Gate(units=4, name="gate")
        self.shared = shared if shared is not None else keras.layers.Dense(4, name="shared")
        self.head = keras.layers.Dense(2, name="head")

    def call(self, x):
        h = self.seq(self.inner(self.embed(x)))
        seq = keras.ops.expand_dims(h, 1)
        h = h + keras.ops.squeeze(self.attention(seq, seq), 1)
        h = self.shared(self.block(h))
        if h.shape[-1] != 4 or x.shape[-1] != 3:  # fails on a wrong input, after building some layers
            raise ValueError(f"Nested expects 3 features, got {x.shape}")
        return self.head(h)


class Gate(compose.Block):
    units: int = 4

    def setup(self):
        self.proj = keras.layers.Dense(self.units, name="proj")

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return x * self.proj(x)


def _layers(model):
    return list(model._flatten_layers())


def _build_state(model):
    """What building gives each layer: built, the shapes Keras recorded, its weights' shapes."""
    return [
        (layer.built, layer._build_shapes_dict, [(w.path.split("/", 1)[-1], tuple(w.shape)) for w in layer.weights])
        for layer in _layers(model)
    ]


def _unbuilt(model):
    return [layer for layer in _layers(model) if not layer.built]


def _unbuilt_everywhere(layers, keep=()):
    kept = {id(w) for layer in keep for w in layer.weights}
    for layer in layers:
        assert not layer.built, layer.name
        assert [w for w in layer.weights if id(w) not in kept] == [], layer.name
        assert layer._build_shapes_dict is None, layer.name


@pytest.mark.parametrize("strict", [False, True])
def test_a_failed_trace_leaves_an_unbuilt_model_and_its_layers_unbuilt(strict):
    shared = keras.layers.Dense(4, name="shared")
    shared.build((None, 4))
    kernel = shared.kernel.numpy().copy()
    model = Nested(shared=shared, name="nested")
    unbuilt = _unbuilt(model)
    assert model in unbuilt and model.seq in unbuilt and shared not in unbuilt
    if strict:
        with pytest.raises(compose.TraceError, match="Nested expects 3 features"):
            trace(model, (None, 5), strict=True)
    else:
        result = trace(model, (None, 5))  # the wrong number of features: every strategy fails
        assert not any(run.finished for run in result.strategies if run.path is None)
        assert "Nested expects 3 features" in result.coverage.problems[0].reason
    _unbuilt_everywhere(unbuilt, keep=(shared,))
    assert "_query_dense" not in vars(model.attention)  # the sublayers its build made are gone
    assert shared.built and np.array_equal(shared.kernel.numpy(), kernel)
    # Built on the right input afterwards, by a call and by a trace.
    assert model(np.ones((2, 3), "float32")).shape == (2, 2)
    again = Nested(shared=shared, name="again")
    trace(again, (None, 5))
    assert trace(again, (None, 3)).coverage.complete
    assert again(np.ones((2, 3), "float32")).shape == (2, 2)


def test_a_successful_trace_builds_an_unbuilt_model_as_calling_it_would():
    traced, called = Nested(name="traced"), Nested(name="called")
    result = trace(traced, (None, 3))
    assert result.coverage.complete and result.strategy == "symbolic"
    called(keras.Input((3,)))
    assert _build_state(traced) == _build_state(called)
    assert traced.get_build_config() == called.get_build_config() == {"input_shape": (None, 3)}
    # The Sequential's Functional twin, made by its build, keeps its Keras nodes.
    assert traced.seq.layers[0].output is not None
    assert traced(np.ones((2, 3), "float32")).shape == (2, 2)
    assert trace(traced).coverage.complete  # the build shapes give the inputs


def test_a_sequential_without_an_input_shape():
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Reshape((2, 2)), keras.layers.Dense(1)])
    result = trace(model, (None, 5))
    assert result.coverage.complete and model.built
    assert model.layers[0].output is not None  # its Functional twin is whole
    assert model(np.ones((2, 5), "float32")).shape == (2, 2, 1)

    failing = keras.Sequential([keras.layers.Dense(4), keras.layers.Reshape((3, 3)), keras.layers.Dense(1)])
    unbuilt = _unbuilt(failing)
    assert trace(failing, (None, 5)).coverage.problems
    _unbuilt_everywhere(unbuilt)
    assert failing._functional is None
    failing.layers[1].target_shape = (2, 2)
    assert failing(np.ones((2, 5), "float32")).shape == (2, 2, 1)


class Counted(keras.Model):
    """Counts the runs of its ``call``; ``mode`` picks the strategy that can trace it."""

    def __init__(self, mode, **kwargs):
        super().__init__(**kwargs)
        self.mode, self.runs = mode, 0
        self.d1, self.d2 = keras.layers.Dense(4), keras.layers.Dense(2)

    def call(self, x):
        self.runs += 1
        h = self.d1(x)
        if self.mode == "graph":
            h = tf.nn.relu(h)  # a TensorFlow op: not symbolic
        if self.mode == "eager" and float(tf.reduce_sum(h).numpy()) > 1e9:  # a value in Python
            return h
        return self.d2(h)


class Region(keras.layers.Layer):
    def __init__(self, eager, **kwargs):
        super().__init__(**kwargs)
        self.eager, self.runs = eager, 0
        self.dense = keras.layers.Dense(4)

    def call(self, x):
        self.runs += 1
        h = tf.nn.gelu(self.dense(x))
        if self.eager and float(tf.reduce_sum(h).numpy()) > 1e9:
            return x
        return x + h


class WithRegion(keras.Model):
    def __init__(self, eager, **kwargs):
        super().__init__(**kwargs)
        self.embed, self.block, self.head = keras.layers.Dense(4), Region(eager), keras.layers.Dense(2)

    def call(self, x):
        return self.head(self.block(self.embed(x)))


# (model, built first, inputs, strategy, most runs of `call`). Before issue 11 an unbuilt model
# took 3, 4, 6, 5 and 7 runs (a build by calling it on KerasTensors ran `call` twice; the graph
# strategy's tf.function traced twice when the trace built layers).
RUNS = [
    (lambda: Counted("symbolic"), True, (None, 3), "symbolic", 1),
    (lambda: Counted("symbolic"), False, (None, 3), "symbolic", 1),
    (lambda: Counted("graph"), True, (None, 3), "graph", 2),
    (lambda: Counted("graph"), False, (None, 3), "graph", 2),
    # Unknown dims: the eager strategy runs twice (as 2, then 3) to tell which dims follow them.
    (lambda: Counted("eager"), True, (None, 3), "eager", 4),
    (lambda: Counted("eager"), False, (None, 3), "eager", 4),
    (lambda: Counted("eager"), False, np.ones((2, 3), "float32"), "eager", 3),
    (lambda: WithRegion(eager=False), False, (None, 3), "symbolic", 2),
    (lambda: WithRegion(eager=True), False, (None, 3), "symbolic", 4),
]


def counted_trace(make, built, inputs):
    """(model, its counting layer, the trace): the model made, built first where asked, and
    traced with its counter of `call` runs set to 0 just before."""
    model = make()
    if built:
        model(np.ones((2, 3), "float32"))
    counter = model.block if isinstance(model, WithRegion) else model
    counter.runs = 0
    return model, counter, trace(model, inputs)


@pytest.mark.parametrize("make, built, inputs, strategy, most", RUNS)
def test_a_trace_runs_call_as_few_times_as_its_strategies_need(make, built, inputs, strategy, most):
    model, counter, result = counted_trace(make, built, inputs)
    assert result.strategy == strategy and not result.coverage.problems
    assert counter.runs <= most
    assert model.built
    assert model(np.ones((2, 3), "float32")).shape == (2, 2)


def test_weights_a_failed_graph_trace_built_serve_the_eager_run():
    class Late(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1, self.d2, self.d3 = keras.layers.Dense(4), keras.layers.Dense(4), keras.layers.Dense(2)

        def call(self, x):
            h = self.d2(tf.nn.relu(self.d1(x)))  # d2 is first reached, and built, by the graph trace
            if float(tf.reduce_sum(h).numpy()) > 1e9:
                return h
            return self.d3(h)

    model = Late(name="late")
    result = trace(model, (None, 3))
    assert [run.name for run in result.strategies] == ["symbolic", "graph", "eager"]
    assert result.coverage.layers_reached == 3 and not result.coverage.problems
    assert model.d2.kernel.shape == (4, 4) and model.built
    assert model(np.ones((2, 3), "float32")).shape == (2, 2)


if __name__ == "__main__":  # python tests/test_trace_builds.py: the runs of `call` of each case
    for make, built, inputs, _, _ in RUNS:
        model, counter, result = counted_trace(make, built, inputs)
        kind = "array" if isinstance(inputs, np.ndarray) else "shape"
        case = f"Counted({model.mode!r})" if isinstance(model, Counted) else f"WithRegion(eager={model.block.eager})"
        print(f"{case:22} built={built!s:5} inputs={kind} {result.strategy:8} runs={counter.runs}")
