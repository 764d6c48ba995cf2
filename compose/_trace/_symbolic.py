"""The symbolic strategy: run ``call`` on KerasTensors, as Keras does to build a Functional model.

Leaf layers make their usual Keras nodes; containers run their own ``call`` on the KerasTensors
(see `_recorder._patched_layer_symbolic`); Keras ops (operators, ``keras.ops``) become op nodes
as they run. Every edge is exact, proven by tensor identity. It stops at the first TensorFlow
function applied to a KerasTensor, the first ``.numpy()``, the first Python branch on a
tensor's value and the first Keras loop (``keras.ops.while_loop``, ``scan``...: Keras gives its
result's spec without running its functions, so their layer calls would go unseen). Where that
happens inside a container, that container alone is traced by the next strategy that can (a
region, see `_regions`) and the symbolic run goes on; where it happens in the model's own
``call``, the graph strategy takes over the whole model.

It also stops at a Keras op given an unknown dim (`UnknownDim`): ``B = ops.shape(x)[0]`` is
None on a KerasTensor, so ``ops.reshape(x, (B, -1, C))`` makes an op holding the target
``(None, -1, C)``. Keras accepts it (the output's batch dim is unknown too), but the recorded op
would hold that None for good, and no run can reshape to it: the model computes the dim when it
runs, the record would not. The graph strategy records what the model does there, exactly:
``ops.shape`` of a graph tensor is ``tf.shape`` for the unknown dims, and the Shape, StridedSlice
and Pack ops computing the target are recorded and replayed as ops. Recomputing the dim from the
symbolic record instead (in the replay) would be a guess: the None does not say which tensor's
dim it was, nor which axis.
"""

from __future__ import annotations

from typing import Any

import keras

from .._blocks import TensorSpec
from ._eager import EagerRecorder
from ._graph import GraphRecorder
from ._inputs import as_symbolic
from ._ops import keras_op_name
from ._regions import Regions
from ._result import Call


class UnknownDim(ValueError):
    """A Keras op was given None for a dim the model computes when it runs (see the module)."""


class SymbolicRecorder(Regions):
    strategy = "symbolic"
    failures_are_problems = False  # any TensorFlow op stops it; the graph strategy goes on
    records_keras_ops = True
    regions_by = (GraphRecorder, EagerRecorder)

    def stand_in(self, spec: TensorSpec) -> Any:
        return keras.KerasTensor(spec.shape, dtype=spec.dtype)

    def add_op(self, name: str, inputs: list[Any], outputs: list[Any], call: Call | None = None) -> str:
        given = _unknown_dim(call.operation) if call is not None else None
        if given is not None:
            attribute, value = given
            raise UnknownDim(
                f"keras.ops.{keras_op_name(call.operation)} is given an unknown dim: {attribute}={value!r} "
                "(ops.shape of a KerasTensor gives None where the model has a size when it runs); "
                "the graph strategy records how the model computes it"
            )
        return super().add_op(name, inputs, outputs, call)

    def run(self, model: Any, specs: tuple, kwargs: dict) -> Any:
        args = as_symbolic(specs)
        self.add_inputs(args)
        with self.active():
            outputs = model(*args, **kwargs)
        self.add_outputs(outputs)
        return outputs


def _unknown_dim(operation: Any) -> tuple[str, Any] | None:
    """The attribute of a Keras op (what it runs with: ``Reshape.newshape``, ``BroadcastTo.shape``)
    that is a sequence holding None, with its value, or None. A None alone in an op's attribute
    means "not given" (``axis=None``); inside a sequence of sizes it is a dim nobody knows."""
    for attribute, value in vars(operation).items():
        if not attribute.startswith("_") and isinstance(value, (tuple, list)) and _holds_none(value):
            return attribute, value
    return None


def _holds_none(value: Any) -> bool:
    return any(v is None or isinstance(v, (tuple, list)) and _holds_none(v) for v in value)
