"""A recursive tree network, traced partially, then fully.

A recursive neural network composes word vectors bottom-up along a parse tree; the tree is
different for every sentence, so the network's shape is decided by Python recursion, which no
Functional model can express. compose traces it anyway and says how much it saw:

1. the tree computed from the data (`.numpy()`): only an eager run can follow it, so some edges
   are inferred and the problem is named;
2. the tree passed as a Python structure: traced symbolically, every edge exact, but a layer the
   tree never needs is "not reached";
3. a tree that uses every kind of node: complete.

Run: python examples/tree_network.py
"""

import keras
import numpy as np
import tensorflow as tf

import compose
from compose import Tensor


class Combine(compose.Block):
    """Two children's vectors into their parent's: tanh(W_l l + W_r r + b)."""

    units: int = 16

    def setup(self):
        self.left = keras.layers.Dense(self.units, use_bias=False, name="left")
        self.right = keras.layers.Dense(self.units, name="right")

    def call(self, l: Tensor["batch", "units"], r: Tensor["batch", "units"]) -> Tensor["batch", "units"]:
        return keras.ops.tanh(self.left(l) + self.right(r))


class TreeNet(keras.Model):
    """Classifies a sentence by composing its words along a tree.

    A tree is a token position (a leaf), a 1-tuple (a unary node, e.g. a phrase of one word) or
    a 2-tuple (a binary node): ``((0, 1), 2)`` is "(the cat) sat".
    """

    def __init__(self, vocab: int = 20, units: int = 16, classes: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.embed = keras.layers.Embedding(vocab, units, name="embed")
        self.unary = keras.layers.Dense(units, activation="tanh", name="unary")
        self.combine = Combine(units=units, name="combine")
        self.head = keras.layers.Dense(classes, name="head")

    def encode(self, tokens, tree):
        if isinstance(tree, int):
            return self.embed(tokens[:, tree])
        if len(tree) == 1:
            return self.unary(self.encode(tokens, tree[0]))
        return self.combine(self.encode(tokens, tree[0]), self.encode(tokens, tree[1]))

    def call(self, tokens, tree=((0, 1), 2)):
        return self.head(self.encode(tokens, tree))


class ParsingTreeNet(TreeNet):
    """The same network, reading its tree from the data: a left-branching tree over the
    sentence's non-padding tokens (id 0 is padding). Python needs the count as a number."""

    def call(self, tokens):
        length = int(tf.reduce_sum(tf.cast(tokens[0] > 0, "int32")).numpy())
        tree = 0
        for position in range(1, length):
            tree = (tree, position)
        return self.head(self.encode(tokens, tree))


def main() -> None:
    tokens = np.array([[3, 7, 5]], dtype="int32")

    # 1. Data-dependent recursion. The symbolic and graph strategies stop at `.numpy()`; the
    #    eager strategy runs the model on these tokens and records what ran. Edges across the
    #    computations it cannot see (here the tanh inside each Combine) are only inferred.
    partial = compose.trace(ParsingTreeNet(name="parsing"), tokens)
    coverage = partial.coverage
    print(f"1. tree from the data: {coverage.layers_reached}/{coverage.layers_total} layers, "
          f"{coverage.exact_edges} exact and {coverage.inferred_edges} inferred edges "
          f"(the {partial.strategy} strategy)")
    # The graph strategy stopped where the data decides; the eager run went on. Its reason
    # is a note: the trace holds what this run did, not what every input would do.
    print("   note:", coverage.notes[0])

    # 2. The tree as a call argument: Python recursion over a Python structure is traced
    #    symbolically, every edge exact. This tree has no unary node, so `unary` is not reached:
    #    the trace is exact but not complete for the model as a whole.
    model = TreeNet(name="tree")
    spec = compose.TensorSpec((None, 3), "int32")
    exact = compose.trace(model, spec, tree=((0, 1), 2))
    print("2. tree as an argument:", exact.coverage, "- unreached:", exact.coverage.unreached)

    # 3. A tree that needs every kind of node reaches every layer: the trace is complete.
    full = compose.trace(model, spec, tree=(((0,), 1), 2))
    print("3. every kind of node:", full.coverage, "- complete:", full.coverage.complete)
    compose.summary(full, depth=1)


if __name__ == "__main__":
    main()
