"""Whether Keras, loading a twin, would make a layer of the model again as it is.

Loading a Functional twin makes each layer it holds again from that layer's own config and
build shapes (``get_config``, ``get_build_config``), in safe mode. Some layers cannot be made so:
Keras's automatic ``get_config`` refuses one made with a dtype policy object (keras_hub passes
``dtype=self.dtype_policy``), safe mode refuses an ``Activation`` of a lambda, a config holding
layers its ``from_config`` does not rebuild fails. Others are made wrong: a container may give a
sublayer an argument the sublayer's config leaves out (keras_hub's Qwen3 attention makes its query
norm with ``head_dim`` and builds it on the hidden width), so the copy's weights take other shapes.
`to_functional` opens such layers instead of keeping them whole (`compose._reuse._functional`).
"""

from __future__ import annotations

import warnings

import keras

from .._compat import all_layers, shapes_only
from .._trace import shipped_by_keras


def made_again_as_it_is(layer: keras.layers.Layer) -> bool:
    """Whether loading a twin holding ``layer`` whole would give it back: made from its config
    in safe mode, with weights of the same shapes. The copy is made with shapes only: no weight
    is allocated, and Keras's automatic names go on as before. The user's classes are found as
    loading finds them when told (registration, ``custom_objects``): what is checked is the
    config itself."""
    if shipped_by_keras(type(layer)):
        return _keras_config_loads(layer)
    classes = {keras.saving.get_registered_name(type(sub)): type(sub) for sub in all_layers(layer)}
    try:
        with shapes_only(), warnings.catch_warnings(), keras.saving.custom_object_scope(classes):
            warnings.simplefilter("ignore")  # Keras warns of a lambda in the config, then refuses it
            copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer), safe_mode=True)
            rebuilt = [(w.name, tuple(w.shape)) for w in copy.weights]
    except Exception:  # noqa: BLE001 - any failure to make it again means the twin would not load
        return False
    weights = [(w.name, tuple(w.shape)) for w in layer.weights]
    if [name for name, _ in rebuilt] != [name for name, _ in weights]:
        return True  # weights made on the first call, or named apart: nothing to compare
    return all(shape == other for (_, shape), (_, other) in zip(weights, rebuilt))


def _keras_config_loads(layer: keras.layers.Layer) -> bool:
    """For Keras's own layers, whose configs make their weights as they are, what fails is
    giving the config (a dtype policy object passed to a layer Keras configures automatically)
    or a lambda in it, which Keras warns of and safe mode refuses: checked without a copy."""
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            keras.saving.serialize_keras_object(layer)
    except Exception:  # noqa: BLE001 - no config: the twin would not save
        return False
    return not any("lambda" in str(warning.message) for warning in warned)
