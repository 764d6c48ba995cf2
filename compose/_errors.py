"""The exceptions compose raises. Each carries its values as attributes as well as in its message."""

from __future__ import annotations

from typing import Any


class ComposeError(Exception):
    """Base class of every error compose raises on purpose.

    Example:
        >>> import keras, compose
        >>> issubclass(compose.SpecError, compose.ComposeError)
        True
    """


class SpecError(ComposeError, ValueError):
    """A tensor passed to (or returned from) a block does not match its declared spec.

    Attributes:
        path: the block's path, e.g. ``"encoder.proj"``.
        argument: the argument's name, or ``"return"`` for the output.
        expected: the declared `TensorSpec`.
        found: the `TensorSpec` of the tensor that came.
        source: name of the layer that produced the tensor, when known.

    Example:
        >>> class Proj(compose.Block):
        ...     units: int = 4
        ...     def call(self, x: compose.Tensor["batch", "units"]):
        ...         return x
        >>> try:
        ...     Proj(name="proj")(keras.Input((3,), name="x"))
        ... except compose.SpecError as err:
        ...     print(err.argument, err.expected, err.found, err.source)
        x (batch, units) (None, 3) float32 x
    """

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        argument: str = "",
        expected: Any = None,
        found: Any = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.argument = argument
        self.expected = expected
        self.found = found
        self.source = source


class HyperparameterError(ComposeError, TypeError):
    """A block was given a hyperparameter of the wrong type or value, or an unknown keyword.

    Attributes:
        block: the block class's name.
        name: the hyperparameter's name (or the unknown keyword).
        value: the value that was given.

    Example:
        >>> class Proj(compose.Block):
        ...     units: int = 4
        >>> try:
        ...     Proj(units="eight")
        ... except compose.HyperparameterError as err:
        ...     print(err)
        Proj: hyperparameter 'units' expects int, got str 'eight'
    """

    def __init__(self, message: str, *, block: str, name: str, value: Any = None) -> None:
        super().__init__(message)
        self.block = block
        self.name = name
        self.value = value


class UnsafeConfigError(ComposeError, ValueError):
    """A config holds a serialized object (``class_name``/``module``) where compose expects plain
    data, such as a Block hyperparameter. Nothing it names is imported or run.

    Example:
        >>> class Proj(compose.Block):
        ...     units: int = 4
        >>> try:
        ...     Proj.from_config({"units": {"module": "os", "class_name": "system"}})
        ... except compose.UnsafeConfigError as err:
        ...     print(str(err).split(".")[0])
        Proj: hyperparameter 'units' holds a serialized object (class_name='system', module='os')
    """


class CloneError(ComposeError, TypeError):
    """`compose.clone` cannot rebuild this object; the message says why.

    Example:
        >>> try:
        ...     compose.clone(keras.layers.Dense(2), copy_weights=True)
        ... except compose.CloneError as err:
        ...     print(str(err).split(":")[0])
        cannot copy the weights of 'dense'
    """


class TraceError(ComposeError, RuntimeError):
    """Tracing could not recover the whole model and ``strict=True`` was asked.

    Attributes:
        trace: the partial `Trace`, with everything recorded before the failure.

    The exception that stopped the trace is the ``__cause__``.
    """

    def __init__(self, message: str, *, trace: Any = None) -> None:
        super().__init__(message)
        self.trace = trace


class GraphvizNotFound(ComposeError, FileNotFoundError):
    """Graphviz's ``dot`` program is needed to render this format and is not installed.
    ``.dot`` output never needs it; the message says how to install it."""


class GraphvizError(ComposeError, RuntimeError):
    """Graphviz ran and failed; ``stderr`` holds what it said."""

    def __init__(self, message: str, *, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class PathError(ComposeError, KeyError):
    """A path or Keras name names no layer call of the model (the message lists the nearest known
    paths), or a Keras name several layers share (the message lists their paths).

    Attributes:
        path: the path or name asked for.
        known: the nearest known paths, nearest first; for a shared Keras name, the paths of the
            layers sharing it.
    """

    def __init__(self, message: str, *, path: str, known: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.known = known

    def __str__(self) -> str:
        # KeyError's own str() would show the message in quotes, as a repr.
        return self.message
