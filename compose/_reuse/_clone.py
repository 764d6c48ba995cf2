"""Rebuilding a model from its config: `compose.clone`."""

from __future__ import annotations

from typing import Any

import keras

from .._compat import Functional
from .._errors import CloneError, TraceError
from .._trace import ModelSnapshot
from ._functional import to_functional


def clone(model: Any, copy_weights: bool = False) -> Any:
    """A new model (or layer) with the same architecture and new weights.

    Functional and Sequential models are cloned layer by layer (``keras.models.clone_model``);
    any other layer, Blocks and registered ``keras.Model`` subclasses among them, is rebuilt from
    its config and built with the shapes the original was built with. A subclassed
    ``keras.Model`` without a usable ``get_config`` (the common case: Keras cannot rebuild it
    from its constructor arguments) is converted with `compose.to_functional` and that
    Functional model is cloned: the clone is then a Functional model computing the same
    function, not an instance of the subclass. The source is not changed.

    Args:
        model: a ``keras.layers.Layer`` or ``keras.Model``.
        copy_weights: also copy the weights, so that the clone computes the same outputs.

    Returns:
        The clone, built when the source was built.

    Raises:
        CloneError: the object cannot be rebuilt from its config nor converted (the message
            gives both reasons), or ``copy_weights=True`` for a model that was never built
            (it has no weights yet).

    Example:
        >>> import keras, numpy as np
        >>> inputs = keras.Input((4,))
        >>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
        >>> twin = clone(model, copy_weights=True)
        >>> x = np.ones((1, 4), "float32")
        >>> bool(np.allclose(twin(x), model(x))), twin is model
        (True, False)
    """
    if not isinstance(model, keras.layers.Layer):
        raise CloneError(f"compose.clone takes a Keras layer or model, got {type(model).__name__}")
    if copy_weights and not model.built:
        raise CloneError(
            f"cannot copy the weights of '{model.name}': it is not built yet. Call it on data "
            "or call `build()` first."
        )
    try:
        new, source = _rebuild(model), model
    except Exception as err:
        if not isinstance(model, keras.Model):
            raise CloneError(
                f"cannot clone '{model.name}' ({type(model).__name__}): rebuilding it from its "
                f"config failed: {err}. A layer needs a `get_config` that returns its "
                "constructor arguments (Blocks have one generated)."
            ) from err
        new, source = _clone_converted(model, err)
    if copy_weights:
        weights = source.get_weights()
        if len(new.weights) != len(weights):
            raise CloneError(
                f"cannot copy the weights of '{model.name}': the clone has {len(new.weights)} "
                f"weights after building and the source {len(weights)}. Its `build` does not "
                "create every weight; call the clone on data once, then `set_weights`."
            )
        new.set_weights(weights)
    return new


def _rebuild(model: Any) -> Any:
    if _is_graph_model(model):
        return keras.models.clone_model(model)
    new = type(model).from_config(model.get_config())
    build_config = model.get_build_config() if model.built else None
    if build_config:
        new.build_from_config(build_config)
        # As Keras's own loader does (serialization_lib.deserialize_keras_object): a
        # subclassed keras.Model with the default `build` creates its weights by running
        # `call` but is not marked built by `build_from_config`.
        new.built = True
    return new


def _clone_converted(model: keras.Model, config_error: Exception) -> tuple[keras.Model, keras.Model]:
    """Clone a subclassed model through its Functional twin; returns the clone and the twin
    (whose weights are the source's, in the clone's order)."""
    # Keras's message for a config it cannot revive runs over many lines; its first says what.
    first = (str(config_error).strip().splitlines() or [""])[0]
    why = f"rebuilding it from its config failed ({type(config_error).__name__}: {first})"
    if not model.built:
        raise CloneError(
            f"cannot clone '{model.name}' ({type(model).__name__}): {why}, and converting it to "
            "a Functional model needs its input shapes: call it on data or `build()` it first."
        ) from config_error
    # The twin calls the source's layers on new tensors; their Keras nodes are taken back after.
    state = ModelSnapshot(model)
    try:
        twin = to_functional(model)
        return keras.models.clone_model(twin), twin
    except (TraceError, ValueError) as err:
        raise CloneError(
            f"cannot clone '{model.name}' ({type(model).__name__}): {why}, and converting it to a "
            f"Functional model failed: {err}"
        ) from err
    finally:
        state.restore_graph_state()


def _is_graph_model(model: Any) -> bool:
    """Functional and Sequential models: Keras can rebuild them layer by layer."""
    return isinstance(model, (keras.Sequential, Functional))
