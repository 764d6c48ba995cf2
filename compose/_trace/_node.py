"""The one schema of a `Trace.graph` node (and of a container call): a typed record.

networkx stays the public graph, so users keep reading plain attribute dicts; every such dict is
made here, from a `Node`, so every node has every attribute with one meaning.
"""

from __future__ import annotations

from typing import Any

import attrs

#: Values of the ``kind`` attribute.
KINDS = ("input", "output", "layer", "op", "unreached")


@attrs.define
class Node:
    """The attributes of one node; see `Trace` for what each means to users.

    Attributes:
        kind: one of `KINDS`.
        path: the layer's path; the node id for ops; the id without ``@`` for inputs/outputs.
        class_name: the layer's class, the op's name, or ``"Input"``/``"Output"``.
        layer: the Keras layer, or None.
        parent: path of the enclosing expanded container, or None at the model's top level.
        scope: id of the enclosing container *call*, or None.
        input_specs, output_specs: a `TensorSpec` (or None, untyped) per flattened tensor.
        params: the layer's own weights (0 for non-layers and containers).
        strategy: the strategy that recorded it.
        call: the recorded `Call`, or None (inputs, outputs, unreached layers).
    """

    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    path: str
    class_name: str
    layer: Any = None
    parent: str | None = None
    scope: str | None = None
    input_specs: list = attrs.Factory(list)
    output_specs: list = attrs.Factory(list)
    params: int = 0
    strategy: str = ""
    call: Any = None

    def attributes(self) -> dict[str, Any]:
        """The node as networkx keeps it: a fresh dict of every attribute."""
        return attrs.asdict(self, recurse=False)
