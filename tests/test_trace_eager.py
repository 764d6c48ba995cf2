"""The eager strategy: TF ops recorded as they run, exact edges, and honest shapes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers
from tensorflow.python.eager import context as tf_context
from tensorflow.python.eager import execute as tf_execute

import compose
from compose import TraceError
from compose import trace
from compose.demo import HybridClassifier


def edges(result):
    return {(u, v): exact for u, v, exact in result.graph.edges(data="exact")}


def test_hybrid_demo_has_exact_skip_connections_and_ops_inside_blocks():
    result = trace(HybridClassifier(), (None, 8), inspect=True)
    assert result.strategy == "eager"
    assert edges(result) == {
        ("@input", "embed"): True,
        ("embed", "relu"): True,
        ("relu", "features/hidden"): True,
        ("features/hidden", "features/norm"): True,
        ("features/norm", "blocks.0/proj"): True,
        ("features/norm", "blocks.0/gate"): True,
        ("blocks.0/proj", "blocks.0/multiply"): True,
        ("blocks.0/gate", "blocks.0/multiply"): True,
        ("features/norm", "add"): True,  # h + block(h)
        ("blocks.0/multiply", "add"): True,
        ("add", "blocks.1/proj"): True,
        ("add", "blocks.1/gate"): True,
        ("blocks.1/proj", "blocks.1/multiply"): True,
        ("blocks.1/gate", "blocks.1/multiply"): True,
        ("add", "add#1"): True,
        ("blocks.1/multiply", "add#1"): True,
        ("add#1", "head"): True,
        ("head", "@output"): True,
    }
    ops = {n: (d["class_name"], d["parent"]) for n, d in result.graph.nodes(data=True) if d["kind"] == "op"}
    assert ops == {
        "relu": ("relu", None), "blocks.0/multiply": ("multiply", "blocks.0"), "add": ("add", None),
        "blocks.1/multiply": ("multiply", "blocks.1"), "add#1": ("add", None),
    }
    # `tf.abs`/`reduce_max` on the logits only fed a Python `if`: no node, no edge.
    assert result.coverage.unreached == ("fallback",)
    assert result.coverage.inferred_edges == 0 and result.coverage.exact_edges == 18
    call = result.graph.nodes["add"]["call"]
    assert call.operation.type == "AddV2" and len(call.args) == 2


def test_to_functional_refuses_an_eager_trace_with_its_problem():
    with pytest.raises(TraceError, match="numpy") as info:
        compose.to_functional(HybridClassifier(), (None, 8), inspect=True)
    assert info.value.trace.strategy == "eager"


class ThroughPython(keras.Model):
    def __init__(self):
        super().__init__()
        self.a, self.b = layers.Dense(4), layers.Dense(2)

    def call(self, x):
        h = self.a(x)
        return self.b(tf.constant(h.numpy() * 2.0))


def test_a_value_that_went_through_python_has_no_edge():
    result = trace(ThroughPython(), (None, 3))
    assert result.strategy == "eager"
    assert edges(result) == {("@input", "a"): True, ("b", "@output"): True}


class Doubling(layers.Layer):
    """A leaf that leaves an intermediate on itself: a tensor no recorded call returned."""

    def call(self, x):
        self.doubled = x * 2.0
        return tf.nn.relu(x)


class ReadsLeftover(keras.Model):
    def __init__(self):
        super().__init__()
        self.a, self.doubling, self.b = layers.Dense(4), Doubling(), layers.Dense(2)

    def call(self, x):
        h = self.a(x)
        if float(np.asarray(h).max()) > 1e9:  # only an eager run can follow this
            h = -h
        self.doubling(h)
        return self.b(self.doubling.doubled)


def test_a_tensor_computed_unseen_gets_an_inferred_edge_from_what_it_depends_on():
    result = trace(ReadsLeftover(), (None, 3))
    assert result.strategy == "eager"
    assert edges(result) == {
        ("@input", "a"): True, ("a", "doubling"): True, ("a", "b"): False, ("b", "@output"): True,
    }


@tf.function
def scaled(h):
    return h * 3.0


class CallsFunction(keras.Model):
    def __init__(self):
        super().__init__()
        self.a, self.b = layers.Dense(4), layers.Dense(2)

    def call(self, x):
        h = self.a(x)
        if float(np.asarray(h).max()) > 1e9:
            h = -h
        return self.b(scaled(h))


def test_a_tf_function_called_eagerly_is_one_op_named_after_it():
    result = trace(CallsFunction(), (None, 3))
    assert edges(result) == {("@input", "a"): True, ("a", "scaled"): True, ("scaled", "b"): True,
                             ("b", "@output"): True}
    assert trace(CallsFunction(), (None, 3)).graph.nodes.keys() == result.graph.nodes.keys()


def test_op_recording_is_removed_after_the_trace_even_on_failure():
    class Fails(keras.Model):
        def __init__(self):
            super().__init__()
            self.a = layers.Dense(2)

        def call(self, x):
            h = self.a(x)
            if float(np.asarray(h).max()) > -1e9:
                raise ValueError("boom")
            return h

    before = tf_execute.execute
    result = trace(Fails(), (None, 3))
    assert "boom" in result.coverage.problems[-1].reason
    assert tf_execute.execute is before and tf_context.context().op_callbacks == []


def test_unknown_dims_of_shape_inputs_are_none_in_eager_specs():
    result = trace(HybridClassifier(), (None, 8), inspect=True)
    specs = {n: [str(s) for s in d["output_specs"]] for n, d in result.graph.nodes(data=True)}
    assert specs["@input"] == ["(None, 8) float32"] and specs["head"] == ["(None, 3) float32"]
    assert specs["blocks.0/multiply"] == ["(None, 16) float32"]
    assert str(result.graph.edges["add", "add#1", 0]["spec"]) == "(None, 16) float32"
    assert [str(s) for s in result.graph.graph["containers"]["features"]["output_specs"]] == ["(None, 16) float32"]
    assert "(None, 3)" in compose.summary(result, print_fn=None)


def test_concrete_inputs_keep_their_sizes():
    result = trace(HybridClassifier(), np.ones((5, 8), "float32"), inspect=True)
    assert str(result.graph.nodes["head"]["output_specs"][0]) == "(5, 3) float32"


class BySize(keras.Model):
    """Takes another path for another batch size, decided in Python."""

    def __init__(self):
        super().__init__()
        self.small, self.large = layers.Dense(2), layers.Dense(2)

    def call(self, x):
        if int(tf.shape(x)[0].numpy()) <= 2:
            return self.small(x)
        return self.large(x)


def test_a_path_that_depends_on_the_size_keeps_the_sizes_it_ran_with():
    result = trace(BySize(), (None, 3))
    assert result.strategy == "eager" and result.coverage.unreached == ("large",)
    assert str(result.graph.nodes["small"]["output_specs"][0]) == "(2, 2) float32"
