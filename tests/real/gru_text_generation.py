"""Character-level text generation model: a GRU that takes and returns its state.

Source: tensorflow/docs, site/en/tutorials/text/text_generation.ipynb
(https://www.tensorflow.org/text/tutorials/text_generation), "MyModel". The TensorFlow
authors. License: Apache-2.0 (code samples).
Changed: sizes (vocab 12, embedding 4, 8 GRU units, sequence 6); the Shakespeare download,
StringLookup and training are left out; `tf.keras` -> `keras` and, for Keras 3,
`get_initial_state(x)` -> `get_initial_state(batch_size)`. The `call` (states given or made
inside, `return_state=` choosing one tensor or a tuple) is as written; it is called with
`return_state=True`, as the tutorial's one-step generator does.
"""

import keras
import numpy as np
import tensorflow as tf

SOURCE = "https://github.com/tensorflow/docs/blob/master/site/en/tutorials/text/text_generation.ipynb"
FEATURES = ("rnn_state", "return_state", "tuple_output", "python_branch_on_kwarg")


class MyModel(keras.Model):
    def __init__(self, vocab_size, embedding_dim, rnn_units):
        super().__init__()
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = keras.layers.GRU(rnn_units, return_sequences=True, return_state=True)
        self.dense = keras.layers.Dense(vocab_size)

    def call(self, inputs, states=None, return_state=False, training=False):
        x = inputs
        x = self.embedding(x, training=training)
        if states is None:
            states = self.gru.get_initial_state(tf.shape(x)[0])
        x, states = self.gru(x, initial_state=states, training=training)
        x = self.dense(x, training=training)
        if return_state:
            return x, states
        else:
            return x


def build():
    model = MyModel(vocab_size=12, embedding_dim=4, rnn_units=8)
    chars = np.random.default_rng(0).integers(0, 12, (2, 6)).astype("int32")
    model(chars, return_state=True)
    return model, (chars,), {"return_state": True}
