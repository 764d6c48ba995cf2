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
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .._compat import (
    Functional,
    KerasNode,
    all_layers,
    global_seed_generator,
    layer_losses,
    operations,
    remove_node,
    set_tf_random_state,
    tf_random_state,
)

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
        for layer in self._layers:
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
