"""The symbolic strategy: run ``call`` on KerasTensors, as Keras does to build a Functional model.

Leaf layers make their usual Keras nodes; containers run their own ``call`` on the KerasTensors
(see `_recorder._patched_layer_symbolic`); Keras ops (operators, ``keras.ops``) become op nodes
as they run. Every edge is exact, proven by tensor identity. It stops at the first TensorFlow
function applied to a KerasTensor, the first ``.numpy()``, the first Python branch on a
tensor's value and the first Keras loop (``keras.ops.while_loop``, ``scan``...: Keras gives its
result's spec without running its functions, so their layer calls would go unseen). Where that happens inside a container, that container alone is traced by the
next strategy that can (a region, see `_regions`) and the symbolic run goes on; where it happens
in the model's own ``call``, the graph strategy takes over the whole model.
"""

from __future__ import annotations

from typing import Any

from keras.layers import Layer

from ._inputs import as_symbolic
from ._recorder import Recorder
from ._regions import fall_back


class SymbolicRecorder(Recorder):
    strategy = "symbolic"
    failures_are_problems = False  # any TensorFlow op stops it; the graph strategy goes on
    records_keras_ops = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hopeless: list[BaseException] = []  # failures no strategy got past in a container

    def on_call(self, layer: Layer, args: tuple, kwargs: dict) -> Any:
        if self._in_leaf or layer is self.tree.model or self.session is None or not self.session.regions:
            return super().on_call(layer, args, kwargs)
        self.tree.path_of(layer, self.scope_path())  # known, to ask whether it is a leaf
        if self.tree.leaf(layer):
            return super().on_call(layer, args, kwargs)
        mark = self.mark()
        try:
            return super().on_call(layer, args, kwargs)
        except Exception as err:
            if any(err is e for e in self._hopeless):
                raise  # the container inside that met it tried every strategy already
            try:
                return fall_back(self, mark, layer, args, kwargs, err)
            except Exception:
                self._hopeless.append(err)
                raise

    def run(self, model: Any, specs: tuple, kwargs: dict) -> Any:
        args = as_symbolic(specs)
        self.add_inputs(args)
        with self.active():
            outputs = model(*args, **kwargs)
        self.add_outputs(outputs)
        return outputs
