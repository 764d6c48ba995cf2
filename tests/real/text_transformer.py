"""Text classification with a Transformer block and token + position embeddings.

Source: keras-team/keras-io, examples/nlp/text_classification_with_transformer.py
(https://keras.io/examples/nlp/text_classification_with_transformer/), by Apoorv Nandan,
converted to Keras 3 by Sitam Meur. License: Apache-2.0.
Changed: sizes (vocab 50, maxlen 8, embed_dim 8, ff_dim 8, 20 -> 8 hidden units); the IMDB
download and training are left out. The layers and the Functional assembly are as written.
"""

import keras
import numpy as np
from keras import layers, ops

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/nlp/text_classification_with_transformer.py"
FEATURES = ("position_embedding_arange", "functional_with_subclassed_layers", "mha")


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
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
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def build():
    vocab_size, maxlen, embed_dim, num_heads, ff_dim = 50, 8, 8, 2, 8
    inputs = layers.Input(shape=(maxlen,))
    x = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)(inputs)
    x = TransformerBlock(embed_dim, num_heads, ff_dim)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(8, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    tokens = np.random.default_rng(0).integers(0, vocab_size, (2, maxlen)).astype("int32")
    model(tokens)
    return model, (tokens,), {}
