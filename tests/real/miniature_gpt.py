"""Miniature GPT: a causal Transformer block whose mask is computed in `call`, and a model with
two outputs.

Source: keras-team/keras-io, examples/generative/text_generation_with_miniature_gpt.py
(https://keras.io/examples/generative/text_generation_with_miniature_gpt/), by Apoorv Nandan.
License: Apache-2.0.
Changed: sizes (vocab 30, maxlen 8, embed_dim 8, 2 heads, feed-forward 8); IMDB, the
TextVectorization and training are left out; `causal_attention_mask` ends in `tf.tile` instead
of `ops.tile` (Keras 3.15's `ops.tile` iterates over a tensor of repeats, which a graph
refuses). `causal_attention_mask` (otherwise keras.ops), the
`TransformerBlock`, `TokenAndPositionEmbedding` and the Functional `create_model` returning
`[outputs, x]` are as written.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/generative/text_generation_with_miniature_gpt.py"
FEATURES = ("causal_mask", "position_embedding_arange", "multi_output", "keras_ops", "tf_ops")

vocab_size = 30
maxlen = 8
embed_dim = 8
num_heads = 2
feed_forward_dim = 8


def causal_attention_mask(batch_size, n_dest, n_src, dtype):
    i = ops.arange(n_dest)[:, None]
    j = ops.arange(n_src)
    m = i >= j - n_src + n_dest
    mask = ops.cast(m, dtype)
    mask = ops.reshape(mask, [1, n_dest, n_src])
    mult = ops.concatenate([ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])], 0)
    return tf.tile(mask, mult)


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads, embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        input_shape = ops.shape(inputs)
        batch_size = input_shape[0]
        seq_len = input_shape[1]
        causal_mask = causal_attention_mask(batch_size, seq_len, seq_len, "bool")
        attention_output = self.att(inputs, inputs, attention_mask=causal_mask)
        attention_output = self.dropout1(attention_output)
        out1 = self.layernorm1(inputs + attention_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(0, maxlen, 1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def create_model():
    inputs = layers.Input(shape=(maxlen,), dtype="int32")
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, feed_forward_dim)
    x = transformer_block(x)
    outputs = layers.Dense(vocab_size)(x)
    model = keras.Model(inputs=inputs, outputs=[outputs, x])
    return model


def build():
    model = create_model()
    tokens = np.random.default_rng(0).integers(0, vocab_size, (2, maxlen)).astype("int32")
    model(tokens)
    return model, (tokens,), {}
