"""PixelCNN: masked convolutions whose kernel is multiplied by a mask at every call.

Source: keras-team/keras-io, examples/generative/pixelcnn.py
(https://keras.io/examples/generative/pixelcnn/), by ADMoreau. License: Apache-2.0.
Changed: sizes (8x8 images, 128 -> 8 filters, 2 -> 1 residual blocks, 2 -> 1 masked 1x1
layers); MNIST and training are left out; `tensorflow.keras` -> `keras`, and `kernel.get_shape()` -> `kernel.shape` (a Keras 3 variable). `PixelConvLayer` (its
`call` assigns `kernel * mask` to the conv's kernel before applying it), `ResidualBlock` and
the Functional assembly are as written.
"""

import keras
import numpy as np
from keras import layers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/generative/pixelcnn.py"
FEATURES = ("variable_assign_in_call", "mask_constant", "functional_with_subclassed_layers")

input_shape = (8, 8, 1)
n_residual_blocks = 1


class PixelConvLayer(layers.Layer):
    def __init__(self, mask_type, **kwargs):
        super().__init__()
        self.mask_type = mask_type
        self.conv = layers.Conv2D(**kwargs)

    def build(self, input_shape):
        self.conv.build(input_shape)
        kernel_shape = self.conv.kernel.shape
        self.mask = np.zeros(shape=kernel_shape)
        self.mask[: kernel_shape[0] // 2, ...] = 1.0
        self.mask[kernel_shape[0] // 2, : kernel_shape[1] // 2, ...] = 1.0
        if self.mask_type == "B":
            self.mask[kernel_shape[0] // 2, kernel_shape[1] // 2, ...] = 1.0

    def call(self, inputs):
        self.conv.kernel.assign(self.conv.kernel * self.mask)
        return self.conv(inputs)


class ResidualBlock(keras.layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = keras.layers.Conv2D(filters=filters, kernel_size=1, activation="relu")
        self.pixel_conv = PixelConvLayer(mask_type="B", filters=filters // 2, kernel_size=3, activation="relu",
                                         padding="same")
        self.conv2 = keras.layers.Conv2D(filters=filters, kernel_size=1, activation="relu")

    def call(self, inputs):
        x = self.conv1(inputs)
        x = self.pixel_conv(x)
        x = self.conv2(x)
        return keras.layers.add([inputs, x])


def build():
    inputs = keras.Input(shape=input_shape)
    x = PixelConvLayer(mask_type="A", filters=8, kernel_size=7, activation="relu", padding="same")(inputs)
    for _ in range(n_residual_blocks):
        x = ResidualBlock(filters=8)(x)
    x = PixelConvLayer(mask_type="B", filters=8, kernel_size=1, strides=1, activation="relu", padding="valid")(x)
    out = keras.layers.Conv2D(filters=1, kernel_size=1, strides=1, activation="sigmoid", padding="valid")(x)
    pixel_cnn = keras.Model(inputs, out)
    images = (np.random.default_rng(0).uniform(0, 1, (2,) + input_shape) > 0.5).astype("float32")
    pixel_cnn(images)
    return pixel_cnn, (images,), {}
