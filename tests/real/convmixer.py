"""ConvMixer: patch embedding by a strided conv, then depthwise and pointwise mixing blocks.

Source: keras-team/keras-io, examples/vision/convmixer.py
(https://keras.io/examples/vision/convmixer/), by Sayak Paul. License: Apache-2.0.
Changed: sizes (16x16 images, filters 256 -> 8, depth 8 -> 2, kernel 5 -> 3, patch 2, 3
classes); CIFAR-10, augmentation and training are left out (the rescaling layer is kept). The
helper functions and `get_conv_mixer_256_8` are as written.
"""

import keras
import numpy as np
from keras import layers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/vision/convmixer.py"
FEATURES = ("convmixer", "functional", "residual")


def activation_block(x):
    x = layers.Activation("gelu")(x)
    return layers.BatchNormalization()(x)


def conv_stem(x, filters: int, patch_size: int):
    x = layers.Conv2D(filters, kernel_size=patch_size, strides=patch_size)(x)
    return activation_block(x)


def conv_mixer_block(x, filters: int, kernel_size: int):
    x0 = x
    x = layers.DepthwiseConv2D(kernel_size=kernel_size, padding="same")(x)
    x = layers.Add()([activation_block(x), x0])
    x = layers.Conv2D(filters, kernel_size=1)(x)
    x = activation_block(x)
    return x


def get_conv_mixer_256_8(image_size=32, filters=256, depth=8, kernel_size=5, patch_size=2, num_classes=10):
    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)
    x = conv_stem(x, filters, patch_size)
    for _ in range(depth):
        x = conv_mixer_block(x, filters, kernel_size)
    x = layers.GlobalAvgPool2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def build():
    model = get_conv_mixer_256_8(image_size=16, filters=8, depth=2, kernel_size=3, patch_size=2, num_classes=3)
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    model(images)
    return model, (images,), {}
