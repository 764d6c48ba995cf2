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

What a Functional graph cannot hold stops the replay with `Unreplayable`: data-dependent
control flow (``cond``/``while``), a variable read outside any layer, a stateful op.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import tree

from .._compat import keras_history, node_arguments, uniquify_name
from . import _op_layers
from .._trace import ModelSnapshot, Role, Trace, is_identity_keras_op, op_name, role, tensors


class Unreplayable(Exception):
    """The trace holds something a Functional model cannot express; ``path`` says where."""

    def __init__(self, path: str | None, reason: str) -> None:
        super().__init__(f"{path or '<model>'}: {reason}")
        self.path = path
        self.reason = reason


class Replay:
    """The trace's calls made again on ``inputs`` (new KerasTensors, shaped as the model's
    positional arguments). `run` returns the new outputs; `outputs_of` any call's outputs."""

    def __init__(self, result: Trace, inputs: tuple) -> None:
        self.trace = result
        # Keyed by id: the trace's `Call`s keep every recorded tensor (and its graph) alive.
        self.env: dict[int, Any] = {}
        self._ops: dict[int, list[Any]] = {}  # id of a tf.Operation -> its TFOp's outputs
        self._where: str | None = None  # the call being replayed, for messages
        self._tf_nodes = {
            id(call.operation): node
            for node, call in result.graph.nodes(data="call")
            if call is not None and isinstance(call.operation, tf.Operation)
        }
        # Replaying adds Keras nodes to the layers; a failed replay takes them back.
        self._state = ModelSnapshot(result.model)
        self._bind(result.graph.graph["inputs"], inputs)

    def undo(self) -> None:
        """Forget the Keras nodes this replay added to the model's layers."""
        self._state.restore_graph_state()

    def run(self) -> Any:
        for node, data in self.trace.graph.nodes(data=True):
            call = data.get("call")
            if call is None or isinstance(call.operation, tf.Operation):
                continue  # inputs, outputs, unreached layers; TF ops are met from their consumers
            self._where = data["path"]
            target = call.operation if call.operation is not None else data["layer"]
            args, kwargs = self._map((call.args, call.kwargs))
            self._bind(call.outputs, target(*args, **kwargs))
        self._where = None
        return self._map(self.trace.graph.graph["outputs"])

    def outputs_of(self, node: str) -> Any:
        """The new tensors for what call ``node`` (a layer or container call id) returned."""
        containers = self.trace.graph.graph["containers"]
        call = containers[node]["call"] if node in containers else self.trace.graph.nodes[node]["call"]
        self._where = node
        return self._map(call.outputs)

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
            raise Unreplayable(
                self._where,
                f"uses the variable {item.path!r} outside any layer; a Functional model holds "
                "weights only in layers (move it into a layer)",
            )
        if not (isinstance(item, keras.KerasTensor) or keras.ops.is_tensor(item)):
            return item
        found = self.env.get(id(item))
        if found is not None:
            return found
        if isinstance(item, keras.KerasTensor):
            return self._from_history(item)
        if isinstance(item, tf.Tensor) and hasattr(item, "op"):
            return self._from_graph(item)
        raise Unreplayable(self._where, "takes a concrete tensor that no recorded call produced")

    def _from_history(self, tensor: keras.KerasTensor) -> Any:
        """A KerasTensor no recorded call returned: Keras's identity plumbing hands one on."""
        operation, node_index, _ = keras_history(tensor)
        if is_identity_keras_op(operation):
            return self._value(node_arguments(operation, node_index)[0])
        raise Unreplayable(self._where, f"takes a tensor from {operation.name!r}, which was not recorded")

    def _from_graph(self, tensor: tf.Tensor) -> Any:
        op = tensor.op
        kind = role(op.type)
        if kind is Role.PLUMBING:
            index = tensor.value_index if op.type == "IdentityN" else 0
            return self._value(op.inputs[index])
        if kind is Role.CAPTURE:
            for external, internal in getattr(tensor.graph, "captures", ()):
                if internal is tensor:
                    return self._value(external)
            raise Unreplayable(self._where, "takes a loop variable of a `while` loop")
        static = tf.get_static_value(tensor)
        if static is not None:
            return np.asarray(static)
        name = self._tf_nodes.get(id(op), op_name(op.type))
        if kind is Role.CONTROL:
            raise Unreplayable(
                self._where,
                f"takes the result of {name!r} (tf op {op.type}): data-dependent control flow "
                "has no Functional form",
            )
        if kind is Role.VARIABLE:
            raise Unreplayable(
                self._where,
                f"reads a variable outside any layer (tf op {op.name}); a Functional model holds "
                "weights only in layers (move it into a layer)",
            )
        outputs = self._ops.get(id(op))
        if outputs is None:
            outputs = self._ops[id(op)] = self._tf_op(op, name)
        return outputs[tensor.value_index]

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
            if isinstance(value, np.ndarray):
                return _op_layers.constant(value)
            inputs.append(value)
            return {"tensor": len(inputs) - 1}

        arguments = [
            [argument(t) for t in group] if isinstance(group, list) else argument(group)
            for group in _op_layers.group_inputs(op)
        ]
        # Keras names hold no '/': the op node "encoder/relu#1" becomes layer "encoder.relu_1".
        layer_name = uniquify_name(name.replace("/", ".").replace("#", "_"))
        layer = _op_layers.TFOp(op.type, arguments, attrs, name=layer_name)
        result = layer(inputs)
        return list(result) if isinstance(result, (list, tuple)) else [result]
