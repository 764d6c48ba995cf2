"""Quickstart: a typed Block inside a Functional model; a wrong connection caught at build time.

Run: python examples/quickstart.py
"""

import keras
import numpy as np

import compose
from compose import Tensor


class Residual(compose.Block):
    """x + Dense(x): the named dim `units` binds to the hyperparameter of that name."""

    units: int = 8

    def setup(self):
        self.dense = keras.layers.Dense(self.units)

    def call(self, x: Tensor["batch", "units"]) -> Tensor["batch", "units"]:
        return x + self.dense(x)


def main() -> None:
    inputs = keras.Input((8,))
    outputs = keras.layers.Dense(1)(Residual(units=8, name="residual")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "mse")
    x = np.random.default_rng(0).standard_normal((32, 8)).astype("float32")
    model.fit(x, x.sum(axis=1, keepdims=True), epochs=1, verbose=0)
    print(f"trained a Functional model holding a Block: {model.count_params()} parameters")

    # The same block cannot be connected to a tensor of the wrong width: caught before any data.
    try:
        Residual(units=8, name="residual")(keras.layers.Flatten(name="flatten")(keras.Input((4, 4))))
    except compose.SpecError as err:
        print(f"caught at build time: {err}")

    twin = compose.clone(model, copy_weights=True)
    assert np.allclose(twin.predict(x, verbose=0), model.predict(x, verbose=0))
    print("clone with copied weights gives the same predictions")


if __name__ == "__main__":
    main()
