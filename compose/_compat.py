"""Every private piece of Keras, TensorFlow and attrs that compose relies on, named once.

compose patches and reads library internals that no public API exposes (how Keras records a
call's nodes, how TensorFlow calls op callbacks). Each is imported or touched here and nowhere
else, so an upgrade that moves one breaks this file, at import, with a message naming the piece
and the versions it was checked against (`CHECKED`); `tests/test_compat.py` runs each of them.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
from typing import Any, Iterator

import attrs
import keras
import tensorflow as tf

#: The versions these internals were read from and tested with.
CHECKED = {"keras": "3.15.1", "tensorflow": "2.21.0", "attrs": "26.1.0"}


def _internal(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ImportError(
            f"compose needs {module}.{name}, which this installation does not have; compose was "
            f"checked against {CHECKED}: install those versions or report the upgrade"
        ) from err


# -- Keras ------------------------------------------------------------------------------------------

#: The class of Functional models (``keras.Model(inputs, outputs)``); Keras exports no name for it.
Functional = _internal("keras.src.models.functional", "Functional")
#: Keras's name-scope path of the layer call being made (``"encoder/proj"``), for error messages.
current_name_scope = _internal("keras.src.backend.common.name_scope", "current_path")
#: Runs a function on KerasTensors in a scratch graph and returns its output specs.
compute_output_spec = _internal("keras.src.backend", "compute_output_spec")
#: The mask Keras attaches to a tensor (Embedding(mask_zero=True) and its consumers).
get_keras_mask = _internal("keras.src.backend", "get_keras_mask")
set_keras_mask = _internal("keras.src.backend", "set_keras_mask")

#: Attributes Keras keeps on every layer that may hold layers (tracking lists, graph nodes,
#: Sequential's private Functional twin): bookkeeping, not sublayers a user named.
KERAS_BOOKKEEPING = frozenset({"_layers", "_tracker", "_inbound_nodes", "_outbound_nodes", "_functional", "_operations"})


def all_layers(layer: Any, include_self: bool = True) -> list[Any]:
    """Every layer tracked under ``layer`` (Keras's own traversal: attributes, lists, dicts)."""
    return list(layer._flatten_layers(include_self=include_self))


def operations(model: Any) -> list[Any]:
    """The operations of a Functional model, layers and Keras ops, in graph order."""
    return list(model._operations)


def input_structure(model: Any) -> Any:
    """The nested structure of ``keras.Input`` tensors a Functional model was built on."""
    return model._inputs_struct


def keras_history(tensor: Any) -> tuple[Any, int, int] | None:
    """``(operation, node_index, tensor_index)`` of the call that made a KerasTensor, or None."""
    return getattr(tensor, "_keras_history", None)


def node_arguments(operation: Any, node_index: int) -> list[Any]:
    """The KerasTensors a recorded Keras node (one call of ``operation``) received."""
    return list(operation._inbound_nodes[node_index].arguments.keras_tensors)


def mark_dense(tensor: Any) -> None:
    """Say a KerasTensor is dense. Keras's ``multiply``/``divide`` specs call an operand that is
    not a KerasTensor (a constant) sparse, so ``x * 2.0`` looks sparse; a layer then fails to
    infer its output spec on it (a sparse placeholder), where Keras itself never asks."""
    tensor._sparse = False


def node_lists(operation: Any) -> tuple[list[Any], list[Any]]:
    """The lists in which Keras records every symbolic call of ``operation`` (inbound) and every
    call fed by it (outbound); a layer with two inbound nodes refuses ``.output``."""
    return operation._inbound_nodes, operation._outbound_nodes


# -- TensorFlow -------------------------------------------------------------------------------------

#: Eager context (op callbacks) and the execute module whose ``execute`` variant reaches them.
eager_context = _internal("tensorflow.python.eager.context", "context")
eager_execute = importlib.import_module("tensorflow.python.eager.execute")
_internal("tensorflow.python.eager.execute", "execute_with_callbacks")
#: TensorFlow's registry of op definitions (``OpDef``: inputs, outputs, attributes, statefulness).
get_op_def = _internal("tensorflow.python.framework.op_def_registry", "get")
#: Enum of TensorFlow's dtypes in op definitions (``DT_FLOAT``...).
DataType = _internal("tensorflow.core.framework.types_pb2", "DataType")
_func_graph_from_py_func = _internal("tensorflow.python.framework.func_graph", "func_graph_from_py_func")


#: Whether gradient tapes record on this thread, and turning that on or off (``tf.init_scope``
#: turns it off; ``record.stop_recording`` is the context TensorFlow has only for the other way).
_tapes_stopped = _internal("tensorflow.python.pywrap_tfe", "TFE_Py_TapeSetIsStopped")
_stop_tapes = _internal("tensorflow.python.pywrap_tfe", "TFE_Py_TapeSetStopOnThread")
_restart_tapes = _internal("tensorflow.python.pywrap_tfe", "TFE_Py_TapeSetRestartOnThread")


@contextlib.contextmanager
def eagerly() -> Iterator[None]:
    """Execute eagerly, also while a graph is being built: ``tf.init_scope`` lifts out of every
    graph, but also pauses gradient tapes, and a tape entered inside (the eager strategy's) must
    record, so they record again until the end."""
    with tf.init_scope():
        stopped = _tapes_stopped()
        _restart_tapes()
        try:
            yield
        finally:
            if stopped:
                _stop_tapes()


def trace_graph(name: str, fn: Any, signature: Any) -> Any:
    """Trace ``fn`` once into a TensorFlow ``FuncGraph`` on placeholders of ``signature`` (nested
    ``tf.TensorSpec``s), as ``tf.function`` does, and return the graph. ``tf.function`` traces
    a second time when the first pass creates variables, to lift them; a graph only read, never
    run, needs neither, so the model's ``call`` runs once."""
    return _func_graph_from_py_func(name, fn, args=(), kwargs={}, signature=signature)


#: The graphs of a ``tf.cond``'s branches and of a ``tf.while_loop``'s condition and body
#: (control flow v2).
CondBranchGraph = _internal("tensorflow.python.ops.control_flow_v2_func_graphs", "CondBranchFuncGraph")
_WhileCondGraph = _internal("tensorflow.python.ops.control_flow_v2_func_graphs", "WhileCondFuncGraph")
_WhileBodyGraph = _internal("tensorflow.python.ops.control_flow_v2_func_graphs", "WhileBodyFuncGraph")
_CONTROL_FLOW_GRAPHS = (CondBranchGraph, _WhileCondGraph, _WhileBodyGraph)


def _enclosing_graphs(graph: Any) -> Iterator[Any]:
    """``graph``, then each graph it is built inside (a branch's, the function's...), innermost first."""
    while graph is not None:
        yield graph
        graph = getattr(graph, "outer_graph", None)


def control_flow_graphs(graph: Any) -> list[Any]:
    """The ``tf.cond`` branch, loop condition and loop body graphs ``graph`` is or is inside,
    innermost first."""
    return [g for g in _enclosing_graphs(graph) if isinstance(g, _CONTROL_FLOW_GRAPHS)]


#: AutoGraph stages a loop's condition once (to choose between a Python and a TensorFlow loop)
#: and, when a loop variable is undefined before the loop, a trial iteration, each in a scratch
#: ``FuncGraph`` of this name that it then throws away (autograph/operators/control_flow.py).
_AUTOGRAPH_SCRATCH = "tmp"
_FuncGraph = _internal("tensorflow.python.framework.func_graph", "FuncGraph")
_default_graph = _internal("tensorflow.python.framework.ops", "get_default_graph")


def in_autograph_scratch_graph() -> bool:
    """Whether TensorFlow is building one of AutoGraph's thrown-away scratch graphs (or a graph
    inside one): what runs there is not part of the function being traced."""
    return any(type(g) is _FuncGraph and g.name == _AUTOGRAPH_SCRATCH for g in _enclosing_graphs(_default_graph()))


def function_graph(op: Any, attr: str) -> Any:
    """The FuncGraph of a function-valued attribute of ``op`` (an ``If``'s ``then_branch``):
    TensorFlow keeps it in the op's graph's function library, under the attribute's name."""
    return op.graph._get_function(op.get_attr(attr).name).graph


# -- attrs ------------------------------------------------------------------------------------------

_COUNTING_ATTR = type(attrs.field())


def is_attrs_field(value: Any) -> bool:
    """``attrs.field(...)`` written as a class attribute's default (attrs's own private type)."""
    return isinstance(value, (attrs.Attribute, _COUNTING_ATTR))



# -- Keras: what a built layer recorded of its first call (used by trace's input defaults) --------


def build_shapes(layer: Any) -> dict[str, Any] | None:
    """The input shapes Keras recorded when ``layer`` was built (``{"input_shape": (2, 5)}``,
    batch size included), or None; Keras saves and reloads them with the model."""
    return getattr(layer, "_build_shapes_dict", None)


# -- state a recording must leave as it found it ----------------------------------------------------

#: The class of Keras's call records; each new one appends itself to its operations' lists.
KerasNode = _internal("keras.src.ops.node", "Node")
_global_state = importlib.import_module("keras.src.backend.common.global_state")
_SEED_GENERATOR_KEY = _internal("keras.src.random.seed_generator", "GLOBAL_SEED_GENERATOR")


def remove_node(node: Any) -> None:
    """Take one Keras call record out of the lists of the layers it appended itself to
    (`KerasNode.__init__`). A Keras op made for one call (``x + y``) keeps its own record: it
    belongs to no model, and the tensors it made still point to it."""
    owners = [node.operation] if isinstance(node.operation, keras.layers.Layer) else []
    lists = [op._inbound_nodes for op in owners] + [
        t._keras_history.operation._outbound_nodes
        for t in node.arguments.keras_tensors
        if t._keras_history.operation is not None
    ]
    for records in lists:
        for index in range(len(records) - 1, -1, -1):
            if records[index] is node:
                del records[index]


@contextlib.contextmanager
def shapes_only() -> Iterator[None]:
    """Layers made and built inside are shapes only, and leave no trace: their variables are
    never allocated (Keras defers a variable's initializer under a ``StatelessScope``; the
    deferred ones are dropped on leaving) and Keras's automatic layer names go on as before."""
    pending = list(_global_state.get_global_attribute("uninitialized_variables") or [])
    names = copy.copy(_global_state.get_global_attribute("object_name_uids"))
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        _global_state.set_global_attribute("uninitialized_variables", pending)
        _global_state.set_global_attribute("object_name_uids", names)


def layer_losses(layer: Any) -> list[Any]:
    """The list in which a layer keeps the losses its last call added (``model.losses``)."""
    return layer._losses


def global_seed_generator() -> Any:
    """Keras's process-wide SeedGenerator of unseeded random ops, if one was made (no new one)."""
    return _global_state.get_global_attribute(_SEED_GENERATOR_KEY)


def tf_random_state() -> Any:
    """The state of TensorFlow's sequence of op seeds (set by ``tf.random.set_seed``)."""
    rng = getattr(eager_context(), "_rng", None)
    return rng.getstate() if rng is not None else None


def set_tf_random_state(state: Any) -> None:
    if state is not None:
        eager_context()._rng.setstate(state)


# -- building: Keras builds a layer on its first call; a trace that fails puts it back unbuilt -----

_is_default = _internal("keras.src.utils.python_utils", "is_default")
_get_shapes_dict = _internal("keras.src.layers.layer", "get_shapes_dict")
#: A layer's Keras call records: a trace takes back the ones it made (`_snapshot`), not all.
_NODE_LISTS = frozenset({"_inbound_nodes", "_outbound_nodes"})


def builds_by_running(layer: Any) -> bool:
    """Whether Keras builds ``layer`` by running its ``call`` on symbolic inputs before the call
    proper (`Layer._maybe_build`): a layer with no ``build`` of its own and unbuilt sublayers,
    such as a subclassed model."""
    return bool(_is_default(layer.build)) and any(not sub.built for sub in layer._layers)


def build_before_running(layer: Any, call_spec: Any) -> None:
    """What Keras's ``_maybe_build`` does for a layer it `builds_by_running`, less that run: the
    call about to run builds the sublayers instead. Its ``build`` records the shapes and marks
    it built; its tracker stays open, as during Keras's own first run, until `lock_state`."""
    first_shape = next(iter(_get_shapes_dict(call_spec).values()), None)
    layer.build(first_shape)  # Keras's wrapper: path, build shapes, built, post-build, lock
    layer._tracker.unlock()


def lock_state(layer: Any) -> None:
    """Close a layer's tracker after its build, as Keras does (`build_before_running`)."""
    layer._lock_state()


def replace_maybe_build(layer: Any, maybe_build: Any) -> None:
    """Have Keras call ``maybe_build(call_spec)`` where it builds ``layer`` on its first call (an
    instance attribute shadowing ``Layer._maybe_build``; `restore_maybe_build` removes it)."""
    vars(layer)["_maybe_build"] = maybe_build


def original_maybe_build(layer: Any) -> Any:
    return type(layer)._maybe_build.__get__(layer)


def restore_maybe_build(layer: Any) -> None:
    vars(layer).pop("_maybe_build", None)


def layer_state(layer: Any) -> tuple:
    """All that building ``layer`` may change: its attributes (``built``, the build shapes,
    ``input_spec``, weights, sublayers made in ``build``), the contents of its lists, dicts and
    sets (``_trainable_variables``, ``_layers``, ...) and of its tracker. Keras cannot un-build a
    layer; putting these back (`restore_layer_state`) does. Call records are left out: a trace
    removes the ones it made, and keeps other threads'."""
    attributes = dict(vars(layer))
    contents = {
        name: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else set(v))
        for name, v in attributes.items()
        if isinstance(v, (list, dict, set)) and name not in _NODE_LISTS
    }
    tracker = layer._tracker
    tracked = {name: set(ids) for name, ids in tracker.stored_ids.items()}
    return attributes, contents, tracked, tracker.locked, tracker._lock_violation_msg


def restore_layer_state(layer: Any, state: tuple) -> None:
    attributes, contents, tracked, locked, message = state
    current = vars(layer)  # written directly: Keras's `__setattr__` would track, `__delattr__` untrack
    for name in [n for n in current if n not in attributes and n not in _NODE_LISTS]:
        del current[name]
    current.update({n: v for n, v in attributes.items() if n not in _NODE_LISTS})
    for name, before in contents.items():
        value = current[name]
        # The base type's methods: Keras's tracked containers would track what goes back in.
        kind = list if isinstance(value, list) else dict if isinstance(value, dict) else set
        kind.clear(value)
        (list.extend if kind is list else kind.update)(value, before)
    tracker = layer._tracker
    for name, ids in tracked.items():
        tracker.stored_ids[name] = set(ids)
    tracker.locked, tracker._lock_violation_msg = locked, message
