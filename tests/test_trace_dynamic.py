import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import compose
from compose import TraceError
from compose import trace


class Broken(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(4)

    def call(self, x):
        self.inner(x)
        raise ValueError("boom")  # the line the problem must point at


RAISE_LINE = Broken.call.__code__.co_firstlineno + 2


class WithBroken(keras.Model):
    def __init__(self):
        super().__init__()
        self.first, self.block, self.last = layers.Dense(4), Broken(), layers.Dense(2)

    def call(self, x):
        return self.last(self.block(self.first(x)))


def test_exception_in_nested_block_gives_partial_trace_with_location():
    model = WithBroken()
    result = trace(model, (None, 3))
    assert result.coverage.unreached == ("last",)
    assert {n for n, k in result.graph.nodes(data="kind") if k == "layer"} == {"first", "block/inner"}
    problem = result.coverage.problems[0]
    assert problem.path == "block" and "boom" in problem.reason
    assert problem.location == f"{__file__}:{RAISE_LINE}"
    assert not any(v == "last" for _, v in result.graph.edges())


def test_strict_raises_with_partial_trace_and_cause():
    with pytest.raises(TraceError, match="boom") as info:
        trace(WithBroken(), (None, 3), strict=True)
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.trace.coverage.unreached == ("last",)


class TensorIf(keras.Model):
    def __init__(self):
        super().__init__()
        self.a, self.yes, self.no = layers.Dense(4), layers.Dense(2), layers.Dense(2)

    def call(self, x):
        h = self.a(x)
        if tf.reduce_sum(h) > 0:
            out = self.yes(h)
        else:
            out = self.no(h)
        return out


def test_autograph_tensor_if_records_both_branches_into_cond():
    result = trace(TensorIf(), (None, 3))
    assert result.strategy == "graph" and result.coverage.complete
    assert {("a", "yes"), ("a", "no"), ("yes", "cond"), ("no", "cond"), ("cond", "@output")} <= set(result.graph.edges())
    assert not result.graph.has_edge("yes", "no") and not result.graph.has_edge("no", "yes")


class EagerOnly(keras.Model):
    def __init__(self):
        super().__init__()
        self.a, self.big, self.small = layers.Dense(4), layers.Dense(2), layers.Dense(2)

    def call(self, x):
        h = self.a(x)
        if float(tf.reduce_max(h).numpy()) > 1e9:
            return self.big(h)
        return self.small(h * 2.0)


def test_eager_only_branch_recovers_the_path_taken_with_its_ops_exactly():
    result = trace(EagerOnly(), np.ones((2, 3), "float32"))
    assert [r.name for r in result.strategies] == ["symbolic", "graph", "eager"]
    assert result.strategies[-1].finished
    assert result.coverage.unreached == ("big",)
    # `h * 2.0` ran as a TF op: an exact node. `reduce_max` only fed Python (`.numpy()`): no node.
    edges = {(u, v): exact for u, v, exact in result.graph.edges(data="exact")}
    assert edges == {("@input", "a"): True, ("a", "multiply"): True, ("multiply", "small"): True,
                     ("small", "@output"): True}
    assert result.graph.nodes["multiply"]["kind"] == "op"
    # The graph strategy's failure is why the eager one ran: a note, not a problem of this trace.
    assert result.coverage.problems == ()
    note = result.coverage.notes[0]
    assert note.strategy == "graph" and "numpy" in note.reason
    # Inside AutoGraph-converted code, the user's own line (the `.numpy()` branch) is named.
    assert note.location == f"{__file__}:{EagerOnly.call.__code__.co_firstlineno + 2}"
    text = compose.summary(result, print_fn=None)
    assert "Problem:" not in text and " Note: the graph strategy stopped: <model>: " in text


class Tree(keras.Model):
    def __init__(self):
        super().__init__()
        self.leaf, self.join = layers.Dense(4), layers.Dense(4)

    def call(self, x, structure=None):
        if structure == "leaf":
            return self.leaf(x)
        left, right = structure
        return self.join(self.call(x, structure=left) + self.call(x, structure=right))


def test_recursive_tree_with_structure_as_call_keyword():
    result = trace(Tree(), (None, 4), structure=(("leaf", "leaf"), "leaf"))
    assert result.coverage.complete
    assert result.hierarchy.nodes["leaf"]["calls"] == 3 and result.hierarchy.nodes["join"]["calls"] == 2
    assert set(result.graph.edges()) == {
        ("@input", "leaf"), ("@input", "leaf#1"), ("@input", "leaf#2"),
        ("leaf", "add"), ("leaf#1", "add"), ("add", "join"),
        ("join", "add#1"), ("leaf#2", "add#1"), ("add#1", "join#1"), ("join#1", "@output"),
    }


class NeverCalled(keras.Model):
    def __init__(self):
        super().__init__()
        self.used, self.spare = layers.Dense(2), layers.Dense(2)

    def call(self, x):
        return self.used(x)


def test_layer_never_called_is_unreached_without_edges():
    result = trace(NeverCalled(), (None, 3))
    assert result.coverage.unreached == ("spare",)
    assert result.graph.nodes["spare"]["kind"] == "unreached"
    assert result.graph.degree("spare") == 0
    assert not result.coverage.problems


class PassThrough(keras.Model):
    """Dropout at inference hands back its input object; `side` takes that same tensor first."""

    def __init__(self):
        super().__init__()
        self.d, self.drop, self.side = layers.Dense(4), layers.Dropout(0.1), layers.Dense(4)

    def call(self, x):
        h = self.d(x)
        s = self.side(h)
        return tf.nn.relu(self.drop(h)) + s


@pytest.mark.parametrize("inputs", [(None, 3), np.ones((2, 3), "float32")])
def test_layer_returning_its_input_gets_its_own_edges(inputs):
    # Graph strategy for the shape (tf ops), eager through a concrete array given with strict=False.
    result = trace(PassThrough(), inputs)
    edges = set(result.graph.edges())
    assert {("d", "drop"), ("d", "side"), ("drop", "relu")} <= edges
    assert ("drop", "drop") not in edges and ("drop", "side") not in edges
    assert all(data["exact"] for _, _, data in result.graph.edges(data=True))


class DataDepth(keras.Model):
    """Recursion whose depth is read from the data: only an eager run can follow it."""

    def __init__(self):
        super().__init__()
        self.step, self.out = layers.Dense(3, name="step"), layers.Dense(1, name="out")

    def call(self, x, depth=None):
        if depth is None:
            depth = int(np.asarray(x).shape[0])  # data decides: 2 rows, two more steps
        if depth == 0:
            return self.out(x)
        return self.call(self.step(x), depth=depth - 1)


def test_recursion_that_depends_on_data_is_recorded_as_it_ran():
    result = trace(DataDepth(), np.ones((2, 3), "float32"))
    assert result.strategy == "eager" and result.coverage.layers_reached == 2
    assert set(result.graph.edges()) == {("@input", "step"), ("step", "step#1"), ("step#1", "out"), ("out", "@output")}
    assert all(exact for _, _, exact in result.graph.edges(data="exact"))
    note = result.coverage.notes[0]
    assert note.location == f"{__file__}:{DataDepth.call.__code__.co_firstlineno + 2}"
