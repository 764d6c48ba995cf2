"""The inputs of `trace`, in every form it accepts, turned into what each strategy runs on."""

from __future__ import annotations

from typing import Any

import attrs
import keras
import numpy as np
import tensorflow as tf
from keras.src.models.functional import Functional

from .._specs import TensorSpec


@attrs.frozen
class Spec:
    """One input known by shape and dtype only (no values)."""

    shape: tuple
    dtype: str


def is_shape(value: Any) -> bool:
    return isinstance(value, tuple) and all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)


def _spec(value: Any) -> Spec | keras.KerasTensor | np.ndarray | tf.Tensor:
    """One input as a `Spec`, or kept as is (a KerasTensor, a concrete array)."""
    if isinstance(value, keras.KerasTensor):
        return value
    if isinstance(value, TensorSpec):
        # A named dim binds only inside one call; to a strategy it is an unknown size.
        shape = tuple(d if isinstance(d, int) else None for d in value.shape)
        return Spec(shape, value.dtype or keras.config.floatx())
    if isinstance(value, tf.TensorSpec):
        return Spec(tuple(value.shape.as_list()), value.dtype.name)
    if is_shape(value):
        return Spec(value, keras.config.floatx())
    if isinstance(value, (np.ndarray, tf.Tensor)) or keras.ops.is_tensor(value):
        return value
    raise TypeError(
        f"trace() takes inputs as keras.Input, compose.TensorSpec, tf.TensorSpec, shape tuples or "
        f"arrays, nested in lists/dicts; got {value!r} of type {type(value).__name__}"
    )


def normalize(model: keras.layers.Layer, inputs: tuple) -> tuple:
    """The positional inputs as nested specs or arrays; taken from the model when none given."""
    if not inputs:
        inputs = _known_inputs(model)
    return tuple(_map(_spec, x) for x in inputs)


def _map(fn: Any, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _map(fn, v) for k, v in value.items()}
    if isinstance(value, list) or (isinstance(value, tuple) and not is_shape(value)):
        return type(value)(_map(fn, v) for v in value)
    return fn(value)


def _known_inputs(model: keras.layers.Layer) -> tuple:
    if isinstance(model, (Functional, keras.Sequential)) and getattr(model, "inputs", None):
        return (model._inputs_struct if isinstance(model, Functional) else model.inputs[0],)
    shapes = getattr(model, "_build_shapes_dict", None)
    if model.built and shapes and len(shapes) == 1:
        (shape,) = shapes.values()
        # Keras records the batch size of the first call; it is not part of the architecture.
        return (_map(lambda s: (None, *s[1:]), _shapes(shape)),)
    raise ValueError(
        f"trace() needs inputs for {type(model).__name__} {model.name!r}: it has no known input "
        "shapes. Pass them, e.g. compose.trace(model, (None, 16)) or keras.Input((16,))."
    )


def _shapes(value: Any) -> Any:
    """Keras's recorded build shapes (tuples or lists, nested) with every shape as a tuple."""
    if isinstance(value, (list, tuple)) and is_shape(tuple(value)):
        return tuple(value)
    if isinstance(value, dict):
        return {k: _shapes(v) for k, v in value.items()}
    return [_shapes(v) for v in value]


def as_tf_specs(specs: tuple) -> tuple:
    """tf.TensorSpecs for the graph strategy."""

    def make(spec: Any) -> tf.TensorSpec:
        return tf.TensorSpec(spec.shape, dtype=spec.dtype)

    return tuple(_map(make, x) for x in specs)


def as_arrays(specs: tuple, unknown_size: int = 2) -> tuple:
    """Concrete inputs for the eager strategy; unknown sizes become ``unknown_size``, values
    come from a fixed seed so two traces run the same path."""
    rng = np.random.default_rng(0)

    def make(spec: Any) -> Any:
        if not isinstance(spec, (Spec, keras.KerasTensor)):
            return spec
        shape = tuple(unknown_size if d is None else d for d in spec.shape)
        dtype = spec.dtype
        if "int" in str(dtype):
            return tf.zeros(shape, dtype=dtype)
        return tf.constant(rng.standard_normal(shape), dtype=dtype)

    return tuple(_map(make, x) for x in specs)


def has_unknown_dims(specs: tuple) -> bool:
    """Whether `as_arrays` makes up a size: some input is known by a shape with an unknown dim."""
    return any(
        isinstance(x, (Spec, keras.KerasTensor)) and None in tuple(x.shape) for x in _leaves(specs)
    )


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def as_symbolic(specs: tuple) -> tuple:
    def make(spec: Any) -> Any:
        if isinstance(spec, keras.KerasTensor):
            return spec
        shape, dtype = tuple(spec.shape), keras.backend.standardize_dtype(spec.dtype)
        return keras.KerasTensor(shape, dtype=dtype)

    return tuple(_map(make, x) for x in specs)
