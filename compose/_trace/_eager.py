"""The eager strategy: run the model on concrete inputs and record the calls as they happen.

It goes where graphs cannot: ``.numpy()``, Python decisions on tensor values, recursion driven by
data. Every TensorFlow op executed outside the leaf layers is seen through TensorFlow's own op
callbacks (thread-local, called for the C fast path, its fallback and ``tf.function`` calls
alike), with its input and output tensors. Edges are then found as the graph strategy finds
them, by walking back from each consumed tensor through the executed ops to recorded outputs:
the ops met become op nodes, plumbing is looked through, and what comes from constants, weights
or Python values (a ``.numpy()`` result turned back into a tensor) has no source. Every such
edge is exact.

A tensor that no recorded call or executed op produced (one a leaf layer computed inside its
``call`` and left on itself) may still depend on recorded ones: a gradient tape tells which,
and an edge is inferred (``exact=False``) from each of those that does not already reach it
through another recorded node. Integer-only paths leave no gradient, so no edge is claimed for
them. Variables are restored afterwards: running may update them (batch statistics, seed
generators).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import attrs
import keras
import networkx as nx
import tensorflow as tf

from .._blocks import TensorSpec
from .._compat import eager_context, eager_execute
from ._inputs import as_arrays, has_unknown_dims
from ._ops import Role, op_name, role
from ._recorder import Recorder, spec_of
from ._result import Call

#: What the unknown dims of shape-only inputs become in the first run, and in the second.
_FIRST_SIZE, _SECOND_SIZE = 2, 3


@attrs.frozen(eq=False)
class EagerOp:
    """A TensorFlow op that ran eagerly: what `Call.operation` holds for an eager op node (an
    eager op has no ``tf.Operation``).

    Attributes:
        type: the op type, e.g. ``"MatMul"``, or the function's name for a ``tf.function`` call.
        attrs: the op's attributes by name (``{"transpose_a": False, ...}``).
    """

    type: str
    attrs: dict


@attrs.frozen(eq=False)
class _Executed:
    op: EagerOp
    inputs: tuple
    outputs: tuple


class EagerRecorder(Recorder):
    strategy = "eager"
    # It runs the model on values, but in Keras's stateless scope (see `run`): no variable of a
    # built model changes, so none is saved and put back, and another thread training the model
    # meanwhile keeps its updates.
    runs_model = False

    def __init__(self, *args: Any, unknown_size: int = _FIRST_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unknown_size = unknown_size  # what an unknown dim of a shape-only input becomes
        self.tape = tf.GradientTape(persistent=True, watch_accessed_variables=False)
        self._watched: list[tuple[str, Any]] = []
        self._executed: dict[int, tuple[_Executed, int]] = {}  # id(output) -> (op, output index)
        self._op_nodes: dict[int, str] = {}

    def refine(self, session: Any) -> None:
        """Inputs made up from shapes ran with their unknown dims as 2: a second run with 3
        tells which recorded dims follow that made-up size (see `open_unknown_dims`)."""
        if self.unknown_size == _FIRST_SIZE and has_unknown_dims(session.inputs):
            again, _ = session.run(type(self), unknown_size=_SECOND_SIZE)
            open_unknown_dims(self, again)

    def produce(self, node: str, tensor: Any) -> None:
        super().produce(node, tensor)
        if isinstance(tensor, tf.Tensor) and tensor.dtype.is_floating:
            self.tape.watch(tensor)
            self._watched.append((node, tensor))

    def run(self, model: Any, specs: tuple, kwargs: dict) -> Any:
        args = as_arrays(specs, self.unknown_size)
        args = tf.nest.map_structure(tf.convert_to_tensor, args)
        # In Keras's stateless scope, variable updates (batch statistics, metrics, seed
        # generators) are collected, not applied: the model, and any thread training it
        # meanwhile, never see them. A layer still to build cannot create its weights there
        # (the session then saves and restores the variables instead).
        building = not model.built or (self.session is not None and self.session.builds.pending)
        stateless = contextlib.nullcontext() if building else keras.StatelessScope()
        with self.tape, stateless:
            self.add_inputs(args)
            with self.active():
                outputs = model(*args, **kwargs)
        self.add_outputs(outputs)
        return outputs

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        context = eager_context()
        execute = eager_execute.execute
        context.add_op_callback(self._on_op)
        # Ops leaving the C fast path (fallbacks, function calls) reach callbacks only through
        # this variant, which TensorFlow's own `add_op_callback` installs and never removes.
        eager_execute.execute = eager_execute.execute_with_callbacks
        try:
            with super().active():
                yield
        finally:
            eager_execute.execute = execute
            context.remove_op_callback(self._on_op)

    def _on_op(self, op_type: Any, inputs: Any, attrs_: Any, outputs: Any, op_name: Any = None, graph: Any = None) -> None:
        # An op built into a graph (a tf.function tracing on the way) did not run; ops inside a
        # leaf layer are that layer's own business.
        if graph is not None or self._in_leaf or not outputs:
            return
        op_type = op_type.decode() if isinstance(op_type, bytes) else op_type
        attributes = dict(zip(attrs_[::2], attrs_[1::2])) if attrs_ else {}
        executed = _Executed(EagerOp(op_type, attributes), tuple(inputs), tuple(outputs))
        for index, tensor in enumerate(outputs):
            self._executed[id(tensor)] = (executed, index)

    def sources(self, tensor: Any) -> list[tuple[str, bool]]:
        node = self.producers.get(id(tensor))
        if node is not None:
            return [(node, True)]
        found = self._executed.get(id(tensor))
        if found is None:
            return self._inferred(tensor)
        executed, index = found
        kind = role(executed.op.type)
        if kind is Role.PLUMBING:
            index = index if executed.op.type == "IdentityN" else 0
            return self.sources(executed.inputs[index]) if len(executed.inputs) > index else []
        if kind in (Role.NO_SOURCE, Role.VARIABLE, Role.CAPTURE):
            return []
        node = self._op_nodes.get(id(executed))
        if node is None:
            edges: dict[tuple[str, bool], Any] = {}  # each source once, with the tensor it gave
            for tensor in executed.inputs:
                for source in self.sources(tensor):
                    edges.setdefault(source, tensor)
            if not edges:
                return []  # computed from constants, weights and Python values only
            node = self._op_nodes[id(executed)] = self._op_node(executed)
            for (source, exact), tensor in edges.items():
                self.graph.add_edge(source, node, exact=exact, spec=spec_of(tensor))
        return [(node, True)]

    def _op_node(self, executed: _Executed) -> str:
        outputs = list(executed.outputs)
        return self.add_op(op_name(executed.op.type), [], outputs, Call(executed.inputs, {}, outputs, operation=executed.op))

    def _inferred(self, tensor: Any) -> list[tuple[str, bool]]:
        if not isinstance(tensor, tf.Tensor) or not tensor.dtype.is_floating or not self._watched:
            return []
        candidates = [t for _, t in self._watched]
        gradients = self.tape.gradient(tensor, candidates, unconnected_gradients=tf.UnconnectedGradients.NONE)
        depends = list(dict.fromkeys(n for (n, _), g in zip(self._watched, gradients) if g is not None))
        # Keep only the nearest: a node that reaches another dependency through recorded edges
        # feeds the tensor through that one, as far as this strategy can tell.
        direct = [n for n in depends if not any(n in nx.ancestors(self.graph, m) for m in depends if m != n)]
        return [(n, False) for n in direct]


def open_unknown_dims(first: EagerRecorder, second: EagerRecorder) -> None:
    """Set to None, in ``first``'s specs, every dim that differs in ``second``, a run on another
    size for the inputs' unknown dims: such a dim follows the made-up size, not the model (Keras
    shows it as None). Runs that recorded different calls or edges took a data-dependent path,
    so nothing can be said from them and ``first`` keeps its concrete sizes."""
    one, two = first.graph, second.graph
    containers, others = one.graph["containers"], two.graph["containers"]
    if list(one) != list(two) or list(containers) != list(others):
        return
    if set(one.edges(keys=True)) != set(two.edges(keys=True)):
        return
    for node, data in [*one.nodes(data=True), *containers.items()]:
        other = others[node] if node in containers else two.nodes[node]
        for key in ("input_specs", "output_specs"):
            mine, theirs = data.get(key), other.get(key)  # a container that failed has no outputs
            if mine is not None and theirs is not None and len(mine) == len(theirs):
                data[key] = [opened(a, b) for a, b in zip(mine, theirs)]
    for source, dest, key, data in one.edges(keys=True, data=True):
        data["spec"] = opened(data["spec"], two.edges[source, dest, key]["spec"])


def opened(spec: TensorSpec | None, other: TensorSpec | None) -> TensorSpec | None:
    """``spec`` with None where ``other``, of a run on another made-up size, differs."""
    if spec is None or other is None or len(spec.shape) != len(other.shape):
        return spec  # a rank that changed with the size is data-dependent: keep what ran first
    return TensorSpec(tuple(d if d == e else None for d, e in zip(spec.shape, other.shape)), spec.dtype)
