"""Blocks and models that nest in every direction, shared by test_nesting and distributed_check.

Everything is defined at module level so that Blocks register themselves under this module's name
and `keras.saving.load_model` finds them without `custom_objects`.
"""

from __future__ import annotations

import keras

import compose

UNITS = 4


class Residual(compose.Block):
    """The leaf block: x + Dense(x)."""

    units: int = UNITS

    def setup(self):
        self.dense = keras.layers.Dense(self.units)

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return x + self.dense(x)


class WithFunctional(compose.Block):
    """(a) A Functional model inside a Block's call."""

    units: int = UNITS

    def setup(self):
        inputs = keras.Input((self.units,))
        hidden = keras.layers.Dense(self.units, activation="tanh")(inputs)
        self.inner = keras.Model(inputs, keras.layers.Dense(self.units)(hidden), name="inner")

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return x + self.inner(x)


class WithSequential(compose.Block):
    """(b) A Sequential model inside a Block's call."""

    units: int = UNITS

    def setup(self):
        self.inner = keras.Sequential(
            [keras.layers.Dense(self.units, activation="tanh"), keras.layers.Dense(self.units)],
            name="inner",
        )

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return x + self.inner(x)


class WithFunctionalOfBlocks(compose.Block):
    """(f) The middle of three levels: a Functional model, itself holding a Block, inside a Block."""

    units: int = UNITS

    def setup(self):
        inputs = keras.Input((self.units,))
        self.inner = keras.Model(inputs, Residual(self.units)(inputs), name="inner")

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return keras.ops.tanh(self.inner(x))


@keras.saving.register_keras_serializable(package="nesting_models")
class UserModel(keras.Model):
    """(e) The user's own keras.Model subclass holding a Block; its get_config is hand-written,
    as Keras requires of any subclassed model that saves."""

    def __init__(self, units: int = UNITS, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.block = Residual(units)
        self.head = keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.block(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def functional_around(block: keras.layers.Layer, name: str) -> keras.Model:
    """A Functional model: input -> block -> Dense(1)."""
    inputs = keras.Input((UNITS,))
    return keras.Model(inputs, keras.layers.Dense(1)(block(inputs)), name=name)


def sequential_around(block: keras.layers.Layer, name: str) -> keras.Model:
    return keras.Sequential([keras.Input((UNITS,)), block, keras.layers.Dense(1)], name=name)


def shared_block_model() -> keras.Model:
    """(g) One Residual instance called at two sites."""
    inputs = keras.Input((UNITS,))
    shared = Residual(UNITS, name="shared")
    outputs = keras.layers.Dense(1)(shared(shared(inputs)))
    return keras.Model(inputs, outputs, name="shared_twice")


def hybrid_model() -> keras.Model:
    """Block inside Functional (c) whose call runs a Functional model (a)."""
    return functional_around(WithFunctional(UNITS, name="hybrid_block"), "hybrid")
