"""Image captioning: a CNN encoder and an attention decoder written as subclassed models.

"Show, attend and tell" in miniature. The encoder turns an image into a grid of feature
vectors; the decoder writes the caption one word at a time, each step attending over the grid
(Bahdanau attention, a typed Block) and feeding a GRU cell. The decoder's time loop is plain
Python, so this is a subclassed model; compose still recovers its connectivity, step by step.

Run: python examples/captioning.py
"""

import keras
import numpy as np

import compose
from compose import Tensor

IMAGE = (16, 16, 3)  # tiny images and vocabulary keep the example fast
VOCAB, STEPS, UNITS = 12, 4, 16


class Attention(compose.Block):
    """Additive attention: score each location against the decoder state, return the weighted
    sum of the features. `loc` and `dim` are named dims: bound per call, checked across both
    arguments and the output."""

    units: int = 16

    def setup(self):
        self.w_features = keras.layers.Dense(self.units, name="w_features")
        self.w_hidden = keras.layers.Dense(self.units, name="w_hidden")
        self.score = keras.layers.Dense(1, name="score")

    def call(self, features: Tensor["batch", "loc", "dim"], hidden: Tensor["batch", "units"]) -> Tensor["batch", "dim"]:
        hidden = keras.ops.expand_dims(self.w_hidden(hidden), 1)  # broadcast over locations
        scores = self.score(keras.ops.tanh(self.w_features(features) + hidden))
        weights = keras.ops.softmax(scores, axis=1)
        return keras.ops.sum(weights * features, axis=1)


class Encoder(keras.Model):
    """Image -> (batch, locations, UNITS): two strided convolutions, the grid flattened."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="conv1")
        self.conv2 = keras.layers.Conv2D(UNITS, 3, strides=2, padding="same", activation="relu", name="conv2")

    def call(self, images):
        grid = self.conv2(self.conv1(images))
        return keras.ops.reshape(grid, (-1, grid.shape[1] * grid.shape[2], UNITS))


class Decoder(keras.Model):
    """Teacher-forced decoding: at step t, the word t and the attended context give word t+1."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed = keras.layers.Embedding(VOCAB, UNITS, name="embed")
        self.attention = Attention(units=UNITS, name="attention")
        self.cell = keras.layers.GRUCell(UNITS, name="gru")
        self.logits = keras.layers.Dense(VOCAB, name="logits")

    def call(self, features, words):
        hidden = keras.ops.mean(features, axis=1)  # the initial state summarizes the image
        outputs = []
        for t in range(words.shape[1]):  # a Python loop: one set of layer calls per word
            context = self.attention(features, hidden)
            step = keras.ops.concatenate([self.embed(words[:, t]), context], axis=-1)
            hidden, _ = self.cell(step, hidden)
            outputs.append(self.logits(hidden))
        return keras.ops.stack(outputs, axis=1)


class Captioner(keras.Model):
    """The whole model: ``[images, words] -> next-word logits`` of shape (batch, STEPS, VOCAB)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = Encoder(name="encoder")
        self.decoder = Decoder(name="decoder")

    def call(self, inputs):
        images, words = inputs
        return self.decoder(self.encoder(images), words)


def inputs():
    """The model's inputs as specs: images, and the caption's word ids."""
    return [compose.TensorSpec((None, *IMAGE), "float32"), compose.TensorSpec((None, STEPS), "int32")]


def main() -> None:
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(8, *IMAGE)).astype("float32")
    captions = rng.integers(1, VOCAB, size=(8, STEPS + 1)).astype("int32")

    model = Captioner(name="captioner")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # Teacher forcing: read words 0..STEPS-1, predict words 1..STEPS.
    history = model.fit([images, captions[:, :-1]], captions[:, 1:], epochs=2, batch_size=4, verbose=0)
    print("loss per epoch:", [round(v, 3) for v in history.history["loss"]])

    # The decoder's Python loop is traced symbolically: each step is a new call of the same
    # layers (`attention#1`, `gru#1`, ...), and every edge is proven by dataflow.
    trace = compose.trace(model, inputs())
    print("coverage:", trace.coverage)
    print("calls of the attention block:", trace.hierarchy.nodes["decoder/attention"]["calls"])
    # Depth 2 opens the encoder and the decoder, and shows each attention step as one row.
    compose.summary(trace, depth=2)


if __name__ == "__main__":
    main()
