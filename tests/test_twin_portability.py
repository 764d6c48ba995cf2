"""A Functional twin saves, loads and clones without the model's code: what the twin keeps
whole must be loadable by Keras alone, and what it rebuilds must build again."""

import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

import compose


class Embedding(keras.layers.Layer):
    """A container of the user's own, not registered with keras.saving."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proj, self.norm = layers.Dense(8), layers.LayerNormalization()

    def call(self, x):
        return self.norm(self.proj(x))


class Encoder(keras.Model):
    """An attribute that is also the first member of a Sequential (keras example transformer_asr)."""

    def __init__(self):
        super().__init__()
        self.embed = Embedding()
        self.encoder = keras.Sequential([self.embed, layers.Dense(8, activation="relu")])
        self.head = layers.Dense(2)

    def call(self, x):
        return self.head(self.encoder(x))


def test_a_sequential_holding_a_container_of_yours_is_opened_so_the_twin_loads_without_code(tmp_path):
    # Before: the Sequential was kept whole, and loading the twin needed the Embedding class.
    model = Encoder()
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    twin = compose.to_functional(model, x)
    assert not any(isinstance(layer, keras.Sequential) for layer in twin.layers)
    path = os.path.join(tmp_path, "twin.keras")
    twin.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)  # no custom_objects: Embedding is not needed
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)


def test_a_sequential_of_keras_layers_stays_whole():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.body = keras.Sequential([layers.Dense(8), layers.Dense(4)], name="body")

        def call(self, x):
            return self.body(x)

    twin = compose.to_functional(Net(), (None, 3))
    assert [type(layer).__name__ for layer in twin.layers[1:]] == ["Sequential"]


class PolicyNorm(keras.layers.Layer):
    """keras_hub's RMSNormalization, shrunk: made with ``dtype=<a DTypePolicy object>``, so
    Keras's automatic get_config refuses it; its weight is read in its own call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def build(self, shape):
        self.scale = self.add_weight(shape=(shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        return x * keras.ops.rsqrt(keras.ops.mean(keras.ops.square(x), axis=-1, keepdims=True) + 1e-6) * self.scale


@keras.saving.register_keras_serializable(package="compose_tests")
class Gated(keras.layers.Layer):
    """A registered container that saves: checking so makes its sublayer again, unnamed."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gate = layers.Dense(4, activation="sigmoid")

    def build(self, shape):
        self.gate.build(shape)

    def call(self, x):
        return x * self.gate(x)


class Unsaveable(keras.Model):
    """Layers Keras cannot make again from their config: keras_hub's pattern (a dtype policy
    object), Keras's own Identity made so, an Activation of a lambda, and a Sequential holding one."""

    def __init__(self):
        super().__init__()
        policy = keras.DTypePolicy("float32")
        self.proj = layers.Dense(8)
        self.norm = PolicyNorm(dtype=policy)
        self.skip = layers.Identity(dtype=policy)
        self.act = layers.Activation(lambda x: keras.activations.gelu(x, approximate=False))
        self.tail = keras.Sequential([layers.Dense(4), PolicyNorm(dtype=policy)])
        self.head = keras.Sequential([Gated()])

    def call(self, x):
        return self.head(self.tail(self.act(self.skip(self.norm(self.proj(x))))))


def test_layers_keras_cannot_make_from_their_config_are_opened_so_the_twin_loads(tmp_path):
    model = Unsaveable()
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    model(x)
    next_name = int(keras.layers.Dense(1).name.rsplit("_", 1)[1]) + 1
    twin = compose.to_functional(model, x)
    # The checks of what Keras can make again leave its automatic names as they were.
    assert keras.layers.Dense(1).name == f"dense_{next_name}"
    kinds = [type(layer).__name__ for layer in twin.layers]
    assert not {"PolicyNorm", "Identity", "Activation"} & set(kinds) and kinds.count("Sequential") == 1, kinds
    np.testing.assert_allclose(twin(x), model(x), atol=1e-6)
    path = os.path.join(tmp_path, "twin.keras")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", ".*lambda", UserWarning)  # nothing unsafe is saved
        twin.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)  # no custom_objects
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    keras.models.clone_model(twin)
    # The norms' weights are the model's own, held by the twin: training it trains them.
    held = {id(v) for v in twin.trainable_variables}
    assert id(model.norm.scale) in held and id(model.tail.layers[1].scale) in held


class Regroup(keras.Model):
    """Reshapes to a shape computed from the tensor's own (a TensorFlow idiom), then a Dense."""

    def __init__(self):
        super().__init__()
        self.proj, self.head = layers.Dense(8), layers.Dense(3)

    def call(self, x):
        h = self.proj(x)
        h = tf.reshape(h, tf.stack([tf.shape(h)[0], 2, 4]))
        return self.head(h)


def test_tf_ops_keep_the_shapes_the_trace_proved_so_clones_build():
    # Before: the Reshape's layer inferred (None, None, None) from the op alone, and
    # clone_model could not build the Dense after it ("Shapes used to initialize variables").
    model = Regroup()
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    twin = compose.to_functional(model, (None, 6))
    assert tuple(twin.output.shape) == (None, 2, 3)
    clone = keras.models.clone_model(twin)
    clone.set_weights(twin.get_weights())
    np.testing.assert_allclose(clone(x), model(x), atol=1e-6)


def test_a_tf_op_layer_refuses_output_shapes_that_are_not_plain_shapes():
    reshape = next(layer for layer in compose.to_functional(Regroup(), (None, 6)).layers
                   if type(layer).__name__ == "TFOp" and layer.op == "Reshape")
    config = reshape.get_config()
    assert config["output_shapes"] == [[None, 2, 4]]
    for bad in ("(None, 2, 4)", [[None, "2"]], [[-1, 2]], [{"class_name": "Lambda"}]):
        try:
            type(reshape).from_config({**config, "output_shapes": bad})
        except compose.UnsafeConfigError as err:
            assert "output_shapes" in str(err)
        else:
            raise AssertionError(f"accepted {bad!r}")


class KerasCond(keras.Model):
    def __init__(self):
        super().__init__()
        self.first, self.left, self.right = layers.Dense(8), layers.Dense(8), layers.Dense(8)

    def call(self, x):
        h = self.first(x)
        return keras.ops.cond(keras.ops.mean(h) > 0, lambda: self.left(h), lambda: self.right(h))


def test_a_keras_op_running_python_functions_is_refused_by_name():
    # Before: the twin kept the cond's functions, which hold the trace's KerasTensors, and
    # calling it failed inside the check ("A KerasTensor is symbolic ... cannot convert").
    with pytest.raises(compose.TraceError, match=r"'cond' \(keras.ops.cond\) runs Python functions .* tf.cond"):
        compose.to_functional(KerasCond(), (None, 4))
