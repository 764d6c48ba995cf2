"""Replay a trace on new KerasTensors: the recorded calls again, now building a Functional graph.

Every layer call of the trace (`Trace.graph` node attribute ``call``) is made again, in call
order, on the new tensors standing for the recorded ones; the same layer objects are called, so
the result shares them. What sat between the layers is rebuilt by strategy:

- symbolic: each Keras operation (``x + y``, ``keras.ops.relu``) is recorded with its arguments
  and applied again; a Functional model holds it as Keras does for its own ops.
- graph: TensorFlow operations are found by walking the graph back from each layer argument, as
  the graph strategy does to draw edges; each becomes a `TFOp` layer. Identity plumbing is
  looked through, a value TensorFlow can fold (``tf.ones((8, 8))``, a static shape) becomes a
  constant, and a tensor captured by a branch leads back to its outer value.

A layer is called as Keras calls it on KerasTensors, which takes its outputs' spec from its
``compute_output_shape`` where it has one; where that spec disagrees with the recorded call
(a pair said to be one tensor, a boolean matrix said to be its float input) or cannot be
computed, the layer is called through a `SpecFromCall`, which takes it from the call.

A trace with regions (containers the symbolic strategy could not run, traced by the graph
strategy) is replayed as one: a region's input placeholders stand for the outer KerasTensors,
and the KerasTensors made for its outputs for its output tensors (the trace's ``stands_for``).

What the model's call uses without taking it from its inputs becomes a layer's output
(`_held`): a constant it made (positions, an adjacency kept as an attribute) a `Constant`, a
weight it read directly (a class token) a `HeldWeight` holding that very variable. New layers
get names unique in the new model, whatever was converted before. The walk back through a
TensorFlow graph is iterative, so a chain of thousands of ops is no deeper than one.

Where a built layer's ``input_spec`` fixes a dim its new argument leaves unknown (a shape the
model computes at run time, whose -1 no shape inference resolves), an ``EnsureShape`` `TFOp`
states it, so that ``clone_model`` can build a fresh copy of the layer (`Replay._fitted`).

A recorded ``tf.cond`` (both branches are in the graph) becomes a `Cond` layer, a recorded
``tf.while_loop`` (its condition and body are) a `While` layer: each branch, condition and body
is replayed by a replay of its own, bound to its inputs, into a Functional model, and the layer
calls inside it are made there only. What a Functional graph cannot hold stops the replay with
`Unreplayable`: a layer shared between a branch or loop and elsewhere, a TensorArray or a
changing shape carried by a loop, a variable of no layer, a stateful op.
"""

from __future__ import annotations

import contextlib
import inspect
import re
from typing import Any, Iterator

import keras
import numpy as np
import tensorflow as tf
from keras import tree

from .._compat import CondBranchGraph, control_flow_graphs, function_graph, keras_history, node_arguments
from . import _op_layers
from ._by_call import SpecFromCall
from ._control_flow import Cond, While
from ._held import Constant, ConstantTooLarge, HeldWeight
from .._trace import BRANCHES, LOOPS, ModelSnapshot, Role, Trace, is_identity_keras_op, op_name, role, tensors


class Unreplayable(Exception):
    """The trace holds something a Functional model cannot express; ``path`` says where."""

    def __init__(self, path: str | None, reason: str) -> None:
        super().__init__(f"{path or '<model>'}: {reason}")
        self.path = path
        self.reason = reason


class Replay:
    """The trace's calls made again on ``inputs`` (new KerasTensors, shaped as the model's
    positional arguments). `run` returns the new outputs; `outputs_of` any call's outputs.

    A branch of a ``cond``, and a loop's condition or body, is replayed by a replay of its own
    (``parent`` the one meeting the op, ``branch`` the branch's FuncGraph): it makes the calls
    recorded in that graph only, on its inputs, which its parent binds; names and layer
    placement are shared with the parent.
    """

    def __init__(self, result: Trace, inputs: tuple, parent: Replay | None = None, branch: Any = None, training: bool | None = None) -> None:
        self.trace = result
        # The ``training`` the model was traced with: Keras handed it to every layer taking one,
        # and the twin's layers get it too, unless the twin is called with another (``fit``).
        self._training = parent._training if parent is not None else training
        # Keyed by id: the trace's `Call`s keep every recorded tensor (and its graph) alive.
        self.env: dict[int, Any] = {}
        self._ops: dict[int, list[Any]] = {}  # id of a tf.Operation -> its TFOp's outputs
        self._where: str | None = None  # the call being replayed, for messages
        self._branch = branch
        #: (cond node, its predicate's new tensor) for each `Cond` this replay made.
        self.predicates: list[tuple[str, Any]] = []
        # Layers made here are called on an input, so that Keras sees them in the graph.
        self._anchor = tensors(inputs)[0] if tensors(inputs) else None
        self._held: dict[int, Any] = {}  # id of a variable -> its HeldWeight's output
        if parent is not None:
            self._tf_nodes, self._state, self._variables = parent._tf_nodes, parent._state, parent._variables
            self._names, self._placed, self._stands_for = parent._names, parent._placed, parent._stands_for
            self._by_call = parent._by_call
            return
        # Across a region's border (a container another strategy traced): its placeholders
        # stand for the outer KerasTensors, the outer KerasTensors made for its outputs for them.
        self._stands_for = {id(t): other for t, other in result.graph.graph.get("stands_for", ())}
        self._tf_nodes = {
            id(call.operation): node
            for node, call in result.graph.nodes(data="call")
            if call is not None and isinstance(call.operation, tf.Operation)
        }
        # Replaying adds Keras nodes to the layers; a failed replay takes them back.
        self._state = ModelSnapshot(result.model)
        self._bind(result.graph.graph["inputs"], inputs)
        self._variables = {id(_handle(v)): v for v in result.model.weights}
        self._names = {layer.name for _, layer in result.graph.nodes(data="layer") if layer is not None}
        self._placed: dict[int, Any] = {}  # id of a layer -> the branch graph it is called in (or None)
        self._by_call: dict[int, SpecFromCall] = {}  # id of a layer -> the SpecFromCall calling it

    @contextlib.contextmanager
    def kept_on_success(self) -> Iterator[None]:
        """Keep the Keras nodes this replay adds to the model's layers when the block succeeds
        (a Functional model is built on them); take them back when it fails."""
        try:
            yield
        except BaseException:
            self._state.restore_graph_state()
            raise
        self._state.keep_graph_state()

    def run(self, outputs: Any = None) -> Any:
        """Replay the calls; return the new tensors for ``outputs`` (default: the model's)."""
        for node, data in self.trace.graph.nodes(data=True):
            call = data.get("call")
            if call is None or isinstance(call.operation, tf.Operation):
                continue  # inputs, outputs, unreached layers; TF ops are met from their consumers
            self._where = data["path"]
            if not self._made_here(data):
                continue  # inside a branch of a cond: made by that branch's replay
            target = call.operation if call.operation is not None else data["layer"]
            if call.operation is not None and any(callable(a) for a in tree.flatten((call.args, call.kwargs))):
                raise Unreplayable(self._where, _FUNCTIONS.format(node=node, op=data["class_name"]))
            args, kwargs = self._map((call.args, call.kwargs))
            if call.operation is None:
                # A layer computes on its tensors only if they are in the graph: a constant
                # argument (positions for an embedding) becomes a `Constant` layer's output.
                args, kwargs = tree.map_structure(self._anchored, (args, kwargs))
                args = self._fitted(data["layer"], args)
                kwargs = self._with_training(target, kwargs)
                self._bind(call.outputs, self._layer_call(target, call.outputs, args, kwargs))
            else:
                self._bind(call.outputs, target(*args, **kwargs))
        self._where = None
        outputs = self.trace.graph.graph["outputs"] if outputs is None else outputs
        return tree.map_structure(self._anchored, self._map(outputs))

    def outputs_of(self, node: str) -> Any:
        """The new tensors for what call ``node`` (a layer or container call id) returned."""
        containers = self.trace.graph.graph["containers"]
        call = containers[node]["call"] if node in containers else self.trace.graph.nodes[node]["call"]
        self._where = node
        inside = _control_graphs(call.outputs)
        if inside and isinstance(inside[0], CondBranchGraph):
            raise Unreplayable(node, f"is called inside {self._control_name(inside[0])}: its outputs exist only when it runs")
        if inside:
            raise Unreplayable(node, f"is called inside {self._control_name(inside[0])}: its outputs are one iteration's, inside the loop")
        return self._map(call.outputs)

    def _with_training(self, layer: keras.layers.Layer, kwargs: dict) -> dict:
        """``kwargs`` with the trace's ``training`` where the layer takes one and was not given it
        (Keras passed it from the model's call): a data augmentation layer, whose ``training``
        defaults to True, stays off in an inference twin called without one."""
        if self._training is None or "training" in kwargs or "training" not in inspect.signature(layer.call).parameters:
            return kwargs
        return {**kwargs, "training": self._training}

    def _layer_call(self, layer: keras.layers.Layer, recorded: Any, args: Any, kwargs: Any) -> Any:
        """``layer`` called on the new tensors; through a `SpecFromCall` where the spec Keras
        gives its outputs on KerasTensors (from the layer's ``compute_output_shape``) cannot be
        computed or disagrees with what its call returned in the trace."""
        wrapper = self._by_call.get(id(layer))
        if wrapper is None:
            try:
                outputs = layer(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - tried again through its call, else raised
                failure: Exception | None = err
            else:
                if _same_specs(recorded, outputs):
                    return outputs
                failure = None
            wrapper = SpecFromCall(layer, name=self.fresh_name(self._where or layer.name))
            try:
                outputs = wrapper(*args, **kwargs)
            except Exception:
                if failure is not None:
                    raise failure from None  # the layer's own error, as Keras reported it
                raise
            self._by_call[id(layer)] = wrapper
            return outputs
        return wrapper(*args, **kwargs)

    def in_twin(self, layer: keras.layers.Layer) -> keras.layers.Layer:
        """The layer of the twin that calls ``layer``: itself, or the `SpecFromCall` holding it."""
        return self._by_call.get(id(layer), layer)

    # -- control flow ----------------------------------------------------------------------------

    def _made_here(self, data: dict) -> bool:
        """Whether this replay makes the recorded call ``data``: it was recorded in this replay's
        graph, not in a branch or loop inside it. A layer called both inside a branch (or a
        loop) and outside it has no Functional form."""
        inside = _control_graphs(data["call"].outputs)
        home = inside[0] if inside else None
        layer = data["layer"] if data["call"].operation is None else None
        if layer is not None:
            placed = self._placed.setdefault(id(layer), home)
            if placed is not home:
                where = [f"in {self._control_name(g)}" if g is not None else "outside any cond or loop" for g in (placed, home)]
                raise Unreplayable(
                    self._where,
                    f"its layer is called both {where[0]} and {where[1]}; each branch, loop "
                    "condition and loop body becomes a Functional model of its own, and Keras "
                    "would load two copies of a layer shared between them: call it in one of "
                    "them only (for a cond, outside it, on its result)",
                )
        return home is self._branch

    def _control_name(self, graph: Any) -> str:
        """``a branch of the cond 'cond'`` / ``the while loop 'while'``: the op whose branch,
        condition or body ``graph`` is, by its node name in the trace."""
        outer = graph.outer_graph
        for op in outer.get_operations():
            if op.type in BRANCHES and any(op.get_attr(a).name == graph.name for a in BRANCHES[op.type]):
                name = self._op_name(op)
                return f"the while loop {name!r}" if op.type in LOOPS else f"a branch of the cond {name!r}"
        return f"the function {graph.name!r}"

    def _control(self, op: Any) -> list[Any]:
        return self._while(op) if op.type in LOOPS else self._cond(op)

    def _cond(self, op: Any) -> list[Any]:
        """A `Cond` layer for the ``If`` op ``op``, each branch replayed into a Functional model
        on the branch's data inputs; called on the predicate and those inputs' new tensors."""
        name = self._op_name(op)
        data = [(i, t) for i, t in enumerate(op.inputs[1:]) if t.dtype != tf.resource]
        if any(t.shape.rank is None for _, t in data):
            raise Unreplayable(self._where, f"the cond {name!r} takes a tensor of unknown rank, which a Functional model cannot hold")
        inputs = [keras.Input(batch_shape=tuple(t.shape), dtype=t.dtype.name) for _, t in data]
        if not inputs:
            raise Unreplayable(self._where, f"neither branch of the cond {name!r} uses a tensor of the model")
        predicate = self._value(op.inputs[0])
        # A predicate known from the shapes (a function's own check, as in `tf.image.rot90`)
        # picks its branch once and for all: that branch's model alone is the result.
        static = bool(predicate) if isinstance(predicate, np.ndarray) else None
        attrs = BRANCHES[op.type] if static is None else BRANCHES[op.type][0 if static else 1 :][:1]
        branches = []
        for attr in attrs:
            graph = function_graph(op, attr)
            replay = Replay(self.trace, tuple(inputs), parent=self, branch=graph)
            for (index, outer), new in zip(data, inputs):
                replay._bind_through_captures(outer, new)
                replay.env[id(graph.inputs[index])] = new
            outputs = replay.run(list(graph.outputs))
            branches.append(keras.Model(inputs, outputs, name=self.fresh_name(f"{name}/{attr}")))
        values = [self._anchored(self._value(t)) for _, t in data]
        if static is not None:
            return tree.flatten(branches[0](values))
        predicate = self._anchored(predicate)
        self.predicates.append((name, predicate))
        return list(Cond(*branches, name=self.fresh_name(name))([predicate, *values]))

    def _while(self, op: Any) -> list[Any]:
        """A `While` layer for the ``While`` op ``op``: its condition and body each replayed into
        a Functional model on the loop's variables, called on their new tensors. Returns the
        new tensors of the op's outputs (a constant's value as is; None for a resource)."""
        name = self._op_name(op)
        cond, body = (function_graph(op, attr) for attr in BRANCHES[op.type])
        live = _live_loop_variables(op, cond, body)
        data = [i for i, t in enumerate(op.inputs) if t.dtype != tf.resource and i in live]
        carried = [i for i in data if not _passed_on(body.outputs[i], body.inputs[i])]
        for i in data:
            before, inside = op.inputs[i].shape, body.inputs[i].shape
            if op.inputs[i].dtype == tf.variant:
                raise Unreplayable(self._where, _TENSOR_ARRAY.format(name=name))
            if inside.rank is None:
                raise Unreplayable(self._where, f"the while loop {name!r} takes a tensor of unknown rank, which a Functional model cannot hold")
            if i in carried and inside != before:
                raise Unreplayable(self._where, _RESHAPED.format(name=name, before=before, inside=inside))
        values = {i: self._value(op.inputs[i]) for i in data}
        # A constant the loop reads and does not change (the end of a range, its step) becomes
        # part of the condition and body models; what is carried, or computed, is their input.
        kept = [i for i in data if i in carried or not isinstance(values[i], np.ndarray)]
        inputs = [keras.Input(batch_shape=tuple(body.inputs[i].shape), dtype=op.inputs[i].dtype.name) for i in kept]
        models = []
        for attr, graph, outputs in (("cond", cond, list(cond.outputs)), ("body", body, [body.outputs[i] for i in carried])):
            replay = Replay(self.trace, tuple(inputs), parent=self, branch=graph)
            for i in data:
                if i not in kept:
                    replay.env[id(graph.inputs[i])] = values[i]
                    continue
                new = inputs[kept.index(i)]
                replay.env[id(graph.inputs[i])] = new
                if i not in carried:  # the same on every iteration: the outer tensor is the input
                    replay._bind_through_captures(op.inputs[i], new)
            models.append(keras.Model(inputs, replay.run(outputs), name=self.fresh_name(f"{name}/{attr}")))
        loop = While(*models, carried=[kept.index(i) for i in carried], name=self.fresh_name(name))
        results = dict(zip(kept, loop([self._anchored(values[i]) for i in kept])))
        return [results[i] if i in results else values.get(i) for i in range(len(op.outputs))]

    def _bind_through_captures(self, tensor: Any, new: Any) -> None:
        """``tensor`` is ``new`` here, and so is every outer tensor it captures: a layer inside
        a branch takes the Python tensor it was given, which may be one of an outer graph."""
        while True:
            self.env[id(tensor)] = new
            graph = getattr(tensor, "graph", None)
            outer = next((ext for ext, internal in getattr(graph, "captures", ()) if internal is tensor), None)
            if outer is None or not _in_graph(outer):
                return
            tensor = outer

    # -- tensors ---------------------------------------------------------------------------------

    def _bind(self, recorded: Any, new: Any) -> None:
        old, fresh = tensors(recorded), tensors(new)
        if len(old) != len(fresh):
            raise Unreplayable(
                self._where,
                f"returned {len(fresh)} tensors when replayed on KerasTensors, {len(old)} when traced",
            )
        for o, f in zip(old, fresh):
            self.env[id(o)] = f

    def _map(self, structure: Any) -> Any:
        return tree.map_structure(self._value, structure)

    def _value(self, item: Any) -> Any:
        if isinstance(item, keras.Variable):
            return self._held_weight(item)
        if isinstance(item, tf.Variable):
            raise Unreplayable(self._where, _FOREIGN_VARIABLE.format(name=item.name))
        if not (isinstance(item, keras.KerasTensor) or keras.ops.is_tensor(item)):
            return item
        found = self.env.get(id(item))
        if found is not None:
            return found
        if id(item) in self._stands_for:
            found = self.env[id(item)] = self._value(self._stands_for[id(item)])
            return found
        if isinstance(item, keras.KerasTensor):
            return self._from_history(item)
        if _in_graph(item):
            return self._from_graph(item)
        # A value computed from no input (ops.arange(n), an attribute): part of the program.
        return np.asarray(item)

    def _anchored(self, value: Any) -> Any:
        return self._constant(value) if isinstance(value, np.ndarray) else value

    def _constant(self, value: np.ndarray) -> Any:
        try:
            layer = Constant.of(value, self.fresh_name(f"{self._where or 'model'}/constant"))
        except ConstantTooLarge as err:
            raise Unreplayable(self._where, str(err)) from err
        return layer(self._anchor)

    def _fitted(self, layer: Any, args: tuple) -> tuple:
        """``args`` with each dim of the first argument that the layer's ``input_spec`` fixes
        and the new tensor leaves unknown made known by an ``EnsureShape`` `TFOp`.

        A layer built with ``build`` (keras_hub builds its attention's output projection there)
        never asks what its call's input is; its twin may have to: where the trace computed a
        shape at run time (``ops.reshape(x, ops.shape(x)[:-1] + (-1,))``), the -1 is unknown to
        TensorFlow's and Keras's shape inference, and `clone_model` builds a fresh layer on
        that None and fails. A built Keras layer declares the sizes it accepts (a Dense its
        input's last dim), and Keras refuses any other in every call, so stating them is exact:
        ``EnsureShape`` checks them at run time, where the layer would have refused too."""
        if not args or not layer.input_spec:
            return args
        specs = tree.flatten(layer.input_spec)
        first = args[0]
        if isinstance(first, dict) or len(tree.flatten(first)) != len(specs):
            return args  # Keras matches these by name or refuses the call itself

        def fit(tensor: Any, spec: Any) -> Any:
            if spec is None or not isinstance(tensor, keras.KerasTensor) or spec.allow_last_axis_squeeze:
                return tensor
            known = _fixed_by(spec, list(tensor.shape))
            if known == list(tensor.shape):
                return tensor
            name = self.fresh_name(f"{self._where}/ensure_shape")
            return _op_layers.TFOp("EnsureShape", [{"tensor": 0}], {"shape": known}, name=name)([tensor])

        fitted = tree.pack_sequence_as(first, [fit(t, spec) for t, spec in zip(tree.flatten(first), specs)])
        return (fitted, *args[1:])

    def _held_weight(self, variable: keras.Variable) -> Any:
        if id(variable) not in self._held:
            layer = HeldWeight.of(variable, self.fresh_name(variable.path))
            self._held[id(variable)] = layer(self._anchor)
        return self._held[id(variable)]

    def fresh_name(self, base: str) -> str:
        """A layer name unique in the new model, from a path: ``encoder/relu#1`` ->
        ``encoder.relu_1``, then ``encoder.relu_1_1`` if that is taken (Keras names hold no /)."""
        base = re.sub(r"[^\w.]", "_", base.replace("/", ".").replace("#", "_"))
        name, count = base, 0
        while name in self._names:
            count += 1
            name = f"{base}_{count}"
        self._names.add(name)
        return name

    def _from_history(self, tensor: keras.KerasTensor) -> Any:
        """A KerasTensor no recorded call returned: Keras's identity plumbing hands one on."""
        operation, node_index, _ = keras_history(tensor)
        if is_identity_keras_op(operation):
            return self._value(node_arguments(operation, node_index)[0])
        if isinstance(operation, keras.layers.InputLayer):
            raise Unreplayable(self._where, _FOREIGN_INPUT.format(name=operation.name))
        raise Unreplayable(self._where, f"takes a tensor from {operation.name!r}, which was not recorded")

    def _from_graph(self, tensor: tf.Tensor) -> Any:
        self._build_ops_under(tensor)
        found = self._look_through(tensor)
        if id(found) in self.env:
            return self.env[id(found)]
        if not (isinstance(found, tf.Tensor) and _in_graph(found)):
            return self._value(found)
        op = found.op
        static = tf.get_static_value(found)
        if static is not None:
            return np.asarray(static)
        kind = role(op.type)
        if kind is Role.VARIABLE:
            return self._held_weight(self._variable_read(op))
        if kind is Role.CONTROL and id(op) not in self._ops:
            self._ops[id(op)] = self._control(op)
        return self._ops[id(op)][found.value_index]

    def _look_through(self, tensor: Any) -> Any:
        """Past plumbing and out through captures: the tensor that really holds the value (an
        outer graph's, or a concrete one), or `Unreplayable` for a loop variable."""
        while isinstance(tensor, tf.Tensor) and _in_graph(tensor) and id(tensor) not in self.env:
            op = tensor.op
            kind = role(op.type)
            if kind is Role.PLUMBING:
                tensor = _plumbing_input(tensor)
            elif kind is Role.CAPTURE and id(tensor) in self._stands_for:
                tensor = self._stands_for[id(tensor)]  # a region's input: the outer tensor
            elif kind is Role.CAPTURE:
                outer = next((ext for ext, internal in getattr(tensor.graph, "captures", ()) if internal is tensor), None)
                if outer is None:
                    raise Unreplayable(self._where, "takes a loop variable of a `while` loop")
                tensor = outer
            else:
                break
        return tensor

    def _build_ops_under(self, tensor: Any) -> None:
        """Make the `TFOp` (or control-flow layer) of every computation ``tensor`` needs, inputs
        first, without recursion: each op is built once all the ops its inputs come from are."""
        stack: list[tuple[Any, bool]] = [(tensor, False)]
        while stack:
            current, inputs_ready = stack.pop()
            try:
                found = self._look_through(current)
            except Unreplayable:
                continue  # met again, with its reason, when the replay needs that tensor
            if not (isinstance(found, tf.Tensor) and _in_graph(found)) or id(found) in self.env:
                continue
            op = found.op
            kind = role(op.type)
            if id(op) in self._ops or kind not in (Role.COMPUTE, Role.CONTROL) or tf.get_static_value(found) is not None:
                continue
            if kind is Role.CONTROL:
                # Its inputs are its branches' or loop's: it checks what it can hold before it
                # takes them (a TensorArray carried by a loop is refused as that, not as an op).
                self._ops[id(op)] = self._control(op)
            elif inputs_ready:
                self._ops[id(op)] = self._tf_op(op, self._op_name(op))
            else:
                stack.append((found, True))
                stack.extend((t, False) for t in reversed(op.inputs))

    def _op_name(self, op: Any) -> str:
        return self._tf_nodes.get(id(op), op_name(op.type))

    def _variable_read(self, op: Any) -> keras.Variable:
        handle = self._look_through(op.inputs[0])
        variable = self._variables.get(id(handle))
        if variable is None:
            raise Unreplayable(self._where, _FOREIGN_VARIABLE.format(name=op.name))
        return variable

    def _tf_op(self, op: Any, name: str) -> list[Any]:
        """A `TFOp` layer for ``op``, called on the new tensors of its inputs."""
        try:
            _op_layers.check_op_type(op.type)
            names, attrs = _op_layers.describe(op)
        except Exception as err:  # noqa: BLE001 - every reason becomes one message
            raise Unreplayable(self._where, f"{name!r} (tf op {op.type}) cannot be rebuilt: {err}") from err
        inputs: list[Any] = []

        def argument(tensor: Any) -> dict[str, Any]:
            value = self._value(tensor)
            if isinstance(value, np.ndarray) and value.size <= _INLINE_CONSTANT:
                try:
                    return _op_layers.constant(value)
                except (TypeError, ValueError) as err:  # complex values have no JSON form
                    raise Unreplayable(self._where, f"{name!r} (tf op {op.type}) takes a constant that cannot be written as plain data: {err}") from err
            value = self._anchored(value)
            inputs.append(value)
            return {"tensor": len(inputs) - 1}

        arguments = [
            [argument(t) for t in group] if isinstance(group, list) else argument(group)
            for group in _op_layers.group_inputs(op)
        ]
        layer = _op_layers.TFOp(op.type, arguments, attrs, _static_shapes(op), name=self.fresh_name(name))
        if not inputs:
            # Computed from constants only (tf.signal.hann_window(4)): a constant itself, which
            # a consumer takes as a value (or a `Constant` layer), as for any folded value.
            return [np.asarray(value) for value in tree.flatten(layer([]))]
        result = layer(inputs)
        return list(result) if isinstance(result, (list, tuple)) else [result]


_FUNCTIONS = (
    "{node!r} (keras.ops.{op}) runs Python functions that hold the traced tensors, and a "
    "Functional model cannot keep those: write it with tf.cond (its two branches become a Cond "
    "layer, see the reuse page), or keep it inside one layer (a leaf the tracer does not open)"
)

_FOREIGN_INPUT = (
    "takes a tensor from {name!r}, a keras.Input that is none of the model's inputs: the call "
    "builds a Functional model (a keras.Input and layers made inside call, new ones with new "
    "weights on every call); build it in __init__ or build() and keep it as an attribute"
)

_TENSOR_ARRAY = (
    "the while loop {name!r} carries a TensorArray (a tf.TensorArray, a TensorFlow variant) from "
    "one iteration to the next, and a Functional model holds tensors only: keep the loop inside "
    "one layer that the tracer does not open (leaf=, see the reuse page)"
)

_RESHAPED = (
    "the while loop {name!r} changes the shape of a variable it carries ({before} before the "
    "loop, {inside} inside it), which keras.ops.while_loop cannot: keep the variable's shape "
    "(write into a tensor of the final shape), or keep the loop inside one layer that the "
    "tracer does not open (leaf=, see the reuse page)"
)

_FOREIGN_VARIABLE = (
    "reads a variable that belongs to no layer of the model ({name}); a Functional model holds "
    "weights only in layers: make it with add_weight on a layer or on the model"
)

#: Constant arguments of a TFOp up to this many elements are written in its config; larger ones
#: are held as weights by a `Constant` layer (a config is JSON).
_INLINE_CONSTANT = 1024


def _in_graph(tensor: Any) -> bool:
    """A tensor of a graph being built (a FuncGraph's), not a concrete value."""
    return isinstance(tensor, tf.Tensor) and not isinstance(tensor, keras.KerasTensor) and not hasattr(tensor, "numpy")


def _same_specs(recorded: Any, new: Any) -> bool:
    """Whether the new tensors match the recorded ones in number, dtype and rank, and in every
    dim both know."""
    old, fresh = tensors(recorded), tensors(new)
    if len(old) != len(fresh):
        return False
    for o, f in zip(old, fresh):
        if keras.backend.standardize_dtype(o.dtype) != keras.backend.standardize_dtype(f.dtype):
            return False
        if getattr(o.shape, "rank", 0) is None:
            continue  # a graph tensor of unknown rank: nothing to compare
        if len(o.shape) != len(f.shape) or any(a is not None and b is not None and a != b for a, b in zip(o.shape, f.shape)):
            return False
    return True


def _plumbing_input(tensor: Any) -> Any:
    """The tensor an identity op (`Role.PLUMBING`) hands on as ``tensor``."""
    return tensor.op.inputs[tensor.value_index if tensor.op.type == "IdentityN" else 0]


def _passed_on(output: Any, placeholder: Any) -> bool:
    """Whether a loop's body returns its argument ``placeholder`` as ``output`` unchanged."""
    while output is not placeholder and role(output.op.type) is Role.PLUMBING:
        output = _plumbing_input(output)
    return output is placeholder


def _live_loop_variables(op: Any, cond: Any, body: Any) -> set[int]:
    """The positions of the ``While`` op ``op``'s variables that matter: those its condition
    reads, those the model uses after the loop, and what the body computes them from. The
    others (the iteration counter TensorFlow adds to every loop, kept for a
    ``maximum_iterations`` that was not given) would only be dead inputs of the twin's loop."""
    live = _inputs_used(cond, cond.outputs) | {i for i, t in enumerate(op.outputs) if t.consumers()}
    todo = list(live)
    while todo:
        for i in _inputs_used(body, [body.outputs[todo.pop()]]) - live:
            live.add(i)
            todo.append(i)
    return live


def _inputs_used(graph: Any, outputs: list[Any]) -> set[int]:
    """The positions of ``graph``'s inputs that ``outputs`` are computed from."""
    positions = {id(t): k for k, t in enumerate(graph.inputs)}
    used, seen, todo = set(), set(), list(outputs)
    while todo:
        tensor = todo.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if id(tensor) in positions:
            used.add(positions[id(tensor)])
        else:
            todo.extend(tensor.op.inputs)
    return used


def _control_graphs(outputs: Any) -> list[Any]:
    """The branch, loop condition and loop body graphs a call's outputs were made in,
    innermost first."""
    found = next((t for t in tensors(outputs) if _in_graph(t)), None)
    return control_flow_graphs(getattr(found, "graph", None))


def _fixed_by(spec: Any, shape: list) -> list:
    """``shape`` with its unknown dims set where the Keras ``InputSpec`` ``spec`` fixes them
    (its ``shape``, its ``axes``)."""
    rank = len(shape)
    fixed = dict(enumerate(spec.shape)) if spec.shape is not None and len(spec.shape) == rank else {}
    fixed.update({axis % rank: size for axis, size in (spec.axes or {}).items() if -rank <= axis < rank})
    return [fixed.get(i) if dim is None and fixed.get(i) is not None else dim for i, dim in enumerate(shape)]


def _handle(variable: keras.Variable) -> Any:
    """The resource tensor a TensorFlow graph captures to read ``variable``."""
    return variable.value.handle


def _static_shapes(op: Any) -> list | None:
    """What a graph trace proved of ``op``'s output shapes (the whole graph, not the op alone);
    None for an op run eagerly, whose shapes are those of one run."""
    if not isinstance(op, tf.Operation):
        return None
    return [t.shape.as_list() if t.shape.rank is not None else None for t in op.outputs]
