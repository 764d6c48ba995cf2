"""Regions: a container the symbolic strategy could not run, traced alone by the next strategy.

Where a container's ``call`` fails on KerasTensors (a TensorFlow op, ``.numpy()``), what it
recorded is taken back and that container alone is traced again, first with the graph strategy
on ``tf.TensorSpec``s made from its symbolic inputs, then, where that fails too, eagerly on
values drawn for those specs. The region's recording continues the outer one (its node ids,
call counts and container stack); its nodes and edges are merged into the outer graph, and its
outputs handed back as KerasTensors of the same specs, so the symbolic run goes on. Edges across
the border are exact: the region's inputs are bound to the nodes that produced the symbolic
tensors they stand for, and its outputs to the region's nodes that produced them.

The graph keeps, under ``graph.graph["stands_for"]``, each ``(tensor, what it stands for)`` pair
across a region's border: a region's input placeholder or value and the outer KerasTensor, an
outer KerasTensor made for a region's output and that output. The replay follows them.

An eager region shows one run: the graph strategy's failure there becomes a note of the trace.
Where every strategy fails on the container, the failure is the outer run's, as before.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import tree

from .._compat import trace_graph
from ._eager import EagerRecorder, open_unknown_dims, opened
from ._graph import GraphRecorder
from ._inputs import as_arrays
from ._locate import user_location
from ._recorder import Mark, Recorder, spec_of, tensors
from ._result import Problem, StrategyRun, reason_of

#: The graph attribute listing ``(tensor, what it stands for)`` across regions' borders.
STANDS_FOR = "stands_for"

#: What an unknown dim of a region's symbolic input becomes in the first eager run, then the second.
_SIZES = (2, 3)


def fall_back(outer: Recorder, mark: Mark, layer: Any, args: tuple, kwargs: dict, error: Exception) -> Any:
    """Record ``layer``'s call, which failed symbolically, as a region; its outputs as
    KerasTensors. Raises ``error`` when no strategy can trace the container alone."""
    outer.rollback(mark)  # to before this call was counted and named: the region does both
    path = outer.tree.path_of(layer, outer.scope_path())
    runs = [StrategyRun(outer.strategy, False, reason_of(error), path=path, location=user_location(error))]
    call = _Call(args, kwargs)
    started: list[Recorder] = []
    try:
        region, outputs, specs = _graph_region(outer, layer, call, started)
    except Exception as graph_error:  # noqa: BLE001 - a failure of user code: try the next
        where = started[-1].failure.path if started and started[-1].failure else path
        note = Problem(where, reason_of(graph_error), user_location(graph_error), GraphRecorder.strategy)
        runs.append(StrategyRun(note.strategy, False, note.reason, path=path, location=note.location))
        try:
            region, outputs, specs = _eager_region(outer, layer, call)
        except Exception:  # noqa: BLE001 - the container fails whatever the strategy
            raise error from None
        outer.notes.append(note)
    symbolic = _merge(outer, region, outputs, specs)
    runs.append(StrategyRun(region.strategy, True, nodes=_nodes_of(region), path=path))
    outer.regions.extend(runs)
    return symbolic


class _Call:
    """A container call's arguments, with the KerasTensors in them replaceable."""

    def __init__(self, args: tuple, kwargs: dict) -> None:
        self.structure = (args, kwargs)
        self.flat = tree.flatten(self.structure)
        self.symbolic = [x for x in self.flat if isinstance(x, keras.KerasTensor)]

    def on(self, values: list[Any]) -> tuple[tuple, dict]:
        """The arguments with each KerasTensor replaced by the next of ``values``."""
        given = iter(values)
        flat = [next(given) if isinstance(x, keras.KerasTensor) else x for x in self.flat]
        return tree.pack_sequence_as(self.structure, flat)


def _continuing(outer: Recorder, strategy: type[Recorder], **options: Any) -> Recorder:
    region = strategy(outer.tree, session=outer.session, **options)
    region.continue_from(outer.seed())
    return region


def _bind_inputs(outer: Recorder, region: Recorder, call: _Call, values: list[Any]) -> None:
    """Each value the region runs on comes from the node that produced its KerasTensor."""
    stands_for = outer.graph.graph.setdefault(STANDS_FOR, [])
    for symbolic, value in zip(call.symbolic, values):
        stands_for.append((value, symbolic))
        found = outer.sources(symbolic)
        if len(found) == 1:
            region.produce(found[0][0], value)
            region.order.setdefault(found[0][0], outer.order[found[0][0]])


def _graph_region(outer: Recorder, layer: Any, call: _Call, started: list[Recorder]) -> tuple[Recorder, Any, list]:
    specs = [tf.TensorSpec(x.shape, x.dtype) for x in call.symbolic]
    region = _continuing(outer, GraphRecorder)
    started.append(region)
    returned: list[Any] = []

    def traced(*values: Any) -> Any:
        _bind_inputs(outer, region, call, list(values))
        args, kwargs = call.on(list(values))
        with region.active():
            returned.append(layer(*args, **kwargs))
        return tensors(returned[0])

    trace_graph(f"{layer.name}_region", traced, specs)  # once: the graph is read, never run
    region.finish()
    return region, returned[0], [spec_of(t) for t in tensors(returned[0])]


def _eager_region(outer: Recorder, layer: Any, call: _Call) -> tuple[Recorder, Any, list]:
    """Run the container on drawn values; where its inputs have unknown dims, twice (as 2, then
    3), and the dims that followed that size are None in the specs, as the eager strategy does."""
    first, outputs = _eager_run(outer, layer, call, _SIZES[0])
    specs = [spec_of(t) for t in tensors(outputs)]
    if any(None in tuple(x.shape) for x in call.symbolic):
        second, again = _eager_run(outer, layer, call, _SIZES[1])
        open_unknown_dims(first, second)
        others = [spec_of(t) for t in tensors(again)]
        if len(others) == len(specs):
            specs = [opened(a, b) for a, b in zip(specs, others)]
    return first, outputs, specs


def _eager_run(outer: Recorder, layer: Any, call: _Call, size: int) -> tuple[Recorder, Any]:
    region = _continuing(outer, EagerRecorder, unknown_size=size)
    values = [tf.convert_to_tensor(v) for v in as_arrays(tuple(call.symbolic), size)]
    snapshot = outer.session.snapshot
    snapshot.save_variables()  # running the container may change them (batch statistics)
    try:
        with region.tape:
            _bind_inputs(outer, region, call, values)
            args, kwargs = call.on(values)
            with region.active():
                outputs = layer(*args, **kwargs)
    finally:
        snapshot.restore_variables()
    region.finish()
    return region, outputs


def _merge(outer: Recorder, region: Recorder, outputs: Any, specs: list) -> Any:
    """Put the region's nodes, edges and containers into ``outer``; its outputs as KerasTensors
    of ``specs``, produced by the region's nodes that produced them."""
    found = [region.sources(t) for t in tensors(outputs)]  # before merging: may name op nodes
    graph = outer.graph
    for node, data in region.graph.nodes(data=True):
        if node not in graph and "kind" in data:
            graph.add_node(node, **data)
            outer.order[node] = region.order[node]
    graph.add_edges_from(region.graph.edges(data=True))
    containers = graph.graph["containers"]
    for key, data in region.graph.graph["containers"].items():
        containers.setdefault(key, data)
    outer.calls, outer._names, outer._seq = region.calls, region._names, region._seq
    made = iter([keras.KerasTensor(spec.shape, dtype=spec.dtype) for spec in specs])
    symbolic = tree.map_structure(lambda x: next(made) if _is_value(x) else x, outputs)
    graph.graph.setdefault(STANDS_FOR, []).extend(
        (new, old) for new, old in zip(tensors(symbolic), tensors(outputs)) if new is not old
    )
    for tensor, sources in zip(tensors(symbolic), found):
        if len(sources) == 1:
            outer.produce(sources[0][0], tensor)
    return symbolic


def _is_value(value: Any) -> bool:
    return keras.ops.is_tensor(value) and not isinstance(value, keras.KerasTensor)


def _nodes_of(region: Recorder) -> tuple[str, ...]:
    return tuple(n for n, strategy in region.graph.nodes(data="strategy") if strategy == region.strategy)
