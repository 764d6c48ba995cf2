"""Tensor specs with named dims: the types of a block's call signature.

A dim is an ``int`` (that size exactly), ``None`` (any size) or a ``str`` (a named dim: it binds to
the first size it meets and must have that size everywhere else it appears in the same call).
A single ``...`` stands for any number of dims. The dtype is a Keras dtype name or ``None`` (any).

Annotation syntax::

    Tensor["batch", 16]                 # shape only, any dtype
    Tensor.int32["batch", "seq"]        # shape and dtype
    Tensor["batch", ...]                # rank 1 or more
"""

from __future__ import annotations

import functools

from typing import Annotated, Any, Mapping, Union

import attrs
import keras

Dim = Union[int, str, None]
_ELLIPSIS = "..."  # stored form of `...` inside a shape, so specs stay hashable and printable


def _dim(value: Any) -> Dim:
    if value is Ellipsis:
        return _ELLIPSIS
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"a dim must be an int, a str name, None or ..., got {value!r}")
    size = int(value)
    if size < 0:
        raise ValueError(f"a dim size must be >= 0, got {size}")
    return size


def _shape(value: Any) -> tuple[Dim, ...]:
    if isinstance(value, (str, int)) or value is None or value is Ellipsis:
        value = (value,)
    dims = tuple(_dim(d) for d in value)
    if dims.count(_ELLIPSIS) > 1:
        raise ValueError(f"a shape may hold at most one `...`, got {dims!r}")
    return dims


def _dtype(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return keras.backend.standardize_dtype(value)
    except ValueError as err:
        raise ValueError(f"unknown dtype {value!r}") from err


@attrs.frozen
class TensorSpec:
    """The declared type of one tensor: its shape (with named dims) and its dtype.

    Construct it as ``TensorSpec(shape, dtype=None)``; a single dim may be given bare
    (``TensorSpec(16)``).

    Attributes:
        shape: dims, each an ``int``, ``None``, a ``str`` name, or one ``...`` (stored as
            ``"..."``).
        dtype: a Keras dtype name such as ``"float32"``, or ``None`` for any dtype.

    Raises:
        TypeError: a dim that is not an ``int``, a ``str``, ``None`` or ``...``.
        ValueError: a negative size, more than one ``...``, or an unknown dtype.

    Example:
        >>> TensorSpec(("batch", 16), "float32")
        TensorSpec(shape=('batch', 16), dtype='float32')
    """

    shape: tuple[Dim, ...] = attrs.field(converter=_shape)
    dtype: str | None = attrs.field(default=None, converter=_dtype)

    @classmethod
    def of(cls, tensor: Any) -> TensorSpec:
        """The spec of a concrete or symbolic tensor (any object with ``shape`` and ``dtype``)."""
        return _spec_of(tuple(None if d is None else int(d) for d in tensor.shape), tensor.dtype)

    def describe(self, bindings: Mapping[str, int] | None = None) -> str:
        """``(batch, units=32) float32``: dims, named ones with their bound size when known."""
        bindings = bindings or {}
        parts = []
        for d in self.shape:
            if isinstance(d, str) and d != _ELLIPSIS and bindings.get(d) is not None:
                parts.append(f"{d}={bindings[d]}")
            else:
                parts.append(str(d))
        text = _tuple_text(parts)
        return f"{text} {self.dtype}" if self.dtype else text

    def shape_text(self) -> str:
        """The shape as every view prints it: ``(None, 16)``, ``(4,)``, ``(batch, ...)``."""
        return _tuple_text([str(d) for d in self.shape])

    def __str__(self) -> str:
        return self.describe()


def _tuple_text(parts: list[str]) -> str:
    # Python's own tuple syntax, so a 1-d shape reads (4,) everywhere.
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


@functools.lru_cache(maxsize=4096)
def _spec_of(shape: tuple[int | None, ...], dtype: Any) -> TensorSpec:
    # Tracing asks for the spec of every tensor; a model has few distinct ones, and a spec is a
    # frozen value, so one instance can serve them all (and skip validating the same dims again).
    return TensorSpec(shape, dtype)


class _TensorAnnotation:
    """``Tensor[...]`` builds an annotation carrying a TensorSpec; ``Tensor.int32[...]`` fixes the
    dtype as well. The annotation is ``typing.Annotated[Any, spec]`` so that tools which read type
    hints (``typing.get_type_hints``, IDEs) accept it."""

    def __init__(self, dtype: str | None = None) -> None:
        self._dtype = dtype

    def __getitem__(self, dims: Any) -> Any:
        return Annotated[Any, TensorSpec(dims, self._dtype)]

    def __getattr__(self, dtype: str) -> _TensorAnnotation:
        if dtype.startswith("_"):
            raise AttributeError(dtype)
        try:
            return _TensorAnnotation(_dtype(dtype))
        except ValueError as err:
            raise AttributeError(f"Tensor has no dtype {dtype!r}") from err

    def __repr__(self) -> str:
        return f"Tensor.{self._dtype}" if self._dtype else "Tensor"


Tensor = _TensorAnnotation()


def spec_from_annotation(annotation: Any) -> TensorSpec | None:
    """The TensorSpec inside a ``Tensor[...]`` annotation, or None for any other annotation."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, TensorSpec):
            return meta
    return None


class Mismatch(Exception):
    """Internal: why a found spec does not match an expected one (turned into a SpecError)."""


def _expand(expected: tuple[Dim, ...], rank: int) -> tuple[Dim, ...]:
    """The expected dims with `...` replaced by as many `None` as the found rank needs."""
    if _ELLIPSIS not in expected:
        if len(expected) != rank:
            raise Mismatch(f"rank {len(expected)} expected, found rank {rank}")
        return expected
    fixed = len(expected) - 1
    if rank < fixed:
        raise Mismatch(f"rank >= {fixed} expected, found rank {rank}")
    i = expected.index(_ELLIPSIS)
    return expected[:i] + (None,) * (rank - fixed) + expected[i + 1 :]


def match(expected: TensorSpec, found: TensorSpec, bindings: dict[str, int | None]) -> None:
    """Check `found` against `expected`, binding named dims in `bindings` (updated in place).

    Rules: an ``int`` dim must equal the found size; ``None`` accepts anything; a name binds to
    the first known size it meets and must equal it afterwards. A found ``None`` (unknown at graph
    construction, e.g. the batch) cannot be disproved and is accepted. The dtype must be equal when
    one is declared.
    """
    dims = _expand(expected.shape, len(found.shape))
    for axis, (want, got) in enumerate(zip(dims, found.shape)):
        if got is None or want is None:
            continue
        if isinstance(want, int):
            if want != got:
                raise Mismatch(f"axis {axis} must be {want}, found {got}")
            continue
        bound = bindings.get(want)
        if bound is None:
            bindings[want] = got
        elif bound != got:
            raise Mismatch(f"'{want}' is {bound} here, found {got} on axis {axis}")
    if expected.dtype is not None and found.dtype != expected.dtype:
        raise Mismatch(f"dtype {expected.dtype} expected, found {found.dtype}")
