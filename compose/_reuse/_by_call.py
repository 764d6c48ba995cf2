"""`SpecFromCall`: a layer of the model called in its twin with its output spec taken from its call.

Called on KerasTensors, a Keras layer that defines ``compute_output_shape`` gets its outputs'
spec from that method alone, and one written for some other use may not describe its call: a
rotary embedding inherits one that returns its input's shape while its call returns a pair, or
a position embedding's is written for another signature and raises; a mask layer returns the
shape and float dtype of its input for the boolean matrix its call makes. The model never
meets this (its call runs the layer on tensors: the trace recorded what the call returns), but
a twin calls the layer on KerasTensors, when it is built and again when it is loaded.

`SpecFromCall` holds such a layer and calls it; having no ``compute_output_shape`` of its own,
it gets its spec as Keras does for any such layer, by running the call on placeholders. The
replay uses it only for a layer whose Keras spec disagrees with its recorded call, or raises.
Its config holds the layer's, so the twin saves and loads as plain data, and the layer is its
tracked sublayer: the same object, with the model's weights.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="compose")
class SpecFromCall(keras.layers.Layer):
    """``layer(*args, **kwargs)``, its output spec inferred by running ``layer``'s call.

    Args:
        layer: the layer to call, kept as it is (same object, same weights).
        **kwargs: Keras's layer keywords (``name``).
    """

    def __init__(self, layer: keras.layers.Layer, **kwargs: Any) -> None:
        # Inputs reach the layer as given: its own __call__ casts them as it does in the model.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.layer = layer
        self._convert_input_args = False
        self.supports_masking = layer.supports_masking
        self.built = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return self.layer.compute_mask(inputs, mask)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        return self.layer(*args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": keras.saving.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SpecFromCall:
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)
