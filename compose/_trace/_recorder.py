"""Records layer calls into a networkx graph while a model runs, whatever the strategy.

The recorder patches ``Layer.__call__`` (every layer call passes through it) and the two
``symbolic_call`` methods (so containers run their own ``call`` on KerasTensors and Keras ops
are seen as they happen). The patches are class attributes, installed only while a trace holds
the module lock and removed in a ``finally``; another thread calling layers meanwhile goes
straight to the original methods because the active recorder is thread-local.

A strategy supplies `Recorder.sources`: how a tensor consumed by a layer is traced back to the
recorded nodes that produced it (Keras history, a TensorFlow graph walk, or eager inference).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import attrs
import keras
import networkx as nx
import numpy as np
import tensorflow as tf
from keras import Operation, tree
from keras.layers import Layer

from .._blocks import TensorSpec
from .._compat import get_keras_mask, mark_dense, set_keras_mask
from ._hierarchy import LayerTree, count_params
from ._ops import is_identity_keras_op, keras_op_name
from ._node import Node
from ._result import Call

#: One recording at a time: the patches are class attributes, shared by every thread.
LOCK = threading.RLock()
_active = threading.local()
_ORIGINAL_CALL = Layer.__call__
_ORIGINAL_LAYER_SYMBOLIC = Layer.symbolic_call
_NOTHING = object()  # no value recorded (``None`` is a value a call returns)
_ORIGINAL_OP_SYMBOLIC = Operation.symbolic_call


@contextlib.contextmanager
def unrecorded() -> Iterator[None]:
    """Layer calls and ops made inside are not recorded (Keras building a layer on its first
    call: `_snapshot.Builds`), as inside a leaf."""
    recorder = getattr(_active, "recorder", None)
    if recorder is None:
        yield
        return
    recorder._in_leaf += 1
    try:
        yield
    finally:
        recorder._in_leaf -= 1


def tensors(structure: Any) -> list[Any]:
    """The tensors (concrete, graph or symbolic) in a nested structure, in flatten order."""
    return [x for x in tree.flatten(structure) if _is_tensor(x)]


#: Arguments that are never tensors, answered before `keras.ops.is_tensor`, whose protocol check
#: is most of the cost of a call's bookkeeping when ``call`` passes many Python numbers.
_NEVER_TENSORS = (type(None), bool, int, float, str, bytes, np.ndarray, np.generic)


def _is_tensor(value: Any) -> bool:
    if isinstance(value, _NEVER_TENSORS):
        return False
    return isinstance(value, keras.KerasTensor) or keras.ops.is_tensor(value)


def _fresh_passthrough(outputs: Any, inputs: list[Any]) -> Any:
    """Outputs with every input handed back unchanged replaced by a fresh identity of it.

    A layer may return the very tensor it was given (Dropout at inference, Identity). Edges are
    found by tensor identity, so that tensor would then seem to come from this layer everywhere,
    also into layers that took it before: false edges. An identity op (plumbing, never a node,
    same values) gives this layer's output an identity of its own. Symbolic calls need none:
    Keras makes a new KerasTensor for every call.
    """
    given = {id(t) for t in inputs if isinstance(t, tf.Tensor)}
    if not given:
        return outputs

    def fresh(value: Any) -> Any:
        if id(value) not in given:
            return value
        copy = tf.identity(value)
        mask = get_keras_mask(value)
        if mask is not None:
            set_keras_mask(copy, mask)
        return copy

    return tree.map_structure(fresh, outputs)


def spec_of(tensor: Any) -> TensorSpec | None:
    try:
        return TensorSpec.of(tensor)
    except (TypeError, ValueError):
        return None  # a tensor of unknown rank or an exotic dtype: drawn without a spec


@attrs.frozen
class Mark:
    """How long each record of a `Recorder` was, and its counts then (see `Recorder.mark`)."""

    nodes: int
    containers: int
    pending: int
    producers: int
    alive: int
    calls: dict
    names: dict


@attrs.frozen
class Seed:
    """The state a region's recording continues from (see `Recorder.seed`)."""

    stack: tuple
    containers: dict
    calls: dict
    names: dict
    seq: int


@attrs.define
class Failure:
    """Where an exception first crossed a recorded call: the innermost call's path, or None."""

    error: BaseException
    path: str | None


class Recorder:
    """The graph being recorded by one strategy run.

    A strategy is a subclass: it says how it runs the model (`run`), how a consumed tensor leads
    back to recorded nodes (`sources`), what it improves afterwards (`refine`), and declares what
    else differs in the class attributes below; the tracer asks nothing else of it.
    """

    #: The strategy's name, on every node it records and in `Trace.strategies`.
    strategy = "plain"
    #: It runs the model on values, so variables may change: they are saved before and restored.
    runs_model = False
    #: Its failure is a problem of the trace. A strategy that stops at anything beyond its reach
    #: (the symbolic one, at any TensorFlow op) leaves the explanation to the next one.
    failures_are_problems = True
    #: Keras operations applied to KerasTensors (operators, ``keras.ops``) become op nodes.
    records_keras_ops = False

    def __init__(self, tree_: LayerTree, session: Any = None) -> None:
        self.tree = tree_
        self.session = session  # the `_tracing.Session` running it, when there is one
        self._seed: Seed | None = None  # the state of the recording a region continues
        self.regions: list[Any] = []  # `StrategyRun`s of the containers traced another way
        self.notes: list[Any] = []  # `Problem`s that made a region fall back to the eager run
        self.graph = nx.MultiDiGraph()
        self.graph.graph["containers"] = {}
        self.producers: dict[int, str] = {}
        self._alive: list[Any] = []  # keeps recorded tensors alive so their ids stay unique
        self.calls: dict[str, int] = {}
        self._names: dict[str, int] = {}
        self.stack: list[str] = []  # ids of the container calls being run, outermost first
        self.failure: Failure | None = None
        self._in_leaf = 0
        self.expanded: list[Layer] = []  # containers whose `call` is running, outermost first
        self.returned: dict[int, Any] = {}  # what a container's `call` returned on KerasTensors
        # Edges are resolved after the run (a while loop's op exists only once its body is
        # traced); each pending entry keeps the scope it was recorded in and its place in order.
        self.pending: list[tuple[str | None, list[Any], tuple[str, ...], int, bool]] = []
        self.order: dict[str, tuple] = {}
        self._seq = 0
        self._resolving: int | None = None

    # -- regions: a container recorded by another strategy, inside this recording ---------------

    def mark(self) -> Mark:
        """Where the recording stands, to go back to with `rollback`."""
        return Mark(
            len(self.graph), len(self.graph.graph["containers"]), len(self.pending),
            len(self.producers), len(self._alive), dict(self.calls), dict(self._names),
        )

    def rollback(self, mark: Mark) -> None:
        """Forget what was recorded since ``mark``: a container that failed, to record again.
        Every record only grows (nodes, producers, pending edges), so the new entries are last."""
        for node in list(self.graph)[mark.nodes:]:
            self.graph.remove_node(node)
            del self.order[node]
        containers = self.graph.graph["containers"]
        for key in list(containers)[mark.containers:]:
            del containers[key]
        for key in list(self.producers)[mark.producers:]:
            del self.producers[key]
        del self.pending[mark.pending:], self._alive[mark.alive:]
        self.calls, self._names, self.failure = dict(mark.calls), dict(mark.names), None

    def seed(self) -> Seed:
        """What a region recording starts from: the container calls around it, the call counts
        and node names so far (so its ids continue this recording's), the order reached."""
        return Seed(tuple(self.stack), dict(self.graph.graph["containers"]), dict(self.calls), dict(self._names), self._seq)

    def continue_from(self, seed: Seed) -> None:
        self._seed = seed
        self.stack = list(seed.stack)
        self.graph.graph["containers"] = dict(seed.containers)
        self.calls, self._names, self._seq = dict(seed.calls), dict(seed.names), seed.seq

    def scope_names(self) -> list[str]:
        """The Keras names of the layer calls whose name scopes TensorFlow ops are made in: the
        model's and each container's being run, or in a region only those inside it."""
        containers = self.graph.graph["containers"]
        if self._seed is None:
            return [self.tree.model.name, *(containers[c]["layer"].name for c in self.stack)]
        return [containers[c]["layer"].name for c in self.stack[len(self._seed.stack):]]

    # -- what strategies provide -------------------------------------------------------------

    def sources(self, tensor: Any) -> list[tuple[str, bool]]:
        """Node ids the tensor comes from, each with whether that edge is exact."""
        source = self.producers.get(id(tensor))
        return [(source, True)] if source is not None else []

    def run(self, model: Layer, args: tuple, kwargs: dict) -> Any:
        with self.active():
            return model(*args, **kwargs)

    def refine(self, session: Any) -> None:
        """After the run and `finish`: improve what was recorded (a `_tracing.Session` can run
        the model again). Nothing by default."""

    # -- bookkeeping ----------------------------------------------------------------------------

    def produce(self, node: str, tensor: Any) -> None:
        self.producers[id(tensor)] = node
        self._alive.append(tensor)

    def fresh_id(self, base: str) -> str:
        count = self._names.get(base, 0)
        self._names[base] = count + 1
        return base if count == 0 else f"{base}#{count}"

    @property
    def scope(self) -> str | None:
        return self.stack[-1] if self.stack else None

    def scope_path(self) -> str | None:
        if not self.stack:
            return None
        return self.graph.graph["containers"][self.stack[-1]]["path"] or None

    def node(self, kind: str, path: str, class_name: str, **fields: Any) -> Node:
        """A `Node` recorded here: in the container call being run, by this strategy."""
        fields.setdefault("scope", self.scope)
        fields.setdefault("parent", self.scope_path())
        return Node(kind, path, class_name, strategy=self.strategy, **fields)

    def add_node(self, node_id: str, node: Node) -> None:
        self.graph.add_node(node_id, **node.attributes())
        if self._resolving is None:
            self._seq += 1
            self.order[node_id] = (self._seq, 0)
        else:  # an op found while resolving: it goes just before the call that consumed it
            self.order[node_id] = (self._resolving, -1, len(self.order))

    def connect(self, node: str | None, inputs: list[Any], exact: bool = True) -> None:
        """Edges into ``node`` from wherever each input tensor came from, resolved in
        `finish`; ``node=None`` only resolves (a container's outputs, so ops at its end get
        the container as their scope). ``exact=False``: the edges are inferred, whatever the
        sources (a region inferred that ``node`` depends on the input)."""
        seq = self.order[node][0] if node is not None else self._seq + 0.5
        self.pending.append((node, inputs, tuple(self.stack), seq, exact))

    def finish(self) -> None:
        """Resolve every pending edge, then put the nodes in call order."""
        for node, inputs, stack, seq, proven in self.pending:
            self.stack, self._resolving = list(stack), seq
            for tensor in inputs:
                spec = spec_of(tensor)
                for source, exact in self.sources(tensor):
                    if node is not None:
                        self.graph.add_edge(source, node, exact=exact and proven, spec=spec)
        self.stack, self._resolving, self.pending = [], None, []
        keys = [self.order[node] for node in self.graph]
        if all(a < b for a, b in zip(keys, keys[1:])):
            return  # no op was found out of call order: the graph is in order already
        ordered = nx.MultiDiGraph()
        ordered.graph.update(self.graph.graph)
        for node in sorted(self.graph, key=self.order.__getitem__):
            ordered.add_node(node, **self.graph.nodes[node])
        ordered.add_edges_from(self.graph.edges(keys=True, data=True))
        self.graph = ordered

    def add_op(self, name: str, inputs: list[Any], outputs: list[Any], call: Call | None = None) -> str:
        scope_path = self.scope_path()
        node = self.fresh_id(f"{scope_path}/{name}" if scope_path else name)
        self.add_node(node, self.node(
            "op", node, name,
            input_specs=[spec_of(t) for t in inputs], output_specs=[spec_of(t) for t in outputs], call=call,
        ))
        self.connect(node, inputs)
        for tensor in outputs:
            self.produce(node, tensor)
        return node

    # -- the patches ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Record the layer calls made inside; the lock is held, so one recording at a time."""
        with LOCK, self._patches():
            yield

    @contextlib.contextmanager
    def _patches(self) -> Iterator[None]:
        outer = getattr(_active, "recorder", None)
        _active.recorder = self
        if outer is not None:
            # A region inside another recording: the patches are in place; it records meanwhile.
            try:
                yield
            finally:
                _active.recorder = outer
            return
        # Keras rewrites exceptions raised in `call` and drops their frames; the user's
        # file:line is in those frames, so filtering is off while recording.
        filtering = keras.config.is_traceback_filtering_enabled()
        keras.config.disable_traceback_filtering()
        Layer.__call__ = _patched_call
        Layer.symbolic_call = _patched_layer_symbolic
        Operation.symbolic_call = _patched_op_symbolic
        try:
            yield
        finally:
            Layer.__call__ = _ORIGINAL_CALL
            Layer.symbolic_call = _ORIGINAL_LAYER_SYMBOLIC
            Operation.symbolic_call = _ORIGINAL_OP_SYMBOLIC
            if filtering:
                keras.config.enable_traceback_filtering()
            _active.recorder = None

    def on_call(self, layer: Layer, args: tuple, kwargs: dict) -> Any:
        if self._in_leaf:
            return _ORIGINAL_CALL(layer, *args, **kwargs)
        path = self.tree.path_of(layer, self.scope_path())
        self.calls[path] = self.calls.get(path, 0) + 1
        node = self.fresh_id(path)
        inputs = tensors((args, kwargs))
        # The record keeps the arguments as passed: a dict the caller changes after the call (a
        # loop updating one entry of a model's dict input) must not change what it shows.
        passed = tree.map_structure(lambda value: value, (args, kwargs))
        if layer is not self.tree.model and self.tree.leaf(layer):
            return self._leaf_call(layer, node, path, inputs, args, kwargs, passed)
        return self._container_call(layer, node, path, inputs, args, kwargs, passed)

    def _layer_node(self, layer: Layer, path: str, inputs: list[Any]) -> Node:
        return self.node("layer", path, type(layer).__name__, layer=layer, input_specs=[spec_of(t) for t in inputs])

    def _leaf_call(self, layer: Layer, node: str, path: str, inputs: list, args: tuple, kwargs: dict, passed: tuple) -> Any:
        self.add_node(node, self._layer_node(layer, path, inputs))
        self.connect(node, inputs)
        self._in_leaf += 1
        try:
            outputs = _ORIGINAL_CALL(layer, *args, **kwargs)
        except BaseException as err:
            self._fail(err, path)
            raise
        finally:
            self._in_leaf -= 1
            # Counted after the call: a leaf built during it gained its weights only then.
            self.graph.nodes[node]["params"] = count_params(layer.weights)
        outputs = _fresh_passthrough(outputs, inputs)
        flat = tensors(outputs)
        self.graph.nodes[node]["output_specs"] = [spec_of(t) for t in flat]
        self.graph.nodes[node]["call"] = Call(*passed, outputs)
        for tensor in flat:
            self.produce(node, tensor)
        return outputs

    def _container_call(self, layer: Layer, node: str, path: str, inputs: list, args: tuple, kwargs: dict, passed: tuple) -> Any:
        if layer is self.tree.model:
            # The traced model itself is no scope: what its `call` does sits at the top level.
            with self.expanding(layer):
                return _ORIGINAL_CALL(layer, *args, **kwargs)
        # Ops computing the container's inputs belong to the caller, those computing its
        # outputs to the container: resolve both at the border, each in its own scope.
        self.connect(None, inputs)
        container = self._layer_node(layer, path, inputs)
        self.graph.graph["containers"][node] = attributes = container.attributes()
        self.stack.append(node)
        try:
            with self.expanding(layer):
                outputs = self._keeping_none_outputs(layer, args, kwargs)
            flat = tensors(outputs)
            self.connect(None, flat)
        except BaseException as err:
            self._fail(err, path)
            raise
        finally:
            self.stack.pop()
        attributes["output_specs"] = [spec_of(t) for t in flat]
        attributes["call"] = Call(*passed, outputs)
        return outputs

    def _keeping_none_outputs(self, layer: Layer, args: tuple, kwargs: dict) -> Any:
        """Keras's ``Layer.__call__``, except that a container whose ``call`` returned, among
        KerasTensors, ``None`` (an attention layer's absent cache or scores) or an empty tensor
        (no hidden states kept) is accepted, as calling it on values is. Neither carries data,
        so no edge is missed. Keras refuses to make that call's node ("All operation outputs
        must be tensors") in the last step of ``__call__``, when nothing else is left to do;
        compose records the call itself and needs no Keras node for it."""
        try:
            return _ORIGINAL_CALL(layer, *args, **kwargs)
        except ValueError:
            returned = self.returned.get(id(layer), _NOTHING)
            if returned is _NOTHING or not _symbolic_or_empty(returned):
                raise
            return returned
        finally:
            self.returned.pop(id(layer), None)

    @contextlib.contextmanager
    def expanding(self, layer: Layer) -> Iterator[None]:
        """Run ``layer``'s own ``call`` inside ``Layer.__call__`` (strategies extend this)."""
        self.expanded.append(layer)
        try:
            yield
        finally:
            self.expanded.pop()

    def _fail(self, err: BaseException, path: str | None) -> None:
        # The innermost call an exception crosses is where it happened; outer calls see it after.
        if self.failure is None:
            self.failure = Failure(err, path)

    # -- after the run --------------------------------------------------------------------------

    def add_inputs(self, structure: Any) -> None:
        self.graph.graph["inputs"] = structure
        for name, tensor in _named_leaves(structure, "input"):
            self.add_node("@" + name, self.node("input", name, "Input", output_specs=[spec_of(tensor)], scope=None, parent=None))
            self.produce("@" + name, tensor)

    def add_outputs(self, structure: Any) -> None:
        self.graph.graph["outputs"] = structure
        for name, tensor in _named_leaves(structure, "output"):
            self.add_node("@" + name, self.node("output", name, "Output", input_specs=[spec_of(tensor)], scope=None, parent=None))
            self.connect("@" + name, [tensor])


def _named_leaves(structure: Any, prefix: str) -> list[tuple[str, Any]]:
    if structure is not None and not isinstance(structure, (list, tuple, dict)) and not _is_tensor(structure):
        raise TypeError(
            f"the model's {prefix} is {type(structure).__name__} {structure!r}: expected tensors, "
            "nested in lists, tuples or dicts (does a layer return a Python value?)"
        )
    if isinstance(structure, (list, tuple)) and len(structure) == 1 and _is_tensor(structure[0]):
        structure = structure[0]
    if _is_tensor(structure):
        return [(prefix, structure)]
    named: list[tuple[str, Any]] = []
    items = structure.items() if isinstance(structure, dict) else enumerate(structure or ())
    for key, value in items:
        if _is_tensor(value):
            named.append((f"{prefix}.{key}", value))
        elif isinstance(value, (list, tuple, dict)):
            named.extend(_named_leaves(value, f"{prefix}.{key}") if value else [])
    return named


@tf.autograph.experimental.do_not_convert
def _patched_call(layer: Layer, *args: Any, **kwargs: Any) -> Any:
    recorder = getattr(_active, "recorder", None)
    if recorder is None:
        return _ORIGINAL_CALL(layer, *args, **kwargs)
    return recorder.on_call(layer, args, kwargs)


def _patched_layer_symbolic(layer: Layer, *args: Any, **kwargs: Any) -> Any:
    recorder = getattr(_active, "recorder", None)
    expanded = getattr(recorder, "expanded", None)
    if expanded is not None and expanded[-1:] == [layer] and not recorder._in_leaf:
        # A container on KerasTensors: run its `call` on them, instead of Keras's
        # `compute_output_spec`, which would hide its sublayers inside a scratch graph.
        outputs = layer.call(*args, **kwargs)
        recorder.returned[id(layer)] = outputs
        return outputs
    return _ORIGINAL_LAYER_SYMBOLIC(layer, *args, **kwargs)


def _patched_op_symbolic(op: Operation, *args: Any, **kwargs: Any) -> Any:
    recorder = getattr(_active, "recorder", None)
    if recorder is not None and recorder.records_keras_ops and not recorder._in_leaf and _runs_functions(op, args, kwargs):
        # Keras computes a loop's (or a map's) result spec without running its functions, so
        # the layers they call would go unseen: the graph strategy traces them (a `tf.while_loop`).
        raise TypeError(
            f"keras.ops.{keras_op_name(op)} runs Python functions on KerasTensors without calling "
            "them; the graph strategy traces what they do"
        )
    branches: list[Any] = []  # what a `keras.ops.cond`'s two branch functions returned
    if recorder is not None and keras_op_name(op) == "cond" and len(args) == 3:
        pred, *functions = args
        args = (pred, *(_returning_into(branches, fn) for fn in functions))
    outputs = _ORIGINAL_OP_SYMBOLIC(op, *args, **kwargs)
    if branches:
        # Keras hands back the true branch's own KerasTensors as the cond's: the cond's result
        # needs its own, or it would seem to come from the cond alone.
        returned = {id(t) for t in tensors(branches)}
        outputs = tree.map_structure(lambda t: _fresh_symbolic(t) if id(t) in returned else t, outputs)
    if recorder is not None and not getattr(op, "sparse", False):
        _undo_false_sparse((args, kwargs), outputs)
    if recorder is not None and not recorder._in_leaf and recorder.records_keras_ops:
        inputs, flat = tensors((args, kwargs)), tensors(outputs)
        if is_identity_keras_op(op) and len(inputs) == len(flat) == 1:
            # Plumbing (Functional standardizing its inputs): the output is the input.
            source = recorder.producers.get(id(inputs[0]))
            if source is not None:
                recorder.produce(source, flat[0])
            return outputs
        # A cond's result comes from both branches: each one's result feeds it, as the graph
        # strategy's `If` node is fed by its branches' layers.
        inputs += tensors(branches)
        recorder.add_op(keras_op_name(op), inputs, flat, Call(args, kwargs, outputs, operation=op))
    return outputs


def _runs_functions(op: Operation, args: tuple, kwargs: dict) -> bool:
    """Whether ``op`` is a Keras control-flow op other than ``cond`` (which the recorder
    follows): its functions are arguments (``scan``, ``map``, ``switch``) or attributes
    (``while_loop``, ``fori_loop``, ``vectorized_map``)."""
    if keras_op_name(op) == "cond":
        return False
    return any(callable(value) for value in [*tree.flatten((args, kwargs)), *vars(op).values()])


def _fresh_symbolic(tensor: keras.KerasTensor) -> keras.KerasTensor:
    return keras.KerasTensor(tensor.shape, dtype=tensor.dtype, sparse=tensor.sparse, ragged=tensor.ragged)


def _returning_into(returned: list[Any], function: Any) -> Any:
    """``function``, keeping what it returns in ``returned``."""

    def run(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        returned.append(result)
        return result

    return run


def _undo_false_sparse(arguments: Any, outputs: Any) -> None:
    """An op on dense operands (and constants) gives a dense tensor; see `_compat.mark_dense`."""
    flat = tree.flatten(outputs)
    if not any(getattr(x, "sparse", False) for x in flat if isinstance(x, keras.KerasTensor)):
        return
    for operand in tree.flatten(arguments):
        if isinstance(operand, keras.KerasTensor) and operand.sparse or isinstance(operand, tf.SparseTensor):
            return
    for tensor in flat:
        if isinstance(tensor, keras.KerasTensor):
            mark_dense(tensor)


def _symbolic_or_empty(outputs: Any) -> bool:
    """Whether every output is a KerasTensor, ``None`` or a tensor with no elements, and one
    is not a KerasTensor."""
    leaves = tree.flatten(outputs)
    symbolic = [isinstance(x, keras.KerasTensor) for x in leaves]
    empty = [x is None or keras.ops.is_tensor(x) and 0 in tuple(x.shape) for x in leaves]
    return all(s or e for s, e in zip(symbolic, empty)) and not all(symbolic)
