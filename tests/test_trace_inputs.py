"""The ways inputs reach `trace` (and the wrong ones it refuses), the `leaf=` override, and loops
the graph strategy records."""

import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import compose
from compose import trace


class TwoDense(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a, self.b = layers.Dense(4, name="a"), layers.Dense(2, name="b")

    def call(self, x):
        return self.b(self.a(x))


def _layer_edges(result):
    return sorted((u, v) for u, v in result.graph.edges() if not u.startswith("@") and not v.startswith("@"))


def test_every_input_form_gives_the_same_graph():
    forms = [
        ((None, 3),),
        (compose.TensorSpec(("batch", 3), "float32"),),
        (tf.TensorSpec((None, 3), tf.float32),),
        (keras.Input((3,)),),
        (np.ones((2, 3), "float32"),),
    ]
    graphs = set()
    for inputs in forms:
        result = trace(TwoDense(name="m"), *inputs)
        assert result.coverage.complete, (inputs, result.coverage)
        graphs.add((tuple(result.graph.nodes()), tuple(_layer_edges(result))))
    assert graphs == {(("@input", "a", "b", "@output"), (("a", "b"),))}


def test_built_model_needs_no_inputs():
    model = TwoDense()
    model(np.ones((2, 3), "float32"))
    result = trace(model)
    assert result.coverage.complete and _layer_edges(result) == [("a", "b")]
    assert result.graph.nodes["b"]["output_specs"] == [compose.TensorSpec((None, 2), "float32")]


class Inner(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.p, self.q = layers.Dense(3, name="p"), layers.Dense(3, name="q")

    def call(self, x):
        return self.q(self.p(x))


class Outer(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = Inner()
        self.head = layers.Dense(1)

    def call(self, x):
        return self.head(self.inner(x))


def test_leaf_override_keeps_a_container_closed():
    opened = trace(Outer(), (None, 3))
    assert [n for n, k in opened.graph.nodes(data="kind") if k == "layer"] == ["inner/p", "inner/q", "head"]
    model = Outer()
    closed = trace(model, (None, 3), leaf=Inner)
    assert [n for n, k in closed.graph.nodes(data="kind") if k == "layer"] == ["inner", "head"]
    assert closed.graph.nodes["inner"]["params"] == 24  # its sublayers' weights, held as one leaf
    by_predicate = trace(Outer(), (None, 3), leaf=lambda layer: layer.name.startswith("inner"))
    assert _layer_edges(by_predicate) == _layer_edges(closed) == [("inner", "head")]
    assert sum(p for _, p in closed.hierarchy.nodes(data="params")) == model.count_params() == 28


class Loop(keras.Model):
    """A tensor-dependent `while`: AutoGraph turns it into a tf.while_loop."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.step = layers.Dense(3, name="step")
        self.head = layers.Dense(1, name="head")

    def call(self, x):
        h = x
        i = tf.constant(0)
        while i < tf.cast(tf.reduce_sum(tf.abs(x)), tf.int32) % 3 + 1:
            h = self.step(h)
            i += 1
        return self.head(h)


def test_tensor_while_loop_is_an_op_fed_by_its_body():
    result = trace(Loop(), (None, 3))
    assert result.strategy == "graph"
    kinds = dict(result.graph.nodes(data="kind"))
    assert kinds["step"] == "layer" and kinds.get("while") == "op"
    assert result.graph.has_edge("step", "while") and result.graph.has_edge("while", "head")
    assert not result.graph.has_edge("step", "head")  # only through the loop, never directly


def test_ops_inside_a_loop_body_or_a_branch_are_named_by_what_they_do():
    from test_control_flow_twins import Nested

    # TensorFlow names them under the loop's or the cond's scope (`while/add`): that scope is no
    # TensorFlow function of the user's, so each op keeps its own name.
    loop = [n for n, kind in trace(Loop(), (None, 3)).graph.nodes(data="kind") if kind == "op"]
    assert "add" in loop and not [n for n in loop if n.startswith("while#")]
    branches = [n for n, kind in trace(Nested(), (None, 4)).graph.nodes(data="kind") if kind == "op"]
    assert {"max", "multiply"} <= set(branches)
    assert [n for n in branches if n.startswith("cond")] == ["cond", "cond#1"]  # its two tf.conds only


def test_trace_shows_itself_in_notebooks():
    bundle = trace(TwoDense(name="m"), (None, 3))._repr_mimebundle_()
    assert "Total params: 26" in bundle["text/plain"]
    if shutil.which("dot"):  # installed in CI; without it the text is the whole bundle
        assert "<svg" in bundle["image/svg+xml"]
    else:
        assert set(bundle) == {"text/plain"}


def test_model_without_source_code_still_traces_through_tf_ops():
    # A class typed at a REPL has no source for AutoGraph to read; its call then runs as written.
    namespace = {"keras": keras, "tf": tf}
    exec(  # noqa: S102 - the point of the test: code with no source file behind it
        "class NoSource(keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a, self.b = keras.layers.Dense(4, name='a'), keras.layers.Dense(2, name='b')\n"
        "    def call(self, x):\n"
        "        return self.b(tf.nn.relu(self.a(x)))\n",
        namespace,
    )
    result = trace(namespace["NoSource"](), (None, 3))
    assert result.strategy == "graph" and result.coverage.complete
    assert set(result.graph.edges()) == {("@input", "a"), ("a", "relu"), ("relu", "b"), ("b", "@output")}


class TFFunctions(keras.Model):
    """TensorFlow functions made of several ops: gelu (five ops), moments (two results)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a, self.b, self.c = (layers.Dense(4, name=n) for n in "abc")

    def call(self, x):
        mean, variance = tf.nn.moments(self.a(x), axes=[-1], keepdims=True)
        return self.b(tf.nn.gelu(x)) + self.c(mean) * variance


def test_a_tensorflow_function_of_several_ops_is_one_node_per_result():
    result = trace(TFFunctions(), (None, 4))
    assert result.strategy == "graph" and result.coverage.complete
    ops = [d["class_name"] for _, d in result.graph.nodes(data=True) if d["kind"] == "op"]
    assert ops.count("gelu") == 1 and ops.count("moments") == 2  # mean and variance
    edges = set(result.graph.edges())
    assert {("@input", "gelu"), ("gelu", "b"), ("a", "moments"), ("moments", "c")} <= edges
    assert not any(u == "@input" and v.startswith("moments") for u, v in edges)  # no false path


def _cyclic_list():
    structure = [(None, 3)]
    structure.append(structure)
    return structure


def _cyclic_dict():
    structure = {"x": (None, 3)}
    structure["again"] = structure
    return structure


@pytest.mark.parametrize(
    "inputs, error, message",
    [
        (_cyclic_list(), ValueError, r"inputs\[0\]\[1\] contains itself: .*without cycles"),
        (_cyclic_dict(), ValueError, r"inputs\[0\]\['again'\] contains itself"),
        ((None, -3), ValueError, r"inputs\[0\]: \(None, -3\) is not a shape: axis 1 is int -3; each dim is a size \(an int >= 0\) or None"),
        ((None, 3.0), ValueError, r"inputs\[0\]: \(None, 3.0\) is not a shape: axis 1 is float 3.0"),
        ([(None, 3), None], TypeError, r"inputs\[0\]\[1\]: expected keras.Input, .*a shape tuple such as \(None, 16\).*got NoneType None"),
    ],
)
def test_malformed_inputs_name_the_argument_and_what_was_expected(inputs, error, message):
    with pytest.raises(error, match=message):
        trace(TwoDense(), inputs)


def test_numpy_integers_are_sizes():
    result = trace(TwoDense(), (None, np.int64(3)))
    assert result.coverage.complete and result.graph.nodes["@input"]["output_specs"][0].shape == (None, 3)


def test_a_model_that_is_not_a_keras_layer_is_refused_with_what_was_expected():
    with pytest.raises(TypeError, match=r"takes a Keras model or layer as `model`, got int 3\.$"):
        trace(3)
    with pytest.raises(TypeError, match=r"got function .*It is callable: if it builds the model, pass what it returns"):
        compose.summary(lambda: TwoDense(), (None, 3))
    with pytest.raises(TypeError, match=r"got int 3"):
        compose.to_functional(3, (None, 3))


def test_a_layer_returning_a_python_value_is_named():
    class Scalar(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = keras.layers.Dense(2)

        def call(self, x):
            return float(keras.ops.convert_to_numpy(keras.ops.sum(self.d(x))))

    result = trace(Scalar(), np.ones((2, 3), "float32"))
    assert any("expected tensors" in p.reason and "float" in p.reason for p in result.coverage.problems)


class Ids(keras.Model):
    """Takes integer ids: a float input cannot index the table."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.table = tf.ones((10, 4))
        self.head = layers.Dense(2, name="head")

    def call(self, ids):
        return self.head(tf.gather(self.table, ids))


def test_built_model_traced_without_inputs_takes_the_dtype_it_was_built_with():
    model = Ids()
    keras.Model(ids := keras.Input((5,), dtype="int32"), model(ids))  # built symbolically on int32
    result = trace(model)
    assert result.coverage.complete, result.coverage
    assert result.graph.nodes["@input"]["output_specs"] == [compose.TensorSpec((None, 5), "int32")]


def test_needs_inputs_hint_uses_the_sizes_a_block_declares():
    class Lookup(compose.Block):
        width: int = 8

        def call(self, ids: compose.Tensor.int32["batch", 5], x: compose.Tensor["batch", "width"]):
            return x

    with pytest.raises(ValueError, match=r"It declares them: compose.trace\(model, compose.TensorSpec\(\(None, 5\), 'int32'\), \(None, 8\)\) \(on the command line: --input int32:5 --input 8\)"):
        trace(Lookup())
    with pytest.raises(ValueError, match=r"e.g. compose.trace\(model, \(None, 16\)\).*--input 16"):
        trace(TwoDense())
