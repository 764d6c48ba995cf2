"""FNet image classifier: token mixing by a 2-D Fourier transform.

Source: keras-team/keras-io, examples/vision/mlp_image_classification.py
(https://keras.io/examples/vision/mlp_image_classification/), by Khalid Salama.
License: Apache-2.0.
Changed: sizes (8x8 images, 4x4 patches, embedding 8, 1 block, 3 classes); CIFAR-100,
augmentation and training are left out. `FNetLayer` (complex casts and `keras.ops.fft2`
between layers) is as written; the classifier is the example's `build_classifier`, shared with
`mlp_mixer.py`.
"""

import keras
import numpy as np
from keras import layers

from . import mlp_mixer

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/vision/mlp_image_classification.py"
FEATURES = ("fft_between_layers", "complex_dtype", "functional_with_subclassed_layers")


class FNetLayer(layers.Layer):
    def __init__(self, embedding_dim, dropout_rate, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ffn = keras.Sequential(
            [
                layers.Dense(units=embedding_dim, activation="gelu"),
                layers.Dropout(rate=dropout_rate),
                layers.Dense(units=embedding_dim),
            ]
        )
        self.normalize1 = layers.LayerNormalization(epsilon=1e-6)
        self.normalize2 = layers.LayerNormalization(epsilon=1e-6)

    def call(self, inputs):
        real_part = inputs
        im_part = keras.ops.zeros_like(inputs)
        x = keras.ops.fft2((real_part, im_part))[0]
        x = x + inputs
        x = self.normalize1(x)
        x_ffn = self.ffn(x)
        x = x + x_ffn
        return self.normalize2(x)


def build():
    blocks = keras.Sequential([FNetLayer(mlp_mixer.embedding_dim, mlp_mixer.dropout_rate)
                               for _ in range(mlp_mixer.num_blocks)])
    model = mlp_mixer.build_classifier(blocks, positional_encoding=True)
    images = np.random.default_rng(0).uniform(0, 1, (2, mlp_mixer.image_size, mlp_mixer.image_size, 3)).astype("float32")
    model(images)
    return model, (images,), {}
