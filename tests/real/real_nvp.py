"""Real NVP normalizing flow (affine coupling layers) for density estimation.

Source: keras-team/keras-io, examples/generative/real_nvp.py
(https://keras.io/examples/generative/real_nvp/), by Mandolini Giorgio Maria, Sanna Daniele and
Zannini Quirini Giorgio. License: Apache-2.0.
Changed: sizes (coupling width 256 -> 8, 6 -> 2 coupling layers); the tensorflow_probability
latent distribution, the metrics and train/test steps are left out (they are not used by `call`).
`Coupling` and `RealNVP.call` are as written: masks kept as a numpy attribute, `if training:`
reversing the direction, tf.exp between layers, a tuple returned.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, regularizers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/generative/real_nvp.py"
FEATURES = ("if_training", "constant_between_layers", "tf_ops", "tuple_output", "functional_in_subclassed")

output_dim = 8
reg = 0.01


def Coupling(input_shape):
    input = keras.layers.Input(shape=(input_shape,))
    t_layer_1 = layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(input)
    t_layer_5 = layers.Dense(input_shape, activation="linear", kernel_regularizer=regularizers.l2(reg))(t_layer_1)
    s_layer_1 = layers.Dense(output_dim, activation="relu", kernel_regularizer=regularizers.l2(reg))(input)
    s_layer_5 = layers.Dense(input_shape, activation="tanh", kernel_regularizer=regularizers.l2(reg))(s_layer_1)
    return keras.Model(inputs=input, outputs=[s_layer_5, t_layer_5])


class RealNVP(keras.Model):
    def __init__(self, num_coupling_layers):
        super().__init__()
        self.num_coupling_layers = num_coupling_layers
        self.masks = np.array([[0, 1], [1, 0]] * (num_coupling_layers // 2), dtype="float32")
        self.layers_list = [Coupling(2) for i in range(num_coupling_layers)]

    def call(self, x, training=True):
        log_det_inv = 0
        direction = 1
        if training:
            direction = -1
        for i in range(self.num_coupling_layers)[::direction]:
            x_masked = x * self.masks[i]
            reversed_mask = 1 - self.masks[i]
            s, t = self.layers_list[i](x_masked)
            s *= reversed_mask
            t *= reversed_mask
            gate = (direction - 1) / 2
            x = reversed_mask * (x * tf.exp(direction * s) + direction * t * tf.exp(gate * s)) + x_masked
            log_det_inv += gate * tf.reduce_sum(s, [1])
        return x, log_det_inv


def build():
    model = RealNVP(num_coupling_layers=2)
    data = np.random.default_rng(0).standard_normal((4, 2)).astype("float32")
    model(data)
    return model, (data,), {"training": False}
