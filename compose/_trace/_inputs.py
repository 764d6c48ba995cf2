"""The inputs of `trace`, in every form it accepts, turned into what each strategy runs on."""

from __future__ import annotations

import numbers
from typing import Any

import attrs
import keras
import numpy as np
import tensorflow as tf

from .._blocks import Block, TensorSpec, declared_inputs
from .._compat import Functional, build_shapes, input_structure, node_arguments, node_lists


@attrs.frozen
class InputShape:
    """One input known by shape and dtype only (no values)."""

    shape: tuple
    dtype: str


def is_shape(value: Any) -> bool:
    return isinstance(value, tuple) and all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)


def check_model(model: Any) -> None:
    """Refuse, before anything touches it, a `model` that is not a Keras layer: the tracer walks
    Keras's own layer records, and would otherwise fail deep inside with an AttributeError."""
    if isinstance(model, keras.layers.Layer):
        return
    hint = (
        " It is callable: if it builds the model, pass what it returns, e.g. trace(build_model())."
        if callable(model)
        else ""
    )
    raise TypeError(
        f"trace() takes a Keras model or layer as `model`, got {_describe(model)}.{hint}"
    )


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _shape_like(value: Any) -> bool:
    """A tuple of numbers and Nones: meant as a shape, even where it is not a valid one."""
    return isinstance(value, tuple) and all(d is None or isinstance(d, numbers.Real) for d in value)


def _checked_shape(value: tuple, where: str) -> tuple:
    """``value`` as a shape of ints and Nones (NumPy ints accepted), or an error naming the dim."""
    dims = []
    for axis, d in enumerate(value):
        if d is not None and (not isinstance(d, numbers.Integral) or isinstance(d, bool) or d < 0):
            raise ValueError(
                f"trace() {where}: {value!r} is not a shape: axis {axis} is {_describe(d)}; "
                "each dim is a size (an int >= 0) or None for unknown, e.g. (None, 16)"
            )
        dims.append(None if d is None else int(d))
    return tuple(dims)


def _form(value: Any, where: str) -> InputShape | keras.KerasTensor | np.ndarray | tf.Tensor:
    """One input as an `InputShape`, or kept as is (a KerasTensor, a concrete array)."""
    if isinstance(value, (keras.KerasTensor, InputShape)):
        return value
    if isinstance(value, TensorSpec):
        # A named dim binds only inside one call; to a strategy it is an unknown size.
        shape = tuple(d if isinstance(d, int) else None for d in value.shape)
        return InputShape(shape, value.dtype or keras.config.floatx())
    if isinstance(value, tf.TensorSpec):
        return InputShape(tuple(value.shape.as_list()), value.dtype.name)
    if _shape_like(value):
        return InputShape(_checked_shape(value, where), keras.config.floatx())
    if isinstance(value, (np.ndarray, tf.Tensor)) or keras.ops.is_tensor(value):
        return value
    raise TypeError(
        f"trace() {where}: expected keras.Input, compose.TensorSpec, tf.TensorSpec, a shape tuple "
        f"such as (None, 16) or an array, nested in lists/dicts; got {_describe(value)}"
    )


def normalize(model: keras.layers.Layer, inputs: tuple) -> tuple:
    """The positional inputs as nested specs or arrays; taken from the model when none given."""
    if not inputs:
        inputs = _known_inputs(model)
    return tuple(_walk(_form, x, f"inputs[{i}]") for i, x in enumerate(inputs))


def _map(fn: Any, value: Any) -> Any:
    """``fn`` applied to every input of a nested structure, kept in that structure."""
    return _walk(lambda leaf, _where: fn(leaf), value, "inputs")


def _walk(fn: Any, value: Any, where: str, open_: frozenset[int] = frozenset()) -> Any:
    """`_map`, with each input's place in the structure (``inputs[0]['ids']``) passed to ``fn``
    for its messages. A structure holding itself is refused: it has no end to walk to."""
    if isinstance(value, (dict, list)) or (isinstance(value, tuple) and not _shape_like(value)):
        if id(value) in open_:
            raise ValueError(
                f"trace() {where} contains itself: inputs nest in lists, tuples and dicts as a "
                "tree, without cycles"
            )
        open_ = open_ | {id(value)}
        if isinstance(value, dict):
            return {k: _walk(fn, v, f"{where}[{k!r}]", open_) for k, v in value.items()}
        return type(value)(_walk(fn, v, f"{where}[{i}]", open_) for i, v in enumerate(value))
    return fn(value, where)


def _known_inputs(model: keras.layers.Layer) -> tuple:
    if isinstance(model, (Functional, keras.Sequential)) and getattr(model, "inputs", None):
        return (input_structure(model) if isinstance(model, Functional) else model.inputs[0],)
    shapes = build_shapes(model)
    if model.built and shapes and len(shapes) == 1:
        (shape,) = shapes.values()
        # Keras records the batch size of the first call; it is not part of the architecture.
        structure = _map(lambda s: (None, *s[1:]), _shapes(shape))
        return (_with_dtypes(structure, _recorded_dtypes(model)),)
    raise ValueError(
        f"trace() needs inputs for {type(model).__name__} {model.name!r}: it has no known input "
        f"shapes. {_inputs_hint(model)}"
    )


def _inputs_hint(model: keras.layers.Layer) -> str:
    """How to pass the inputs, in Python and on the command line, with the sizes the model
    declares where it does (a Block whose dims are sizes or its hyperparameters)."""
    specs = declared_inputs(model) if isinstance(model, Block) else None
    if not specs or not all(
        len(spec.shape) > 1 and all(isinstance(d, int) for d in spec.shape[1:]) for spec in specs
    ):
        return (
            "Pass them, e.g. compose.trace(model, (None, 16)) or keras.Input((16,)) for 16 "
            "features (on the command line: --input 16)."
        )
    python = ", ".join(_python(spec) for spec in specs)
    options = " ".join(f"--input {_option(spec)}" for spec in specs)
    return f"It declares them: compose.trace(model, {python}) (on the command line: {options})."


def _custom_dtype(spec: TensorSpec) -> str | None:
    return spec.dtype if spec.dtype and spec.dtype != keras.config.floatx() else None


def _python(spec: TensorSpec) -> str:
    shape = (None, *spec.shape[1:])
    dtype = _custom_dtype(spec)
    return f"compose.TensorSpec({shape}, {dtype!r})" if dtype else str(shape)


def _option(spec: TensorSpec) -> str:
    """The ``--input [DTYPE:]SHAPE`` value of one declared spec, batch dim left out."""
    sizes = ",".join(str(d) for d in spec.shape[1:])
    dtype = _custom_dtype(spec)
    return f"{dtype}:{sizes}" if dtype else sizes


def _recorded_dtypes(model: keras.layers.Layer) -> list[str]:
    """The dtypes of the inputs a built model was first called on, flat, where Keras kept them:
    a symbolic call's node (a subclassed model used inside a Functional one), else an
    ``input_spec`` that names dtypes. Empty where it kept none: an eager first call records
    only shapes."""
    inbound, _ = node_lists(model)
    if inbound:
        return [keras.backend.standardize_dtype(t.dtype) for t in node_arguments(model, 0)]
    specs = model.input_spec if isinstance(model.input_spec, (list, tuple)) else [model.input_spec]
    return [spec.dtype for spec in specs if spec is not None and spec.dtype is not None]


def _with_dtypes(structure: Any, dtypes: list[str]) -> Any:
    """Each shape of ``structure`` as an `InputShape` of its recorded dtype, in flat order; the
    default float dtype for all when the count does not match (the record is of other tensors)."""
    leaves = len(_leaves(structure))
    found = iter(dtypes if len(dtypes) == leaves else [keras.config.floatx()] * leaves)
    return _map(lambda shape: InputShape(shape, next(found)), structure)


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
        if not isinstance(spec, (InputShape, keras.KerasTensor)):
            return spec
        shape = tuple(unknown_size if d is None else d for d in spec.shape)
        dtype = spec.dtype
        if "int" in str(dtype):
            return tf.zeros(shape, dtype=dtype)
        return tf.constant(rng.standard_normal(shape), dtype=dtype)

    return tuple(_map(make, x) for x in specs)


#: What `larger_arrays` makes an unknown size: one more than `as_arrays`'s default.
_LARGER_SIZE = 3


def larger_arrays(specs: tuple) -> tuple:
    """Inputs as `as_arrays` makes them, with every size a Functional twin leaves open one
    larger: unknown sizes 3 instead of 2, and each concrete array one row longer (its first row
    again: values the model was given), as a twin takes a concrete input with an open batch dim."""

    def grow(value: Any) -> Any:
        if isinstance(value, (InputShape, keras.KerasTensor)) or len(value.shape) == 0 or value.shape[0] == 0:
            return value
        return tf.concat([value, value[:1]], axis=0)

    return as_arrays(tuple(_map(grow, x) for x in specs), _LARGER_SIZE)


def has_unknown_dims(specs: tuple) -> bool:
    """Whether `as_arrays` makes up a size: some input is known by a shape with an unknown dim."""
    return any(
        isinstance(x, (InputShape, keras.KerasTensor)) and None in tuple(x.shape) for x in _leaves(specs)
    )


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list) or (isinstance(value, tuple) and not _shape_like(value)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def as_symbolic(specs: tuple) -> tuple:
    def make(spec: Any) -> Any:
        if isinstance(spec, keras.KerasTensor):
            return spec
        shape, dtype = tuple(spec.shape), keras.backend.standardize_dtype(spec.dtype)
        return keras.KerasTensor(shape, dtype=dtype)

    return tuple(_map(make, x) for x in specs)
