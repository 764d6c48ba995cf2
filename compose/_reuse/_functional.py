"""Reuse for any model: inner activations (`intermediates`) and a Functional twin (`to_functional`).

Both stand on the tracer. `to_functional` traces the model, then replays the recorded calls on
new ``keras.Input`` tensors (`_replay.Replay`): the same layer objects called again, the ops in
between rebuilt as Keras operations or `TFOp` layers, so Keras builds an ordinary Functional
model from them. `intermediates` on concrete inputs runs the model once with the tracer's
recorder and keeps what each call returned; on KerasTensors it replays, so that the result can
start a new Functional model.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import attrs
import keras
import numpy as np
import tensorflow as tf
from keras import tree

from .._blocks import Block
from .._compat import Functional, input_structure
from .._errors import TraceError
from ._rebuilt import made_again_as_it_is
from ._replay import Replay, Unreplayable
from .._trace import (
    EagerRecorder,
    InputShape,
    ModelSnapshot,
    Trace,
    as_arrays,
    ExactLeafRule,
    default_leaf,
    larger_arrays,
    normalize,
    reason_of,
    recording,
    resolve_paths,
    trace_whole_or_regions,
    user_location,
)


def _kept_whole(layer: keras.layers.Layer) -> bool:
    """What `to_functional` keeps whole by default, so that the twin saves and loads without
    the model's code:

    - Blocks: they save by their config and keep checking their call signature in the twin;
    - leaf layers (as a trace has them), unless loading would not make them again as they are
      (`made_again_as_it_is`) and they compute no Keras mask: those are opened, their ops
      replayed and their weights held;
    - Functional and Sequential models whose layers all save by their config (a Sequential one
      holding a container of the user's own that Keras cannot find without the user's code is
      opened too). A nested Functional model is otherwise kept whole: opened, it would pass on
      the Keras masks it drops.
    """
    if isinstance(layer, Block):
        return True
    if isinstance(layer, (Functional, keras.Sequential)):
        inside = [sub for sub in layer.layers if not isinstance(sub, keras.layers.InputLayer)]
        unregistered = isinstance(layer, keras.Sequential) and any(map(_unregistered_container, inside))
        return not unregistered and all(map(_saved_inside, inside))
    return default_leaf(layer) and (_computes_masks(layer) or made_again_as_it_is(layer))


def _computes_masks(layer: keras.layers.Layer) -> bool:
    """A layer with a ``compute_mask`` of its own: opened, the Keras mask it gives its outputs
    would be lost, so it stays whole, saving or not."""
    return type(layer).compute_mask is not keras.layers.Layer.compute_mask


def _saved_inside(layer: keras.layers.Layer) -> bool:
    """Whether a layer of a Functional or Sequential model kept whole saves with it: by its
    config, or, nested Functional or Sequential, by theirs."""
    if isinstance(layer, (Functional, keras.Sequential)):
        return _kept_whole(layer)
    return isinstance(layer, Block) or made_again_as_it_is(layer)


def _unregistered_container(layer: keras.layers.Layer) -> bool:
    """A container of a class Keras cannot find by its registered name (a subclass of the
    user's own): loading it would need the model's code."""
    if isinstance(layer, (Block, keras.Sequential, Functional)) or default_leaf(layer):
        return False
    cls = type(layer)
    return keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is not cls


def intermediates(model: keras.layers.Layer, *inputs: Any, paths: str | Sequence[str], **call_kwargs: Any) -> dict[str, Any]:
    """What the layer calls at ``paths`` return when ``model`` runs on ``inputs``.

    Works for any model: Functional, Sequential, subclassed, eager-only, nested at any depth.
    Paths are those of `compose.trace` (``"encoder/blocks.1/dense"``; a container's path gives
    its outputs; ``"dense#1"`` is the second call of a shared layer). A layer's Keras name
    (``layer.name``, what Keras's summary shows) works too where one layer has it, with ``#k``
    after it for a later call; a string that is a path and another layer's Keras name is the path.

    Args:
        model: the model.
        *inputs: concrete arrays, to get values; or ``keras.Input``/KerasTensors (or specs /
            shape tuples), to get KerasTensors that start a new Functional model,
            e.g. ``keras.Model(x, compose.intermediates(model, x, paths="block")["block"])``.
            Symbolic inputs need a model `to_functional` can convert; concrete ones run the
            model eagerly and work for any model.
        paths: one path or Keras name, or several.
        **call_kwargs: passed to the model's ``call`` (``training=``, ...).

    Returns:
        ``{path: output}`` in the order of ``paths``, keyed as given (a Keras name stays the
        key); an output is what the call returned (a tensor, or its list/dict of tensors).

    Raises:
        PathError: a path or name names no call made on these inputs (the message lists the
            nearest calls, with their Keras names where these differ), or a Keras name several
            layers share (the message lists their paths).
        TraceError: the model's ``call`` failed on these inputs, or (symbolic inputs) the model
            cannot be expressed as a Functional model.

    The model is left as it was: weights (even batch statistics updated with ``training=True``),
    training flags and methods. On symbolic inputs its layers are called on new KerasTensors,
    as any Functional construction calls them.

    Example:
        >>> import keras, numpy as np, compose
        >>> class Net(keras.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.body, self.head = keras.layers.Dense(4), keras.layers.Dense(2)
        ...     def call(self, x):
        ...         return self.head(keras.ops.relu(self.body(x)))
        >>> model, x = Net(), np.ones((5, 3), "float32")
        >>> values = compose.intermediates(model, x, paths=["body", "head"])
        >>> {path: tuple(value.shape) for path, value in values.items()}
        {'body': (5, 4), 'head': (5, 2)}
        >>> inputs = keras.Input((3,))
        >>> extractor = keras.Model(inputs, compose.intermediates(model, inputs, paths="body")["body"])
        >>> bool(np.allclose(extractor(x), values["body"]))
        True
    """
    wanted = [paths] if isinstance(paths, str) else list(paths)
    if not _is_concrete(inputs):
        result, replay, _ = _replayed(model, inputs, None, call_kwargs, "extract intermediates of")
        with replay.kept_on_success():
            found = resolve_paths(wanted, _call_ids(result.graph), dict(result.hierarchy.nodes(data="layer")))
            try:
                replay.run()
                return {path: replay.outputs_of(call) for path, call in found.items()}
            except Unreplayable as err:
                raise TraceError(f"cannot extract intermediates of {model.name!r}: {err}", trace=result) from err
    with recording(model, inputs, call_kwargs) as session:
        recorder, error = session.run(EagerRecorder)
    if error is not None:
        where = recorder.failure.path if recorder.failure else None
        location = user_location(error)
        raise TraceError(
            f"cannot extract intermediates of {model.name!r}: its call failed at "
            f"{where or '<model>'}: {type(error).__name__}: {error}" + (f" ({location})" if location else "")
        ) from error
    graph = recorder.graph
    found = resolve_paths(wanted, _call_ids(graph), recorder.tree.layers)
    containers = graph.graph["containers"]
    return {p: (containers[c] if c in containers else graph.nodes[c])["call"].outputs for p, c in found.items()}


def to_functional(model: keras.layers.Layer, *inputs: Any, leaf: Any = None, **call_kwargs: Any) -> keras.Model:
    """A Functional model computing what ``model`` computes, built from the same layer objects.

    The model is traced (`compose.trace`) and its recorded calls replayed on new
    ``keras.Input`` tensors. Subclassed containers (layers and models) are opened: the result
    holds their leaf layers directly, under their Keras names. Blocks and nested Functional and
    Sequential models stay whole, one layer each, as Keras nests them: a Block saves by its
    config and keeps checking its call signature, and names its sublayers as it likes. A
    Sequential model holding a subclassed container of yours is opened too, so the result
    loads without your code, and so is a layer Keras cannot make again from its own config in
    safe mode (keras_hub's layers made with a dtype policy object, an ``Activation`` of a
    lambda): its ops are replayed and its weights held, so the result saves. To cut the result
    at an inner layer, take the tensor with ``compose.intermediates(f, f.input, paths=name)``: a
    shared layer's ``.output`` is its *first* call (Keras's rule), which for a layer of a
    subclassed model is the call Keras made to build it, not the one in ``f``. Ops between
    layers become Keras operations (symbolic strategy) or `TFOp` layers (TensorFlow functions,
    graph strategy), both saved as plain data, so ``summary``, ``plot_model``, ``get_config``,
    ``save``/``load_model`` (safe mode, once ``compose`` is imported) and ``clone_model`` work
    as for any Functional model. Training the result trains the original model's weights.

    Args:
        model: any Keras model or layer.
        *inputs: as for `compose.trace`; optional when the model knows its inputs. The batch
            size stays open (``None``) whatever the inputs.
        leaf: layers to keep whole (classes or a predicate), as for `compose.trace`; given, it
            replaces the default (Blocks, Functional and Sequential models kept whole).
        **call_kwargs: passed to the model's ``call`` during the trace.

    Returns:
        The Functional model, named like ``model``. A model taking several positional
        arguments becomes one taking them as a list. It carries two attributes:
        ``compose_layer_names`` maps each layer call's path in the trace to its layer's name
        in the result (Keras needs unique names; layers whose Keras names repeat, as the
        blocks of a keras_hub backbone do, are renamed from their paths, and the layer objects
        are shared, so the model's layers carry the new names too), and ``compose_left_out``
        the paths of the layers left out (see ``training=False``).

    Constants the model's call makes without its inputs (``ops.arange(n)`` positions, an
    adjacency kept as an attribute) become `Constant` layers, their value held as a
    non-trainable weight (at most 16M elements); weights the call reads directly (a class
    token made with ``add_weight`` on the model) become `HeldWeight` layers holding those very
    variables, so training the result trains them. A recorded ``tf.cond`` (a Python ``if`` on
    a tensor) becomes a `Cond` layer holding each branch as a Functional model of the model's
    layers, and a recorded ``tf.while_loop`` (a Python ``while`` on a tensor, a ``for`` over
    ``tf.range``) a `While` layer holding its condition and body. Before it is returned, the
    result is run on the trace's inputs (and on inputs taking each branch of its conds, where
    some can be found, and on inputs one larger in each dim it leaves open, such as the batch
    size, where the model runs on them) and compared with the model.

    ``training=False`` asks for the inference twin: layers the call does not reach then (a
    noise layer behind ``if training:``, a dropout the fused attention skips) are left out
    and listed in ``compose_left_out``, instead of refusing the conversion.

    Raises:
        TraceError: the trace is not complete (the first problem, unreached layer or inferred
            edge is named, with its path, reason and ``file:line``), or the recovered graph
            has no Functional form (a layer called both inside a ``cond``'s branch or a loop
            and outside it, a loop carrying a TensorArray or changing a tensor's shape, a
            variable used outside any layer, a stateful TensorFlow op, a constant over the
            size limit), or the result computes something else than the
            model on the trace's inputs (the message names the first recorded call that
            differs). ``.trace`` holds the trace; the reuse page lists every reason.

    Example:
        >>> import keras, numpy as np, tensorflow as tf, compose
        >>> class Net(keras.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.body, self.head = keras.layers.Dense(4), keras.layers.Dense(2)
        ...     def call(self, x):
        ...         return self.head(tf.nn.relu(self.body(x)))  # a TensorFlow op between layers
        >>> model = Net()
        >>> functional = compose.to_functional(model, (None, 3))
        >>> tuple(type(layer).__name__ for layer in functional.layers)
        ('InputLayer', 'Dense', 'TFOp', 'Dense')
        >>> functional.get_layer(model.body.name) is model.body
        True
        >>> x = np.ones((2, 3), "float32")
        >>> bool(np.allclose(functional(x), model(x)))
        True
    """
    leaf = ExactLeafRule(functools.lru_cache(maxsize=None)(_kept_whole)) if leaf is None else leaf
    try:
        return _twin(model, inputs, leaf, call_kwargs, regions=True)
    except _RegionsFailed as failed:
        # Where the trace with regions gives no twin, the whole model traced by one strategy
        # may: that is tried, and its error is the one reported, unless the regions' trace was
        # refused for an eager region (which names the container to change).
        try:
            return _twin(model, inputs, leaf, call_kwargs, regions=False)
        except Exception:
            if failed.eager:
                raise failed.error from failed.error.__cause__
            raise


class _RegionsFailed(Exception):
    """A trace with regions gave no twin (``error`` says why; ``eager``: an eager region)."""

    def __init__(self, error: Exception, eager: bool) -> None:
        super().__init__(str(error))
        self.error, self.eager = error, eager


def _twin(model: Any, inputs: tuple, leaf: Any, call_kwargs: dict, regions: bool) -> keras.Model:
    """`to_functional` on one trace: with regions (where any failure is `_RegionsFailed`, so
    that the whole model's trace can be tried), or with one strategy for the whole model."""
    result: Trace | None = None
    try:
        result, replay, new_inputs = _replayed(model, inputs, leaf, call_kwargs, "convert", regions)
        with replay.kept_on_success():
            try:
                outputs = replay.run()
                names = _unique_layer_names(result, replay)
                twin = keras.Model(new_inputs[0] if len(new_inputs) == 1 else list(new_inputs), outputs, name=model.name)
            except (Unreplayable, ValueError, TypeError) as err:  # Keras refusing a replayed call, too
                raise TraceError(f"cannot convert {model.name!r} to a Functional model: {err}", trace=result) from err
            _verify(twin, model, inputs, call_kwargs, result, replay)
    except Exception as err:
        result = err.trace if isinstance(err, TraceError) and err.trace is not None else result
        if regions and result is not None and any(run.path is not None for run in result.strategies):
            eager = any(run.path is not None and run.finished and run.name == "eager" for run in result.strategies)
            raise _RegionsFailed(err, eager) from err
        raise
    twin.compose_layer_names = names
    twin.compose_left_out = result.coverage.unreached
    return twin


# -- helpers -------------------------------------------------------------------------------------


def _is_concrete(inputs: tuple) -> bool:
    flat = tree.flatten(inputs)
    return any(isinstance(x, (np.ndarray, tf.Tensor)) and not isinstance(x, keras.KerasTensor) for x in flat)


def _replayed(model: Any, inputs: tuple, leaf: Any, call_kwargs: dict, doing: str, regions: bool = True) -> tuple[Trace, Replay, tuple]:
    """Trace ``model`` on new ``keras.Input`` tensors (or the caller's own), with regions or
    not, refuse an incomplete trace, and return it with a `Replay` bound to those tensors."""
    new_inputs = tuple(_keras_inputs(spec, None) for spec in normalize(model, inputs))
    result = trace_whole_or_regions(model, new_inputs, False, leaf, call_kwargs, regions=regions)
    _refuse_eager_regions(result, model, doing)
    coverage = result.coverage
    # A strategy that stopped is a problem here even where a later one ran: that one showed
    # one run. The trace the error carries lists them all as problems, as `strict=True` does.
    stopped = coverage.problems + coverage.notes
    if stopped:
        partial = attrs.evolve(result, coverage=attrs.evolve(coverage, problems=stopped, notes=()))
        cause = TraceError(f"could not trace {model.name!r}: {stopped[0]}", trace=partial)
        raise TraceError(f"cannot {doing} {model.name!r}: the trace stopped at {stopped[0]}", trace=partial) from cause
    if coverage.unreached and call_kwargs.get("training", True) is not False:
        raise TraceError(
            f"cannot {doing} {model.name!r}: layer {coverage.unreached[0]!r} is never called on "
            "these inputs, so a Functional model would lose it (pass the inputs or call "
            "arguments that reach it, or training=False for an inference model without the "
            "layers inference does not use)",
            trace=result,
        )
    inferred = next(((u, v) for u, v, exact in result.graph.edges(data="exact") if not exact), None)
    if inferred is not None:
        raise TraceError(
            f"cannot {doing} {model.name!r}: the edge {inferred[0]} -> {inferred[1]} is only "
            f"inferred (the {result.strategy} strategy could not see the computation between them)",
            trace=result,
        )
    return result, Replay(result, new_inputs, training=call_kwargs.get("training")), new_inputs


def _refuse_eager_regions(result: Trace, model: Any, doing: str) -> None:
    """Refuse a trace in which a container was traced eagerly (a region): symbolic and graph
    regions record the computation for every input, an eager one a single run."""
    runs = result.strategies
    eager = next((r for r in runs if r.path is not None and r.finished and r.name == "eager"), None)
    if eager is None:
        return
    graph = next((r for r in runs if r.path == eager.path and r.name == "graph" and not r.finished), None)
    why = f" ({graph.reason}" + (f", {graph.location})" if graph.location else ")") if graph else ""
    raise TraceError(
        f"cannot {doing} {model.name!r}: {eager.path!r} was traced eagerly, as a region of its "
        f"own, because the graph strategy could not trace it{why}; an eager trace shows one run "
        "on drawn values, not what the container computes for every input (keep values out of "
        "Python in its call: no .numpy(), float() or int() of a tensor; see the tracing page)",
        trace=result,
    )


def _unique_layer_names(result: Trace, replay: Replay) -> dict[str, str]:
    """Path -> layer name for every layer call replayed, renaming the layers whose Keras names
    repeat (a Functional model needs unique names) after their paths."""
    names: dict[str, str] = {}
    owners: dict[str, Any] = {}
    for node, data in result.graph.nodes(data=True):
        if data["kind"] != "layer" or data["layer"] is None:
            continue
        layer = replay.in_twin(data["layer"])
        owner = owners.setdefault(layer.name, layer)
        if owner is not layer:
            layer.name = replay.fresh_name(data["path"])
            owners[layer.name] = layer
        names[node] = layer.name
    return names


def _verify(twin: keras.Model, model: Any, inputs: tuple, call_kwargs: dict, result: Trace, replay: Replay) -> None:
    """Run ``twin`` and ``model`` on the trace's inputs (or arrays made for its specs) and refuse
    a twin computing something else or failing, naming the first recorded call that differs.
    Where the twin holds a `Cond`, inputs taking its other branch are tried too
    (`_branch_inputs`). Where the twin leaves dims open (the batch size, always, for concrete
    inputs), inputs one larger in each are tried too, where the model runs on them: a size the
    trace baked in where the model computes it at run time shows there, not in the user's
    hands later. Outputs that differ between two runs of the model on other random draws
    (sampling) are not compared; the others are, dropout or not. The model's variables are put
    back after each run."""
    given = normalize(model, inputs)
    arrays = as_arrays(given)
    conds = ", ".join(repr(name) for name, _ in replay.predicates)
    checks = [
        (candidate, "the trace's inputs" if k == 0 else f"inputs taking another branch of {conds} than the trace's")
        for k, candidate in enumerate(_branch_inputs(twin, replay, arrays))
    ]
    larger = larger_arrays(given)
    if _shapes(larger) != _shapes(arrays):
        checks.append((larger, f"inputs one larger in each dim it leaves open (shapes {_shapes(larger)} for {_shapes(arrays)})"))
    for candidate, on in checks:
        try:
            expected = _model_outputs(model, candidate, call_kwargs)
        except Exception:  # noqa: BLE001 - only on the larger inputs: the model fixes those sizes
            if candidate is not larger:
                raise
            continue
        differs = _difference(twin, model, candidate, expected)
        if differs is None:
            continue
        what, detail, error = differs
        raise TraceError(
            f"cannot convert {model.name!r} to a Functional model: the result {what} on {on} ({detail}); "
            f"{_diverging_call(twin, model, candidate, call_kwargs, result, replay)}: the model's "
            "call uses something the trace could not see (a Python value computed from a "
            "tensor's shape or contents, a random draw): report the model, or convert with "
            "fixed input shapes",
            trace=result,
        ) from error


def _shapes(arrays: tuple) -> list[tuple]:
    return [tuple(np.shape(a)) for a in tree.flatten(arrays)]


def _run(model: Any, run: Any) -> Any:
    """``run()``, the model's variables put back afterwards (an eager run may change them)."""
    snapshot = ModelSnapshot(model)
    snapshot.save_variables()
    try:
        return run()
    finally:
        snapshot.restore_variables()
        snapshot.restore_graph_state()  # eager runs make no Keras nodes; this closes its log


def _twin_input(arrays: tuple) -> Any:
    return arrays[0] if len(arrays) == 1 else list(arrays)


def _model_outputs(model: Any, arrays: tuple, call_kwargs: dict) -> list[tuple[Any, Any]]:
    """What ``model`` returns on ``arrays``, and again on other random draws (flat, paired):
    outputs that depend on the draws differ."""
    def on_other_draws() -> Any:
        _other_draws(model)
        return model(*arrays, **call_kwargs)

    expected = tree.flatten(_run(model, lambda: model(*arrays, **call_kwargs)))
    again = tree.flatten(_run(model, on_other_draws))
    return list(zip(expected, again))


def _difference(twin: keras.Model, model: Any, arrays: tuple, expected: list[tuple[Any, Any]]) -> tuple[str, str, Exception | None] | None:
    """How ``twin`` differs from the model's ``expected`` outputs on ``arrays``, as (what, detail,
    the twin's error): ``computes output 1 differently from the model``, ``max abs diff 0.5``; or
    ``fails where the model runs``, ``ValueError: ...``. None where it does not."""
    try:
        mine = tree.flatten(_run(model, lambda: twin(_twin_input(arrays))))
    except Exception as err:  # noqa: BLE001 - any failure of the twin where the model ran
        return "fails where the model runs", reason_of(err), err
    for index, ((want, same), got) in enumerate(zip(expected, mine)):
        want, same, got = (np.asarray(keras.ops.convert_to_numpy(t)) for t in (want, same, got))
        if want.shape != same.shape or not np.array_equal(want, same):
            continue  # the model itself gives other values each run
        if want.shape != got.shape or not np.allclose(got, want, rtol=1e-5, atol=1e-5):
            diff = "shape " + str(got.shape) if want.shape != got.shape else f"max abs diff {np.max(np.abs(got - want)):.3g}"
            return f"computes output {index} differently from the model", diff, None
    return None


def _other_draws(model: Any) -> None:
    """Move the model's own seed generators on (`_run` puts them back), so that a second run
    draws other random numbers and outputs that depend on the draws show it. Draws from Keras's
    global generator or stateful TensorFlow ops differ between runs anyway."""
    for variable in model.variables:
        if isinstance(variable, keras.Variable) and "seed_generator" in variable.path:
            variable.assign(variable + keras.ops.ones_like(variable))


#: How many other inputs `_branch_inputs` tries to take each branch of the twin's conds.
_BRANCH_TRIES = 6


def _branch_inputs(twin: keras.Model, replay: Replay, arrays: tuple) -> list[tuple]:
    """``arrays``, then inputs taking a branch of a `Cond` of the twin that ``arrays`` does not:
    the float inputs negated, scaled, shifted, drawn again (a predicate is most often the sign
    or size of a value). Branches no such input reaches are not checked."""
    if not replay.predicates:
        return [arrays]
    probe = keras.Model(input_structure(twin), [predicate for _, predicate in replay.predicates])
    rng = np.random.default_rng(1)

    def varied(array: Any, k: int) -> Any:
        array = np.asarray(array)
        if array.dtype.kind != "f":
            return array
        return [-array, array * 3.0, array - 1.0, array + 1.0, rng.standard_normal(array.shape).astype(array.dtype), np.zeros_like(array)][k]

    chosen, seen = [], set()
    for candidate in [arrays, *(tree.map_structure(lambda a: varied(a, k), arrays) for k in range(_BRANCH_TRIES))]:
        taken = {(i, bool(np.asarray(v))) for i, v in enumerate(tree.flatten(probe(_twin_input(candidate))))}
        if not taken <= seen:
            chosen.append(candidate)
            seen |= taken
    return chosen


def _diverging_call(twin: keras.Model, model: Any, arrays: tuple, call_kwargs: dict, result: Trace, replay: Replay) -> str:
    """Which recorded call first gives other values in the twin than in an eager run of the
    model on ``arrays``, or fails there, in call order: said as ``the first call that differs
    is ...``."""
    with recording(model, arrays, call_kwargs) as session:
        recorder, error = session.run(EagerRecorder)
    if error is not None:
        return "the model's eager run failed, so no call could be compared"
    eager = recorder.graph
    compared: list[tuple[str, list[Any], list[Any]]] = []  # node, its new tensors, its eager values
    for node, kind in result.graph.nodes(data="kind"):
        if kind not in ("layer", "op") or node not in eager:
            continue
        try:
            new = [t for t in tree.flatten(replay.outputs_of(node)) if isinstance(t, keras.KerasTensor)]
        except Unreplayable:
            continue  # inside a branch: made only when it runs
        values = [t for t in tree.flatten(eager.nodes[node]["call"].outputs) if keras.ops.is_tensor(t)]
        if new and len(new) == len(values):
            compared.append((node, new, values))
    inside = f"it differs inside a branch of {', '.join(repr(name) for name, _ in replay.predicates)}"
    if not compared:
        return inside if replay.predicates else "no recorded call could be compared"

    def differs(calls: list[tuple[str, list[Any], list[Any]]]) -> bool:
        """Whether the twin fails in ``calls`` or gives other values for one of them."""
        probe = keras.Model(input_structure(twin), [t for _, new, _ in calls for t in new])
        try:
            got = tree.flatten(_run(model, lambda: probe(_twin_input(arrays))))
        except Exception:  # noqa: BLE001 - a call of the twin fails: one of these differs
            return True
        wanted = [want for _, _, values in calls for want in values]
        return not all(_close(mine, want) for mine, want in zip(got, wanted))

    if differs(compared):
        # Each prefix of the calls differs once one call in it does: halve to the first that does.
        agree, differ = 0, len(compared)
        while differ - agree > 1:
            middle = (agree + differ) // 2
            agree, differ = (agree, middle) if differs(compared[:middle]) else (middle, differ)
        node = compared[differ - 1][0]
        return f"the first recorded call that differs is the {result.graph.nodes[node]['kind']} {node!r}"
    if replay.predicates:
        return f"the recorded calls outside the conds agree: {inside}"
    return "every recorded call agrees, so it differs after the last of them"


def _close(mine: Any, want: Any) -> bool:
    mine, want = np.asarray(keras.ops.convert_to_numpy(mine)), np.asarray(keras.ops.convert_to_numpy(want))
    return mine.shape == want.shape and np.allclose(mine, want, rtol=1e-5, atol=1e-5, equal_nan=True)


def _keras_inputs(spec: Any, name: str | None) -> Any:
    """``keras.Input`` tensors for one positional argument, keeping its nesting; dict keys name
    the inputs (Keras matches a dict of inputs by name). KerasTensors are kept: a caller's own
    ``keras.Input`` must be the one the result is built from."""
    if isinstance(spec, dict):
        return {key: _keras_inputs(value, str(key)) for key, value in spec.items()}
    if isinstance(spec, (list, tuple)) and not isinstance(spec, InputShape):
        return type(spec)(_keras_inputs(value, None) for value in spec)
    if isinstance(spec, keras.KerasTensor):
        return spec
    shape = tuple(spec.shape)
    if not isinstance(spec, InputShape):  # a concrete array: the batch size stays open
        shape = (None, *shape[1:])
    return keras.Input(batch_shape=shape, dtype=keras.backend.standardize_dtype(spec.dtype), name=name)


def _call_ids(graph: Any) -> list[str]:
    """Every layer call and container call of a recording, in call order."""
    layers = [n for n, kind in graph.nodes(data="kind") if kind == "layer"]
    return list(dict.fromkeys([*graph.graph["containers"], *layers]))
