"""Rebuilding a model from its config: `compose.clone`."""

from __future__ import annotations

from typing import Any

import keras
from keras.src.models.functional import Functional

from ._errors import CloneError


def clone(model: Any, copy_weights: bool = False) -> Any:
    """A new model (or layer) with the same architecture and new weights.

    Functional and Sequential models are cloned layer by layer (``keras.models.clone_model``);
    any other layer, Blocks and registered ``keras.Model`` subclasses among them, is rebuilt from
    its config and built with the shapes the original was built with. The source is not changed.

    Args:
        model: a ``keras.layers.Layer`` or ``keras.Model``.
        copy_weights: also copy the weights, so that the clone computes the same outputs.

    Returns:
        The clone, built when the source was built.

    Raises:
        CloneError: the object cannot be rebuilt from its config, or ``copy_weights=True`` for a
            model that was never built (it has no weights yet).

    Example:
        >>> twin = compose.clone(model, copy_weights=True)
    """
    if not isinstance(model, keras.layers.Layer):
        raise CloneError(f"compose.clone takes a Keras layer or model, got {type(model).__name__}")
    if copy_weights and not model.built:
        raise CloneError(
            f"cannot copy the weights of '{model.name}': it is not built yet. Call it on data "
            "or call `build()` first."
        )
    try:
        if _is_graph_model(model):
            new = keras.models.clone_model(model)
        else:
            new = type(model).from_config(model.get_config())
            build_config = model.get_build_config() if model.built else None
            if build_config:
                new.build_from_config(build_config)
                # As Keras's own loader does (serialization_lib.deserialize_keras_object): a
                # subclassed keras.Model with the default `build` creates its weights by running
                # `call` but is not marked built by `build_from_config`.
                new.built = True
    except Exception as err:
        raise CloneError(
            f"cannot clone '{model.name}' ({type(model).__name__}): rebuilding it from its config "
            f"failed: {err}. A subclassed model needs a `get_config` that returns its constructor "
            "arguments (Blocks have one generated)."
        ) from err
    if copy_weights:
        source = model.get_weights()
        if len(new.weights) != len(source):
            raise CloneError(
                f"cannot copy the weights of '{model.name}': the clone has {len(new.weights)} "
                f"weights after building and the source {len(source)}. Its `build` does not "
                "create every weight; call the clone on data once, then `set_weights`."
            )
        new.set_weights(source)
    return new


def _is_graph_model(model: Any) -> bool:
    """Functional and Sequential models: Keras can rebuild them layer by layer."""
    return isinstance(model, (keras.Sequential, Functional))
