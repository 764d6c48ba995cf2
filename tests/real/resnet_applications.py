"""A 2-block ResNet v1 built with keras.applications' own block functions.

Source: keras-team/keras, keras/src/applications/resnet.py (`ResNet`, `stack_residual_blocks_v1`
and `residual_block_v1`, as used by ResNet50). The Keras authors. License: Apache-2.0.
Changed: sizes (16x16 inputs, one stack of 2 blocks with 4 filters, 3 classes) instead of
ResNet50's stacks; no weights. The block functions are as in keras.applications (conv
shortcut in the first block, identity shortcuts after, BatchNormalization epsilon 1.001e-5), and
so is the stem (ZeroPadding2D, 7x7 conv stride 2, max pooling).
"""

import keras
import numpy as np
from keras import layers

SOURCE = "https://github.com/keras-team/keras/blob/master/keras/src/applications/resnet.py"
FEATURES = ("keras_applications", "functional", "residual", "batch_norm")

bn_axis = 3


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=name + "_1_bn")(x)
    x = layers.Activation("relu", name=name + "_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="SAME", name=name + "_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=name + "_2_bn")(x)
    x = layers.Activation("relu", name=name + "_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name=name + "_3_bn")(x)
    x = layers.Add(name=name + "_add")([shortcut, x])
    x = layers.Activation("relu", name=name + "_out")(x)
    return x


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    x = residual_block_v1(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=name + "_block" + str(i))
    return x


def stack_fn(x):
    return stack_residual_blocks_v1(x, 4, 2, stride1=1, name="conv2")


def build():
    img_input = layers.Input(shape=(16, 16, 3))
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(8, 7, strides=2, use_bias=True, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=1.001e-5, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dense(3, activation="softmax", name="predictions")(x)
    model = keras.Model(img_input, x, name="resnet_tiny")
    images = np.random.default_rng(0).uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    model(images)
    return model, (images,), {}
