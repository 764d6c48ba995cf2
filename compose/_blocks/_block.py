"""Block: a Keras layer whose hyperparameters and call signature are declared, not hand-written."""

from __future__ import annotations

import functools
import inspect
from typing import Any, ClassVar

import attrs
import keras
import tensorflow as tf

from . import _hyperparameters
from .._compat import all_layers, compute_output_spec, current_name_scope
from .._errors import ComposeError, HyperparameterError, SpecError
from ._signature import CallSignature, check_inputs, check_output, is_symbolic
from ._specs import TensorSpec

# Keyword arguments that `keras.layers.Layer.__init__` understands, passed through untouched.
_KERAS_KWARGS = frozenset(
    {"name", "dtype", "trainable", "autocast", "activity_regularizer", "input_shape", "input_dim"}
)


_INHERITED = object()  # marks "not set on this class" where None is a valid default


@functools.cache
def _layer_attributes() -> frozenset[str]:
    """Names a Keras layer uses itself, as class attributes or set in its `__init__`."""
    return frozenset(dir(keras.layers.Layer)) | frozenset(vars(keras.layers.Layer()))


def _refuse_reserved_names(cls: type, names: list[str]) -> None:
    """A hyperparameter becomes a property of the class, so one named like a method or attribute
    of Keras's layer, of Block or of a base block would replace it (``setup: int = 1`` made
    ``self.setup()`` fail with "'int' object is not callable"). The reserved names are read from
    the classes themselves, so a new Keras attribute is covered without a list to keep."""
    for name in names:
        if name in _layer_attributes():
            owner = "the keras.layers.Layer attribute of that name"
        else:
            base = next((b for b in cls.__mro__[1:] if name in vars(b)), None)
            if base is None:
                continue
            owner = f"{base.__name__}.{name}, which {cls.__name__} inherits"
        raise HyperparameterError(
            f"{cls.__name__}: hyperparameter '{name}' would hide {owner}; choose another name.",
            block=cls.__name__,
            name=name,
        )


class Block(keras.layers.Layer):
    """A Keras layer with declared hyperparameters and a typed call signature.

    Subclass it, annotate hyperparameters as class attributes with defaults, create sublayers in
    ``setup()``, and annotate ``call`` with ``compose.Tensor[...]`` specs. The class gets a
    keyword ``__init__`` (hyperparameters, then Keras's own ``name``, ``dtype``, ``trainable``),
    type validation, ``repr``, ``get_config``/``from_config``, a ``build`` that creates every
    sublayer's weights, and registration with Keras's serialization (so
    ``keras.saving.load_model`` needs no ``custom_objects``). Calls are checked against the
    declared specs when built symbolically and on the first eager call; a compiled step pays
    nothing.

    Args:
        *args: hyperparameters, in declaration order (keywords are clearer).
        **kwargs: hyperparameters by name, and Keras's layer keywords (``name``, ``dtype``,
            ``trainable``, ...).

    Raises:
        HyperparameterError: a hyperparameter of the wrong type or value, or an unknown keyword.
        SpecError: a tensor that does not match the declared call signature (when called).

    Example:
        >>> import keras
        >>> from compose import Block, Tensor
        >>> class Residual(Block):
        ...     units: int = 8
        ...     def setup(self):
        ...         self.dense = keras.layers.Dense(self.units)
        ...     def call(self, x: Tensor["batch", "units"]) -> Tensor["batch", "units"]:
        ...         return x + self.dense(x)
        >>> block = Residual(units=4, name="residual")
        >>> block
        Residual(units=4, name='residual')
        >>> block(keras.Input((4,))).shape
        (None, 4)
        >>> block.get_config()["units"]
        4
    """

    _hyperparameter_class: ClassVar[type]
    _hyperparameter_specs: ClassVar[dict[str, tuple[Any, Any]]] = {}
    _signature: ClassVar[CallSignature]
    _hyperparameter_dims: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs = dict(cls._hyperparameter_specs)  # inherited ones first, in declaration order
        own = _hyperparameters.declared(cls)
        _refuse_reserved_names(cls, [n for n in own if n not in specs])
        specs.update(own)
        for name, (annotation, _) in list(specs.items()):
            default = cls.__dict__.get(name, _INHERITED)
            if name not in own and not isinstance(default, property) and default is not _INHERITED:
                # `units = 16` in a subclass, without the annotation: a new default, as a reader
                # of the class would take it.
                specs[name] = (annotation, default)
        cls._hyperparameter_specs = specs
        cls._hyperparameter_class = _hyperparameters.make_class(cls.__name__, specs)
        for name in specs:
            # Read-only: the config must always describe the weights the block was built with.
            # A list or dict is read as a copy, so that mutating it cannot change the block.
            setattr(cls, name, property(
                lambda self, n=name: _hyperparameters.private_copy(getattr(self._hyperparameters, n))
            ))
        cls._signature = CallSignature.of(cls.call)
        output = cls._signature.output
        specs_used = [*cls._signature.inputs.values(), *(output if isinstance(output, tuple) else [output] if output else [])]
        dims = {d for spec in specs_used for d in spec.shape if isinstance(d, str)}
        cls._hyperparameter_dims = tuple(n for n in specs if n in dims)
        if "build" not in cls.__dict__:
            cls.build = _build_method(cls._signature.tensors)
        cls.__signature__ = _init_signature(cls)
        keras.saving.register_keras_serializable(package=cls.__module__, name=cls.__qualname__)(
            cls
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        names = list(cls._hyperparameter_specs)
        if len(args) > len(names):
            raise HyperparameterError(
                f"{cls._describe()} takes at most {len(names)} positional hyperparameter(s), "
                f"got {len(args)}: {', '.join(map(repr, args))}. Keras's own arguments (name, dtype, "
                f"trainable) are keywords, and so are hyperparameters at their clearest: "
                f"{cls.__name__}({', '.join(f'{n}=...' for n in names)}, name=...).",
                block=cls.__name__,
                name="",
            )
        values = dict(zip(names, args))
        for name in names:
            if name in kwargs:
                if name in values:
                    raise HyperparameterError(
                        f"{cls.__name__}: hyperparameter '{name}' given twice",
                        block=cls.__name__,
                        name=name,
                    )
                values[name] = kwargs.pop(name)
        unknown = sorted(set(kwargs) - _KERAS_KWARGS)
        if unknown:
            raise HyperparameterError(
                f"{cls.__name__} got unknown keyword argument(s) {', '.join(map(repr, unknown))}. "
                f"Hyperparameters: {', '.join(names) or 'none'}; Keras arguments: "
                f"{', '.join(sorted(_KERAS_KWARGS))}",
                block=cls.__name__,
                name=unknown[0],
            )
        hyperparameters = _hyperparameters.build(cls.__name__, cls._hyperparameter_class, values)
        super().__init__(**kwargs)
        self._hyperparameters = hyperparameters
        self._checked_eagerly = False
        self._setup_checked()
        if kwargs.get("dtype") is not None:
            self._share_dtype_policy()

    def _share_dtype_policy(self) -> None:
        """Sublayers made in `setup` without a dtype take the block's: `Block(dtype="float64")`
        should mean the whole block, as it does for Keras's own composite layers."""
        default = keras.config.dtype_policy().name
        for layer in all_layers(self, include_self=False):
            if layer.dtype_policy.name == default:
                layer.dtype_policy = self.dtype_policy

    @classmethod
    def _describe(cls) -> str:
        """The class with its hyperparameters, as errors show it: ``Residual(units: int = 8)``."""
        return _hyperparameters.signature(
            cls.__name__, cls._hyperparameter_specs, cls._hyperparameter_class
        )

    def _setup_checked(self) -> None:
        """Run `setup`, naming the block when a value it passes on is refused: ``units=-4`` fails
        in Keras's Dense with a message that names neither the block nor the hyperparameter."""
        try:
            self.setup()
        except ComposeError:
            raise
        except (TypeError, ValueError) as err:
            raise HyperparameterError(
                f"{self!r} failed in setup() with {type(err).__name__}: {err} -- check the values "
                f"given against {type(self)._describe()}.",
                block=type(self).__name__,
                name="",
            ) from err

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except AttributeError as err:
            if name not in type(self)._hyperparameter_specs:
                raise
            raise HyperparameterError(
                f"{type(self)._describe()}: hyperparameter '{name}' is read-only (the config must "
                "describe the weights the block was built with). Make a changed copy instead: "
                f"block.replace({name}={value!r}).",
                block=type(self).__name__,
                name=name,
                value=value,
            ) from err

    def replace(self, **changes: Any) -> Block:
        """A new, unbuilt block of the same class and config, with ``changes`` applied.

        Hyperparameters are read-only, so this is how to get a variant. The copy gets a fresh
        Keras name (two layers of one model cannot share one) unless ``name=`` is given.

        Args:
            **changes: hyperparameters, and Keras's own keywords (``name``, ``dtype``, ...).

        Returns:
            A new block; this one is unchanged. No weights are copied.

        Raises:
            HyperparameterError: a wrong or unknown hyperparameter, as for the constructor.

        Example:
            >>> import compose
            >>> class Proj(compose.Block):
            ...     units: int = 8
            >>> Proj(units=4, name="proj").replace(units=16, name="wide")
            Proj(units=16, name='wide')
        """
        config = {k: v for k, v in self.get_config().items() if k != "name"}
        return type(self).from_config({**config, **changes})

    def setup(self) -> None:
        """Create sublayers here: runs once, at the end of ``__init__``, with the hyperparameters
        set (read them as ``self.<name>``). The default creates nothing."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._checked_eagerly and tf.executing_eagerly() and not is_symbolic(args, kwargs):
            return super().__call__(*args, **kwargs)
        # Symbolic calls (graph construction, a tf.function being traced) are checked every time:
        # they run once per graph. Eager calls are checked once, so steady state costs nothing.
        outer = current_name_scope()
        path = f"{outer.replace('/', '.')}.{self.name}" if outer else self.name
        bindings = {n: getattr(self, n) for n in type(self)._hyperparameter_dims}
        bound = self._signature.bind(args, kwargs)
        check_inputs(path, self._signature, bound, bindings)
        outputs = super().__call__(*args, **kwargs)
        check_output(path, self._signature, outputs, bindings)
        if tf.executing_eagerly() and not is_symbolic(args, kwargs):
            self._checked_eagerly = True
        return outputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        values = attrs.asdict(self._hyperparameters, recurse=False)
        config.update({k: _hyperparameters.private_copy(v) for k, v in values.items()})
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Block:
        """Rebuild a block from `get_config()`'s output.

        Hyperparameters are plain data and are only validated, never deserialized; the dtype
        policy goes through Keras's own rules.

        Args:
            config: a dict as returned by `get_config`.

        Returns:
            A new, unbuilt block of this class.

        Raises:
            HyperparameterError: the config holds a wrong or unknown hyperparameter.
        """
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        # Called directly, not through `Layer.from_config`, which would re-wrap our errors in a
        # bare TypeError and lose their type.
        return cls(**config)

    def __repr__(self) -> str:
        values = attrs.asdict(self._hyperparameters, recurse=False)
        args = "".join(f"{k}={v!r}, " for k, v in values.items())
        return f"{type(self).__name__}({args}name={self.name!r})"


def declared_inputs(block: Block) -> tuple[TensorSpec, ...] | None:
    """The specs ``block``'s ``call`` declares for its tensor arguments, in order, with each dim
    named after an int hyperparameter replaced by its value (``units`` -> 8); None when one of
    them is not declared. Tells a user who must give inputs what this block takes."""
    signature = type(block)._signature
    if any(name not in signature.inputs for name in signature.tensors):
        return None
    values = attrs.asdict(block._hyperparameters, recurse=False)

    def bound(dim: Any) -> Any:
        value = values.get(dim) if isinstance(dim, str) else dim
        return value if isinstance(value, int) and not isinstance(value, bool) else dim

    return tuple(
        TensorSpec(tuple(bound(d) for d in spec.shape), spec.dtype)
        for spec in (signature.inputs[name] for name in signature.tensors)
    )


def _build_method(tensor_params: tuple[str, ...]):
    """A ``build`` whose parameters Keras can fill from the call's tensor shapes (``x_shape``, ...;
    ``input_shape`` for a one-tensor call), and that creates every sublayer's weights by running
    ``call`` on symbolic tensors. Keras saves these shapes and calls it again when loading, which
    is what makes a Block's weights loadable when it is not inside a Functional model."""
    if len(tensor_params) <= 1:
        names = ("input_shape",)
        args = tensor_params or ("input_shape",)
    else:
        names = tuple(f"{p}_shape" for p in tensor_params)
        args = tensor_params

    def build_by_run(self: Block, shapes: dict[str, Any]) -> None:
        tensors = {}
        for name, arg in zip(names, args):
            if shapes.get(name) is None:
                continue
            spec = self._signature.inputs.get(arg)
            dtype = spec.dtype if spec is not None and spec.dtype else self.compute_dtype
            tensors[arg] = keras.tree.map_shape_structure(
                lambda s, dtype=dtype: keras.KerasTensor(s, dtype=dtype), shapes[name]
            )
        try:
            compute_output_spec(self.call, **tensors)
        except SpecError:
            raise
        except Exception:  # noqa: BLE001 - see below
            # A `call` that cannot run symbolically (it needs concrete values, e.g. `.numpy()`)
            # builds its sublayers on its first real call instead; nothing is lost by waiting.
            pass

    # Keras reads `build`'s parameter names to decide which shapes to pass, so they must be real
    # parameters; the names are the call's own parameter names (identifiers), plus `_shape`.
    params = ", ".join(f"{n}=None" for n in names)
    namespace: dict[str, Any] = {"build_by_run": build_by_run}
    exec(  # noqa: S102 - compiles only identifiers taken from the class's own `call` signature
        f"def build(self, {params}):\n    build_by_run(self, {{{', '.join(f'{n!r}: {n}' for n in names)}}})\n",
        namespace,
    )
    return namespace["build"]


def _init_signature(cls: type) -> inspect.Signature:
    """The signature `help()` and IDEs show: hyperparameters with their defaults, then Keras's."""
    params = []
    for a in attrs.fields(cls._hyperparameter_class):
        default = inspect.Parameter.empty if a.default is attrs.NOTHING else a.default
        params.append(
            inspect.Parameter(a.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)
        )
    params.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params)
