"""ViT classifier with a class token and a learned position embedding held by the model, and its
DeiT variant with a distillation token.

Source: keras-team/keras-io, examples/vision/deit.py
(https://keras.io/examples/vision/deit/), by Sayak Paul. License: Apache-2.0.
Changed: sizes (16x16 images, 8x8 patches, projection 8, 2 heads, 1 layer, 3 classes);
tf_flowers, tensorflow_addons and training are left out; `tensorflow.keras` -> `keras`; the
class/distillation tokens and position embeddings, `tf.Variable`s in the original, are made with
`self.add_weight` (Keras 3 tracks only its own variables, so a tf.Variable would not be a
weight of the model); the drop-path rates skip the first 0.0 of `tf.linspace` so that the one
block kept still has its StochasticDepth layers; `len(tf.shape(x))` -> `len(x.shape)` in
`StochasticDepth` (a graph tensor has no len), as the example's Keras 3 version has it. `StochasticDepth` (`if training:`), the Functional transformer blocks and
both models' `call`s (tf.tile/tf.concat of the tokens, `if not training or
self.regular_training:` returning one tensor or a tuple) are as written.
"""

import warnings
from typing import List

import keras
import numpy as np
import tensorflow as tf
from keras import layers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/vision/deit.py"
FEATURES = ("class_token", "add_weight_on_model", "position_embedding_weight", "if_training", "tf_ops",
            "functional_in_subclassed")

MODEL_TYPE = "deit_distilled_tiny_patch16_224"
RESOLUTION = 16
PATCH_SIZE = 8
NUM_PATCHES = (RESOLUTION // PATCH_SIZE) ** 2
LAYER_NORM_EPS = 1e-6
PROJECTION_DIM = 8
NUM_HEADS = 2
NUM_LAYERS = 1
MLP_UNITS = [PROJECTION_DIM * 2, PROJECTION_DIM]
DROPOUT_RATE = 0.0
DROP_PATH_RATE = 0.1
NUM_CLASSES = 3


class StochasticDepth(layers.Layer):
    def __init__(self, drop_prop, **kwargs):
        super().__init__(**kwargs)
        self.drop_prob = drop_prop

    def call(self, x, training=True):
        if training:
            keep_prob = 1 - self.drop_prob
            shape = (tf.shape(x)[0],) + (1,) * (len(x.shape) - 1)
            random_tensor = keep_prob + tf.random.uniform(shape, 0, 1)
            random_tensor = tf.floor(random_tensor)
            return (x / keep_prob) * random_tensor
        return x


def mlp(x, dropout_rate: float, hidden_units: List):
    for idx, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=tf.nn.gelu if idx == 0 else None)(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


def transformer(drop_prob: float, name: str) -> keras.Model:
    num_patches = NUM_PATCHES + 2 if "distilled" in MODEL_TYPE else NUM_PATCHES + 1
    encoded_patches = layers.Input((num_patches, PROJECTION_DIM))
    x1 = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)(encoded_patches)
    attention_output = layers.MultiHeadAttention(num_heads=NUM_HEADS, key_dim=PROJECTION_DIM,
                                                 dropout=DROPOUT_RATE)(x1, x1)
    attention_output = StochasticDepth(drop_prob)(attention_output) if drop_prob else attention_output
    x2 = layers.Add()([attention_output, encoded_patches])
    x3 = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)(x2)
    x4 = mlp(x3, hidden_units=MLP_UNITS, dropout_rate=DROPOUT_RATE)
    x4 = StochasticDepth(drop_prob)(x4) if drop_prob else x4
    outputs = layers.Add()([x2, x4])
    return keras.Model(encoded_patches, outputs, name=name)


class ViTClassifier(keras.Model):
    """Vision Transformer base class."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.projection = keras.Sequential(
            [
                layers.Conv2D(filters=PROJECTION_DIM, kernel_size=(PATCH_SIZE, PATCH_SIZE),
                              strides=(PATCH_SIZE, PATCH_SIZE), padding="VALID", name="conv_projection"),
                layers.Reshape(target_shape=(NUM_PATCHES, PROJECTION_DIM), name="flatten_projection"),
            ],
            name="projection",
        )
        init_shape = (1, NUM_PATCHES + 1, PROJECTION_DIM)
        self.positional_embedding = self.add_weight(shape=init_shape, initializer="zeros", name="pos_embedding")
        dpr = [x for x in tf.linspace(0.0, DROP_PATH_RATE, NUM_LAYERS + 1)[1:]]
        self.transformer_blocks = [transformer(drop_prob=float(dpr[i]), name=f"transformer_block_{i}")
                                   for i in range(NUM_LAYERS)]
        self.cls_token = self.add_weight(shape=(1, 1, PROJECTION_DIM), initializer="zeros", trainable=True, name="cls")
        self.dropout = layers.Dropout(DROPOUT_RATE)
        self.layer_norm = layers.LayerNormalization(epsilon=LAYER_NORM_EPS)
        self.head = layers.Dense(NUM_CLASSES, name="classification_head")

    def call(self, inputs, training=True):
        n = tf.shape(inputs)[0]
        projected_patches = self.projection(inputs)
        cls_token = tf.tile(self.cls_token, (n, 1, 1))
        cls_token = tf.cast(cls_token, projected_patches.dtype)
        projected_patches = tf.concat([cls_token, projected_patches], axis=1)
        encoded_patches = self.positional_embedding + projected_patches
        encoded_patches = self.dropout(encoded_patches)
        for transformer_module in self.transformer_blocks:
            encoded_patches = transformer_module(encoded_patches)
        representation = self.layer_norm(encoded_patches)
        encoded_patches = representation[:, 0]
        output = self.head(encoded_patches)
        return output


class ViTDistilled(ViTClassifier):
    def __init__(self, regular_training=False, **kwargs):
        super().__init__(**kwargs)
        self.num_tokens = 2
        self.regular_training = regular_training
        self.dist_token = self.add_weight(shape=(1, 1, PROJECTION_DIM), initializer="zeros", name="dist_token")
        self.positional_embedding = self.add_weight(
            shape=(1, NUM_PATCHES + self.num_tokens, PROJECTION_DIM), initializer="zeros", name="pos_embedding"
        )
        self.head = layers.Dense(NUM_CLASSES, name="classification_head")
        self.head_dist = layers.Dense(NUM_CLASSES, name="distillation_head")

    def call(self, inputs, training=True):
        n = tf.shape(inputs)[0]
        projected_patches = self.projection(inputs)
        cls_token = tf.tile(self.cls_token, (n, 1, 1))
        dist_token = tf.tile(self.dist_token, (n, 1, 1))
        cls_token = tf.cast(cls_token, projected_patches.dtype)
        dist_token = tf.cast(dist_token, projected_patches.dtype)
        projected_patches = tf.concat([cls_token, dist_token, projected_patches], axis=1)
        encoded_patches = self.positional_embedding + projected_patches
        encoded_patches = self.dropout(encoded_patches)
        for transformer_module in self.transformer_blocks:
            encoded_patches = transformer_module(encoded_patches)
        representation = self.layer_norm(encoded_patches)
        x, x_dist = (self.head(representation[:, 0]), self.head_dist(representation[:, 1]))
        if not training or self.regular_training:
            return (x + x_dist) / 2
        elif training:
            return x, x_dist


def build():
    model = ViTDistilled(name="deit_tiny_distilled")
    images = np.random.default_rng(0).uniform(0, 1, (2, RESOLUTION, RESOLUTION, 3)).astype("float32")
    with warnings.catch_warnings():
        # ViTDistilled replaces the base class's `head`; Keras 3 still tracks the replaced, never
        # built Dense and warns, once, on the first call. A quirk of the example under Keras 3.
        warnings.filterwarnings("ignore", "`build\\(\\)` was called on layer", UserWarning)
        model(images, training=False)
    return model, (images,), {"training": False}
