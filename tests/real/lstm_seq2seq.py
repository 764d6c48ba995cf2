"""Character-level sequence-to-sequence LSTM: the encoder's states start the decoder.

Source: keras-team/keras-io, examples/nlp/lstm_seq2seq.py
(https://keras.io/examples/nlp/lstm_seq2seq/), by fchollet. License: Apache-2.0.
Changed: sizes (latent_dim 256 -> 8, 6 encoder / 5 decoder tokens, sequences of 4); the
fra-eng download and training are left out. The Functional training model (LSTM with
`return_state=True`, `initial_state=encoder_states`) is as written.
"""

import keras
import numpy as np

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/nlp/lstm_seq2seq.py"
FEATURES = ("rnn_state", "return_state", "initial_state", "multi_input")

latent_dim = 8
num_encoder_tokens = 6
num_decoder_tokens = 5


def build():
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]

    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

    rng = np.random.default_rng(0)
    source = np.eye(num_encoder_tokens, dtype="float32")[rng.integers(0, num_encoder_tokens, (2, 4))]
    target = np.eye(num_decoder_tokens, dtype="float32")[rng.integers(0, num_decoder_tokens, (2, 4))]
    model([source, target])
    return model, ([source, target],), {}
