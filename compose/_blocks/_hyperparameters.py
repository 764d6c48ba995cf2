"""Hyperparameters of a Block: declared once as annotated class attributes, backed by attrs.

Each Block class gets a frozen attrs class holding its hyperparameters. attrs generates the
validation (our type check from the annotation, plus any validator given with ``attrs.field``) and
the value semantics (``repr``, equality, ``asdict``); the Block reads its values from it.

Hyperparameters are plain data (numbers, strings, booleans, ``None``, and tuples/lists/dicts of
them). That is a safety property, not a limitation we forgot: a config is only ever data, so
loading one never imports a module or runs code. Sublayers are built in ``setup()`` from them.
"""

from __future__ import annotations

import copy
import sys
import types
import typing
from typing import Any, ClassVar, Literal, Union

import attrs

from .._compat import is_attrs_field
from .._errors import HyperparameterError, UnsafeConfigError

_PLAIN = (bool, int, float, str, type(None))


def declared(cls: type) -> dict[str, tuple[Any, Any]]:
    """The hyperparameters a class declares itself: ``{name: (annotation, default)}``.

    ``default`` is ``attrs.NOTHING`` when required, or an ``attrs.field(...)`` passed through.
    """
    own = cls.__dict__.get("__annotations__", {})
    if not own:
        return {}
    module = sys.modules.get(cls.__module__)
    try:
        # Resolves string annotations (`from __future__ import annotations`) in the class's module.
        # Only this class's own annotations: a base class's may refer to names of its own module.
        hints = typing.get_type_hints(
            types.SimpleNamespace(__annotations__=own),
            globalns=vars(module) if module else None,
            localns=dict(vars(cls)),
        )
    except NameError as err:
        raise HyperparameterError(
            f"{cls.__name__}: cannot resolve a hyperparameter annotation ({err}). Annotations of "
            "hyperparameters must name types visible at module level.",
            block=cls.__name__,
            name=getattr(err, "name", "") or "",
        ) from err
    found = {}
    for name in own:
        annotation = hints.get(name, own[name])
        if name.startswith("_") or typing.get_origin(annotation) is ClassVar:
            continue
        _require_plain_type(cls.__name__, name, annotation)
        found[name] = (annotation, cls.__dict__.get(name, attrs.NOTHING))
    return found


def _require_plain_type(block: str, name: str, annotation: Any) -> None:
    """Refuse, at class definition, hyperparameter types that a config could not hold as data."""
    origin = typing.get_origin(annotation)
    if annotation is Any or annotation in _PLAIN or origin is Literal:
        return
    if origin in (Union, types.UnionType, tuple, list, dict):
        for arg in typing.get_args(annotation):
            if arg is not Ellipsis:
                _require_plain_type(block, name, arg)
        return
    if annotation in (tuple, list, dict):
        return
    raise HyperparameterError(
        f"{block}: hyperparameter '{name}' is annotated {_type_name(annotation)}; hyperparameters "
        "are plain data (int, float, bool, str, None, Literal, and tuples/lists/dicts of them). "
        "Create sublayers in `setup()` from such values instead, e.g. `units: int = 8` and "
        "`self.dense = keras.layers.Dense(self.units)`.",
        block=block,
        name=name,
    )


def _type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else repr(tp).replace("typing.", "")


def conforms(value: Any, tp: Any) -> bool:
    """Whether `value` is of the plain-data type `tp` (after `coerce`)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if tp is type(None) or tp is None:
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, float)
    if tp in (str, tuple, list, dict):
        return isinstance(value, tp)
    if origin is Literal:
        return any(value == v and type(value) is type(v) for v in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return any(conforms(value, arg) for arg in typing.get_args(tp))
    args = typing.get_args(tp)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(conforms(v, a) for v, a in zip(value, args))
    if origin is list:
        return isinstance(value, list) and all(conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items()
        )
    return False


def coerce(value: Any, tp: Any) -> Any:
    """Undo what a JSON round trip does to a value: lists back to tuples, ints to floats."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        for arg in typing.get_args(tp):
            if conforms(value, arg):
                return value
        for arg in typing.get_args(tp):
            converted = coerce(value, arg)
            if conforms(converted, arg):
                return converted
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (tp is tuple or origin is tuple) and isinstance(value, list):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0]) for v in value)
        if args and len(args) == len(value):
            return tuple(coerce(v, a) for v, a in zip(value, args))
        return tuple(value)
    return value


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _type_validator(block: str, tp: Any):
    def validate(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if conforms(value, tp):
            return
        if isinstance(value, dict) and ("class_name" in value or "module" in value):
            raise UnsafeConfigError(
                f"{block}: hyperparameter '{attribute.name}' holds a serialized object "
                f"(class_name={value.get('class_name')!r}, module={value.get('module')!r}). "
                "Block hyperparameters are plain data; compose never imports or runs what a "
                "config names."
            )
        raise HyperparameterError(
            f"{block}: hyperparameter '{attribute.name}' expects {_type_name(tp)}, "
            f"got {_describe(value)}",
            block=block,
            name=attribute.name,
            value=value,
        )

    return validate


def private_copy(value: Any) -> Any:
    """`value` itself when immutable, else a deep copy: a block must not share a list or dict
    with its caller, its class default or a config it handed out, or the config would change
    behind the weights it describes."""
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


def _store(value: Any, tp: Any) -> Any:
    # attrs runs converters on defaults too, so each block gets its own copy of a list default.
    return private_copy(coerce(value, tp))


def make_class(block: str, spec: dict[str, tuple[Any, Any]]) -> type:
    """The frozen attrs class holding one Block class's hyperparameters, in declaration order."""
    fields = {}
    for name, (annotation, default) in spec.items():
        converter = lambda v, tp=annotation: _store(v, tp)  # noqa: E731 - binds tp per field
        validator = _type_validator(block, annotation)
        if is_attrs_field(default):
            # An `attrs.field(...)`: keep its validator and default, add the type check first.
            extra = default._validator
            fields[name] = attrs.field(
                default=default._default,
                converter=converter,
                validator=[validator, extra] if extra else validator,
            )
        else:
            fields[name] = attrs.field(default=default, converter=converter, validator=validator)
    return attrs.make_class(f"{block}Hyperparameters", fields, frozen=True, kw_only=False)


def signature(block: str, spec: dict[str, tuple[Any, Any]], hp_class: type) -> str:
    """The block's hyperparameters as a call signature, e.g. ``Residual(units: int = 8)``."""
    params = []
    for a in attrs.fields(hp_class):
        text = f"{a.name}: {_type_name(spec[a.name][0])}"
        params.append(text if a.default is attrs.NOTHING else f"{text} = {a.default!r}")
    return f"{block}({', '.join(params)})"


def build(block: str, hp_class: type, values: dict[str, Any]) -> Any:
    """An instance of `hp_class`, with attrs' own errors turned into ones that name the block."""
    try:
        return hp_class(**values)
    except TypeError as err:
        if isinstance(err, HyperparameterError):
            raise
        missing = [a.name for a in attrs.fields(hp_class) if a.name not in values]
        raise HyperparameterError(
            f"{block}: missing required hyperparameter(s): {', '.join(missing)}",
            block=block,
            name=missing[0] if missing else "",
        ) from err
    except ValueError as err:
        if isinstance(err, UnsafeConfigError):
            raise
        # A user validator from `attrs.field(validator=...)` refused the value.
        raise HyperparameterError(
            f"{block}: {err}", block=block, name=err.args[1].name if len(err.args) > 1 else ""
        ) from err
