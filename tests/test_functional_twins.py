"""`to_functional` on what real models do: constants and weights used in `call`, repeated Keras
names, layers only training reaches, long op chains; each twin checked as a user would."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers, ops

import compose


def saved_and_loaded(model, tmp_path):
    path = os.path.join(tmp_path, "twin.keras")
    model.save(path)
    return keras.saving.load_model(path)  # safe mode, no custom objects


class Positions(keras.Model):
    """Token plus position embedding, positions made with ops.arange (the Keras text examples)."""

    def __init__(self):
        super().__init__()
        self.tokens, self.positions = layers.Embedding(10, 8), layers.Embedding(6, 8)
        self.head = layers.Dense(2)

    def call(self, x):
        return self.head(self.tokens(x) + self.positions(ops.arange(0, ops.shape(x)[-1])))


class ClassToken(keras.Model):
    """A ViT's class token: a weight made with add_weight on the model, read in `call`."""

    def __init__(self):
        super().__init__()
        self.proj, self.head = layers.Dense(8), layers.Dense(2)
        self.cls_token = self.add_weight(shape=(1, 1, 8), initializer="random_normal", name="cls_token")

    def call(self, x):
        h = self.proj(x)
        token = ops.broadcast_to(self.cls_token, (ops.shape(h)[0], 1, 8))
        return self.head(ops.concatenate([token, h], axis=1)[:, 0])


class GraphInAttributes(keras.Model):
    """A GNN keeping its graph (edges) as a model attribute, gathered with a TensorFlow op."""

    def __init__(self):
        super().__init__()
        self.edges = tf.constant([[0, 1], [1, 2], [2, 0]])
        self.encode, self.head = layers.Dense(4), layers.Dense(2)

    def call(self, x):
        messages = tf.gather(self.encode(x), self.edges[:, 0], axis=1)
        return self.head(tf.nn.relu(messages))


@pytest.mark.parametrize("make,x", [
    (Positions, np.array([[1, 2, 3, 4], [4, 3, 2, 1]])),
    (ClassToken, np.random.default_rng(0).standard_normal((2, 3, 5)).astype("float32")),
    (GraphInAttributes, np.random.default_rng(0).standard_normal((2, 3, 5)).astype("float32")),
], ids=["positions", "class_token", "graph_in_attributes"])
def test_values_the_call_makes_or_reads_become_part_of_the_twin(make, x, tmp_path):
    model = make()
    twin = compose.to_functional(model, x)
    np.testing.assert_allclose(twin(x), model(x), atol=1e-6)
    np.testing.assert_allclose(saved_and_loaded(twin, tmp_path)(x), model(x), atol=1e-6)
    keras.models.clone_model(twin)


def test_a_weight_read_in_call_is_the_models_own_variable_in_the_twin():
    model = ClassToken()
    x = np.ones((4, 3, 5), "float32")
    twin = compose.to_functional(model, x)
    assert any(v is model.cls_token for v in twin.trainable_variables)
    before = model.cls_token.numpy().copy()
    twin.compile("sgd", "mse")
    twin.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
    assert not np.allclose(model.cls_token.numpy(), before), "training the twin must train the model"


def test_a_constant_over_the_limit_is_refused_with_what_to_do(monkeypatch):
    from compose._reuse import _held

    monkeypatch.setattr(_held, "MAX_CONSTANT_ELEMENTS", 3)  # a real limit of 16M would need 64 MB here
    with pytest.raises(compose.TraceError, match=r"constant of shape \(4,\).*pass it to the model as an input"):
        compose.to_functional(Positions(), np.array([[1, 2, 3, 4]]))


class Block(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ffn = keras.Sequential([layers.Dense(4)], name="ffn")

    def call(self, x):
        return x + self.ffn(x)


class TwoBlocks(keras.Model):
    def __init__(self):
        super().__init__()
        self.first, self.second = Block(), Block()

    def call(self, x):
        return self.second(self.first(x))


def test_repeated_keras_names_are_made_unique_from_paths(tmp_path):
    model = TwoBlocks()
    x = np.ones((2, 4), "float32")
    twin = compose.to_functional(model, x)
    names = twin.compose_layer_names
    assert names["first/ffn"] == "ffn" and names["second/ffn"] != "ffn"
    assert twin.get_layer(names["second/ffn"]) is model.second.ffn
    np.testing.assert_allclose(saved_and_loaded(twin, tmp_path)(x), model(x), atol=1e-6)


def test_op_layer_names_are_unique_whatever_was_converted_before():
    class TwoRelus(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = layers.Dense(3), layers.Dense(3)

        def call(self, x):
            return tf.nn.relu(self.b(tf.nn.relu(self.a(x))))

    for _ in range(2):
        twin = compose.to_functional(TwoRelus(), (None, 3))
        names = [layer.name for layer in twin.layers]
        assert len(names) == len(set(names))


class Noisy(keras.Model):
    def __init__(self):
        super().__init__()
        self.noise, self.head = layers.GaussianNoise(0.5), layers.Dense(2)

    def call(self, x, training=False):
        if training:
            x = self.noise(x)
        return self.head(x)


def test_training_false_leaves_out_what_only_training_reaches_and_says_so():
    model = Noisy()
    with pytest.raises(compose.TraceError, match="'noise' is never called.*or training=False"):
        compose.to_functional(model, (None, 3))
    twin = compose.to_functional(model, (None, 3), training=False)
    assert twin.compose_left_out == ("noise",)
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(twin(x), model(x, training=False), atol=1e-6)


def test_a_layer_held_by_an_attribute_and_a_kept_whole_sequential_is_one_layer():
    class Shared(keras.Model):
        def __init__(self):
            super().__init__()
            self.enc_input = Block()
            self.encoder = keras.Sequential([self.enc_input, layers.Dense(4)])

        def call(self, x):
            return self.encoder(x)

    model = Shared()
    x = np.ones((2, 4), "float32")
    twin = compose.to_functional(model, x)
    np.testing.assert_allclose(twin(x), model(x), atol=1e-6)
    assert compose.trace(model, x).coverage.complete


def test_a_long_chain_of_tensorflow_ops_converts():
    from test_trace_promises import Chain

    model = Chain(300)
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(compose.to_functional(model, x)(x), model(x), atol=1e-6)


def test_a_fixed_batch_in_the_inputs_stays_open_in_the_twin():
    class Flatten(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(tf.reshape(x, (tf.shape(x)[0], -1)))

    model = Flatten()
    model(np.ones((8, 2, 3), "float32"))  # built: its Dense knows its width (6)
    twin = compose.to_functional(model, np.ones((8, 2, 3), "float32"))
    assert twin.input_shape == (None, 2, 3)
    x = np.ones((5, 2, 3), "float32")
    np.testing.assert_allclose(twin(x), model(x), atol=1e-6)


@keras.saving.register_keras_serializable(package="test_functional_twins")
class HeadNorm(layers.Layer):
    """keras_hub's Qwen3 query norm: a scale of ``head_dim`` if given, else of the input's width,
    and a config without ``head_dim``."""

    def __init__(self, head_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.head_dim = head_dim

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(self.head_dim or input_shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        return x * self.scale

    def get_config(self):
        config = super().get_config()
        config.pop("head_dim", None)  # as Qwen3LayerNorm's get_config leaves it out
        return config


@keras.saving.register_keras_serializable(package="test_functional_twins")
class HeadsAttention(layers.Layer):
    """Makes its norm with ``head_dim`` and builds it on the hidden shape, as Qwen3's does; its
    own config is complete."""

    def __init__(self, heads=2, **kwargs):
        super().__init__(**kwargs)
        self.heads = heads

    def build(self, input_shape):
        self.query = layers.Dense(input_shape[-1], name="query")
        self.query.build(input_shape)
        self.norm = HeadNorm(head_dim=input_shape[-1] // self.heads, name="norm")
        self.norm.build(input_shape)

    def call(self, x):
        q = self.query(x)
        length, width = q.shape[1:]
        return ops.reshape(self.norm(ops.reshape(q, (-1, length, self.heads, width // self.heads))), (-1, length, width))

    def get_config(self):
        return {**super().get_config(), "heads": self.heads}


class HeadsModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.attention = HeadsAttention(name="attention")

    def call(self, x):
        return self.attention(x)


def test_a_layer_its_config_would_rebuild_with_other_weights_is_opened_so_the_twin_loads(tmp_path):
    # Kept whole, the norm would load with a scale of the hidden width (8), not head_dim (4),
    # and the loaded twin would fail; opened, its scale is held as it is.
    model = HeadsModel()
    x = np.random.default_rng(0).standard_normal((2, 3, 8)).astype("float32")
    model(x)
    twin = compose.to_functional(model, x)
    assert not any(isinstance(layer, HeadNorm) for layer in twin.layers)
    assert any(v is model.attention.norm.scale for v in twin.weights)
    np.testing.assert_allclose(saved_and_loaded(twin, tmp_path)(x), model(x), atol=1e-6)
    # The container that makes the norm right, kept whole, loads too.
    twin = compose.to_functional(model, x, leaf=HeadsAttention)
    np.testing.assert_allclose(saved_and_loaded(twin, tmp_path)(x), model(x), atol=1e-6)


class BatchCentered(keras.Model):
    """Code written for a configured batch size: where the batch size is unknown (a KerasTensor's
    is None), it tiles the batch mean to ``batch_size`` rows, the size of the trace's inputs."""

    def __init__(self, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size
        self.body = layers.Dense(4, name="body")

    def call(self, x):
        h = self.body(x)
        rows = h.shape[0] or self.batch_size
        return h - ops.tile(ops.mean(h, axis=0, keepdims=True), (rows, 1))


def test_a_size_baked_in_where_the_batch_is_open_is_refused_by_name():
    model = BatchCentered(2, name="centered")
    x = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    model(x)
    # Right on the trace's batch size, wrong on any other: the second size shows it.
    message = (
        r"the result fails where the model runs on inputs one larger in each dim it leaves open "
        r"\(shapes \[\(3, 3\)\] for \[\(2, 3\)\]\) \(.*\); the first recorded call that differs "
        r"is the op 'tile'"
    )
    with pytest.raises(compose.TraceError, match=message):
        compose.to_functional(model, x)
    assert compose.to_functional(model, keras.Input(batch_shape=(2, 3)))(x).shape == (2, 4)  # a fixed batch: no other size to try


class Iterated(keras.Model):
    """Passes a dict to a Functional module and updates one of its entries after each call, as
    the Perceiver example does with its latent array."""

    def __init__(self):
        super().__init__()
        inputs = {"state": keras.Input((4,), name="state"), "data": keras.Input((4,), name="data")}
        mixed = layers.Dense(4, name="mix")(layers.Concatenate()([inputs["state"], inputs["data"]]))
        self.module = keras.Model(inputs, mixed, name="module")
        self.encode = layers.Dense(4, name="encode")

    def call(self, x):
        given = {"state": self.encode(x), "data": x}
        for _ in range(2):
            given["state"] = self.module(given)
        return given["state"]


def test_a_dict_changed_after_a_call_is_recorded_as_it_was_passed():
    model = Iterated()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    model(x)
    # The twin's first call of the module takes the encoded input, as the model's did, not the
    # state the loop put in the dict afterwards.
    twin = compose.to_functional(model, (None, 4))
    np.testing.assert_allclose(twin(x), model(x), rtol=1e-6, atol=1e-6)
    inputs = keras.Input((4,))
    first = compose.intermediates(model, inputs, paths="module")["module"]
    np.testing.assert_allclose(keras.Model(inputs, first)(x), model.module({"state": model.encode(x), "data": tf.constant(x)}), rtol=1e-6, atol=1e-6)


class BuiltInCall(keras.Model):
    """Builds a new Functional module, with new weights, in every call."""

    def __init__(self):
        super().__init__()
        self.encode = layers.Dense(4, name="encode")

    def call(self, x):
        inputs = keras.Input((4,))
        module = keras.Model(inputs, layers.Dense(4)(inputs))
        return module(self.encode(x))


def test_a_functional_model_built_inside_call_is_refused_saying_where_to_build_it():
    model = BuiltInCall()
    model(np.ones((2, 4), "float32"))
    with pytest.raises(compose.TraceError, match=r"a keras.Input that is none of the model's inputs: the call builds a Functional model .*build it in __init__ or build\(\)"):
        compose.to_functional(model, (None, 4))


class Augmented(keras.Model):
    """Data augmentation in the model (the Perceiver example): Keras hands the model's
    ``training`` to RandomFlip, whose own ``training`` defaults to True."""

    def __init__(self):
        super().__init__()
        self.augment = layers.RandomFlip("horizontal", seed=1)
        self.head = layers.Dense(2)

    def call(self, x, training=False):
        return self.head(layers.Flatten()(self.augment(x)))


def test_an_inference_twin_keeps_training_off_where_keras_handed_it_to_a_layer():
    model = Augmented()
    x = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    twin = compose.to_functional(model, x, training=False)
    np.testing.assert_allclose(twin(x), model(x, training=False), atol=1e-6)
    # Called in training, as fit calls it, the twin augments as the model does.
    flipped = [not np.allclose(twin(x, training=True), model(x, training=False)) for _ in range(8)]
    assert any(flipped)
