"""A Functional twin saves, loads and clones without the model's code: what the twin keeps
whole must be loadable by Keras alone, and what it rebuilds must build again."""

import os

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
