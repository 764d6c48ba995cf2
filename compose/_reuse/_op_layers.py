"""`TFOp`: the layer that stands for one TensorFlow operation in a model made by `to_functional`.

A subclassed model's ``call`` may use any TensorFlow function between its layers (``tf.concat``,
``tf.nn.relu``, ``tf.reshape``). The graph strategy sees each as a ``tf.Operation``; a `TFOp`
runs the same raw operation (``tf.raw_ops.<type>``) with the same attributes. Its config is plain
data (the op's type, its attributes, its constant inputs as nested lists), so a model holding it
saves and loads in Keras's safe mode: no Lambda, no pickled code. Only pure numeric operations are
accepted, when converting and when loading: a file can never ask for file I/O, printing, random
numbers or variables, whatever it says.

Everything is read from the op's ``OpDef``, for every op alike: its input arguments in order, its
attributes by their declared type. `tests/test_op_sweep.py` runs it on every op the public
TensorFlow functions produce.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import tree

from .._compat import DataType, compute_output_spec, get_op_def
from .._errors import UnsafeConfigError


#: Types of values that are not numbers: strings (file names, URLs), resources, variants.
_NON_NUMERIC = frozenset({DataType.DT_STRING, DataType.DT_RESOURCE, DataType.DT_VARIANT})
#: String attributes that only choose a layout, a formula or an enum-like policy among a few
#: values the kernel checks, never name anything outside (a file, a URL, a shared resource).
_LAYOUT_ATTRS = frozenset({
    "data_format", "padding", "equation", "method", "mode", "align", "bad_indices_policy",
    "src_format", "dst_format", "fill_mode", "interpolation", "kernel_type", "round_mode",
})
#: Ops that reach outside the process, refused by name whatever their OpDef says: the rules
#: below refuse each of them today, and this list keeps it so if an OpDef changes.
_DENIED = frozenset({"ImmutableConst", "MatchingFiles", "EagerPyFunc", "Empty"})
_DENIED_PREFIXES = ("Read", "Write", "Print", "Debug", "Save", "Restore", "PyFunc")
#: Where an attribute of each type sits in an ``AttrValue`` (or in its ``list``).
_FIELDS = {"int": "i", "float": "f", "bool": "b", "string": "s", "type": "type", "shape": "shape"}


def check_op_type(op_type: str) -> None:
    """Refuse an op type that is not a pure numeric function of its inputs.

    TensorFlow's "stateless" is not enough: ``ReadFile`` and ``MatchingFiles`` read the disk,
    ``ImmutableConst`` maps a file into memory, ``DebugIdentity`` sends tensors to a URL, and all
    are marked stateless; ``Assign`` writes to its input in place. So an op is accepted only when
    it is stateless, takes and gives no strings, resources, variants or references, has no string
    attribute but layout choices, no function attribute (which would run a graph the config cannot
    show), and is not on the deny list.
    """
    op_def = get_op_def(op_type) if isinstance(op_type, str) else None
    if op_def is None or not hasattr(tf.raw_ops, op_type):
        raise UnsafeConfigError(f"TFOp: {op_type!r} is not a TensorFlow operation")
    if op_def.is_stateful:
        raise UnsafeConfigError(
            f"TFOp: {op_type!r} is stateful (side effects or randomness); only pure operations "
            "are rebuilt from a config"
        )
    args = [*op_def.input_arg, *op_def.output_arg]
    touches_outside = (
        op_type in _DENIED
        or op_type.startswith(_DENIED_PREFIXES)
        or any(arg.type in _NON_NUMERIC or arg.is_ref for arg in args)
        or any(
            attr.type in ("func", "list(func)")
            or (attr.type in ("string", "list(string)") and attr.name not in _LAYOUT_ATTRS)
            for attr in op_def.attr
        )
    )
    if touches_outside:
        raise UnsafeConfigError(
            f"TFOp: {op_type!r} works on strings, files, resources, references or functions; "
            "only pure numeric operations are rebuilt from a config"
        )


def _inferred(op_def: Any) -> frozenset[str]:
    """Attributes TensorFlow derives from the inputs (``T``, ``N``, ``Tidx``): the raw op takes
    no parameter for them."""
    return frozenset(
        name
        for arg in op_def.input_arg
        for name in (arg.type_attr, arg.number_attr, arg.type_list_attr)
        if name
    )


@functools.cache
def _parameters(op_type: str) -> dict[str, str]:
    """OpDef name -> parameter name of ``tf.raw_ops.<op_type>``, for inputs and attributes.

    The Python names mostly are the OpDef's, but TensorFlow's API definitions rename a few
    (``Sum``'s ``reduction_indices`` is ``axis``, ``Squeeze``'s attribute ``squeeze_dims`` too).
    The raw op takes the inputs first, in OpDef order; attributes keep their names or, renamed,
    take the parameters no OpDef attribute names, in order.
    """
    op_def = get_op_def(op_type)
    inputs = [arg.name for arg in op_def.input_arg]
    parameters = [p for p in inspect.signature(getattr(tf.raw_ops, op_type)).parameters if p != "name"]
    attrs = [a.name for a in op_def.attr if a.name not in _inferred(op_def)]
    mapping = dict(zip(inputs, parameters))
    unnamed = iter(p for p in parameters[len(inputs):] if p not in attrs)
    mapping.update({a: a if a in parameters else next(unnamed) for a in attrs})
    return mapping


def _encode(value: Any, kind: str, where: str) -> Any:
    """One ``AttrValue`` of OpDef type ``kind`` as plain data (the inverse of `_decode`)."""
    if kind.startswith("list(") and kind[5:-1] in _FIELDS:
        return [_plain(v, kind[5:-1]) for v in getattr(value.list, _FIELDS[kind[5:-1]])]
    if kind in _FIELDS:
        return _plain(getattr(value, _FIELDS[kind]), kind)
    raise TypeError(f"{where}: attribute of type {kind} cannot be written as plain data")


def _plain(value: Any, kind: str) -> Any:
    if kind == "string":
        return value.decode()
    if kind == "type":
        return tf.as_dtype(value).name
    if kind == "shape":
        return None if value.unknown_rank else [None if d.size < 0 else d.size for d in value.dim]
    return value  # int, float and bool are plain already


def _decode(value: Any, kind: str, where: str) -> Any:
    """A config's attribute value back to what the raw op takes, refusing anything but the
    plain data its OpDef type allows."""
    if kind.startswith("list(") and isinstance(value, list):
        return [_decode(v, kind[5:-1], where) for v in value]
    if kind == "type" and isinstance(value, str):
        try:
            dtype = tf.as_dtype(value)
        except TypeError:
            dtype = tf.string
        if dtype.as_datatype_enum not in _NON_NUMERIC:
            return dtype
    elif kind == "shape" and (value is None or _is_dims(value)):
        return tf.TensorShape(value)
    elif kind in ("int", "float") and isinstance(value, int) and not isinstance(value, bool):
        return value
    elif isinstance(value, {"float": float, "bool": bool, "string": str}.get(kind, ())):
        return value
    raise UnsafeConfigError(f"TFOp: attribute {where} = {value!r} is not plain data of type {kind}")


def _is_dims(value: Any) -> bool:
    return isinstance(value, list) and all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)


def decode_attrs(op_type: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """A config's attributes for op ``op_type`` (already checked), decoded by their OpDef types."""
    kinds = {attr.name: attr.type for attr in get_op_def(op_type).attr}
    unknown = sorted(set(attrs) - set(kinds))
    if unknown:
        raise UnsafeConfigError(f"TFOp: {op_type!r} has no attribute {unknown[0]!r}")
    return {name: _decode(value, kinds[name], f"{op_type}.{name}") for name, value in attrs.items()}


def constant(value: np.ndarray) -> dict[str, Any]:
    """A constant input as plain data: ``{"constant": nested list, "dtype": name}``, with
    ``"imag"`` (the imaginary parts) for a complex value and ``"shape"`` for an empty one (the
    nested list of a ``(0, 2)`` array is ``[]``, which says neither)."""
    if value.dtype.kind not in "biufc":
        raise TypeError(f"a constant of dtype {value.dtype} cannot be written as plain data")
    if value.dtype.kind == "c":
        plain = {"constant": value.real.tolist(), "imag": value.imag.tolist(), "dtype": value.dtype.name}
    else:
        plain = {"constant": value.tolist(), "dtype": value.dtype.name}
    if value.size == 0:
        plain["shape"] = list(value.shape)
    return plain


class NoFunctionalForm(ValueError):
    """An op whose result a Functional model cannot hold (a tensor of unknown rank)."""


def check_arguments(op_type: str, arguments: Any) -> None:
    """A config's ``arguments``: a list with one entry per input argument of the op, each plain
    data (`_check_argument`)."""
    names = [arg.name for arg in get_op_def(op_type).input_arg]
    if not isinstance(arguments, list) or len(arguments) != len(names):
        raise UnsafeConfigError(f"TFOp: {op_type!r} takes {len(names)} arguments ({', '.join(names)}), the config gives {arguments!r}")
    for name, item in zip(names, arguments):
        _check_argument(item, f"{op_type}.{name}")


def _check_argument(item: Any, where: str) -> None:
    """One entry of a config's ``arguments``: a tensor index, a numeric constant, or a list of
    those; anything else is refused before the layer exists."""
    if isinstance(item, list):
        for entry in item:
            if isinstance(entry, list):
                raise UnsafeConfigError(f"TFOp: argument {where} nests lists of arguments")
            _check_argument(entry, where)
        return
    if isinstance(item, dict) and set(item) == {"tensor"}:
        index = item["tensor"]
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            return
    elif isinstance(item, dict) and "constant" in item and set(item) <= {"constant", "dtype", "imag", "shape"}:
        dtype = item.get("dtype")
        try:
            datatype = tf.as_dtype(dtype).as_datatype_enum if isinstance(dtype, str) else None
        except TypeError:
            datatype = None
        complex_ = datatype is not None and tf.as_dtype(dtype).is_complex
        if (
            datatype is not None
            and datatype not in _NON_NUMERIC
            and _is_numbers(item["constant"])
            and ("imag" not in item or (complex_ and _is_numbers(item["imag"])))
            and ("shape" not in item or _is_dims(item["shape"]) and None not in item["shape"])
        ):
            return
    raise UnsafeConfigError(f"TFOp: argument {where} = {item!r} is neither a tensor index nor a numeric constant")


def _is_numbers(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_numbers(v) for v in value)
    return isinstance(value, (int, float))  # bool is an int: a bool constant is [True, False]


def _constant_tensor(item: dict[str, Any]) -> Any:
    """The tensor of a constant argument (the inverse of `constant`)."""
    dtype = tf.as_dtype(item["dtype"])
    if "imag" in item:
        real = tf.constant(item["constant"], dtype=dtype.real_dtype)
        value = tf.complex(real, tf.constant(item["imag"], dtype=dtype.real_dtype))
    else:
        value = tf.constant(item["constant"], dtype=dtype)
    return tf.reshape(value, item["shape"]) if "shape" in item else value


def describe(op: Any) -> tuple[list[str], dict[str, Any]]:
    """The op's input argument names and its attributes as plain data, read from its OpDef and
    ``op.node_def``. Attributes TensorFlow infers from the inputs are left out."""
    op_def = get_op_def(op.type)
    inferred = _inferred(op_def)
    attrs = {
        attr.name: _encode(op.node_def.attr[attr.name], attr.type, f"{op.type}.{attr.name}")
        for attr in op_def.attr
        if attr.name not in inferred and attr.name in op.node_def.attr
    }
    return [arg.name for arg in op_def.input_arg], attrs


def group_inputs(op: Any) -> list[list[Any] | Any]:
    """``op.inputs`` grouped per input argument: a list for list arguments (``values`` of
    ``ConcatV2``), else the one tensor."""
    flat, grouped = list(op.inputs), []
    for arg in get_op_def(op.type).input_arg:
        if arg.number_attr:
            count = op.get_attr(arg.number_attr)
        elif arg.type_list_attr:
            count = len(op.get_attr(arg.type_list_attr))
        else:
            grouped.append(flat.pop(0))
            continue
        grouped.append([flat.pop(0) for _ in range(count)])
    return grouped


def _check_inferred(op_type: str, given: dict[str, Any], named: dict[str, Any]) -> None:
    """Attributes a config gives although TensorFlow infers them must agree with the inputs."""
    for arg in get_op_def(op_type).input_arg:
        value = named[arg.name]
        values = value if isinstance(value, list) else [value]
        actual = {
            arg.type_attr: values[0].dtype if values else None,
            arg.number_attr: len(values),
            arg.type_list_attr: [v.dtype for v in values],
        }
        for name, found in actual.items():
            if name in given and given[name] != found:
                raise ValueError(f"TFOp {op_type}: attribute {name} is {given[name]!r}, the inputs give {found!r}")


@keras.saving.register_keras_serializable(package="compose")
class TFOp(keras.layers.Layer):
    """One pure numeric TensorFlow operation, applied to the layer's tensor inputs.

    Args:
        op: the operation's type, e.g. ``"ConcatV2"``.
        arguments: one entry per input argument of the op, in OpDef order: ``{"tensor": i}``
            (the i-th tensor the layer is called with), ``{"constant": nested list, "dtype":
            name}`` (with ``"imag"`` for a complex one, ``"shape"`` for an empty one: see
            `constant`), or a list of those for a list argument. Anything else is refused.
        attrs: the op's attributes by OpDef name, as plain data (a type is its dtype name,
            ``"float32"``; a shape a list of dims or None, ``[2, None]``). Attributes TensorFlow
            infers from the inputs (``T``, ``N``) may be left out; given, they must agree.
        output_shapes: the shape of each output as the model's trace knew it (a list of dims or
            None per output), or None. TensorFlow infers a shape from the op alone, and so
            misses what the whole graph proved (a ``Reshape`` to a computed shape gives
            ``(None, None)`` where the trace knew ``(None, 8)``); a layer after it then cannot
            build (``clone_model``). Where the op alone leaves a dim unknown, this one is used.
    """

    def __init__(
        self, op: str, arguments: list, attrs: dict | None = None, output_shapes: list | None = None, **kwargs: Any
    ) -> None:
        check_op_type(op)
        check_arguments(op, arguments)
        _check_output_shapes(op, output_shapes)
        # Inputs keep their dtypes: an int32 shape or a float64 value is no float32 activation.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.op = op
        self.arguments = arguments
        self.attrs = dict(attrs or {})
        self.output_shapes = output_shapes
        decoded = decode_attrs(op, self.attrs)
        inferred = _inferred(get_op_def(op))
        self._names = [arg.name for arg in get_op_def(op).input_arg]
        self._given_inferred = {k: v for k, v in decoded.items() if k in inferred}
        self._parameters = {_parameters(op)[k]: v for k, v in decoded.items() if k not in inferred}
        self._convert_input_args = False
        # A TensorFlow op drops a Keras mask (its result is a new tensor): so does its layer, and
        # quietly, as the op did in the model.
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_spec(self, inputs: Any) -> Any:
        def run(inputs: Any) -> Any:
            result = self.call(inputs)
            unknown = [i for i, r in enumerate(tf.nest.flatten(result)) if r.shape.rank is None]
            if unknown:
                shapes = [tuple(t.shape) for t in tf.nest.flatten(inputs)]
                raise NoFunctionalForm(
                    f"TFOp {self.op}: output {unknown[0]} has unknown rank on inputs of shapes "
                    f"{shapes}, and a Functional model's tensors need a rank (tf.squeeze without "
                    "an axis on an open dimension does this: give it the axis)"
                )
            return result

        inferred = compute_output_spec(run, inputs)
        if self.output_shapes is None:
            return inferred
        flat = tree.flatten(inferred)
        known = [_known(spec, shape) for spec, shape in zip(flat, self.output_shapes)] + flat[len(self.output_shapes):]
        return tree.pack_sequence_as(inferred, known)

    def call(self, inputs: list) -> Any:
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]

        def resolve(item: Any) -> Any:
            if isinstance(item, list):
                return [resolve(i) for i in item]
            if "tensor" in item:
                return inputs[item["tensor"]]
            return _constant_tensor(item)

        named = {name: resolve(item) for name, item in zip(self._names, self.arguments)}
        _check_inferred(self.op, self._given_inferred, named)
        parameters = _parameters(self.op)
        raw = getattr(tf.raw_ops, self.op)
        result = tf.nest.flatten(raw(**{parameters[k]: v for k, v in named.items()}, **self._parameters))
        return result[0] if len(result) == 1 else result

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TFOp:
        # Checked before Keras's own from_config, which would turn our refusal into a TypeError.
        check_op_type(config.get("op"))
        check_arguments(config["op"], config.get("arguments"))
        decode_attrs(config["op"], config.get("attrs") or {})
        _check_output_shapes(config["op"], config.get("output_shapes"))
        return super().from_config(config)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(), "op": self.op, "arguments": self.arguments, "attrs": self.attrs,
            "output_shapes": self.output_shapes,
        }


def _known(spec: keras.KerasTensor, recorded: list | None) -> keras.KerasTensor:
    """``spec`` with its unknown dims taken from ``recorded`` where that has them."""
    if recorded is None or len(recorded) != len(spec.shape):
        return spec
    shape = tuple(dim if dim is not None else given for dim, given in zip(spec.shape, recorded))
    return keras.KerasTensor(shape, dtype=spec.dtype, sparse=spec.sparse, ragged=spec.ragged)


def _check_output_shapes(op: str, shapes: Any) -> None:
    def dims(shape: Any) -> bool:
        return shape is None or isinstance(shape, list) and all(d is None or type(d) is int and d >= 0 for d in shape)

    if shapes is not None and not (isinstance(shapes, list) and all(map(dims, shapes))):
        raise UnsafeConfigError(f"TFOp {op}: output_shapes must be a list of shapes (lists of dims or None), got {shapes!r}")
