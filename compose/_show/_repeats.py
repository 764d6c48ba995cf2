"""Runs of identical, chained sibling containers: what summary, plot and explore roll up.

A transformer's 24 encoder layers are one idea repeated; shown one by one they bury the rest of
the model. `find_repeats` finds such runs in a `compose.Trace`, from the trace alone (its graph,
its layer tree and the layers' configs), so that every view rolls up the same runs and labels
them the same way (`Repeat.label`: ``encoder/layers ×24``).

A run is strict, so that rolling it up hides nothing a reader would miss. Its members:

- are containers with the same parent in the layer tree, each called exactly once;
- have the same class, the same config (``get_config()`` without names; a Block's config holds
  its hyperparameters) and the same weight shapes;
- have the same inner graph: the same sequence of node kinds and classes, nested the same way,
  with the same edges between them, and the same layer subtree (unreached layers included);
- are chained: everything one member outputs goes straight into the next one, and the next one
  takes nothing else but what fed the member before it (a shared mask, say).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import attrs

#: The shortest run that is rolled up.
MIN_REPEAT = 3


@attrs.frozen
class Repeat:
    """A run of identical containers, chained one into the next.

    Attributes:
        parent: path of the container holding the run (``""``: the traced model itself).
        class_name: the members' class.
        paths: the members' paths, in call order.
    """

    parent: str
    class_name: str
    paths: tuple[str, ...]

    @property
    def first_path(self) -> str:
        return self.paths[0]

    @property
    def count(self) -> int:
        return len(self.paths)

    @property
    def label(self) -> str:
        """``encoder/layers ×24`` for ``encoder/layers.0`` ... ``encoder/layers.23``.

        The members' common prefix, without a trailing separator; when the members share no name
        beyond their parent's path, the first and last paths.
        """
        prefix = os.path.commonprefix(list(self.paths))
        # layers.10 .. layers.23 share "layers.1": a number cut in two is no prefix.
        while prefix[-1:].isdigit() and any(path[len(prefix):][:1].isdigit() for path in self.paths):
            prefix = prefix[:-1]
        if prefix[-1:] in ("/", ".", "_", "-"):
            prefix = prefix[:-1]
        parent = f"{self.parent}/" if self.parent else ""
        if len(prefix) <= len(parent):
            prefix = f"{self.paths[0]}..{self.paths[-1][len(parent):]}"
        return f"{prefix} ×{self.count}"


def find_repeats(trace: Any, threshold: int = MIN_REPEAT) -> tuple[Repeat, ...]:
    """The runs of at least ``threshold`` identical chained siblings in ``trace``.

    Runs are given parents first (in layer-tree order), and within a parent in call order. A
    member of a run is never itself inside another run's member: a repeat within repeated blocks
    shows once the outer run is unrolled, so it is reported too (its parent is a member's path).

    Example:
        >>> import keras, compose
        >>> model = keras.Sequential([keras.Input((4,))] + [keras.Sequential([keras.layers.Dense(4)], name=f"block_{i}") for i in range(3)])
        >>> [repeat.label for repeat in find_repeats(compose.trace(model))]
        ['block ×3']
    """
    graph = _Graph(trace)
    runs: list[Repeat] = []
    for parent in trace.hierarchy.nodes:
        candidates = [child for child in trace.hierarchy.successors(parent) if graph.is_single_call_container(child)]
        candidates.sort(key=graph.first_position)
        for run in _runs(candidates, graph):
            if len(run) >= threshold:
                runs.append(Repeat(parent, trace.hierarchy.nodes[run[0]]["class_name"], tuple(run)))
    return tuple(runs)


def _runs(candidates: list[str], graph: _Graph) -> Iterator[list[str]]:
    """Maximal runs of consecutive candidates with one signature, each chained into the next."""
    run: list[str] = []
    for path in candidates:
        if run and graph.signature(run[-1]) == graph.signature(path) and graph.chained(run[-1], path):
            run.append(path)
            continue
        if run:
            yield run
        run = [path]
    if run:
        yield run


class _Graph:
    """What `find_repeats` needs to know about a trace, computed once per node."""

    def __init__(self, trace: Any) -> None:
        self.trace = trace
        self.containers: dict[str, dict[str, Any]] = trace.graph.graph["containers"]
        # For every graph node, the container calls around it, innermost first.
        self.scopes: dict[str, tuple[str, ...]] = {node: self._chain(scope) for node, scope in trace.graph.nodes(data="scope")}
        self.order = {node: index for index, node in enumerate(trace.graph.nodes)}
        self._inside: dict[str, list[str]] = {}
        for node in trace.graph.nodes:
            for scope in self.scopes[node]:
                self._inside.setdefault(scope, []).append(node)
        self._signatures: dict[str, tuple] = {}

    def _chain(self, scope: str | None) -> tuple[str, ...]:
        chain = []
        while scope is not None:
            chain.append(scope)
            scope = self.containers[scope]["scope"]
        return tuple(chain)

    def is_single_call_container(self, path: str) -> bool:
        # A container called once has its path as its call id; one called twice is two things.
        data = self.trace.hierarchy.nodes[path]
        return not data["leaf"] and data["calls"] == 1 and path in self._inside

    def first_position(self, call: str) -> int:
        return self.order[self._inside[call][0]]

    def inside(self, call: str) -> list[str]:
        return self._inside[call]

    def signature(self, path: str) -> tuple:
        if path not in self._signatures:
            layer = self.trace.hierarchy.nodes[path]["layer"]
            self._signatures[path] = (type(layer).__name__, _config(layer), _weight_shapes(layer),
                                      self._inner_graph(path), self._subtree(path))
        return self._signatures[path]

    def _inner_graph(self, call: str) -> tuple:
        """The call's inner nodes as (kind, class, nesting, output specs) and its inner edges as
        index pairs."""
        nodes = self.inside(call)
        index = {node: i for i, node in enumerate(nodes)}
        inner_calls = sorted({s for node in nodes for s in self.scopes[node]} - set(self._chain(call)), key=self.first_position)
        call_index = {scope: i for i, scope in enumerate(inner_calls)}
        shape = tuple(
            (data["kind"], data["class_name"], tuple(call_index.get(s, -1) for s in self.scopes[node]),
             tuple(data["output_specs"]))
            for node, data in ((node, self.trace.graph.nodes[node]) for node in nodes)
        )
        edges = sorted(
            (index[source], index[dest], bool(exact))
            for node in nodes
            for source, dest, exact in self.trace.graph.out_edges(node, data="exact", default=True)
            if dest in index
        )
        return shape, tuple(edges)

    def _subtree(self, path: str) -> tuple:
        """The layer tree under ``path``: (depth, class, reached) in definition order."""
        hierarchy = self.trace.hierarchy

        def walk(node: str, depth: int) -> Iterator[tuple[int, str, bool]]:
            for child in hierarchy.successors(node):
                yield depth, hierarchy.nodes[child]["class_name"], hierarchy.nodes[child]["reached"]
                yield from walk(child, depth + 1)

        return tuple(walk(path, 0))

    def chained(self, before: str, after: str) -> bool:
        """Everything ``before`` outputs goes into ``after``, and ``after`` takes nothing else but
        what also fed ``before``."""
        graph = self.trace.graph
        inside_before, inside_after = set(self.inside(before)), set(self.inside(after))
        outputs = {dest for node in inside_before for dest in graph.successors(node)} - inside_before
        if not outputs or not outputs <= inside_after:
            return False
        feeds_before = {source for node in inside_before for source in graph.predecessors(node)} - inside_before
        feeds_after = {source for node in inside_after for source in graph.predecessors(node)} - inside_after
        return feeds_after - inside_before <= feeds_before


#: Config keys that name layers or wire them by name: the inner graph compares the wiring, and
#: names differ between identical blocks (``dense_3`` inside one, ``dense_7`` inside the next).
_NAMING_KEYS = frozenset({"name", "inbound_nodes", "input_layers", "output_layers"})


def _config(layer: Any) -> str | None:
    """The layer's config without names, as canonical JSON; ``None`` when it has none (a
    subclassed layer whose ``__init__`` takes objects), and then the inner graph and the weight
    shapes decide alone."""
    try:
        config = layer.get_config()
    except NotImplementedError:
        return None
    # default=repr: an object in a config compares by its repr, which holds its id when it has
    # no better one, so two configs holding different objects are different.
    return json.dumps(_nameless(config), sort_keys=True, default=repr)


def _nameless(value: Any) -> Any:
    """``value`` (a config) without `_NAMING_KEYS`, at any depth (a Sequential's config holds its
    layers' configs). A dtype policy's name goes too; dtypes are compared in the inner graph."""
    if isinstance(value, dict):
        return {key: _nameless(item) for key, item in value.items() if key not in _NAMING_KEYS}
    if isinstance(value, (list, tuple)):
        return [_nameless(item) for item in value]
    return value


def _weight_shapes(layer: Any) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(weight.shape) for weight in layer.weights)
