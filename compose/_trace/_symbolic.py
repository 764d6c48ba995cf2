"""The symbolic strategy: run ``call`` on KerasTensors, as Keras does to build a Functional model.

Leaf layers make their usual Keras nodes; containers run their own ``call`` on the KerasTensors
(see `_recorder._patched_layer_symbolic`); Keras ops (operators, ``keras.ops``) become op nodes
as they run. Every edge is exact, proven by tensor identity. It stops at the first TensorFlow
function applied to a KerasTensor, the first ``.numpy()`` and the first Python branch on a
tensor's value; the graph strategy then takes over.
"""

from __future__ import annotations

from typing import Any

from ._inputs import as_symbolic
from ._recorder import Recorder


class SymbolicRecorder(Recorder):
    strategy = "symbolic"
    failures_are_problems = False  # any TensorFlow op stops it; the graph strategy goes on
    records_keras_ops = True

    def run(self, model: Any, specs: tuple, kwargs: dict) -> Any:
        args = as_symbolic(specs)
        self.add_inputs(args)
        with self.active():
            outputs = model(*args, **kwargs)
        self.add_outputs(outputs)
        return outputs
