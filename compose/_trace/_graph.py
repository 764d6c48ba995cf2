"""The graph strategy: trace ``call`` once into a TensorFlow graph, with AutoGraph.

User containers run their ``call`` converted by AutoGraph, so a Python ``if``/``while`` on a
tensor becomes ``tf.cond``/``tf.while_loop`` and both branches' layer calls are recorded. Edges
are found by walking the TensorFlow graph back from each layer's inputs to the recorded layer
outputs: the ops met on the way become op nodes (named by what they do); identity plumbing,
variable reads and constants are looked through or dropped. Tensors inside a branch or loop body
are followed out through the function's captures, and a loop's variables lead to its ``while``
node. Every edge is exact. Nothing runs: the graph is only built, so no weight can change.

A container whose ``call`` fails in the graph (``.numpy()``) is run alone eagerly, a region (see
`_regions`), and the trace goes on past it on placeholders bound to the region's nodes.
"""

from __future__ import annotations

import contextlib
import types
import weakref
from typing import Any, Iterator

import tensorflow as tf
from keras import tree

from .._blocks import TensorSpec
from .._compat import control_flow_graphs, in_autograph_scratch_graph, trace_graph
from ._eager import EagerRecorder
from ._hierarchy import shipped_by_keras
from ._inputs import as_tf_specs
from ._locate import register_converted
from ._ops import BRANCHES, LOOPS, UNIQUIFIED, Role, op_name, role
from ._regions import Regions
from ._result import Call


#: AutoGraph's conversion of each user `call` function, made once per function and held weakly
#: (a class that goes away takes it along; a `call` replaced on the class is converted anew).
_CONVERTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class GraphRecorder(Regions):
    strategy = "graph"
    regions_by = (EagerRecorder,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.func_graphs: dict[str, Any] = {}
        self._op_nodes: dict[int, str] = {}

    def run(self, model: Any, specs: tuple, kwargs: dict) -> Any:
        signature = as_tf_specs(specs)
        outputs: list[Any] = []

        def traced(*args: Any) -> Any:
            self.add_inputs(args)
            result = model(*args, **kwargs)
            self.add_outputs(result)
            outputs.append(result)
            return tree.flatten(result)

        with self.active():
            trace_graph(f"{model.name}_trace", traced, list(signature))
        return outputs[0]

    def stand_in(self, spec: TensorSpec) -> Any:
        # A placeholder in the graph being traced (a branch's or loop body's, where the region
        # ran): an input of nothing, never fed, as the graph is never run.
        return tf.compat.v1.placeholder(spec.dtype, spec.shape)

    def on_call(self, layer: Any, args: tuple, kwargs: dict) -> Any:
        if not in_autograph_scratch_graph():
            return super().on_call(layer, args, kwargs)
        # AutoGraph trying a loop's condition or body out, in a graph it throws away: the call
        # runs as any other (containers converted), then is forgotten; the model's computation
        # is the loop AutoGraph builds next, whose calls are recorded.
        mark = self.mark()
        try:
            return super().on_call(layer, args, kwargs)
        finally:
            failure = self.failure
            self.rollback(mark)
            self.failure = failure

    @contextlib.contextmanager
    def expanding(self, layer: Any) -> Iterator[None]:
        converted = self._autograph(layer)
        if converted is not None:
            # An instance attribute shadows the class's `call` for this trace only; removed below.
            object.__setattr__(layer, "call", converted)
        try:
            with super().expanding(layer):
                yield
        finally:
            if converted is not None:
                object.__delattr__(layer, "call")

    def _autograph(self, layer: Any) -> Any:
        cls = type(layer)
        if shipped_by_keras(cls) or "call" in vars(layer):
            return None  # Keras's own containers need no conversion; a user's own shadow stays
        if cls.call not in _CONVERTED:
            try:
                converted = tf.autograph.to_graph(cls.call)
                register_converted(converted)
            except Exception:  # noqa: BLE001 - AutoGraph reads the source; see below
                # No source to read (a class typed at a REPL or in a doctest): the call runs as
                # written. It still traces; only Python `if`/`while` on tensors would then fail,
                # and that failure is reported like any other.
                converted = None
            _CONVERTED[cls.call] = converted
        converted = _CONVERTED[cls.call]
        return types.MethodType(converted, layer) if converted is not None else None

    def produce(self, node: str, tensor: Any) -> None:
        # A layer's outputs live in the graph it ran in: a branch or loop body is found here
        # (its inputs may still be outer tensors, captured only by the ops inside the layer).
        super().produce(node, tensor)
        graph = getattr(tensor, "graph", None)
        while graph is not None and hasattr(graph, "outer_graph"):
            self.func_graphs.setdefault(graph.name, graph)
            graph = graph.outer_graph

    def sources(self, tensor: Any) -> list[tuple[str, bool]]:
        node = self.producers.get(id(tensor))
        if node is not None:
            return [(node, True)]
        if not isinstance(tensor, tf.Tensor) or not hasattr(tensor, "op"):
            return []
        op = tensor.op
        kind = role(op.type)
        if kind is Role.PLUMBING:
            index = tensor.value_index if op.type == "IdentityN" else 0
            return self.sources(op.inputs[index]) if len(op.inputs) > index else []
        if kind is Role.CAPTURE:
            return self._from_outside(tensor)
        if kind in (Role.NO_SOURCE, Role.VARIABLE):
            return []
        if id(op) in self._op_nodes:
            return [(self._op_nodes[id(op)], True)]
        if kind is Role.CONTROL:
            # A loop's body leads back to the loop: name the node before following its inputs.
            node = self._op_node(op)
            found = [s for t in [*op.inputs, *self._inner_outputs(op)] for s in self.sources(t)]
        else:
            group = self._api_call(op)
            found = [s for t in op.inputs for s in self._sources_outside(t, group)]
            if not found:
                return []  # computed from constants and weights only
            node = self._op_node(op, group)
        for source, exact in dict.fromkeys(found):
            self.graph.add_edge(source, node, exact=exact, spec=None)
        return [(node, True)]

    def _op_node(self, op: Any, group: str | None = None) -> str:
        outputs = list(op.outputs)
        call = Call(tuple(op.inputs), {}, outputs, operation=op)
        # A TensorFlow function made of several ops (`tf.nn.gelu`: neg, multiply, erfc, ...) is
        # one node named after it, as a user wrote it.
        node = self.add_op(op_name(op.type, group), [], outputs, call)
        self._op_nodes[id(op)] = node
        return node

    def _api_call(self, op: Any) -> str | None:
        """The name scope of the TensorFlow function that made ``op`` (``big/res_0/Gelu`` for an
        op of `tf.nn.gelu` called in block ``res_0``), or None when the op stands alone.

        TensorFlow names an op ``<scopes>/<op>``: one scope per Keras layer call it ran in (the
        model's, then each container's on the recorder's stack, uniquified as ``res_0_1``), then
        the scopes of the TF functions that made it. An op inside a ``tf.cond``'s branch or a
        loop has that op's scope too (``big/while/add``), one per enclosing branch or loop: it
        is passed over, so the op is an ``add``, not part of a ``while`` function. The layer
        scopes must match the stack exactly; when they do not (a scope of the user's own, an
        unusual call), no group is assumed and every op stays a node of its own."""
        parts = op.name.split("/")[:-1]
        layers = self.scope_names()
        inside = len(layers) + len(control_flow_graphs(op.graph))
        if len(parts) <= inside:
            return None
        for part, name in zip(parts, layers):
            if part != name and not (part.startswith(name) and UNIQUIFIED.fullmatch(part[len(name):])):
                return None
        return "/".join(parts[: inside + 1])

    def _sources_outside(self, tensor: Any, group: str | None) -> list[tuple[str, bool]]:
        """Where ``tensor`` comes from, looking through the ops of the same TF function call."""
        op = getattr(tensor, "op", None)
        inside = (
            group is not None
            and op is not None
            and id(tensor) not in self.producers
            and op.name.startswith(group + "/")
            and role(op.type) not in (Role.CONTROL, Role.CAPTURE)
        )
        if not inside:
            return self.sources(tensor)
        return [s for t in op.inputs for s in self._sources_outside(t, group)]

    def _from_outside(self, tensor: Any) -> list[tuple[str, bool]]:
        """A placeholder inside a branch or a loop's condition or body: the outer tensor it
        captures, or the loop that feeds it."""
        graph = tensor.graph
        for external, internal in getattr(graph, "captures", ()):
            if internal is tensor:
                return self.sources(external)
        if not any(tensor is t for t in getattr(graph, "inputs", ())):
            return []  # a placeholder fed by nothing: an eager region's output unbound
        loop = self._loop_of(graph)
        return self.sources(loop.outputs[0]) if loop is not None else []

    def _loop_of(self, graph: Any) -> Any:
        outer = getattr(graph, "outer_graph", None)
        for op in outer.get_operations() if outer is not None else ():
            if op.type in LOOPS and any(op.get_attr(attr).name == graph.name for attr in BRANCHES[op.type]):
                return op
        return None

    def _inner_outputs(self, op: Any) -> list[Any]:
        inner = []
        for attr in BRANCHES.get(op.type, ()):
            graph = self.func_graphs.get(op.get_attr(attr).name)
            inner += list(graph.outputs) if graph is not None else []
        return inner
