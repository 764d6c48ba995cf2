"""Reuse for any model: intermediates, to_functional, clone through conversion."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import compose
import corpus
import test_trace_dynamic as dynamic
from compose._reuse import TFOp

RNG = np.random.default_rng(0)


def batch(shape, size=3):
    """Concrete inputs shaped like a corpus input spec (tuples, lists, dicts of them)."""
    if isinstance(shape, dict):
        return {k: batch(v, size) for k, v in shape.items()}
    if isinstance(shape, list):
        return [batch(v, size) for v in shape]
    return RNG.standard_normal((size, *shape[1:])).astype("float32")


def max_diff(a, b):
    return max(float(np.abs(np.asarray(x) - np.asarray(y)).max()) for x, y in zip(keras.tree.flatten(a), keras.tree.flatten(b)))


def snapshot(model):
    return [v.numpy().copy() for v in model.variables], [len(l._inbound_nodes) for l in model._flatten_layers()]


def same(before, after):
    assert all(np.array_equal(a, b) for a, b in zip(before[0], after[0])) and before[1] == after[1]


# -- intermediates ---------------------------------------------------------------------------------


def test_intermediates_equal_a_functional_extractor():
    functional, _, _ = corpus.residual()
    x = batch((None, 4))
    got = compose.intermediates(functional, x, paths=["d1", "d2"])
    extractor = keras.Model(functional.input, [functional.get_layer("d1").output, functional.get_layer("d2").output])
    assert list(got) == ["d1", "d2"]
    assert max_diff(list(got.values()), extractor(x)) == 0.0


def test_intermediates_of_subclassed_nested_and_shared_calls():
    _, nested, _ = corpus.block_in_functional_in_subclass()
    _, shared, _ = corpus.shared()
    x = batch((None, 4))
    nested(x), shared(x)
    got = compose.intermediates(nested, x, paths=["enc/proj/dense", "enc/proj", "enc"])
    proj = nested.enc.get_layer("proj")
    np.testing.assert_allclose(got["enc/proj/dense"], proj.dense(x), atol=1e-6)
    np.testing.assert_allclose(got["enc/proj"], x + proj.dense(x), atol=1e-6)
    np.testing.assert_allclose(got["enc"], nested.enc(x), atol=1e-6)
    calls = compose.intermediates(shared, x, paths=["d", "d#1"])
    np.testing.assert_allclose(calls["d#1"], shared.d(shared.d(x)), atol=1e-6)
    np.testing.assert_allclose(calls["d"], shared.d(x), atol=1e-6)


def test_intermediates_of_an_eager_only_model():
    model = dynamic.EagerOnly()
    x = batch((None, 3))
    got = compose.intermediates(model, x, paths="small")
    np.testing.assert_allclose(got["small"], model.small(model.a(x) * 2.0), atol=1e-6)


def test_unknown_path_lists_the_nearest_known_ones():
    model = dynamic.EagerOnly()
    with pytest.raises(compose.PathError, match=r"'smal'.*nearest known paths: 'small'") as info:
        compose.intermediates(model, batch((None, 3)), paths="smal")
    assert isinstance(info.value, KeyError) and info.value.known[0] == "small"
    with pytest.raises(compose.PathError, match="'big' names a layer that is not called"):
        compose.intermediates(model, batch((None, 3)), paths="big")


class Branches(keras.Model):
    """Keras names that are not the attribute paths: ``branch`` holds ``pos_branch``, and the
    Keras name ``branch`` belongs to another layer (``head``)."""

    def __init__(self):
        super().__init__()
        self.branch = layers.Dense(4, name="pos_branch")
        self.stack = keras.Sequential([layers.Dense(4, name="pos_proj"), layers.Dense(4, name="neg_proj")],
                                      name="pos_stack")
        self.head = layers.Dense(2, name="branch")

    def call(self, x):
        return self.head(self.stack(x) + self.branch(x))


class BranchesAndSpare(Branches):
    def __init__(self):
        super().__init__()
        self.spare = layers.Dense(2, name="unused")
        self.spare.build((None, 4))  # never called: built here, so Keras does not warn


class FfnBlock(layers.Layer):
    """Names its sublayers as keras_hub's blocks do: the same Keras names in every block."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ffn = layers.Dense(4, name="feedforward_dense")

    def call(self, x):
        return x + self.ffn(x)


class Blocks(keras.Model):
    def __init__(self):
        super().__init__()
        self.blocks = [FfnBlock(name=f"block_{i}") for i in range(3)]
        self.shared = layers.Dense(4, name="tied")

    def call(self, x):
        for block in self.blocks:
            x = self.shared(block(x))
        return x


def test_intermediates_take_keras_names_where_they_differ_from_paths():
    model, x = Branches(), batch((None, 3))
    model(x)
    got = compose.intermediates(model, x, paths=["pos_branch", "pos_proj", "pos_stack", "stack/neg_proj"])
    assert list(got) == ["pos_branch", "pos_proj", "pos_stack", "stack/neg_proj"]
    np.testing.assert_allclose(got["pos_branch"], model.branch(x), atol=1e-6)
    np.testing.assert_allclose(got["pos_proj"], model.stack.layers[0](x), atol=1e-6)
    np.testing.assert_allclose(got["pos_stack"], model.stack(x), atol=1e-6)
    inputs = keras.Input((3,))
    extractor = keras.Model(inputs, compose.intermediates(model, inputs, paths="pos_branch")["pos_branch"])
    np.testing.assert_allclose(extractor(x), model.branch(x), atol=1e-6)


def test_a_path_wins_over_another_layers_keras_name():
    model, x = Branches(), batch((None, 3))
    model(x)
    np.testing.assert_allclose(compose.intermediates(model, x, paths="branch")["branch"], model.branch(x), atol=1e-6)
    np.testing.assert_allclose(compose.intermediates(model, x, paths="head")["head"], model(x), atol=1e-6)


def test_a_keras_name_several_layers_share_is_refused_with_their_paths():
    model, x = Blocks(), batch((None, 4))
    model(x)
    with pytest.raises(compose.PathError, match=r"Keras name 'feedforward_dense' is shared by 3 layers; pass one "
                       r"of their paths: 'blocks.0/ffn', 'blocks.1/ffn', 'blocks.2/ffn'") as info:
        compose.intermediates(model, x, paths="feedforward_dense")
    assert info.value.known == ("blocks.0/ffn", "blocks.1/ffn", "blocks.2/ffn")
    got = compose.intermediates(model, x, paths=["blocks.1/ffn", "block_1"])
    np.testing.assert_allclose(got["block_1"], model.blocks[1](model.shared(model.blocks[0](x))), atol=1e-5)


def test_keras_hub_block_sublayer_names_are_ambiguous_and_their_paths_work():
    keras_hub = pytest.importorskip("keras_hub", reason="needs keras_hub (pip install keras-hub)")
    backbone = keras_hub.models.BertBackbone(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
                                             intermediate_dim=32, max_sequence_length=8)
    x = {"token_ids": np.ones((2, 8), "int32"), "segment_ids": np.zeros((2, 8), "int32"),
         "padding_mask": np.ones((2, 8), "int32")}
    with pytest.raises(compose.PathError, match=r"Keras name 'feedforward_output_dense' is shared by 2 layers; pass "
                       r"one of their paths: 'transformer_layer_0/_feedforward_output_dense', "
                       r"'transformer_layer_1/_feedforward_output_dense'"):
        compose.intermediates(backbone, x, paths="feedforward_output_dense")
    got = compose.intermediates(backbone, x, paths=["transformer_layer_1/_feedforward_output_dense", "transformer_layer_1"])
    assert tuple(got["transformer_layer_1/_feedforward_output_dense"].shape) == (2, 8, 16)


def test_later_calls_of_a_shared_layer_take_its_keras_name_too():
    model, x = Blocks(), batch((None, 4))
    model(x)
    got = compose.intermediates(model, x, paths=["tied", "tied#2", "shared#1"])
    assert list(got) == ["tied", "tied#2", "shared#1"]
    np.testing.assert_allclose(got["tied#2"], model(x), atol=1e-5)
    np.testing.assert_allclose(got["tied"], model.shared(model.blocks[0](x)), atol=1e-5)
    with pytest.raises(compose.PathError, match="'tied#3' names no layer call"):
        compose.intermediates(model, x, paths="tied#3")


def test_unknown_names_are_suggested_from_paths_and_keras_names():
    model, x = BranchesAndSpare(), batch((None, 3))
    model(x)
    with pytest.raises(compose.PathError, match=r"nearest known paths: 'branch' \(Keras name 'pos_branch'\), ") as info:
        compose.intermediates(model, x, paths="pos_brnch")
    assert info.value.known[0] == "branch"
    assert "'stack/pos_proj'," in str(info.value)  # its Keras name is its last segment: said once
    with pytest.raises(compose.PathError, match="Keras name 'unused' names the layer at path 'spare', which is not called"):
        compose.intermediates(model, x, paths="unused")


def test_intermediates_leave_the_model_unchanged_even_training():
    class BN(keras.Model):
        def __init__(self):
            super().__init__()
            self.bn, self.out = layers.BatchNormalization(), layers.Dense(2)

        def call(self, x, training=None):
            return self.out(self.bn(x, training=training))

    model = BN()
    x = batch((None, 3)) + 5.0
    model(x)
    before = snapshot(model)
    got = compose.intermediates(model, x, paths="bn", training=True)
    same(before, snapshot(model))
    np.testing.assert_allclose(got["bn"], (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), atol=1e-4)
    assert "call" not in vars(model) and model.trainable


def test_symbolic_intermediates_start_a_functional_extractor():
    _, model, shape = corpus.tf_ops()
    x = batch(shape)
    model(x)
    inputs = keras.Input((4,))
    extractor = keras.Model(inputs, compose.intermediates(model, inputs, paths=["b", "c"]))
    np.testing.assert_allclose(extractor(x)["b"], model.b(x), atol=1e-6)
    np.testing.assert_allclose(extractor(x)["c"], model(x), atol=1e-6)


# -- to_functional ---------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [corpus.tf_ops, corpus.dict_io, corpus.shared, corpus.nested_functional],
                         ids=lambda f: f.__name__)
def test_to_functional_shares_layers_and_works_as_keras_own(build, tmp_path):
    _, model, shape = build()
    x = batch(shape)
    expected = model(x)
    functional = compose.to_functional(model, shape)
    assert max_diff(functional(x), expected) <= 1e-6
    own = {id(layer) for layer in model._flatten_layers()}
    kept = [l for l in functional.layers if not isinstance(l, (keras.layers.InputLayer, TFOp))]
    assert kept and all(id(l) in own for l in kept)
    text = []
    functional.summary(print_fn=lambda line, *_, **__: text.append(line))
    assert all(layer.name in "\n".join(text) for layer in functional.layers)
    assert keras.utils.model_to_dot(functional).get_nodes()
    functional.save(tmp_path / "f.keras")
    loaded = keras.saving.load_model(tmp_path / "f.keras")  # safe mode: no Lambda inside
    assert max_diff(loaded(x), expected) <= 1e-6
    twin = keras.models.clone_model(functional)
    twin.set_weights(functional.get_weights())
    assert max_diff(twin(x), expected) <= 1e-6
    assert keras.Model.from_config(functional.get_config()).count_params() == functional.count_params()


def test_tf_ops_become_plain_data_layers():
    _, model, shape = corpus.tf_ops()
    functional = compose.to_functional(model, shape)
    ops = {l.get_config()["op"] for l in functional.layers if isinstance(l, TFOp)}
    assert ops == {"Relu", "ConcatV2", "Reshape", "MatMul"}
    concat = next(l for l in functional.layers if isinstance(l, TFOp) and l.op == "ConcatV2")
    assert concat.get_config()["arguments"][1] == {"constant": -1, "dtype": "int32"}


def test_loading_refuses_stateful_ops():
    with pytest.raises(compose.UnsafeConfigError, match="'WriteFile' is stateful"):
        TFOp.from_config({"op": "WriteFile", "arguments": [{"tensor": 0}, {"tensor": 1}]})
    with pytest.raises(compose.UnsafeConfigError, match="not a TensorFlow operation"):
        TFOp.from_config({"op": "os.system", "arguments": []})
    # Stateless to TensorFlow, yet they read files or send tensors away: refused all the same.
    for op in ("ReadFile", "MatchingFiles", "ImmutableConst", "DebugIdentity", "DecodeCSV"):
        with pytest.raises(compose.UnsafeConfigError, match=f"'{op}' works on strings, files"):
            TFOp.from_config({"op": op, "arguments": [{"tensor": 0}]})
    with pytest.raises(compose.UnsafeConfigError, match="not plain data"):
        TFOp.from_config({"op": "Relu", "arguments": [{"tensor": 0}], "attrs": {"T": {"class_name": "Lambda"}}})


def test_incomplete_trace_names_the_first_unrecovered_spot():
    with pytest.raises(compose.TraceError, match=r"block: ValueError: boom \(.*test_trace_dynamic.py:\d+\)") as info:
        compose.to_functional(dynamic.WithBroken(), (None, 3))
    assert isinstance(info.value.__cause__, compose.TraceError)
    with pytest.raises(compose.TraceError, match="the trace stopped at"):
        compose.to_functional(dynamic.EagerOnly(), batch((None, 3)))


def test_a_loop_calling_layers_converts_and_a_refused_loop_leaves_no_trace():
    from test_trace_inputs import Loop

    model = Loop()
    x = batch((None, 3))
    model(x)
    twin = compose.to_functional(model, (None, 3))
    for inputs in (x, x * 3.0, -x):  # the number of steps depends on the input
        np.testing.assert_allclose(twin(inputs), model(inputs), rtol=1e-5, atol=1e-5)
    refused = Looping()
    refused(x)
    before = snapshot(refused)
    with pytest.raises(compose.TraceError, match=r"the while loop 'while' carries a TensorArray"):
        compose.to_functional(refused, (None, 3))
    same(before, snapshot(refused))


class ShapeDependent(keras.Model):
    """Dropout (so the model owns a seed generator) and a Python branch on the batch size, which
    the twin, open in batch, takes the other way."""

    def __init__(self):
        super().__init__()
        self.drop = layers.Dropout(0.5)
        self.dense = layers.Dense(3)

    def call(self, x, training=False):
        y = self.dense(self.drop(x, training=training))
        return y if x.shape[0] is None else y * 2.0


def test_a_twin_computing_otherwise_is_refused_even_when_the_model_draws_random_numbers():
    # The model owns a seed generator (its dropout): the twin is still run against it, and only
    # outputs that change with the draws would go unchecked.
    model = ShapeDependent()
    before = (model(batch((None, 4))), snapshot(model))[1]
    with pytest.raises(compose.TraceError, match=r"computes output 0 differently from the model on the trace's inputs \(max abs diff"):
        compose.to_functional(model, batch((None, 4)), training=False)
    same(before, snapshot(model))


class Scaled(keras.Model):
    """A weight used in the model's own call, outside any layer."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(2)
        self.scale = self.add_weight(shape=(2,), initializer="ones")

    def call(self, x):
        return self.dense(x) * self.scale


def test_a_weight_the_call_reads_is_held_in_the_twin_and_a_foreign_variable_refused():
    model = Scaled()
    twin = compose.to_functional(model, (None, 3))
    assert any(v is model.scale for v in twin.trainable_variables)

    foreign = tf.Variable(tf.ones((2,)))  # made outside the model: no layer tracks it

    class Foreign(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x) * foreign

    with pytest.raises(compose.TraceError, match="variable that belongs to no layer"):
        compose.to_functional(Foreign(), (None, 3))


# -- clone -----------------------------------------------------------------------------------------


def test_clone_converts_a_subclassed_model_without_config():
    _, model, shape = corpus.tf_ops()
    x = batch(shape)
    expected = model(x)
    before = snapshot(model)
    fresh = compose.clone(model)
    twin = compose.clone(model, copy_weights=True)
    same(before, snapshot(model))
    assert isinstance(twin, keras.Model) and twin.count_params() == model.count_params()
    assert max_diff(twin(x), expected) <= 1e-6
    assert max_diff(fresh(x), expected) > 1e-3
    assert not {id(v) for v in twin.weights} & {id(v) for v in model.weights}


class Looping(keras.Model):
    """A tf.while_loop carrying a TensorArray between layers: no Functional form."""

    def __init__(self):
        super().__init__()
        self.a, self.b = layers.Dense(2), layers.Dense(2)

    def call(self, x):
        h = self.a(x)

        def body(i, written):
            return i + 1, written.write(i, h * tf.cast(i, h.dtype))

        _, written = tf.while_loop(lambda i, _: i < 3, body, [0, tf.TensorArray(tf.float32, size=3)])
        return self.b(tf.reduce_sum(written.stack(), axis=0))


def test_clone_says_why_it_cannot():
    with pytest.raises(compose.CloneError, match="needs its input shapes: call it on data"):
        compose.clone(corpus.tf_ops()[1])
    model = Looping()
    model(batch((None, 3)))
    with pytest.raises(compose.CloneError, match="from its config failed.*converting it .* failed.*the while loop 'while' carries a TensorArray") as info:
        compose.clone(model)
    assert isinstance(info.value.__cause__, compose.TraceError)


class Gate(compose.Block):
    """Names its sublayers itself, so two Gates hold layers of the same names."""

    units: int = 4

    def setup(self):
        self.proj = layers.Dense(self.units, name="proj")
        self.gate = layers.Dense(self.units, activation="sigmoid", name="gate")

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return self.proj(x) * self.gate(x)


class TwoGates(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [Gate(name=f"gate_{i}") for i in range(2)]

    def call(self, x):
        for block in self.blocks:
            x = x + block(x)
        return x


def test_blocks_stay_whole_in_to_functional(tmp_path):
    model = TwoGates()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    functional = compose.to_functional(model, (None, 4))
    # The very block objects, one layer each; their sublayers are not flattened into the model.
    assert [layer for layer in functional.layers if isinstance(layer, Gate)] == model.blocks
    assert not any(layer.name in ("proj", "gate") for layer in functional.layers)
    np.testing.assert_allclose(functional.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    functional.save(tmp_path / "gates.keras")
    loaded = keras.saving.load_model(tmp_path / "gates.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    # The blocks keep checking what they are given inside the Functional model.
    with pytest.raises(compose.SpecError, match="gate_0: argument 'x' expects"):
        loaded.get_layer("gate_0")(keras.Input((5,)))
    # Opening them is still possible; their equal sublayer names are then made unique.
    opened = compose.to_functional(model, (None, 4), leaf=())
    assert opened.compose_layer_names["blocks.0/proj"] == "proj"
    assert opened.get_layer(opened.compose_layer_names["blocks.1/proj"]) is model.blocks[1].proj
