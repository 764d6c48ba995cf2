"""What recording or replaying a model may change, and how it is put back, even on error.

A trace must leave the model as it found it, and undo only what it did itself: another thread
may train a shared layer or build its own Functional model meanwhile.

- **Keras call records.** Calling layers on KerasTensors appends a `Node` to each layer's lists
  (a layer with two inbound nodes then refuses ``.output``). While a snapshot is open, the nodes
  this thread makes are logged, and `restore_graph_state` removes exactly those: nodes other
  threads made meanwhile stay.
- **Variables.** Runs of the model on values happen in Keras's stateless scope where they can
  (the eager strategy), which collects assignments instead of applying them; `save_variables`
  and `restore_variables` cover the rest (a model built by the run, a ``tf.Variable``): every
  variable of every layer, metrics and seed generators included, put back only where changed.
- **Randomness and losses.** Keras's global seed generator, TensorFlow's op-seed sequence and
  each layer's losses (``model.losses``) are put back too.
- **Builds.** A layer unbuilt before the trace is built by the first run that calls it, as
  calling the model builds it (`Builds`), without a run of its own; where no strategy finishes,
  every such layer is put back as it was: unbuilt, no weights, no build shapes.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from typing import Any, Iterator

import numpy as np
import tensorflow as tf

from .._compat import (
    Functional,
    KerasNode,
    all_layers,
    build_before_running,
    builds_by_running,
    global_seed_generator,
    layer_losses,
    layer_state,
    lock_state,
    operations,
    original_maybe_build,
    remove_node,
    replace_maybe_build,
    restore_layer_state,
    restore_maybe_build,
    set_tf_random_state,
    tf_random_state,
)
from ._recorder import unrecorded

_log = threading.local()  # the node lists of this thread's open snapshots, innermost last
_patch_lock = threading.Lock()
_open_logs = 0
_ORIGINAL_NODE_INIT = KerasNode.__init__


def _logging_node_init(node: Any, *args: Any, **kwargs: Any) -> None:
    _ORIGINAL_NODE_INIT(node, *args, **kwargs)
    for made in getattr(_log, "stack", ()):
        made.append(node)


def _start_log() -> list[Any]:
    global _open_logs
    made: list[Any] = []
    with _patch_lock:
        if _open_logs == 0:
            KerasNode.__init__ = _logging_node_init
        _open_logs += 1
    _log.stack = [*getattr(_log, "stack", ()), made]
    return made


def _stop_log(made: list[Any]) -> None:
    global _open_logs
    stack = getattr(_log, "stack", [])
    if not any(entry is made for entry in stack):
        return  # stopped already
    _log.stack = [entry for entry in stack if entry is not made]
    with _patch_lock:
        _open_logs -= 1
        if _open_logs == 0:
            KerasNode.__init__ = _ORIGINAL_NODE_INIT


def _layers(model: Any) -> list[Any]:
    found: dict[int, Any] = {id(layer): layer for layer in all_layers(model)}
    for layer in list(found.values()):
        if isinstance(layer, Functional):
            found.update((id(op), op) for op in operations(layer) if hasattr(op, "variables"))
    return list(found.values())


class ModelSnapshot:
    """Opened on a model: logs the Keras nodes this thread makes until `restore_graph_state`
    (take them back) or `keep_graph_state` (a Functional twin keeps them)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._made = _start_log()
        layers = _layers(model)
        self._losses = [(lst, list(lst)) for lst in map(layer_losses, layers)]
        self._layers = layers
        self._variables: list[tuple[Any, np.ndarray]] = []
        self._random = tf_random_state()

    def save_variables(self) -> None:
        """Remember every variable's value: weights, metrics, seed generators, the global one."""
        variables: dict[int, Any] = {}
        for layer in _layers(self.model):  # anew: a build may have made layers (MultiHeadAttention's)
            for variable in [*layer.variables, *getattr(layer, "metrics_variables", ())]:
                variables.setdefault(id(variable), variable)
        generator = global_seed_generator()
        if generator is not None:
            variables.setdefault(id(generator.state), generator.state)
        self._variables = [(v, np.array(v.numpy())) for v in variables.values()]

    def restore_variables(self) -> None:
        """Put back what changed since `save_variables`, and the random streams and losses."""
        for variable, value in self._variables:
            if not np.array_equal(variable.numpy(), value):
                variable.assign(value)
        self._variables = []
        set_tf_random_state(self._random)
        for lst, before in self._losses:
            lst[:] = before

    def restore_graph_state(self) -> None:
        """Remove the Keras nodes this snapshot logged, and stop logging."""
        _stop_log(self._made)
        for node in reversed(self._made):
            remove_node(node)
        self._made.clear()

    def keep_graph_state(self) -> None:
        """Stop logging and keep the nodes made (a Functional model built on them needs them)."""
        _stop_log(self._made)


@contextlib.contextmanager
def _logging_to(made: list[Any]) -> Iterator[None]:
    """The Keras nodes this thread makes inside go to ``made`` only, not to the open snapshots."""
    stack = getattr(_log, "stack", [])
    _log.stack = [made]
    try:
        yield
    finally:
        _log.stack = stack


class Builds:
    """The layers of a model that were unbuilt when a recording began, built there as calling the
    model would build them, and put back unbuilt (`undo`) where no strategy finished.

    Keras builds a layer on its first call (``Layer._maybe_build``). While a `Builds` is open,
    that first call, made by whichever strategy reaches the layer first, builds it as Keras does,
    but unrecorded (a ``Sequential`` makes its Functional twin, a Block runs its ``call`` on
    specs), and the Keras nodes it makes are kept on success. A layer Keras would build by first
    running its ``call`` on symbolic inputs (a subclassed model or container) is built without
    that run: the strategy's run of its ``call`` builds its sublayers, as Keras's run would have,
    so an unbuilt model costs no extra run of ``call``.
    """

    def __init__(self, model: Any) -> None:
        self._unbuilt = [layer for layer in _layers(model) if not getattr(layer, "built", True)]
        self._states = [(layer, layer_state(layer)) for layer in self._unbuilt]
        self._nodes: list[Any] = []  # made by builds (a Sequential's twin): kept, unless undone
        self._opened: list[Any] = []  # built before their first run, their trackers still open
        self._thread = threading.get_ident()
        for layer in self._unbuilt:
            replace_maybe_build(layer, self._maybe_build_of(layer))

    @property
    def pending(self) -> bool:
        """Whether a layer unbuilt at the start still is (a run may then create weights)."""
        return any(not layer.built for layer in self._unbuilt)

    def _maybe_build_of(self, layer: Any) -> Any:
        original = original_maybe_build(layer)

        def maybe_build(call_spec: Any) -> None:
            if layer.built or threading.get_ident() != self._thread:
                return original(call_spec)  # another thread's call: Keras's own way
            # Weights a build makes while a graph is being traced are made outside it, as
            # `tf.init_scope` makes them: made inside, they would belong to the graph, and a
            # graph trace that fails would leave them never initialized.
            lifted = tf.init_scope() if tf.inside_function() else contextlib.nullcontext()
            with unrecorded(), _logging_to(self._nodes), lifted, warnings.catch_warnings():
                # Keras warns that a layer built before its sublayers "looks like it has
                # unbuilt state"; the run that follows builds them.
                warnings.simplefilter("ignore")
                if builds_by_running(layer):
                    build_before_running(layer, call_spec)
                    self._opened.append(layer)
                else:
                    original(call_spec)

        return maybe_build

    def close(self, finished: bool) -> None:
        """Stop intervening; keep the builds when a strategy ``finished``, else `undo` them."""
        for layer in self._unbuilt:
            restore_maybe_build(layer)
        if not finished:
            self.undo()
            return
        for layer in self._opened:
            lock_state(layer)

    def undo(self) -> None:
        """Every layer unbuilt at the start as it was then, and the nodes its build made gone."""
        for node in reversed(self._nodes):
            remove_node(node)
        for layer, state in reversed(self._states):
            restore_layer_state(layer, state)
