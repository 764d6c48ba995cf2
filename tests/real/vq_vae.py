"""VQ-VAE: a vector-quantizer layer with a codebook weight, a commitment loss and a
straight-through estimator.

Source: keras-team/keras-io, examples/generative/vq_vae.py
(https://keras.io/examples/generative/vq_vae/), by Sayak Paul. License: Apache-2.0.
Changed: sizes (8x8 images, conv widths 32/64 -> 4/8, latent 4, 8 codebook entries); MNIST,
the PixelCNN prior and training are left out; `tf.keras` -> `keras`, and the codebook, a `tf.Variable` in the
original, is made with `self.add_weight` (Keras 3 neither trains nor saves a tf.Variable). `VectorQuantizer`
(tf.reshape/matmul/argmin/one_hot between the codebook and the inputs, `add_loss`,
`tf.stop_gradient`), the encoder, decoder and `get_vqvae` Functional assembly are as written.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/generative/vq_vae.py"
FEATURES = ("codebook_weight", "add_loss", "stop_gradient", "argmin_one_hot", "tf_ops")


class VectorQuantizer(layers.Layer):
    def __init__(self, num_embeddings, embedding_dim, beta=0.25, **kwargs):
        super().__init__(**kwargs)
        self.embedding_dim = embedding_dim
        self.num_embeddings = num_embeddings
        self.beta = beta
        w_init = keras.initializers.RandomUniform()
        self.embeddings = self.add_weight(
            shape=(self.embedding_dim, self.num_embeddings), initializer=w_init, trainable=True,
            name="embeddings_vqvae",
        )

    def call(self, x):
        input_shape = tf.shape(x)
        flattened = tf.reshape(x, [-1, self.embedding_dim])
        encoding_indices = self.get_code_indices(flattened)
        encodings = tf.one_hot(encoding_indices, self.num_embeddings)
        quantized = tf.matmul(encodings, self.embeddings, transpose_b=True)
        quantized = tf.reshape(quantized, input_shape)
        commitment_loss = tf.reduce_mean((tf.stop_gradient(quantized) - x) ** 2)
        codebook_loss = tf.reduce_mean((quantized - tf.stop_gradient(x)) ** 2)
        self.add_loss(self.beta * commitment_loss + codebook_loss)
        quantized = x + tf.stop_gradient(quantized - x)
        return quantized

    def get_code_indices(self, flattened_inputs):
        similarity = tf.matmul(flattened_inputs, self.embeddings)
        distances = (
            tf.reduce_sum(flattened_inputs**2, axis=1, keepdims=True)
            + tf.reduce_sum(self.embeddings**2, axis=0)
            - 2 * similarity
        )
        encoding_indices = tf.argmin(distances, axis=1)
        return encoding_indices


def get_encoder(latent_dim=16):
    encoder_inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(x)
    encoder_outputs = layers.Conv2D(latent_dim, 1, padding="same")(x)
    return keras.Model(encoder_inputs, encoder_outputs, name="encoder")


def get_decoder(latent_dim=16):
    latent_inputs = keras.Input(shape=get_encoder(latent_dim).output.shape[1:])
    x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(latent_inputs)
    x = layers.Conv2DTranspose(4, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, padding="same")(x)
    return keras.Model(latent_inputs, decoder_outputs, name="decoder")


def get_vqvae(latent_dim=16, num_embeddings=64):
    vq_layer = VectorQuantizer(num_embeddings, latent_dim, name="vector_quantizer")
    encoder = get_encoder(latent_dim)
    decoder = get_decoder(latent_dim)
    inputs = keras.Input(shape=(8, 8, 1))
    encoder_outputs = encoder(inputs)
    quantized_latents = vq_layer(encoder_outputs)
    reconstructions = decoder(quantized_latents)
    return keras.Model(inputs, reconstructions, name="vq_vae")


def build():
    model = get_vqvae(latent_dim=4, num_embeddings=8)
    images = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 1)).astype("float32")
    model(images)
    return model, (images,), {}
