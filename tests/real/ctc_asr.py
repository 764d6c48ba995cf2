"""DeepSpeech2-like speech recognizer trained with CTC: 2-D convs over the spectrogram, then
bidirectional GRUs.

Source: keras-team/keras-io, examples/audio/ctc_asr.py
(https://keras.io/examples/audio/ctc_asr/), by Mohamed Reda Bouadjenek and Ngoc Dung Huynh.
License: Apache-2.0.
Changed: sizes (input_dim 8 bins, 32 -> 4 and 32 -> 4 conv filters, rnn_units 512 -> 8,
1 RNN layer, 6 output classes, 8 frames); LJSpeech and training are left out (the CTC loss is
only used by `compile`). `build_model` is as written.
"""

import keras
import numpy as np
from keras import layers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/audio/ctc_asr.py"
FEATURES = ("asr", "ctc", "bidirectional_rnn", "functional")


def build_model(input_dim, output_dim, rnn_layers=5, rnn_units=128):
    input_spectrogram = layers.Input((None, input_dim), name="input")
    x = layers.Reshape((-1, input_dim, 1), name="expand_dim")(input_spectrogram)
    x = layers.Conv2D(filters=4, kernel_size=[11, 41], strides=[2, 2], padding="same", use_bias=False,
                      name="conv_1")(x)
    x = layers.BatchNormalization(name="conv_1_bn")(x)
    x = layers.ReLU(name="conv_1_relu")(x)
    x = layers.Conv2D(filters=4, kernel_size=[11, 21], strides=[1, 2], padding="same", use_bias=False,
                      name="conv_2")(x)
    x = layers.BatchNormalization(name="conv_2_bn")(x)
    x = layers.ReLU(name="conv_2_relu")(x)
    x = layers.Reshape((-1, x.shape[-2] * x.shape[-1]))(x)
    for i in range(1, rnn_layers + 1):
        recurrent = layers.GRU(units=rnn_units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                               return_sequences=True, reset_after=True, name=f"gru_{i}")
        x = layers.Bidirectional(recurrent, name=f"bidirectional_{i}", merge_mode="concat")(x)
        if i < rnn_layers:
            x = layers.Dropout(rate=0.5)(x)
    x = layers.Dense(units=rnn_units * 2, name="dense_1")(x)
    x = layers.ReLU(name="dense_1_relu")(x)
    x = layers.Dropout(rate=0.5)(x)
    output = layers.Dense(units=output_dim + 1, activation="softmax")(x)
    model = keras.Model(input_spectrogram, output, name="DeepSpeech_2")
    return model


def build():
    model = build_model(input_dim=8, output_dim=6, rnn_layers=1, rnn_units=8)
    spectrogram = np.random.default_rng(0).standard_normal((2, 8, 8)).astype("float32")
    model(spectrogram)
    return model, (spectrogram,), {}
