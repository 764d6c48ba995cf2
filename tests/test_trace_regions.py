"""Regions: where the symbolic strategy stops inside a container, only that container is traced
by the next strategy, and the rest of the model stays symbolic."""

import keras
import networkx as nx
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import compose
from compose import trace


class Block(keras.layers.Layer):
    """Dense, then an activation: Keras's own, or a TensorFlow function (``tf_op``)."""

    def __init__(self, tf_op=False, **kwargs):
        super().__init__(**kwargs)
        self.dense, self.tf_op = layers.Dense(8), tf_op

    def call(self, x):
        h = self.dense(x)
        return x + (tf.nn.gelu(h) if self.tf_op else keras.ops.gelu(h))


class Tower(keras.Model):
    def __init__(self, special=3):
        super().__init__()
        self.blocks = [Block(tf_op=i == special) for i in range(10)]
        self.head = layers.Dense(2)

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(keras.ops.relu(x))


def test_one_tf_function_in_one_block_makes_only_that_block_a_graph_region():
    result = trace(Tower(), (None, 8))
    assert result.strategy == "symbolic" and result.coverage.complete
    assert [(r.path, r.name, r.finished) for r in result.strategies] == [
        (None, "symbolic", True), ("blocks.3", "symbolic", False), ("blocks.3", "graph", True)]
    region = result.strategies[1]
    assert "gelu" in region.reason.lower() or "KerasTensor" in region.reason
    assert region.location == f"{__file__}:{Block.call.__code__.co_firstlineno + 2}"
    strategies = {n: s for n, s in result.graph.nodes(data="strategy")}
    assert {n for n, s in strategies.items() if s == "graph"} == {"blocks.3/dense", "blocks.3/gelu", "blocks.3/add"}
    assert set(result.strategies[2].nodes) == {"blocks.3/dense", "blocks.3/gelu", "blocks.3/add"}
    # Exact edges across the border, both ways, and the open batch dim after it.
    edges = set(result.graph.edges())
    assert {("blocks.2/add", "blocks.3/dense"), ("blocks.2/add", "blocks.3/add"), ("blocks.3/add", "blocks.4/dense")} <= edges
    assert all(exact for _, _, exact in result.graph.edges(data="exact"))
    assert str(result.graph.nodes["blocks.4/dense"]["output_specs"][0]) == "(None, 8) float32"
    # The same graph as the whole model traced by the graph strategy, but for where ops came from.
    whole = trace(Tower(special=-1), (None, 8))
    assert len(result.graph) == len(whole.graph) and result.graph.number_of_edges() == whole.graph.number_of_edges()


class Peeks(keras.layers.Layer):
    """Looks at a value in Python: only an eager run can follow it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.small, self.large = layers.Dense(8), layers.Dense(8)

    def call(self, x):
        if float(keras.ops.mean(x).numpy()) > 100.0:
            return self.large(x)
        return self.small(x) * 2.0


class Outer(keras.Model):
    def __init__(self):
        super().__init__()
        self.first, self.peeks, self.last = layers.Dense(8), Peeks(), layers.Dense(3)

    def call(self, x):
        h = keras.ops.relu(self.first(x))
        return self.last(self.peeks(h) + h)


def test_a_block_that_needs_values_is_the_only_eager_region():
    model = Outer()
    before = [v.numpy().copy() for v in model.weights] if model.built else None
    result = trace(model, (None, 4))
    assert result.strategy == "symbolic"
    assert [(r.path, r.name, r.finished) for r in result.strategies] == [
        (None, "symbolic", True), ("peeks", "symbolic", False), ("peeks", "graph", False), ("peeks", "eager", True)]
    strategies = dict(result.graph.nodes(data="strategy"))
    assert {n for n, s in strategies.items() if s == "eager"} == {"peeks/small", "peeks/multiply"}
    assert strategies["first"] == strategies["last"] == strategies["relu"] == "symbolic"
    assert result.coverage.unreached == ("peeks/large",)
    # The outer body keeps its open batch dim; the eager region's dims that followed the
    # made-up size are opened too.
    assert str(result.graph.nodes["last"]["output_specs"][0]) == "(None, 3) float32"
    assert str(result.graph.nodes["peeks/small"]["output_specs"][0]) == "(None, 8) float32"
    edges = set(result.graph.edges())
    assert {("relu", "peeks/small"), ("peeks/small", "peeks/multiply"), ("peeks/multiply", "add"), ("relu", "add")} <= edges
    assert all(exact for _, _, exact in result.graph.edges(data="exact"))
    # Honest: no problem, but a note saying why that region shows one run.
    assert result.coverage.problems == ()
    note, = result.coverage.notes
    assert note.path == "peeks" and note.strategy == "graph" and "numpy" in note.reason
    assert note.location == f"{__file__}:{Peeks.call.__code__.co_firstlineno + 1}"
    if before is not None:
        assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.weights))


def test_a_container_no_strategy_can_run_fails_the_model_as_before():
    class Broken(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(2)

        def call(self, x):
            self.inner(x)
            raise ValueError("boom")

    class Model(keras.Model):
        def __init__(self):
            super().__init__()
            self.block, self.last = Broken(), layers.Dense(2)

        def call(self, x):
            return self.last(self.block(x))

    result = trace(Model(), (None, 3))
    assert [r.path for r in result.strategies] == [None, None, None]
    assert "boom" in result.coverage.problems[0].reason and result.coverage.problems[0].path == "block"


def test_regions_leave_no_trace_in_the_model():
    model = Outer()
    trace(model, (None, 4))
    assert not hasattr(model.peeks, "call") or "call" not in vars(model.peeks)
    assert compose.trace(model, (None, 4)).strategies == trace(model, (None, 4)).strategies


def test_views_say_which_parts_were_traced_how():
    result = trace(Outer(), (None, 4))
    text = " ".join(compose.summary(result, print_fn=None).split())  # the footer wraps
    assert "traced by the symbolic strategy; peeks by the eager strategy, one run" in text
    assert "Note: the graph strategy stopped: peeks: " in text and "Problem:" not in text
    dot = compose.plot(result).to_string()
    assert "<i>eager strategy, one run</i>" in dot and "dashed" in dot
    tower = compose.plot(trace(Tower(), (None, 8))).to_string()
    assert tower.count("<i>graph strategy</i>") == 1


# -- what the symbolic strategy no longer gives up on (keras_hub's T5, GPT-NeoX, Gemma, DeiT) ------


class Attention(keras.layers.Layer):
    """Returns its output with the cache it was given: ``None`` when there is none (T5, GPT-NeoX)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proj = layers.Dense(8)

    def call(self, x, cache=None):
        return self.proj(x), cache


class HiddenStates(keras.layers.Layer):
    """Returns the hidden states it keeps: none, as an empty tensor (keras_hub's DeiT encoder)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proj = layers.Dense(8)

    def call(self, x):
        return self.proj(x), keras.ops.zeros((0,))


class RMSNorm(keras.layers.Layer):
    """A leaf that computes its output spec by running ``call``, as keras_hub's Gemma norm does."""

    def call(self, x):
        return x * keras.ops.reciprocal(keras.ops.sqrt(keras.ops.mean(keras.ops.square(x), axis=-1, keepdims=True)))


class NormBlock(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.norm, self.proj = RMSNorm(), layers.Dense(8)

    def call(self, x):
        return self.proj(self.norm(x))


class Decoder(keras.Model):
    def __init__(self):
        super().__init__()
        self.embed = layers.Dense(8)
        self.attention, self.states, self.block = Attention(), HiddenStates(), NormBlock()

    def call(self, x):
        x = self.embed(x) * 2.0  # Keras's spec of `x * 2.0` says sparse: a constant has no flag
        x, cache = self.attention(x)
        x, hidden = self.states(x)
        assert cache is None and tuple(hidden.shape) == (0,)
        return self.block(x)


def test_none_and_empty_outputs_and_constants_keep_the_symbolic_strategy():
    # Before: the attention and states containers returned non-tensors and the norm could not infer
    # its spec on a falsely sparse tensor, so each became a graph region.
    model = Decoder()
    result = trace(model, (None, 4))
    assert [(r.path, r.name, r.finished) for r in result.strategies] == [(None, "symbolic", True)]
    assert result.coverage.complete and result.coverage.layers_reached == result.coverage.layers_total == 5
    edges = set(result.graph.edges())
    assert {("multiply", "attention/proj"), ("attention/proj", "states/proj"), ("states/proj", "block/norm"),
            ("block/norm", "block/proj")} <= edges
    assert str(result.graph.nodes["block/proj"]["output_specs"][0]) == "(None, 8) float32"
    x = np.ones((2, 4), "float32")
    twin = compose.to_functional(model, (None, 4))
    np.testing.assert_allclose(twin(x), model(x), atol=1e-6)


class Branching(keras.Model):
    """Keras layers and ops around a data-dependent `keras.ops.cond`, and a block that peeks."""

    def __init__(self):
        super().__init__()
        self.first, self.left, self.right = layers.Dense(8), layers.Dense(8), layers.Dense(8)
        self.peeks, self.last = Peeks(), layers.Dense(3)

    def call(self, x):
        h = self.first(x)
        h = keras.ops.cond(keras.ops.mean(h) > 0, lambda: self.left(h), lambda: self.right(h))
        return self.last(self.peeks(h))


def test_an_outer_cond_keeps_both_branches_while_a_nested_block_is_eager():
    result = trace(Branching(), (None, 4))
    assert result.strategy == "symbolic"
    assert result.coverage.unreached == ("peeks/large",)  # the eager region shows one run
    assert [(r.path, r.name, r.finished) for r in result.strategies if r.finished] == [
        (None, "symbolic", True), ("peeks", "eager", True)]
    strategies = dict(result.graph.nodes(data="strategy"))
    assert strategies["left"] == strategies["right"] == strategies["cond"] == "symbolic"
    # Both branches feed the cond (before: neither did, so they had no path to the output).
    edges = set(result.graph.edges())
    assert {("first", "left"), ("first", "right"), ("left", "cond"), ("right", "cond"), ("greater", "cond"),
            ("cond", "peeks/small")} <= edges
    assert ("cond", "cond") not in edges
    assert str(result.graph.nodes["last"]["output_specs"][0]) == "(None, 3) float32"
    # Every layer the call uses reaches the output.
    for layer in ("first", "left", "right", "peeks/small", "last"):
        assert nx.has_path(result.graph, layer, "@output"), layer


class PeeksAndNormalizes(keras.layers.Layer):
    """`Peeks` with batch statistics, which a run in training updates."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.small, self.large, self.norm = layers.Dense(8), layers.Dense(8), layers.BatchNormalization()

    def call(self, x, training=None):
        if float(keras.ops.mean(x).numpy()) > 100.0:
            return self.large(x)
        return self.norm(self.small(x), training=training) * 2.0


class GraphBranching(keras.Model):
    """`Branching` with TensorFlow's `tf.cond`, which KerasTensors refuse: the graph strategy
    traces the whole model, and the block that peeks cannot be traced in a graph."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first, self.left, self.right = layers.Dense(8), layers.Dense(8), layers.Dense(8)
        self.peeks, self.last = PeeksAndNormalizes(), layers.Dense(3)

    def call(self, x, training=None):
        h = self.first(x)
        h = tf.cond(tf.reduce_mean(h) > 0, lambda: self.left(h), lambda: self.right(h))
        return self.last(self.peeks(h, training=training))


def _variables(model):
    return {v.path: v.numpy().copy() for v in model.variables}


def test_an_outer_tf_cond_keeps_both_branches_while_a_nested_block_is_an_eager_region():
    # Before: the graph strategy stopped at the block, and the whole model was run eagerly,
    # which recorded one branch of the cond and made up the batch dim.
    model = GraphBranching()
    model(np.ones((2, 4), "float32"))
    before = _variables(model)
    result = trace(model, (None, 4), training=True)  # training: the region's run updates statistics
    assert result.strategy == "graph"
    assert [(r.path, r.name, r.finished) for r in result.strategies] == [
        (None, "symbolic", False), (None, "graph", True), ("peeks", "graph", False), ("peeks", "eager", True)]
    numpy_line = f"{__file__}:{PeeksAndNormalizes.call.__code__.co_firstlineno + 1}"
    assert result.strategies[2].location == numpy_line and "numpy" in result.strategies[2].reason
    strategies = dict(result.graph.nodes(data="strategy"))
    assert {n for n, s in strategies.items() if s == "eager"} == {"peeks/small", "peeks/norm", "peeks/multiply"}
    assert set(result.strategies[3].nodes) == {"peeks/small", "peeks/norm", "peeks/multiply"}
    assert strategies["left"] == strategies["right"] == strategies["cond"] == strategies["last"] == "graph"
    assert result.coverage.unreached == ("peeks/large",)  # the eager region shows one run
    # Both branches feed the cond, and exact edges cross the region's border both ways.
    edges = set(result.graph.edges())
    assert {("first", "left"), ("first", "right"), ("left", "cond"), ("right", "cond"), ("greater", "cond"),
            ("cond", "peeks/small"), ("peeks/multiply", "last")} <= edges
    assert set(result.graph.predecessors("peeks/small")) == {"cond"}
    assert set(result.graph.successors("peeks/multiply")) == {"last"}
    assert all(exact for _, _, exact in result.graph.edges(data="exact"))
    for layer in ("first", "left", "right", "peeks/small", "peeks/norm", "last"):
        assert nx.has_path(result.graph, layer, "@output"), layer
    # The batch dim stays open outside the region, and inside it where it followed the drawn size.
    assert str(result.graph.nodes["last"]["output_specs"][0]) == "(None, 3) float32"
    assert str(result.graph.graph["containers"]["peeks"]["output_specs"][0]) == "(None, 8) float32"
    assert str(result.graph.nodes["peeks/norm"]["output_specs"][0]) == "(None, 8) float32"
    # Honest: no problem, a note saying why the region shows one run.
    assert result.coverage.problems == ()
    note, = result.coverage.notes
    assert (note.path, note.strategy, note.location) == ("peeks", "graph", numpy_line)
    # The model is as it was: weights, batch statistics, its call.
    after = _variables(model)
    assert list(after) == list(before) and all(np.array_equal(before[k], after[k]) for k in before)
    assert "call" not in vars(model.peeks)


def test_views_say_which_parts_of_a_graph_trace_were_eager():
    result = trace(GraphBranching(), (None, 4))
    text = " ".join(compose.summary(result, print_fn=None).split())
    assert "traced by the graph strategy; peeks by the eager strategy, one run" in text
    assert "Note: the graph strategy stopped: peeks: " in text and "Problem:" not in text
    dot = compose.plot(result).to_string()
    assert dot.count("<i>eager strategy, one run</i>") == 1 and "<i>graph strategy</i>" not in dot
    assert "(graph strategy; peeks by the eager strategy, one run)" in dot


def test_to_functional_refuses_an_eager_region_of_a_graph_trace_by_name():
    model = GraphBranching(name="graph_branching")
    with pytest.raises(compose.TraceError, match=(
        r"cannot convert 'graph_branching': 'peeks' was traced eagerly, as a region of its own, because "
        r"the graph strategy could not trace it \(.*numpy.*test_trace_regions.py:\d+\)"
    )):
        compose.to_functional(model, (None, 4))


class InBranch(keras.Model):
    """The block that peeks inside one branch of a Python `if` on a tensor (AutoGraph's cond)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first, self.left = layers.Dense(8), layers.Dense(8)
        self.peeks, self.last = Peeks(), layers.Dense(3)

    def call(self, x):
        h = self.first(x)
        if tf.reduce_mean(h) > 0:
            h = self.left(h)
        else:
            h = self.peeks(h)
        return self.last(h)


class InLoop(keras.Model):
    """The block that peeks inside a loop over a tensor (AutoGraph's while loop)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first, self.peeks, self.last = layers.Dense(8), Peeks(), layers.Dense(3)

    def call(self, x):
        h = self.first(x)
        for _ in tf.range(tf.shape(x)[0]):
            h = self.peeks(h) + h
        return self.last(h)


def test_an_eager_region_inside_a_branch_feeds_the_cond_only():
    result = trace(InBranch(), (None, 4))
    assert result.strategy == "graph" and [(r.path, r.name) for r in result.regions] == [("peeks", "eager")]
    edges = set(result.graph.edges())
    assert {("first", "left"), ("left", "cond"), ("first", "peeks/small"), ("peeks/multiply", "cond"), ("cond", "last")} <= edges
    # The region's output leaves the branch through the cond, and nothing else.
    assert set(result.graph.successors("peeks/multiply")) == {"cond"}
    assert set(result.graph.predecessors("peeks/small")) == {"first"}
    assert str(result.graph.nodes["last"]["output_specs"][0]) == "(None, 3) float32"


def test_an_eager_region_inside_a_loop_body_is_fed_by_the_loop_and_feeds_it():
    result = trace(InLoop(), (None, 4))
    assert result.strategy == "graph" and [(r.path, r.name) for r in result.regions] == [("peeks", "eager")]
    graph = result.graph
    assert set(graph.predecessors("peeks/small")) == {"while"}  # the loop's carried value
    # Out through the loop body (the body's add, which the loop carries on) to the loop.
    after = list(graph.successors("peeks/multiply"))
    assert after and all(n.startswith("add") and set(graph.successors(n)) == {"while"} for n in after), after
    assert nx.has_path(graph, "peeks/multiply", "last") and not graph.has_edge("peeks/multiply", "last")
    assert all(exact for _, _, exact in graph.edges(data="exact"))


class GeluAroundPeeks(keras.layers.Layer):
    """A TensorFlow function (a graph region), around a block that peeks (an eager one in it)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense, self.peeks = layers.Dense(8), Peeks()

    def call(self, x):
        return self.peeks(tf.nn.gelu(self.dense(x))) + x


class AroundPeeks(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first, self.block, self.last = layers.Dense(8), GeluAroundPeeks(), layers.Dense(2)

    def call(self, x):
        return self.last(self.block(self.first(x)))


def test_a_graph_region_has_eager_regions_of_its_own():
    # Before: the graph strategy stopped at the inner block, so the whole outer block was eager.
    result = trace(AroundPeeks(), (None, 4))
    assert [(r.path, r.name, r.finished) for r in result.strategies] == [
        (None, "symbolic", True), ("block", "symbolic", False), ("block", "graph", True),
        ("block/peeks", "graph", False), ("block/peeks", "eager", True)]
    strategies = dict(result.graph.nodes(data="strategy"))
    assert strategies["block/dense"] == strategies["block/gelu"] == strategies["block/add"] == "graph"
    assert strategies["block/peeks/small"] == strategies["block/peeks/multiply"] == "eager"
    edges = set(result.graph.edges())
    assert {("block/gelu", "block/peeks/small"), ("block/peeks/multiply", "block/add"), ("first", "block/add"),
            ("block/add", "last")} <= edges
    assert all(exact for _, _, exact in result.graph.edges(data="exact"))
    note, = result.coverage.notes
    assert (note.path, note.strategy) == ("block/peeks", "graph")


def test_strict_refuses_a_trace_whose_only_stop_is_an_eager_region():
    # Before: StopIteration, as no whole-model run had an error to chain.
    with pytest.raises(compose.TraceError, match="peeks") as raised:
        trace(Outer(), (None, 4), strict=True)
    assert raised.value.trace.coverage.problems[0].path == "peeks"
