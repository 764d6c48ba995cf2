"""Nesting both ways: a Functional model inside a Block, and Blocks inside every kind of model.

Run: python examples/nesting.py
"""

import os
import tempfile

import keras
import numpy as np

import compose
from compose import Tensor


def mlp(units: int, name: str) -> keras.Model:
    """An ordinary Functional model, to be used inside a Block."""
    inputs = keras.Input((units,))
    hidden = keras.layers.Dense(units * 2, activation="relu", name="expand")(inputs)
    return keras.Model(inputs, keras.layers.Dense(units, name="project")(hidden), name=name)


class MLPBlock(compose.Block):
    """Way 1, symbolic inside imperative: `call` runs a Functional model, plus a skip connection."""

    units: int = 8

    def setup(self):
        self.mlp = mlp(self.units, name="mlp")
        self.norm = keras.layers.LayerNormalization(name="norm")

    def call(self, x: Tensor["batch", "units"]) -> Tensor["batch", "units"]:
        return self.norm(x + self.mlp(x))


# A keras.Model subclass registers itself by hand (Blocks do it on their own).
@keras.saving.register_keras_serializable(package="examples.nesting")
class Tower(keras.Model):
    """Way 2, imperative inside anything: a subclassed model holding a list of Blocks and a
    Sequential that itself holds a Block (three levels: Tower > Sequential > MLPBlock)."""

    def __init__(self, units: int = 8, depth: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.units, self.depth = units, depth
        self.blocks = [MLPBlock(units=units, name=f"block_{i}") for i in range(depth)]
        self.head = keras.Sequential(
            [MLPBlock(units=units, name="inner"), keras.layers.Dense(1, name="out")], name="head"
        )

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)

    def get_config(self):
        # A keras.Model subclass still writes its own config; a Block never needs to.
        return {**super().get_config(), "units": self.units, "depth": self.depth}


def build_functional(units: int = 8) -> keras.Model:
    """Blocks inside a Functional model, one of them shared by two call sites."""
    inputs = keras.Input((units,), name="features")
    shared = MLPBlock(units=units, name="shared")
    left = shared(keras.layers.Dense(units, name="left")(inputs))
    right = shared(keras.layers.Dense(units, name="right")(inputs))  # same weights, second call
    merged = keras.layers.Concatenate(name="merge")([left, right])
    return keras.Model(inputs, keras.layers.Dense(1, name="out")(merged), name="two_towers")


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    for model in (build_functional(), Tower(name="tower")):
        model.compile("adam", "mse")
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
        # Saving needs no custom_objects: Blocks register themselves with Keras.
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.keras")
            model.save(path)
            loaded = keras.saving.load_model(path)
        same = np.allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
        print(f"{model.name}: trained, saved and reloaded with the same predictions: {same}")

    # The tracer opens the subclassed Tower and its Blocks: one row per layer call, nested rows
    # under their container, connections included (Keras's own summary has no connections here).
    compose.summary(Tower(name="tower"), (None, 8), depth=2)
    # The shared block is one layer called twice: its calls are `shared` and `shared#1`, and the
    # layers inside it are numbered the same way (`shared/norm`, `shared/norm#1`).
    trace = compose.trace(build_functional())
    calls = [c for c in trace.graph.graph["containers"] if "/" not in c]
    print("calls of the shared block:", calls)
    print("its normalization layer:", [n for n in trace.graph if n.startswith("shared/norm")])


if __name__ == "__main__":
    main()
