"""The symbolic strategy: run ``call`` on KerasTensors, as Keras does to build a Functional model.

Leaf layers make their usual Keras nodes; containers run their own ``call`` on the KerasTensors
(see `_recorder._patched_layer_symbolic`); Keras ops (operators, ``keras.ops``) become op nodes
as they run. Every edge is exact, proven by tensor identity. It stops at the first TensorFlow
function applied to a KerasTensor, the first ``.numpy()`` and the first Python branch on a
tensor's value. Where that happens inside a container, that container alone is traced by the
next strategy that can (a region, see `_regions`) and the symbolic run goes on; where it happens
in the model's own ``call``, the graph strategy takes over the whole model.
"""

from __future__ import annotations

from typing import Any

import keras

from .._blocks import TensorSpec
from ._eager import EagerRecorder
from ._graph import GraphRecorder
from ._inputs import as_symbolic
from ._regions import Regions


class SymbolicRecorder(Regions):
    strategy = "symbolic"
    failures_are_problems = False  # any TensorFlow op stops it; the graph strategy goes on
    records_keras_ops = True
    regions_by = (GraphRecorder, EagerRecorder)

    def stand_in(self, spec: TensorSpec) -> Any:
        return keras.KerasTensor(spec.shape, dtype=spec.dtype)

    def run(self, model: Any, specs: tuple, kwargs: dict) -> Any:
        args = as_symbolic(specs)
        self.add_inputs(args)
        with self.active():
            outputs = model(*args, **kwargs)
        self.add_outputs(outputs)
        return outputs
