"""`TFOp`: the layer that stands for one TensorFlow operation in a model made by `to_functional`.

A subclassed model's ``call`` may use any TensorFlow function between its layers (``tf.concat``,
``tf.nn.relu``, ``tf.reshape``). The graph strategy sees each as a ``tf.Operation``; a `TFOp`
runs the same raw operation (``tf.raw_ops.<type>``) with the same attributes. Its config is plain
data (the op's type, its attributes, its constant inputs as nested lists), so a model holding it
saves and loads in Keras's safe mode: no Lambda, no pickled code. Only operations TensorFlow marks
stateless are accepted, when converting and when loading: a file can never ask for file I/O,
printing, random numbers or variables, whatever it says.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.python.framework import op_def_registry

from ._errors import UnsafeConfigError


#: Types of values that are not numbers: strings (file names, URLs), resources, variants.
_NON_NUMERIC = frozenset({types_pb2.DT_STRING, types_pb2.DT_RESOURCE, types_pb2.DT_VARIANT})
#: String attributes that only choose a layout or a formula, never name anything outside.
_LAYOUT_ATTRS = frozenset({"data_format", "padding", "equation", "method", "mode"})


def check_op_type(op_type: str) -> None:
    """Refuse an op type that is not a pure numeric function of its inputs.

    TensorFlow's "stateless" is not enough: ``ReadFile`` and ``MatchingFiles`` read the disk,
    ``ImmutableConst`` maps a file into memory, ``DebugIdentity`` sends tensors to a URL, and all
    are marked stateless. So an op is accepted only when it is stateless, takes and gives no
    strings, resources or variants, has no string attribute but layout choices, and no function
    attribute (which would run a graph the config cannot show).
    """
    op_def = op_def_registry.get(op_type) if isinstance(op_type, str) else None
    if op_def is None or not hasattr(tf.raw_ops, op_type):
        raise UnsafeConfigError(f"TFOp: {op_type!r} is not a TensorFlow operation")
    if op_def.is_stateful:
        raise UnsafeConfigError(
            f"TFOp: {op_type!r} is stateful (side effects or randomness); only pure operations "
            "are rebuilt from a config"
        )
    args = [*op_def.input_arg, *op_def.output_arg]
    touches_outside = any(arg.type in _NON_NUMERIC for arg in args) or any(
        attr.type in ("func", "list(func)")
        or (attr.type in ("string", "list(string)") and attr.name not in _LAYOUT_ATTRS)
        for attr in op_def.attr
    )
    if touches_outside:
        raise UnsafeConfigError(
            f"TFOp: {op_type!r} works on strings, files, resources or functions; only pure "
            "numeric operations are rebuilt from a config"
        )


def _encode(value: Any, where: str) -> Any:
    """An op attribute as plain data (the inverse of `_decode`)."""
    if isinstance(value, tf.DType):
        return {"dtype": value.name}
    if isinstance(value, tf.TensorShape):
        return {"shape": value.as_list() if value.rank is not None else None}
    if isinstance(value, bytes):
        return value.decode()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v, where) for v in value]
    raise TypeError(f"{where}: attribute of type {type(value).__name__} cannot be written as plain data")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"dtype"}:
            return tf.as_dtype(value["dtype"])
        if set(value) == {"shape"}:
            return tf.TensorShape(value["shape"])
        raise UnsafeConfigError(f"TFOp: attribute {value!r} is not plain data")
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def constant(value: np.ndarray) -> dict[str, Any]:
    """A constant input as plain data."""
    if value.dtype.kind not in "biuf":
        raise TypeError(f"a constant of dtype {value.dtype} cannot be written as plain data")
    return {"constant": value.tolist(), "dtype": value.dtype.name}


def describe(op: Any) -> tuple[list[str], dict[str, Any]]:
    """The raw op's input argument names and its attributes as plain data, read from ``op``."""
    op_def = op_def_registry.get(op.type)
    names = [arg.name for arg in op_def.input_arg]
    parameters = inspect.signature(getattr(tf.raw_ops, op.type)).parameters
    # Attributes TensorFlow infers from the inputs (T, N, Tidx) are no parameters of the raw op.
    attrs = {
        name: _encode(op.get_attr(name), f"{op.type}.{name}")
        for name in parameters
        if name not in names and name != "name"
    }
    return names, attrs


def group_inputs(op: Any) -> list[list[Any] | Any]:
    """``op.inputs`` grouped per input argument: a list for list arguments (``values`` of
    ``ConcatV2``), else the one tensor."""
    flat, grouped = list(op.inputs), []
    for arg in op_def_registry.get(op.type).input_arg:
        if arg.number_attr:
            count = op.get_attr(arg.number_attr)
        elif arg.type_list_attr:
            count = len(op.get_attr(arg.type_list_attr))
        else:
            grouped.append(flat.pop(0))
            continue
        grouped.append([flat.pop(0) for _ in range(count)])
    return grouped


@keras.saving.register_keras_serializable(package="compose")
class TFOp(keras.layers.Layer):
    """One stateless TensorFlow operation, applied to the layer's tensor inputs.

    Args:
        op: the operation's type, e.g. ``"ConcatV2"``.
        arguments: one entry per input argument of the op, in order: ``{"tensor": i}`` (the
            i-th tensor the layer is called with), ``{"constant": nested list, "dtype": name}``,
            or a list of those for a list argument.
        attrs: the op's attributes that are parameters of ``tf.raw_ops.<op>``, as plain data
            (a dtype is ``{"dtype": "float32"}``, a shape ``{"shape": [2, None]}``).
    """

    def __init__(self, op: str, arguments: list, attrs: dict | None = None, **kwargs: Any) -> None:
        check_op_type(op)
        # Inputs keep their dtypes: an int32 shape or a float64 value is no float32 activation.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.op = op
        self.arguments = arguments
        self.attrs = dict(attrs or {})
        self._names = [arg.name for arg in op_def_registry.get(op).input_arg]
        self._decoded = {k: _decode(v) for k, v in self.attrs.items()}
        self._convert_input_args = False
        self.built = True

    def call(self, inputs: list) -> Any:
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]

        def resolve(item: Any) -> Any:
            if isinstance(item, list):
                return [resolve(i) for i in item]
            if "tensor" in item:
                return inputs[item["tensor"]]
            return tf.constant(item["constant"], dtype=item["dtype"])

        named = {name: resolve(item) for name, item in zip(self._names, self.arguments)}
        result = tf.nest.flatten(getattr(tf.raw_ops, self.op)(**named, **self._decoded))
        return result[0] if len(result) == 1 else result

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TFOp:
        # Checked before Keras's own from_config, which would turn our refusal into a TypeError.
        check_op_type(config.get("op"))
        for value in (config.get("attrs") or {}).values():
            _decode(value)
        return super().from_config(config)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "op": self.op, "arguments": self.arguments, "attrs": self.attrs}
