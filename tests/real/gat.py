"""Graph attention network for node classification: multi-head graph attention over an edge
list given as an input.

Source: keras-team/keras-io, examples/graph/gat_node_classification.py
(https://keras.io/examples/graph/gat_node_classification/), by Alexander Kensert.
License: Apache-2.0.
Changed: sizes (6 nodes of 4 features, 10 edges, hidden 8, 2 heads, 1 layer, 3 classes); Cora
and training are left out; `tf.keras` -> `keras`, and `GraphAttention.build` creates its weights
with `self.add_weight(shape=..., ...)` keywords (Keras 3 has no positional shape). The layers'
and the model's `call`s (tf.gather, unsorted_segment_sum, a Python list of heads concatenated or
averaged, the model taking `(node_states, edges)`) are as written.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers

SOURCE = "https://github.com/keras-team/keras-io/blob/master/examples/graph/gat_node_classification.py"
FEATURES = ("graph_attention", "segment_ops", "gather", "tf_ops", "list_input")


class GraphAttention(layers.Layer):
    def __init__(self, units, kernel_initializer="glorot_uniform", kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[0][-1], self.units), trainable=True, initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, name="kernel",
        )
        self.kernel_attention = self.add_weight(
            shape=(self.units * 2, 1), trainable=True, initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, name="kernel_attention",
        )
        self.built = True

    def call(self, inputs):
        node_states, edges = inputs
        node_states_transformed = tf.matmul(node_states, self.kernel)
        node_states_expanded = tf.gather(node_states_transformed, edges)
        node_states_expanded = tf.reshape(node_states_expanded, (tf.shape(edges)[0], -1))
        attention_scores = tf.nn.leaky_relu(tf.matmul(node_states_expanded, self.kernel_attention))
        attention_scores = tf.squeeze(attention_scores, -1)
        attention_scores = tf.math.exp(tf.clip_by_value(attention_scores, -2, 2))
        attention_scores_sum = tf.math.unsorted_segment_sum(
            data=attention_scores, segment_ids=edges[:, 0], num_segments=tf.reduce_max(edges[:, 0]) + 1,
        )
        attention_scores_sum = tf.repeat(attention_scores_sum, tf.math.bincount(tf.cast(edges[:, 0], "int32")))
        attention_scores_norm = attention_scores / attention_scores_sum
        node_states_neighbors = tf.gather(node_states_transformed, edges[:, 1])
        out = tf.math.unsorted_segment_sum(
            data=node_states_neighbors * attention_scores_norm[:, tf.newaxis],
            segment_ids=edges[:, 0],
            num_segments=tf.shape(node_states)[0],
        )
        return out


class MultiHeadGraphAttention(layers.Layer):
    def __init__(self, units, num_heads=8, merge_type="concat", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.merge_type = merge_type
        self.attention_layers = [GraphAttention(units) for _ in range(num_heads)]

    def call(self, inputs):
        atom_features, pair_indices = inputs
        outputs = [attention_layer([atom_features, pair_indices]) for attention_layer in self.attention_layers]
        if self.merge_type == "concat":
            outputs = tf.concat(outputs, axis=-1)
        else:
            outputs = tf.reduce_mean(tf.stack(outputs, axis=-1), axis=-1)
        return tf.nn.relu(outputs)


class GraphAttentionNetwork(keras.Model):
    def __init__(self, node_states, edges, hidden_units, num_heads, num_layers, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.node_states = node_states
        self.edges = edges
        self.preprocess = layers.Dense(hidden_units * num_heads, activation="relu")
        self.attention_layers = [MultiHeadGraphAttention(hidden_units, num_heads) for _ in range(num_layers)]
        self.output_layer = layers.Dense(output_dim)

    def call(self, inputs):
        node_states, edges = inputs
        x = self.preprocess(node_states)
        for attention_layer in self.attention_layers:
            x = attention_layer([x, edges]) + x
        outputs = self.output_layer(x)
        return outputs


def build():
    rng = np.random.default_rng(0)
    node_states = rng.standard_normal((6, 4)).astype("float32")
    # Sorted by target node and covering every node, as Cora's edge list is (bincount/repeat
    # in GraphAttention relies on it).
    edges = np.array([[0, 1], [0, 2], [1, 0], [2, 3], [3, 4], [3, 2], [4, 5], [4, 0], [5, 1], [5, 3]], dtype="int64")
    model = GraphAttentionNetwork(node_states, edges, hidden_units=8, num_heads=2, num_layers=1, output_dim=3)
    model([node_states, edges])
    return model, ([node_states, edges],), {}
