"""A Block's call signature as tensor specs, and the check of one call against it."""

from __future__ import annotations

import inspect
import sys
import typing
from typing import Any, Mapping

import attrs
import keras

from .._compat import keras_history
from .._errors import SpecError
from ._specs import Mismatch, TensorSpec, match, spec_from_annotation

# Arguments Keras itself fills in; they are never tensors a block's user connects.
_CONTEXT_ARGS = ("training", "mask")


@attrs.frozen
class CallSignature:
    """What a Block class's ``call`` declares.

    Attributes:
        params: names of ``call``'s parameters after ``self``, in order.
        tensors: the parameters that take tensors: annotated with ``Tensor[...]``, or plain
            positional ones without a default.
        inputs: ``{name: TensorSpec}`` for the annotated parameters.
        output: the return spec: a TensorSpec, a tuple of them, or None when not declared.
    """

    params: tuple[str, ...]
    tensors: tuple[str, ...]
    inputs: Mapping[str, TensorSpec]
    output: Any

    @classmethod
    def of(cls, call: Any) -> CallSignature:
        signature = inspect.signature(call)
        module = sys.modules.get(call.__module__)
        hints = typing.get_type_hints(
            call, globalns=vars(module) if module else None, include_extras=True
        )
        params, tensors, inputs = [], [], {}
        for name, param in list(signature.parameters.items())[1:]:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            params.append(name)
            spec = spec_from_annotation(hints.get(name))
            if spec is not None:
                inputs[name] = spec
            if name in _CONTEXT_ARGS:
                continue
            if spec is not None or (
                param.default is param.empty and param.kind != param.KEYWORD_ONLY
            ):
                tensors.append(name)
        return cls(tuple(params), tuple(tensors), inputs, _output_spec(hints.get("return")))

    def bind(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        """``{param: value}`` for the parameters given in one call."""
        bound = dict(zip(self.params, args))
        bound.update((k, v) for k, v in kwargs.items() if k in self.params)
        return bound


def _output_spec(annotation: Any) -> Any:
    spec = spec_from_annotation(annotation)
    if spec is not None:
        return spec
    if typing.get_origin(annotation) is tuple:
        specs = tuple(spec_from_annotation(a) for a in typing.get_args(annotation))
        if specs and all(s is not None for s in specs):
            return specs
    return None


def _source(tensor: Any) -> str | None:
    """Name of the layer that produced a symbolic tensor, when Keras recorded it. Graph tensors
    inside another block's run carry only TensorFlow's uniquified op names (``flatten_1/Reshape``
    for a layer named ``flatten``), which would name the wrong layer as often as the right one:
    for those the source is left unknown rather than guessed."""
    history = keras_history(tensor)
    return getattr(getattr(history, "operation", None), "name", None)


def _found(value: Any) -> TensorSpec | None:
    if not (hasattr(value, "shape") and hasattr(value, "dtype")):
        return None
    try:
        return TensorSpec.of(value)
    except (TypeError, ValueError):  # an unknown-rank tensor: nothing to check against
        return None


def _check_one(
    path: str,
    argument: str,
    expected: TensorSpec,
    value: Any,
    bindings: dict[str, int | None],
) -> None:
    found = _found(value)
    if found is None:
        if value is None or not hasattr(value, "shape"):
            raise SpecError(
                f"{path}: argument '{argument}' expects a tensor {expected.describe(bindings)}, "
                f"got {type(value).__name__}",
                path=path,
                argument=argument,
                expected=expected,
            )
        return
    in_force = dict(bindings)  # the message shows what held before this tensor was looked at
    try:
        match(expected, found, bindings)
    except Mismatch as why:
        source = None if argument == "return" else _source(value)  # the block itself, for a return
        origin = f" from '{source}'" if source else ""
        what = "return value" if argument == "return" else f"argument '{argument}'"
        blame = " (the block broke its own contract)" if argument == "return" else ""
        raise SpecError(
            f"{path}: {what} expects {expected.describe(in_force)}, got {found}{origin}: "
            f"{why}{blame}",
            path=path,
            argument=argument,
            expected=expected,
            found=found,
            source=source,
        ) from None


def check_inputs(
    path: str,
    signature: CallSignature,
    bound: Mapping[str, Any],
    bindings: dict[str, int | None],
) -> None:
    """Raise SpecError at the first argument that does not match; bind named dims as it goes."""
    for name, expected in signature.inputs.items():
        if name in bound:
            _check_one(path, name, expected, bound[name], bindings)


def check_output(
    path: str, signature: CallSignature, outputs: Any, bindings: dict[str, int | None]
) -> None:
    expected = signature.output
    if expected is None:
        return
    if isinstance(expected, tuple):
        if not isinstance(outputs, (tuple, list)) or len(outputs) != len(expected):
            raise SpecError(
                f"{path}: return value expects {len(expected)} tensors, got "
                f"{type(outputs).__name__} (the block broke its own contract)",
                path=path,
                argument="return",
            )
        for spec, value in zip(expected, outputs):
            _check_one(path, "return", spec, value, bindings)
    else:
        _check_one(path, "return", expected, outputs, bindings)


def is_symbolic(args: tuple, kwargs: dict) -> bool:
    """Whether this call builds a graph (Functional construction, tracing, a tf.function trace)
    rather than computing values. Only top-level arguments are looked at: this runs on every call."""
    for value in args:
        if isinstance(value, keras.KerasTensor):
            return True
    for value in kwargs.values():
        if isinstance(value, keras.KerasTensor):
            return True
    return False
