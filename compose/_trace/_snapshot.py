"""What running a model may change, saved before a trace or replay and put back after, even on error."""

from __future__ import annotations

from typing import Any

from .._compat import Functional, all_layers, node_lists, operations


class ModelSnapshot:
    """The model's Keras call records, and (once `save_variables` ran) its variables' values."""

    def __init__(self, model: Any) -> None:
        self.model = model
        found: dict[int, Any] = {id(layer): layer for layer in all_layers(model)}
        for layer in list(found.values()):
            if isinstance(layer, Functional):
                found.update((id(op), op) for op in operations(layer))
        # Symbolic calls append Keras nodes to every layer they touch; a layer with two inbound
        # nodes would then refuse `.output`, so the lists are cut back to their old length.
        self.nodes = [(lists, [len(x) for x in lists]) for lists in map(node_lists, found.values())]
        self.variables: list[tuple[Any, Any]] = []

    def save_variables(self) -> None:
        self.variables = [(v, v.numpy()) for v in self.model.variables]

    def restore_variables(self) -> None:
        for variable, value in self.variables:
            variable.assign(value)

    def restore_graph_state(self) -> None:
        for lists, lengths in self.nodes:
            for nodes, length in zip(lists, lengths):
                del nodes[length:]
