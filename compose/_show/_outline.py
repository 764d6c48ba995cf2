"""What a trace looks like when shown: its nodes nested in the container calls that ran them.

`summary` walks this outline as indented rows and `plot` as nested clusters, so both show the
same things in the same order. The outline is built from `Trace.view(depth)`; what the view
cannot place by itself is placed here:

- unreached layers have no call, hence no scope: they go under the first call of their parent
  container, or under a "not reached" item for a container that was never called at all;
- an unreached layer deeper than ``depth`` folds into its ancestor at ``depth`` (counted on it
  when that ancestor ran, shown as one unreached item when it did not);
- each problem goes to the deepest shown item on its path, or to the model itself;
- a run of identical chained containers (`find_repeats`) is one item ``path ×N`` of kind
  ``"repeat"`` unless ``roll_up=False``: its members' nodes are merged in the view, as a
  collapsed container's are, and what happened inside any member is counted on it.
"""

from __future__ import annotations

from typing import Any

import attrs
import networkx as nx

from .._blocks import TensorSpec
from .._trace import Node, Problem, Trace, keras_name_beside, subtree_params, trace
from ._repeats import Repeat, find_repeats


def as_trace(model_or_trace: Any, inputs: tuple[Any, ...], call_kwargs: dict[str, Any]) -> Trace:
    """The given `Trace`, or the trace of the given model with these inputs."""
    if isinstance(model_or_trace, Trace):
        if inputs or call_kwargs:
            raise TypeError(
                "inputs and call keywords are for tracing a model; this is already a Trace. "
                "Pass the model instead, or leave the inputs out."
            )
        return model_or_trace
    return trace(model_or_trace, *inputs, **call_kwargs)


@attrs.define(eq=False)
class Item:
    """One shown thing: a graph node, a container call holding others, or an unreached layer.

    Attributes:
        id: the view's node id or the container's call id (``"block#1"``); for a layer or
            container that never ran, its hierarchy path.
        kind: ``"container"``, ``"repeat"`` (a rolled-up run) or the node's kind (``"input"``,
            ``"output"``, ``"layer"``, ``"op"``, ``"unreached"``).
        data: the node's attributes (as in `Trace.graph`), or the container's.
        children: the items inside a container, in call order, unreached ones last.
        params: weights shown for it: the layer's own, or the whole subtree of a container.
        collapsed: a container shown as one node, its inside merged by `Trace.view`.
        first_call: ``False`` for the second and later calls of a layer shown earlier.
        hidden_unreached: unreached layers folded into this collapsed container.
        problems: problems that happened in it (and not deeper in something shown).
    """

    id: str
    kind: str
    data: dict[str, Any]
    children: list[Item] = attrs.Factory(list)
    params: int = 0
    collapsed: bool = False
    first_call: bool = True
    hidden_unreached: int = 0
    problems: list[Problem] = attrs.Factory(list)

    ran: bool = True

    @property
    def reached(self) -> bool:
        return self.kind != "unreached" and self.ran

    @property
    def name(self) -> str:
        """The id relative to the enclosing container: ``"dense#1"`` inside ``block#1``."""
        parent = self.data.get("parent")
        if parent and self.id.startswith(parent + "/"):
            return self.id[len(parent) + 1 :]
        return self.id

    @property
    def keras_name(self) -> str | None:
        """The layer's Keras name where it differs from its path's last segment (``head``
        holding ``dense_3``), for views to show beside the path; else None."""
        if self.kind == "repeat":
            return None
        return keras_name_beside(self.data["path"], self.data.get("layer"))


@attrs.define(eq=False)
class Outline:
    """The items of a trace at one depth.

    Attributes:
        trace: the `Trace` shown.
        view: ``trace.view(depth)``; its edges connect the ids of the non-container items.
        roots: the items directly in the model, in call order.
        problems: problems that happened in the model's own ``call``, outside any shown item.
    """

    trace: Trace
    view: nx.MultiDiGraph
    roots: list[Item]
    problems: list[Problem]

    def walk(self) -> list[tuple[int, Item]]:
        """Every item with its nesting level (0 for the roots), depth first, in order."""
        out: list[tuple[int, Item]] = []
        stack = [(0, item) for item in reversed(self.roots)]
        while stack:
            level, item = stack.pop()
            out.append((level, item))
            stack.extend((level + 1, child) for child in reversed(item.children))
        return out


def nesting_depth(depth: int | None, expand_nested: bool | None) -> int | None:
    """The depth to show, from ours and Keras's keyword: ``expand_nested=False`` is Keras's
    "nested models as one row/box", that is depth 1; ``True`` or unset leaves ``depth`` alone.

    Raises:
        ValueError: ``expand_nested=False`` with a depth other than 1 (they contradict).
    """
    if expand_nested is False:
        if depth not in (None, 1):
            raise ValueError(
                f"expand_nested=False shows nested containers as one row each, which is depth=1; "
                f"it contradicts depth={depth}. Pass one of the two."
            )
        return 1
    return depth


def outline(result: Trace, depth: int | None = None, roll_up: bool = True) -> Outline:
    """The `Outline` of ``result`` with everything deeper than ``depth`` collapsed, and runs of
    identical chained containers rolled up unless ``roll_up`` is false."""
    containers: dict[str, dict[str, Any]] = result.graph.graph.get("containers", {})
    view = result.view(depth)
    rolled: dict[str, Item] = {}
    if roll_up and containers:
        view, rolled = _roll_up(result, view, find_repeats(result))
    totals = subtree_params(result.hierarchy)
    roots: list[Item] = []
    calls: dict[str, Item] = {}
    by_path: dict[str, Item] = {}

    def siblings(scope: str | None) -> list[Item]:
        return container(scope).children if scope is not None else roots

    def container(call_id: str) -> Item:
        if call_id not in calls:
            data = containers[call_id]
            item = Item(call_id, "container", data, params=totals.get(data["path"], 0))
            siblings(data.get("scope")).append(item)
            calls[call_id] = item
            item.first_call = by_path.setdefault(data["path"], item) is item
        return calls[call_id]

    unreached: list[tuple[str, dict[str, Any]]] = []
    for node, data in view.nodes(data=True):
        if data["kind"] == "unreached":
            unreached.append((node, data))
            continue
        item = rolled.get(node) or Item(node, data["kind"], data, params=data.get("params", 0),
                                        collapsed=node in containers)
        siblings(data.get("scope")).append(item)
        if item.kind == "repeat":
            by_path.update(dict.fromkeys(data["paths"], item))
        elif data["kind"] == "layer":
            item.first_call = by_path.setdefault(data["path"], item) is item

    def place(item: Item, parent: str | None) -> None:
        if not parent:
            roots.append(item)
            return
        if parent not in by_path:
            # A container that never ran: shown so its unreached layers keep their nesting.
            holder = Item(parent, "container", _hierarchy_data(result, parent),
                          params=totals.get(parent, 0), ran=False)
            by_path[parent] = holder
            place(holder, holder.data["parent"])
        by_path[parent].children.append(item)

    for node, data in unreached:
        shown = _truncate(data["path"], depth)
        if shown == data["path"]:
            item = Item(node, "unreached", data, params=data.get("params", 0))
            by_path.setdefault(data["path"], item)
            place(item, data.get("parent"))
        elif shown in by_path:
            by_path[shown].hidden_unreached += 1
        else:
            item = Item(shown, "unreached", _hierarchy_data(result, shown), params=totals.get(shown, 0))
            by_path[shown] = item
            place(item, item.data["parent"])

    model_problems: list[Problem] = []
    for problem in result.coverage.problems:
        holder = _deepest_shown(problem.path, by_path)
        (holder.problems if holder is not None else model_problems).append(problem)
    return Outline(result, view, roots, model_problems)


def _roll_up(result: Trace, view: nx.MultiDiGraph, repeats: tuple[Repeat, ...]) -> tuple[nx.MultiDiGraph, dict[str, Item]]:
    """``view`` with the nodes of each shown run merged into one node (its id the run's label),
    and the `Item` of each such node."""
    containers = result.graph.graph["containers"]
    owner: dict[str, Repeat] = {}  # view node -> the run it is merged into
    for repeat in repeats:
        members = set(repeat.paths)
        inside = [node for node, scope in view.nodes(data="scope") if node in members or members & set(_calls(scope, containers))]
        # A run inside a member of a run rolled up already is hidden in it; one deeper than the
        # depth shown is inside a collapsed node.
        if inside and not any(node in owner for node in inside):
            owner.update(dict.fromkeys(inside, repeat))
    runs = list(dict.fromkeys(owner.values()))
    for node, data in view.nodes(data=True):
        # An unreached layer has no call, hence no scope: its path says which member holds it.
        run = next((r for r in runs if _under(data["path"], r.paths)), None) if data["kind"] == "unreached" else None
        if run is not None:
            owner[node] = run
    if not owner:
        return view, {}
    totals = subtree_params(result.hierarchy)
    items: dict[str, Item] = {}
    merged = nx.MultiDiGraph()
    for node, data in view.nodes(data=True):
        repeat = owner.get(node)
        if repeat is None:
            merged.add_node(node, **data)
        elif repeat.label not in merged:
            first, last = containers[repeat.paths[0]], containers[repeat.paths[-1]]
            merged.add_node(repeat.label, **dict(
                first, kind="repeat", path=repeat.label, paths=repeat.paths, count=repeat.count,
                output_specs=last["output_specs"], params=sum(totals[path] for path in repeat.paths)))
            items[repeat.label] = Item(repeat.label, "repeat", merged.nodes[repeat.label],
                                       params=merged.nodes[repeat.label]["params"], collapsed=True)
        if repeat is not None and data["kind"] == "unreached":
            items[repeat.label].hidden_unreached += 1
    for source, dest, data in view.edges(data=True):
        source = owner[source].label if source in owner else source
        dest = owner[dest].label if dest in owner else dest
        if source != dest:
            merged.add_edge(source, dest, **data)
    return merged, items


def _calls(scope: str | None, containers: dict[str, dict[str, Any]]) -> list[str]:
    """The container calls around a node, innermost first."""
    chain = []
    while scope is not None:
        chain.append(scope)
        scope = containers[scope]["scope"]
    return chain


def _under(path: str, paths: tuple[str, ...]) -> bool:
    return any(path.startswith(member + "/") for member in paths)


def regions_text(result: Any) -> str:
    """Which containers another strategy traced: ``"; blocks.3 by the graph strategy; peeks by
    the eager strategy, one run"``, or ``""``."""
    paths: dict[str, list[str]] = {}
    for region in result.regions:
        paths.setdefault(region.name, []).append(region.path)
    # An eager region shows the path one run took, not every input's.
    return "".join(
        f"; {', '.join(where)} by the {name} strategy" + (", one run" if name == "eager" else "")
        for name, where in paths.items()
    )


def coverage_line(result: Trace) -> str:
    """The coverage sentence and how the trace was made, as the plot's title and the viewer's
    header show it: ``"2/2 layers reached, 4 exact and 0 inferred edges (symbolic strategy)"``."""
    return f"{result.coverage.sentence(problems=False)} ({result.strategy} strategy{regions_text(result)})"


def shape_text(spec: TensorSpec | None) -> str:
    """How every view prints one tensor's shape; ``?`` for a tensor the tracer could not type
    (unknown rank, an exotic dtype, a TensorArray)."""
    return "?" if spec is None else spec.shape_text()


def _truncate(path: str, depth: int | None) -> str:
    if depth is None:
        return path
    return "/".join(path.split("/")[:depth])


def _deepest_shown(path: str | None, by_path: dict[str, Item]) -> Item | None:
    parts = path.split("/") if path else []
    for end in range(len(parts), 0, -1):
        item = by_path.get("/".join(parts[:end]))
        if item is not None:
            return item
    return None


def _hierarchy_data(result: Trace, path: str) -> dict[str, Any]:
    """The attributes of a layer known only from the hierarchy: one that never ran."""
    node = result.hierarchy.nodes[path]
    parent = next(iter(result.hierarchy.predecessors(path)), "")
    return Node("unreached", path, node["class_name"], layer=node["layer"], parent=parent or None,
                params=node["params"]).attributes()
