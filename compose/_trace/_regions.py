"""Regions: a container one strategy could not run, traced alone by the next strategy that can.

The symbolic and the graph strategies record containers so (`Regions`). Where a container's
``call`` fails on KerasTensors (a TensorFlow op, ``.numpy()``) or in the graph being traced
(``.numpy()``, ``float()`` of a tensor), what it recorded is taken back and that container alone
is traced again by the strategies the outer one names (`Regions.regions_by`): inside a symbolic
run, the graph strategy on ``tf.TensorSpec``s made from the container's inputs, then, where that
fails too, the eager one on values drawn for those specs; inside a graph run, the eager one. The
region's recording continues the outer one (its node ids, call counts and container stack); its
nodes and edges are merged into the outer graph, and its outputs handed back as tensors the outer
strategy runs on (`Regions.stand_in`: KerasTensors, or placeholders in the graph being traced,
which is never run), so the outer run goes on. Edges across the border are exact: the edges
from the region's inputs are resolved by the outer recording, from the tensors those inputs
stand for, as any layer input's; its outputs are bound to the region's nodes that produced them.

The graph keeps, under ``graph.graph["stands_for"]``, each ``(tensor, what it stands for)`` pair
across a region's border: a region's input placeholder or value and the outer tensor, an outer
tensor made for a region's output and that output. The replay follows them.

An eager region shows one run: the graph strategy's failure there becomes a note of the trace.
Where every strategy fails on the container, the failure is the outer run's, as before, and the
containers around it do not try it again.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import tree
from keras.layers import Layer

from .._blocks import TensorSpec
from .._compat import eagerly, trace_graph
from ._eager import EagerRecorder, open_unknown_dims, opened
from ._inputs import as_arrays
from ._locate import user_location
from ._recorder import Mark, Recorder, spec_of, tensors
from ._result import Problem, StrategyRun, reason_of

#: The graph attribute listing ``(tensor, what it stands for)`` across regions' borders.
STANDS_FOR = "stands_for"

#: What an unknown dim of a region's input becomes in the first eager run, then the second.
_SIZES = (2, 3)

#: How a region's recording names its k-th input while it runs: a node of no graph, whose edges
#: the outer recording resolves from the tensor that input stands for (see `_merge`).
_BORDER = "@region-input."


class Regions(Recorder):
    """A strategy whose containers it cannot run are traced alone by the strategies after it."""

    #: The strategies that try, in order, a container this one failed on.
    regions_by: tuple[type[Recorder], ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hopeless: list[BaseException] = []  # failures no strategy got past in a container

    def stand_in(self, spec: TensorSpec) -> Any:
        """A tensor of ``spec`` this strategy runs on, standing for a region's output."""
        raise NotImplementedError

    def on_call(self, layer: Layer, args: tuple, kwargs: dict) -> Any:
        if self._in_leaf or layer is self.tree.model or self.session is None or not self.session.regions:
            return super().on_call(layer, args, kwargs)
        if self._seed is not None and len(self.stack) == len(self._seed.stack):
            return super().on_call(layer, args, kwargs)  # a region's own container: its failure is the region's
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


def fall_back(outer: Regions, mark: Mark, layer: Any, args: tuple, kwargs: dict, error: Exception) -> Any:
    """Record ``layer``'s call, which failed in ``outer``, as a region; its outputs as tensors
    ``outer`` runs on. Raises ``error`` when no strategy can trace the container alone."""
    failure = outer.failure  # where it happened: the innermost call it crossed
    outer.rollback(mark)  # to before this call was counted and named: the region does both
    path = outer.tree.path_of(layer, outer.scope_path())
    location = user_location(error)
    runs = [StrategyRun(outer.strategy, False, reason_of(error), path=path, location=location)]
    # Why the region shows what a later strategy saw; the symbolic strategy's stops are expected.
    where = failure.path if failure else path
    notes = [Problem(where, reason_of(error), location, outer.strategy)] if outer.failures_are_problems else []
    call = _Call(args, kwargs)
    for strategy in outer.regions_by:
        started: list[Recorder] = []
        alone = _eager_region if issubclass(strategy, EagerRecorder) else _graph_region
        try:
            region, outputs, specs = alone(outer, strategy, layer, call, started)
        except Exception as err:  # noqa: BLE001 - a failure of user code: try the next
            stopped = started[-1].failure if started else None
            note = Problem(stopped.path if stopped else path, reason_of(err), user_location(err), strategy.strategy)
            runs.append(StrategyRun(strategy.strategy, False, note.reason, path=path, location=note.location))
            notes += [note] if strategy.failures_are_problems else []
            continue
        handed_back = _merge(outer, region, outputs, specs, call)
        runs.append(StrategyRun(region.strategy, True, nodes=_nodes_of(region), path=path))
        # The regions inside this one (a graph region's own eager ones) after it, in call order.
        outer.regions.extend([*runs, *region.regions])
        outer.notes.extend([*notes, *region.notes])
        return handed_back
    outer.failure = failure  # the outer run's, as if no region had been tried
    raise error


class _Call:
    """A container call's arguments, with the symbolic tensors in them replaceable: the outer
    strategy's KerasTensors or graph tensors, which the region runs on its own stand-ins for."""

    def __init__(self, args: tuple, kwargs: dict) -> None:
        self.structure = (args, kwargs)
        self.flat = tree.flatten(self.structure)
        self.symbolic = [x for x in self.flat if _is_symbolic(x)]

    def on(self, values: list[Any]) -> tuple[tuple, dict]:
        """The arguments with each symbolic tensor replaced by the next of ``values``."""
        given = iter(values)
        flat = [next(given) if _is_symbolic(x) else x for x in self.flat]
        return tree.pack_sequence_as(self.structure, flat)

    def specs(self) -> list[tf.TensorSpec]:
        return [tf.TensorSpec(x.shape, x.dtype) for x in self.symbolic]

    def drawn(self, size: int) -> list[Any]:
        """Values for the symbolic tensors; an unknown dim is ``size``."""
        shapes = tuple(keras.KerasTensor(tuple(x.shape), dtype=x.dtype) for x in self.symbolic)
        return [tf.convert_to_tensor(v) for v in as_arrays(shapes, size)]


def _is_symbolic(value: Any) -> bool:
    return isinstance(value, keras.KerasTensor) or isinstance(value, tf.Tensor) and tf.is_symbolic_tensor(value)


def _continuing(outer: Recorder, strategy: type[Recorder], **options: Any) -> Recorder:
    region = strategy(outer.tree, session=outer.session, **options)
    region.continue_from(outer.seed())
    return region


def _bind_inputs(outer: Recorder, region: Recorder, call: _Call, values: list[Any]) -> None:
    """Each value the region runs on comes from a border node, which `_merge` resolves."""
    stands_for = outer.graph.graph.setdefault(STANDS_FOR, [])
    for index, (symbolic, value) in enumerate(zip(call.symbolic, values)):
        stands_for.append((value, symbolic))
        region.produce(f"{_BORDER}{index}", value)
        region.order[f"{_BORDER}{index}"] = (0, index)  # before every node: none is numbered 0


def _graph_region(outer: Recorder, strategy: type[Recorder], layer: Any, call: _Call, started: list[Recorder]) -> tuple[Recorder, Any, list]:
    region = _continuing(outer, strategy)
    started.append(region)
    returned: list[Any] = []

    def traced(*values: Any) -> Any:
        _bind_inputs(outer, region, call, list(values))
        args, kwargs = call.on(list(values))
        with region.active():
            returned.append(layer(*args, **kwargs))
        return tensors(returned[0])

    trace_graph(f"{layer.name}_region", traced, call.specs())  # once: the graph is read, never run
    region.finish()
    return region, returned[0], [spec_of(t) for t in tensors(returned[0])]


def _eager_region(outer: Recorder, strategy: type[Recorder], layer: Any, call: _Call, started: list[Recorder]) -> tuple[Recorder, Any, list]:
    """Run the container on drawn values; where its inputs have unknown dims, twice (as 2, then
    3), and the dims that followed that size are None in the specs, as the eager strategy does.
    Eagerly also inside a graph being traced: the values are the region's, not the graph's."""
    with eagerly():
        first, outputs = _eager_run(outer, strategy, layer, call, _SIZES[0], started)
        specs = [spec_of(t) for t in tensors(outputs)]
        if any(None in tuple(x.shape) for x in call.symbolic):
            second, again = _eager_run(outer, strategy, layer, call, _SIZES[1], started)
            open_unknown_dims(first, second)
            others = [spec_of(t) for t in tensors(again)]
            if len(others) == len(specs):
                specs = [opened(a, b) for a, b in zip(specs, others)]
    return first, outputs, specs


def _eager_run(outer: Recorder, strategy: type[Recorder], layer: Any, call: _Call, size: int, started: list[Recorder]) -> tuple[Recorder, Any]:
    region = _continuing(outer, strategy, unknown_size=size)
    started.append(region)
    values = call.drawn(size)
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


def _merge(outer: Regions, region: Recorder, outputs: Any, specs: list, call: _Call) -> Any:
    """Put the region's nodes, edges and containers into ``outer``; its outputs as ``outer``'s
    stand-ins of ``specs``, produced by the region's nodes that produced them."""
    found = [region.sources(t) for t in tensors(outputs)]  # before merging: may name op nodes
    graph = outer.graph
    for node, data in region.graph.nodes(data=True):
        if "kind" in data:  # not a border node
            graph.add_node(node, **data)
            outer.order[node] = region.order[node]
    borders = {f"{_BORDER}{index}": symbolic for index, symbolic in enumerate(call.symbolic)}
    for source, dest, data in region.graph.edges(data=True):
        if source in borders:
            # From what the input stands for, resolved with the outer recording's other edges.
            outer.connect(dest, [borders[source]], exact=data["exact"])
        else:
            graph.add_edge(source, dest, **data)
    containers = graph.graph["containers"]
    for key, data in region.graph.graph["containers"].items():
        containers.setdefault(key, data)
    graph.graph.setdefault(STANDS_FOR, []).extend(region.graph.graph.get(STANDS_FOR, ()))  # regions inside
    outer.calls, outer._names, outer._seq = region.calls, region._names, region._seq
    replaced: dict[int, Any] = {}
    for output, sources, spec in zip(tensors(outputs), found, specs):
        source, exact = sources[0] if len(sources) == 1 else (None, False)
        if exact and source in borders:
            replaced[id(output)] = borders[source]  # an input handed on unchanged: that input
            continue
        replaced[id(output)] = stand_in = outer.stand_in(spec)
        graph.graph[STANDS_FOR].append((stand_in, output))
        if source is not None:
            outer.produce(source, stand_in)
    return tree.pack_sequence_as(outputs, [replaced.get(id(x), x) for x in tree.flatten(outputs)])


def _nodes_of(region: Recorder) -> tuple[str, ...]:
    return tuple(n for n, strategy in region.graph.nodes(data="strategy") if strategy == region.strategy)
