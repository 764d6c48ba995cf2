"""The eager strategy: run the model on concrete inputs and record the calls as they happen.

It goes where graphs cannot: ``.numpy()``, Python decisions on tensor values, recursion driven by
data. An input that is the very tensor a recorded call returned gives an exact edge. Otherwise
the computation in between was not seen; a gradient tape tells which recorded tensors the input
depends on, and an edge is inferred (``exact=False``) from each of those that does not already
reach it through another recorded layer. Integer-only paths leave no gradient, so no edge is
claimed for them. Variables are restored afterwards: running may update them (batch statistics,
seed generators).
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import tensorflow as tf

from ._inputs import as_arrays
from ._recorder import Recorder


class EagerRecorder(Recorder):
    strategy = "eager"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.tape = tf.GradientTape(persistent=True, watch_accessed_variables=False)
        self._watched: list[tuple[str, Any]] = []

    def produce(self, node: str, tensor: Any) -> None:
        super().produce(node, tensor)
        if isinstance(tensor, tf.Tensor) and tensor.dtype.is_floating:
            self.tape.watch(tensor)
            self._watched.append((node, tensor))

    def run(self, model: Any, specs: tuple, kwargs: dict) -> Any:
        args = as_arrays(specs)
        args = tf.nest.map_structure(tf.convert_to_tensor, args)
        with self.tape:
            self.add_inputs(args)
            with self.active():
                outputs = model(*args, **kwargs)
        self.add_outputs(outputs)
        return outputs

    def sources(self, tensor: Any) -> list[tuple[str, bool]]:
        found = super().sources(tensor)
        if found or not isinstance(tensor, tf.Tensor) or not tensor.dtype.is_floating:
            return found
        candidates = [t for _, t in self._watched]
        if not candidates:
            return []
        gradients = self.tape.gradient(
            tensor, candidates, unconnected_gradients=tf.UnconnectedGradients.NONE
        )
        depends = list(dict.fromkeys(n for (n, _), g in zip(self._watched, gradients) if g is not None))
        # Keep only the nearest: a node that reaches another dependency through recorded edges
        # feeds the tensor through that one, as far as this strategy can tell.
        direct = [n for n in depends if not any(n in nx.ancestors(self.graph, m) for m in depends if m != n)]
        return [(n, False) for n in direct]
