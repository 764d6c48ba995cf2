"""Perceiver image classifier: a latent array cross-attending to image patches, iterated.

Source: keras-team/keras-io, examples/vision/perceiver_image_classification.py
(https://keras.io/examples/vision/perceiver_image_classification/), by Khalid Salama.
License: Apache-2.0.
Changed: sizes (8x8 images, 4x4 patches, latent 4 x 8, 1 transformer block, 2 iterations, ffn
[8, 8], classifier [8, 3]); CIFAR-100, training and the LAMB optimizer are left out; the
augmentation pipeline keeps Normalization (given mean/variance instead of `adapt`), Resizing and
RandomFlip; `tf.keras` -> `keras`; `tf.image.extract_patches` as written; the
cross-attention module's two Inputs are named after their dict keys (Keras 3 warns otherwise). The model's
`build` creating the latent array with `add_weight` and its sublayers, and its `call` (a
module-level `data_augmentation`, the global `num_iterations`, `tf.expand_dims` of the latent
array into a dict input of a Functional module, reused every iteration) are as written,
typos included (`corss_attention`, `gloabl_average_pooling`).
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/vision/perceiver_image_classification.py"
FEATURES = ("add_weight_on_model", "weights_made_in_build", "functional_reused", "dict_input", "tf_ops",
            "globals_in_call", "position_embedding_range")

image_size = 8
patch_size = 4
num_patches = (image_size // patch_size) ** 2
latent_dim = 4
projection_dim = 8
num_heads = 2
ffn_units = [projection_dim, projection_dim]
num_transformer_blocks = 1
num_iterations = 2
classifier_units = [projection_dim, 3]
dropout_rate = 0.2

data_augmentation = keras.Sequential(
    [
        layers.Normalization(mean=0.5, variance=0.25),
        layers.Resizing(image_size, image_size),
        layers.RandomFlip("horizontal"),
    ],
    name="data_augmentation",
)


def create_ffn(hidden_units, dropout_rate):
    ffn_layers = []
    for units in hidden_units[:-1]:
        ffn_layers.append(layers.Dense(units, activation=tf.nn.gelu))
    ffn_layers.append(layers.Dense(units=hidden_units[-1]))
    ffn_layers.append(layers.Dropout(dropout_rate))
    ffn = keras.Sequential(ffn_layers)
    return ffn


class Patches(layers.Layer):
    def __init__(self, patch_size):
        super().__init__()
        self.patch_size = patch_size

    def call(self, images):
        batch_size = tf.shape(images)[0]
        patches = tf.image.extract_patches(
            images=images,
            sizes=[1, self.patch_size, self.patch_size, 1],
            strides=[1, self.patch_size, self.patch_size, 1],
            rates=[1, 1, 1, 1],
            padding="VALID",
        )
        patch_dims = patches.shape[-1]
        patches = tf.reshape(patches, [batch_size, -1, patch_dims])
        return patches


class PatchEncoder(layers.Layer):
    def __init__(self, num_patches, projection_dim):
        super().__init__()
        self.num_patches = num_patches
        self.projection = layers.Dense(units=projection_dim)
        self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)

    def call(self, patches):
        positions = tf.range(start=0, limit=self.num_patches, delta=1)
        encoded = self.projection(patches) + self.position_embedding(positions)
        return encoded


def create_cross_attention_module(latent_dim, data_dim, projection_dim, ffn_units, dropout_rate):
    inputs = {
        "latent_array": layers.Input(shape=(latent_dim, projection_dim), name="latent_array"),
        "data_array": layers.Input(shape=(data_dim, projection_dim), name="data_array"),
    }
    latent_array = layers.LayerNormalization(epsilon=1e-6)(inputs["latent_array"])
    data_array = layers.LayerNormalization(epsilon=1e-6)(inputs["data_array"])
    query = layers.Dense(units=projection_dim)(latent_array)
    key = layers.Dense(units=projection_dim)(data_array)
    value = layers.Dense(units=projection_dim)(data_array)
    attention_output = layers.Attention(use_scale=True, dropout=0.1)([query, key, value], return_attention_scores=False)
    attention_output = layers.Add()([attention_output, latent_array])
    attention_output = layers.LayerNormalization(epsilon=1e-6)(attention_output)
    ffn = create_ffn(hidden_units=ffn_units, dropout_rate=dropout_rate)
    outputs = ffn(attention_output)
    outputs = layers.Add()([outputs, attention_output])
    model = keras.Model(inputs=inputs, outputs=outputs)
    return model


def create_transformer_module(latent_dim, projection_dim, num_heads, num_transformer_blocks, ffn_units, dropout_rate):
    inputs = layers.Input(shape=(latent_dim, projection_dim))
    x0 = inputs
    for _ in range(num_transformer_blocks):
        x1 = layers.LayerNormalization(epsilon=1e-6)(x0)
        attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=projection_dim, dropout=0.1)(x1, x1)
        x2 = layers.Add()([attention_output, x0])
        x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
        ffn = create_ffn(hidden_units=ffn_units, dropout_rate=dropout_rate)
        x3 = ffn(x3)
        x0 = layers.Add()([x3, x2])
    model = keras.Model(inputs=inputs, outputs=x0)
    return model


class Perceiver(keras.Model):
    def __init__(self, patch_size, data_dim, latent_dim, projection_dim, num_heads, num_transformer_blocks,
                 ffn_units, dropout_rate, num_iterations, classifier_units):
        super().__init__()
        self.latent_dim = latent_dim
        self.data_dim = data_dim
        self.patch_size = patch_size
        self.projection_dim = projection_dim
        self.num_heads = num_heads
        self.num_transformer_blocks = num_transformer_blocks
        self.ffn_units = ffn_units
        self.dropout_rate = dropout_rate
        self.num_iterations = num_iterations
        self.classifier_units = classifier_units

    def build(self, input_shape):
        self.latent_array = self.add_weight(
            shape=(self.latent_dim, self.projection_dim), initializer="random_normal", trainable=True
        )
        self.patcher = Patches(self.patch_size)
        self.patch_encoder = PatchEncoder(self.data_dim, self.projection_dim)
        self.corss_attention = create_cross_attention_module(
            self.latent_dim, self.data_dim, self.projection_dim, self.ffn_units, self.dropout_rate
        )
        self.transformer = create_transformer_module(
            self.latent_dim, self.projection_dim, self.num_heads, self.num_transformer_blocks, self.ffn_units,
            self.dropout_rate,
        )
        self.gloabl_average_pooling = layers.GlobalAveragePooling1D()
        self.classification_head = create_ffn(hidden_units=self.classifier_units, dropout_rate=self.dropout_rate)
        super().build(input_shape)

    def call(self, inputs):
        augmented = data_augmentation(inputs)
        patches = self.patcher(augmented)
        encoded_patches = self.patch_encoder(patches)
        cross_attention_inputs = {
            "latent_array": tf.expand_dims(self.latent_array, 0),
            "data_array": encoded_patches,
        }
        for _ in range(num_iterations):
            latent_array = self.corss_attention(cross_attention_inputs)
            latent_array = self.transformer(latent_array)
            cross_attention_inputs["latent_array"] = latent_array
        representation = self.gloabl_average_pooling(latent_array)
        logits = self.classification_head(representation)
        return logits


def build():
    model = Perceiver(patch_size, num_patches, latent_dim, projection_dim, num_heads, num_transformer_blocks,
                      ffn_units, dropout_rate, num_iterations, classifier_units)
    images = np.random.default_rng(0).uniform(0, 1, (2, image_size, image_size, 3)).astype("float32")
    model(images)
    return model, (images,), {}
