"""Convolutional variational autoencoder with a sampling layer.

Source: keras-team/keras-io, examples/generative/vae.py
(https://keras.io/examples/generative/vae/), by fchollet. License: Apache-2.0.
Changed: sizes (8x8 images, 2 conv layers of 4 and 8 filters, dense 8, latent 2); MNIST,
training and plotting are left out. The example's `VAE` model defines only `train_step`; its
forward pass (`z_mean, z_log_var, z = self.encoder(data)`, `self.decoder(z)`) is given here as
`call`, returning the reconstruction and the two encoder statistics. `Sampling` (a seeded
`keras.random.normal`) and the encoder/decoder Functional models are as written.
"""

import keras
import numpy as np
from keras import layers, ops

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/generative/vae.py"
FEATURES = ("sampling_layer", "random_in_call", "seed_generator", "functional_in_subclassed", "tuple_from_layer")

latent_dim = 2

# The reconstruction is drawn at random; a reloaded model's Sampling layer does not continue the
# original's random stream, so only the encoder statistics can match after a `.keras` round trip.
RANDOM_OUTPUTS = (0,)


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def make_encoder():
    encoder_inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")


def make_decoder():
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(2 * 2 * 8, activation="relu")(latent_inputs)
    x = layers.Reshape((2, 2, 8))(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(4, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(latent_inputs, decoder_outputs, name="decoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder

    def call(self, data):
        z_mean, z_log_var, z = self.encoder(data)
        reconstruction = self.decoder(z)
        return reconstruction, z_mean, z_log_var


def build():
    model = VAE(make_encoder(), make_decoder(), name="vae")
    images = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 1)).astype("float32")
    model(images)
    return model, (images,), {}
