"""Whether a layer of the model, rebuilt from its config as loading a twin rebuilds it, has its weights.

A Functional twin holds the model's leaf layers directly, and loading it rebuilds each from its
own config and build shapes (``get_config``, ``get_build_config``). A container that makes a
sublayer may pass it an argument the sublayer's config leaves out (keras_hub's Qwen3 attention
gives its query norm ``head_dim`` and builds it on the hidden width): the container's own config
makes it again right, but the sublayer's does not, and the twin holding it cannot be loaded.
`misbuilt` rebuilds the layer as loading does, with shapes only (no weight is allocated), and
says which weight comes out with another shape.
"""

from __future__ import annotations

import warnings

import keras

from .._compat import shapes_only


def misbuilt(layer: keras.layers.Layer) -> str | None:
    """How ``layer`` rebuilt from its config and build shapes differs from itself (a weight of
    another shape), or None where it does not, or where Keras cannot save or rebuild it at all
    (Keras says so itself when the twin is saved or loaded)."""
    if layer.get_build_config() is None:
        return None  # built on its first call when loaded, on the shapes it is called on
    try:
        # Rebuilding warns as loading does (a layer without build()); the user did not ask for it.
        with shapes_only(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
            rebuilt = [(w.name, tuple(w.shape)) for w in copy.weights]
    except Exception:  # noqa: BLE001 - Keras's own error, at save or load, says it better
        return None
    weights = [(w.name, tuple(w.shape)) for w in layer.weights]
    if [name for name, _ in rebuilt] != [name for name, _ in weights]:
        return None  # weights made on the first call, or named apart: nothing to compare
    for (name, shape), (_, other) in zip(weights, rebuilt):
        if shape != other:
            return f"rebuilt from its config, its weight {name!r} has shape {other}, not {shape} as in the model"
    return None
