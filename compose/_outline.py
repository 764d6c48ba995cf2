"""What a trace looks like when shown: its nodes nested in the container calls that ran them.

`summary` walks this outline as indented rows and `plot` as nested clusters, so both show the
same things in the same order. The outline is built from `Trace.view(depth)`; what the view
cannot place by itself is placed here:

- unreached layers have no call, hence no scope: they go under the first call of their parent
  container, or under a "not reached" item for a container that was never called at all;
- an unreached layer deeper than ``depth`` folds into its ancestor at ``depth`` (counted on it
  when that ancestor ran, shown as one unreached item when it did not);
- each problem goes to the deepest shown item on its path, or to the model itself.
"""

from __future__ import annotations

from typing import Any

import attrs
import networkx as nx

from ._trace import Problem, Trace, trace


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
        kind: ``"container"`` or the node's kind (``"input"``, ``"output"``, ``"layer"``,
            ``"op"``, ``"unreached"``).
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

    @property
    def reached(self) -> bool:
        return self.kind != "unreached" and self.data.get("reached", True)

    @property
    def name(self) -> str:
        """The id relative to the enclosing container: ``"dense#1"`` inside ``block#1``."""
        parent = self.data.get("parent")
        if parent and self.id.startswith(parent + "/"):
            return self.id[len(parent) + 1 :]
        return self.id


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


def outline(result: Trace, depth: int | None = None) -> Outline:
    """The `Outline` of ``result`` with everything deeper than ``depth`` collapsed."""
    view = result.view(depth)
    containers: dict[str, dict[str, Any]] = result.graph.graph.get("containers", {})
    totals = _subtree_params(result.hierarchy)
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
        item = Item(node, data["kind"], data, params=data.get("params", 0), collapsed=node in containers)
        siblings(data.get("scope")).append(item)
        if data["kind"] == "layer":
            item.first_call = by_path.setdefault(data["path"], item) is item

    def place(item: Item, parent: str | None) -> None:
        if not parent:
            roots.append(item)
            return
        if parent not in by_path:
            # A container that never ran: shown so its unreached layers keep their nesting.
            holder = Item(parent, "container", _hierarchy_data(result, parent, reached=False),
                          params=totals.get(parent, 0))
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
            item = Item(shown, "unreached", _hierarchy_data(result, shown, reached=False),
                        params=totals.get(shown, 0))
            by_path[shown] = item
            place(item, item.data["parent"])

    model_problems: list[Problem] = []
    for problem in result.coverage.problems:
        holder = _deepest_shown(problem.path, by_path)
        (holder.problems if holder is not None else model_problems).append(problem)
    return Outline(result, view, roots, model_problems)


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


def _hierarchy_data(result: Trace, path: str, *, reached: bool) -> dict[str, Any]:
    """Attributes, shaped like a graph node's, of a layer known only from the hierarchy."""
    node = result.hierarchy.nodes[path]
    parent = next(iter(result.hierarchy.predecessors(path)), "")
    return {
        "kind": "unreached", "path": path, "layer": node["layer"], "class_name": node["class_name"],
        "parent": parent or None, "scope": None,
        "input_specs": [], "output_specs": [], "params": node["params"], "reached": reached,
    }


def _subtree_params(hierarchy: nx.DiGraph) -> dict[str, int]:
    """Weights held in each layer's subtree, computed bottom-up in one pass."""
    totals: dict[str, int] = {}
    for path in reversed(list(nx.topological_sort(hierarchy))):
        totals[path] = hierarchy.nodes[path]["params"] + sum(totals[c] for c in hierarchy.successors(path))
    return totals
