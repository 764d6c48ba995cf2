"""DCGAN generator and discriminator, composed by a GAN model.

Source: keras-team/keras-io, examples/generative/dcgan_overriding_train_step.py
(https://keras.io/examples/generative/dcgan_overriding_train_step/), by fchollet.
License: Apache-2.0.
Changed: sizes (16x16 images, conv widths 64/128 -> 4/8, latent 4); CelebA and training are left
out. The example's `GAN` model defines only `train_step`; its generator-then-discriminator pass
(`self.discriminator(self.generator(random_latent_vectors))`) is given here as `call`, from a
batch of latent vectors. The Sequential generator and discriminator are as written.
"""

import keras
import numpy as np
from keras import layers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/generative/dcgan_overriding_train_step.py"
FEATURES = ("gan", "sequential_in_subclassed", "conv_transpose")

latent_dim = 4


def make_discriminator():
    return keras.Sequential(
        [
            keras.Input(shape=(16, 16, 3)),
            layers.Conv2D(4, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )


def make_generator():
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(2 * 2 * 8),
            layers.Reshape((2, 2, 8)),
            layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(8, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim

    def call(self, random_latent_vectors):
        generated_images = self.generator(random_latent_vectors)
        return self.discriminator(generated_images)


def build():
    model = GAN(discriminator=make_discriminator(), generator=make_generator(), latent_dim=latent_dim)
    z = np.random.default_rng(0).standard_normal((2, latent_dim)).astype("float32")
    model(z)
    return model, (z,), {}
