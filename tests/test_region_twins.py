"""Functional twins of traces with regions: containers the symbolic strategy could not run,
traced alone by the graph strategy, are replayed inside the symbolic replay; an eager region is
refused by name."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, ops

import compose
from compose._reuse import SpecFromCall, TFOp


class Block(layers.Layer):
    """A residual block; one of them calls a TensorFlow function, which KerasTensors refuse."""

    def __init__(self, gelu=False, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(8)  # Keras names them apart: an extractor model needs that
        self.gelu = gelu

    def call(self, x):
        h = self.dense(x)
        h = tf.nn.gelu(h) if self.gelu else keras.ops.relu(h)
        return x + h


class Tower(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [Block(gelu=i == 4, name=f"block_{i}") for i in range(10)]
        self.head = layers.Dense(2, name="head")

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def data(shape=(3, 8)):
    return np.random.default_rng(0).standard_normal(shape).astype("float32")


def test_a_graph_region_is_replayed_inside_the_symbolic_twin():
    model = Tower(name="tower")
    x = data()
    model(x)
    trace = compose.trace(model, (None, 8))
    assert trace.strategy == "symbolic"
    regions = [(run.name, run.path) for run in trace.strategies if run.path is not None and run.finished]
    assert regions == [("graph", "blocks.4")]
    twin = compose.to_functional(model, (None, 8))
    np.testing.assert_allclose(twin(x), model(x), rtol=1e-6, atol=1e-6)
    # The region's ops are TFOp layers; the other blocks' ops stay Keras operations.
    assert [type(layer).__name__ for layer in twin.layers].count("Dense") == 11
    ops = [layer.name for layer in twin.layers if isinstance(layer, TFOp)]
    assert "blocks.4.gelu" in ops
    # Built from the trace with the region: the other blocks' ops are no TFOps, as they would
    # be in a twin of the whole model traced by the graph strategy.
    assert not [name for name in ops if name.startswith("blocks.") and not name.startswith("blocks.4.")]
    assert twin.get_layer(model.blocks[4].dense.name) is model.blocks[4].dense


def test_intermediates_reach_inside_and_past_a_graph_region():
    model = Tower(name="tower")
    x = data()
    model(x)
    inputs = keras.Input((8,))
    found = compose.intermediates(model, inputs, paths=["blocks.4/dense", "blocks.4", "blocks.5"])
    extractor = keras.Model(inputs, [found["blocks.4/dense"], found["blocks.4"], found["blocks.5"]])
    eager = compose.intermediates(model, x, paths=["blocks.4/dense", "blocks.4", "blocks.5"])
    for got, want in zip(extractor(x), eager.values()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


class ReadsAValue(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(8, name="dense")

    def call(self, x):
        return self.dense(x) * float(tf.reduce_mean(x).numpy())


class Holder(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = ReadsAValue(name="inner")

    def call(self, x):
        return self.inner(x) + x


class WithEagerBlock(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed = layers.Dense(8, name="embed")
        self.holder = Holder(name="holder")

    def call(self, x):
        return self.holder(self.embed(x))


def test_an_eager_region_is_refused_by_name():
    model = WithEagerBlock(name="with_eager")
    model(data())
    assert any(run.name == "eager" and run.path == "holder/inner" for run in compose.trace(model, (None, 8)).strategies)
    message = (
        r"cannot convert 'with_eager': 'holder/inner' was traced eagerly, as a region of its own, "
        r"because the graph strategy could not trace it \(.*numpy.*test_region_twins.py:\d+\); an "
        r"eager trace shows one run on drawn values"
    )
    with pytest.raises(compose.TraceError, match=message):
        compose.to_functional(model, (None, 8))
    with pytest.raises(compose.TraceError, match=r"cannot extract intermediates of 'with_eager': 'holder/inner' was traced eagerly"):
        compose.intermediates(model, keras.Input((8,)), paths="embed")


# Leaves whose `compute_output_shape` does not describe their call (keras_hub's rotary embeddings
# and XLNet's segment matrix do this). Keras takes a layer's spec on KerasTensors from that method,
# so the container calling them cannot run symbolically (a graph region), and a twin calling them
# on KerasTensors must take their spec from their call.


@keras.saving.register_keras_serializable(package="test_region_twins")
class PairFromOneShape(layers.Layer):
    """Returns a pair; its compute_output_shape, written for one input, says one tensor."""

    def call(self, q, k):
        return q * 2.0, k - 1.0

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="test_region_twins")
class ShapeForAnotherSignature(layers.Layer):
    """A cos/sin pair; its compute_output_shape expects a list of shapes and raises on one."""

    def call(self, x, start_index=0):
        angles = keras.ops.cumsum(keras.ops.ones_like(x), axis=1) + start_index
        return keras.ops.cos(angles), keras.ops.sin(angles)

    def compute_output_shape(self, input_shape):
        length = len(input_shape[1])  # an int here: TypeError
        return [(None, length, 8)] * 2


@keras.saving.register_keras_serializable(package="test_region_twins")
class BoolMatrixAsInput(layers.Layer):
    """A boolean (batch, n, n) matrix from (batch, n); its compute_output_shape says (batch, n),
    of the layer's float dtype."""

    def call(self, x):
        return keras.ops.expand_dims(x, 1) > keras.ops.expand_dims(x, 2)

    def compute_output_shape(self, input_shape):
        return input_shape


class UsesMisdescribedLeaves(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.q, self.k = layers.Dense(8, name="q"), layers.Dense(8, name="k")
        self.pair, self.angles = PairFromOneShape(name="pair"), ShapeForAnotherSignature(name="angles")
        self.matrix = BoolMatrixAsInput(name="matrix")

    def call(self, x):
        q, k = self.pair(self.q(x), self.k(x))
        cos, sin = self.angles(q)
        scores = tf.matmul(q * cos, k * sin, transpose_b=True)
        order = self.matrix(tf.reduce_mean(x, axis=-1))
        return tf.where(order, scores, -scores)


class MisdescribedLeavesNet(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed = layers.Dense(8, name="embed")
        self.body = UsesMisdescribedLeaves(name="body")

    def call(self, x):
        return self.body(self.embed(x))


def test_leaves_whose_keras_spec_misdescribes_their_call_are_called_for_their_spec(tmp_path):
    model = MisdescribedLeavesNet(name="misdescribed")
    x = data((3, 5, 8))
    model(x)
    assert [(run.name, run.path) for run in compose.trace(model, (None, 5, 8)).strategies if run.finished] == [
        ("symbolic", None), ("graph", "body")]
    twin = compose.to_functional(model, (None, 5, 8))
    np.testing.assert_allclose(twin(x), model(x), rtol=1e-6, atol=1e-6)
    # The same layer objects, each called through a layer that takes its spec from its call.
    held = {layer.layer.name: layer.layer for layer in twin.layers if isinstance(layer, SpecFromCall)}
    assert held == {"pair": model.body.pair, "angles": model.body.angles, "matrix": model.body.matrix}
    assert twin.get_layer(twin.compose_layer_names["body/pair"]).layer is model.body.pair
    path = str(tmp_path / "twin.keras")
    twin.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(x), model(x), rtol=1e-6, atol=1e-6)
    assert keras.models.clone_model(twin)(x).shape == (3, 5, 5)  # new weights, same architecture


class MixFFN(layers.Layer):
    """keras_hub's MiT mix-FFN: tokens put back on their image for a depthwise conv, with the
    batch size read by ops.shape, which is None on a KerasTensor."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(8, name="dense")
        self.conv = layers.DepthwiseConv2D(3, padding="same", name="conv")

    def call(self, x):
        shape = ops.shape(x)
        batch, side, channels = shape[0], int(math.sqrt(shape[1])), shape[2]
        image = ops.reshape(self.dense(x), (batch, side, side, channels))
        return x + ops.reshape(self.conv(image), (batch, -1, channels))


class MergedHeads(layers.Layer):
    """keras_hub's Gemma3n attention: heads split off and merged back with the token dims read
    by ops.shape (``ops.shape(x)[:-1] + (-1,)``), the output projection built in `build`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.query = layers.Dense(8, name="query")
        self.out = layers.Dense(8, name="out")

    def build(self, input_shape):
        self.query.build(input_shape)
        self.out.build(input_shape)

    def call(self, x):
        tokens = ops.shape(x)[:-1]
        heads = ops.softmax(ops.reshape(self.query(x), tokens + (2, 4)), axis=-1)
        return self.out(ops.reshape(heads, tokens + (-1,)))


class Patches(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed = layers.Dense(8, name="embed")
        self.mix = MixFFN(name="mix")
        self.heads = MergedHeads(name="heads")
        self.head = layers.Dense(2, name="head")

    def call(self, x):
        return self.head(self.heads(self.mix(self.embed(x))))


def test_dims_the_model_computes_when_it_runs_are_computed_by_the_twin(tmp_path):
    model = Patches(name="patches")
    model(data((2, 16, 3)))
    trace = compose.trace(model, (None, 16, 3))
    # A symbolic record would hold reshapes to (None, 4, 4, 8): both containers are graph regions.
    fallbacks = [(run.name, run.path, run.finished) for run in trace.strategies if run.path is not None]
    assert fallbacks == [("symbolic", "mix", False), ("graph", "mix", True), ("symbolic", "heads", False), ("graph", "heads", True)]
    assert "keras.ops.reshape is given an unknown dim: newshape=(None, 4, 4, 8)" in trace.strategies[1].reason
    twin = compose.to_functional(model, (None, 16, 3))
    path = os.path.join(tmp_path, "twin.keras")
    twin.save(path)
    loaded = keras.saving.load_model(path)  # safe mode
    clone = keras.models.clone_model(twin)  # fresh layers, built on the twin's shapes
    for batch in (1, 2, 5):
        x = data((batch, 16, 3))
        np.testing.assert_allclose(twin(x), model(x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(loaded(x), model(x), rtol=1e-5, atol=1e-6)
        assert clone(x).shape == (batch, 16, 2)
