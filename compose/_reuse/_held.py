"""Values a model's ``call`` uses without taking them from its inputs, held by layers of a twin.

A Functional model computes only from its inputs through layers. A subclassed model also uses
values of its own: constants it makes (``ops.arange(n)`` for positions, a graph's adjacency kept
as an attribute) and weights it reads directly (a ViT's class token made with ``add_weight`` on
the model). In the twin, each becomes the output of a layer:

- `Constant` holds a value as a non-trainable weight: saved with the model's weights (not in
  its config, so a large adjacency does not bloat the JSON), loaded without running code.
- `HeldWeight` holds the model's very variable, so training the twin trains the model; a loaded
  twin gets a variable of its own, filled from the saved weights.

Both are called on one of the twin's inputs (an anchor) so that Keras sees them connected to the
graph; they ignore its value.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

#: The largest constant a twin holds (elements): 16M, 64 MB of float32. A bigger value is data,
#: not part of the program; such a model should take it as an input.
MAX_CONSTANT_ELEMENTS = 1 << 24


class ConstantTooLarge(ValueError):
    """A constant over `MAX_CONSTANT_ELEMENTS`; the message says what to do instead."""


class _Holder(keras.layers.Layer):
    """A layer returning a tensor it holds as a weight, whatever it is called on."""

    def __init__(self, shape: Any, value_dtype: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value_shape = tuple(int(d) for d in shape)
        self.value_dtype = str(value_dtype)
        self.supports_masking = True  # the anchor's mask, if any, is no concern of the value

    def compute_mask(self, anchor: Any, mask: Any = None) -> None:
        return None

    def compute_output_spec(self, anchor: Any) -> keras.KerasTensor:
        return keras.KerasTensor(self.value_shape, dtype=self.value_dtype)

    def call(self, anchor: Any) -> Any:
        return keras.ops.convert_to_tensor(self.held)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "shape": list(self.value_shape), "value_dtype": self.value_dtype}


@keras.saving.register_keras_serializable(package="compose")
class Constant(_Holder):
    """A constant the model's call made from no input, as a non-trainable weight.

    Args:
        shape: the value's shape.
        value_dtype: its dtype name (``"int32"``, ``"float32"``, ...).
        **kwargs: Keras's layer keywords (``name``).
    """

    def build(self, anchor_shape: Any = None) -> None:
        self.held = self.add_weight(
            shape=self.value_shape, dtype=self.value_dtype, initializer="zeros", trainable=False, name="value"
        )

    @classmethod
    def of(cls, value: np.ndarray, name: str) -> Constant:
        """A built `Constant` holding ``value``; `ConstantTooLarge` above the size limit."""
        if value.size > MAX_CONSTANT_ELEMENTS:
            raise ConstantTooLarge(
                f"uses a constant of shape {value.shape} ({value.size:,} elements, more than "
                f"{MAX_CONSTANT_ELEMENTS:,}); a Functional model would have to store it: pass it "
                "to the model as an input instead"
            )
        layer = cls(value.shape, keras.backend.standardize_dtype(value.dtype), name=name)
        layer.build()
        layer.held.assign(value)
        return layer


@keras.saving.register_keras_serializable(package="compose")
class HeldWeight(_Holder):
    """A weight the model's call reads directly (not through a sublayer), held by this layer.

    Made by `to_functional` around the model's own variable; built from a config, it creates a
    variable of the same shape that loading the saved weights fills.

    Args:
        shape: the weight's shape.
        value_dtype: its dtype name.
        weight_trainable: whether the weight is trained.
        **kwargs: Keras's layer keywords (``name``).
    """

    def __init__(self, shape: Any, value_dtype: str, weight_trainable: bool = True, **kwargs: Any) -> None:
        super().__init__(shape, value_dtype, **kwargs)
        self.weight_trainable = bool(weight_trainable)

    def build(self, anchor_shape: Any = None) -> None:
        self.held = self.add_weight(
            shape=self.value_shape, dtype=self.value_dtype, initializer="zeros",
            trainable=self.weight_trainable, name="weight",
        )

    @classmethod
    def of(cls, variable: keras.Variable, name: str) -> HeldWeight:
        """A layer holding ``variable`` itself: the twin and the model share it."""
        layer = cls(variable.shape, variable.dtype, weight_trainable=variable.trainable, name=name)
        layer.held = variable  # tracked by Keras as this layer's weight
        layer.built = True
        return layer

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weight_trainable": self.weight_trainable}
