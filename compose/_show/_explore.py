"""`explore`: any trace as one self-contained, interactive HTML page.

The page holds the trace as JSON (in a ``<script type="application/json">``), the layout library
(elkjs, vendored in ``assets/`` with its license) and a small viewer script of our own that lays
the visible part of the graph out with elkjs and draws it as SVG. Nothing is fetched when the
page opens. Every user-supplied string (layer names, paths, class names, problem texts) travels
only inside that JSON and reaches the page through ``textContent`` or ``setAttribute``, never as
markup.

The page is a pure function of the trace: the same model gives the same bytes (no timestamps; the
viewer's id is a hash of its data).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from importlib import resources
from typing import Any

from ._outline import as_trace, coverage_line, shape_text
from ._repeats import Repeat, find_repeats

#: The vendored elkjs release (see assets/README.md).
ELK_VERSION = "0.12.1"
ELK_NOTICE = (
    f"elkjs {ELK_VERSION}, the Eclipse Layout Kernel for JavaScript. Copyright Kiel University and "
    "others. Distributed under the Eclipse Public License 2.0 (EPL-2.0 OR GPL-3.0-or-later); its "
    "text ships with keras-compose as compose/_show/assets/elk.LICENSE.md."
)
#: Height of the viewer in a notebook cell, in CSS pixels.
NOTEBOOK_HEIGHT = 640


class Explorer:
    """An interactive view of a trace: `html` is the whole page.

    Attributes:
        html: one self-contained HTML document (scripts and styles inline, nothing fetched).
    """

    def __init__(self, html_text: str) -> None:
        self.html = html_text

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the page to ``path`` (UTF-8)."""
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.html)

    def _repr_html_(self) -> str:
        # A sandboxed iframe: the page keeps its own ids, styles and scripts, so several viewers
        # in one notebook cannot meet, and none can reach the notebook.
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
                f'style="width: 100%; height: {NOTEBOOK_HEIGHT}px; border: 1px solid #ddd"></iframe>')

    def __repr__(self) -> str:
        return f"<Explorer: {len(self.html)} characters of HTML>"


def explore(
    model_or_trace: Any,
    *inputs: Any,
    depth: int | None = 1,
    roll_up: bool = True,
    to_file: str | os.PathLike[str] | None = None,
    title: str | None = None,
    **call_kwargs: Any,
) -> Explorer:
    """An interactive, self-contained HTML view of any model's dataflow.

    Containers collapse and expand in place (click them), a search box finds layers by path,
    Keras name or class and opens the containers around them, and hovering a node shows its
    details. Inferred edges are dashed, unreached layers grey and dashed, problems red, as in
    `compose.plot`.

    Args:
        model_or_trace: a Keras model or layer (traced with ``compose.trace(model, *inputs,
            **call_kwargs)``), or a `compose.Trace`.
        *inputs: the model's inputs, taken as `compose.trace` takes them.
        depth: containers nested deeper than this start collapsed (``None``: all open).
        roll_up: show runs of identical chained containers (``find_repeats``) as one node
            ``path ×N`` that unrolls on click; ``False`` shows every member.
        to_file: also write the page there.
        title: the page's title; by default the model's name and class.
        **call_kwargs: keyword arguments of the model's ``call``.

    Returns:
        An `Explorer`: ``.html`` is the page, ``.save(path)`` writes it, and Jupyter shows it.

    Raises:
        ValueError: ``depth`` is less than 1.

    Example:
        >>> import keras
        >>> inputs = keras.Input((3,))
        >>> model = keras.Model(inputs, keras.layers.Dense(2, name="head")(inputs), name="tiny")
        >>> page = explore(model, to_file="tiny.html")
        >>> page.html.startswith("<!DOCTYPE html>")
        True
    """
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be >= 1 (or None for everything open), got {depth}")
    trace = as_trace(model_or_trace, inputs, call_kwargs)
    repeats = find_repeats(trace) if roll_up else ()
    data = describe(trace, depth, repeats)
    if title is None:
        title = f"{trace.model.name} ({type(trace.model).__name__})"
    page = Explorer(render_page(data, title))
    if to_file is not None:
        page.save(to_file)
    return page


def render_page(data: dict[str, Any], title: str) -> str:
    """The page for ``data`` (from `describe`): the template with its parts filled in, in one
    pass, so that no inserted text is ever read as a placeholder."""
    payload = json_for_script(data)
    parts = {
        "TITLE": html.escape(title),
        "ID": "cx-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12],
        "STYLE": _asset("explore.css"),
        "ELK_NOTICE": ELK_NOTICE,
        "ELK": _asset("elk.bundled.js"),
        "DATA": payload,
        "VIEWER": _asset("explore.js"),
    }
    return re.sub(r"@@(\w+)@@", lambda match: parts[match.group(1)], _asset("explore.html"))


def json_for_script(data: Any) -> str:
    """``data`` as JSON that can sit inside ``<script>``: no ``<``, ``>`` or ``&`` (so no
    ``</script>`` or ``<!--``), and no U+2028/U+2029 (ensure_ascii escapes every non-ASCII)."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def describe(trace: Any, depth: int | None, repeats: tuple[Repeat, ...] = ()) -> dict[str, Any]:
    """The JSON-ready description of ``trace`` the viewer draws.

    ``items`` lists every graph node, every container call (and unreached container) and every
    rolled-up run, parents before children, in call order; ``parent`` is an index into ``items``
    (``-1``: the model itself). ``edges`` are ``[source, dest, exact]`` between item indices, one
    per tensor. ``open`` says whether a group starts expanded.
    """
    return _Describer(trace, depth, repeats).run()


class _Describer:
    def __init__(self, trace: Any, depth: int | None, repeats: tuple[Repeat, ...]) -> None:
        self.trace, self.depth = trace, depth
        self.containers: dict[str, dict[str, Any]] = trace.graph.graph["containers"]
        self.items: list[dict[str, Any]] = []
        self.index: dict[str, int] = {}  # item key -> position in items
        self.run_of = {path: repeat for repeat in repeats for path in repeat.paths}
        self.problems = self._problems_by_key()

    def run(self) -> dict[str, Any]:
        for node, data in self.trace.graph.nodes(data=True):
            parent = self._group(self._parent_key(node, data))
            self._add(node, self._node_item(node, data, parent))
        edges = [[self.index[source], self.index[dest], bool(exact)]
                 for source, dest, exact in self.trace.graph.edges(data="exact", default=True)]
        model = self.trace.model
        return {
            "model": {"name": model.name, "cls": type(model).__name__,
                      "params": sum(params for _, params in self.trace.hierarchy.nodes(data="params")),
                      "coverage": coverage_line(self.trace), "problems": self.problems.get("", [])},
            "items": self.items,
            "edges": edges,
        }

    # -- where things sit

    def _parent_key(self, node: str, data: dict[str, Any]) -> str:
        """The key of the group holding a graph node: its container call, or for an unreached
        layer (which has no call) the container its path names."""
        if data["scope"] is not None:
            return data["scope"]
        if data["kind"] == "unreached" and data["parent"] is not None:
            return self._path_key(data["parent"])
        return ""

    def _path_key(self, path: str) -> str:
        """A container path's group: its first call, or an unreached group of its own."""
        return path if path in self.containers else "unreached:" + path

    def _group(self, key: str) -> int:
        """The item index of the group ``key`` (``""``: the model, -1), added with its
        ancestors the first time it is met, so that parents come before children."""
        if key == "":
            return -1
        if key not in self.index:
            if key.startswith("unreached:"):
                path = key[len("unreached:"):]
                parent = self._group(self._path_key(_parent_path(self.trace.hierarchy, path)))
                self._add(key, self._unreached_group(path, parent))
            else:
                call = self.containers[key]
                parent = self._group(call["scope"] or "")
                if call["path"] in self.run_of:
                    parent = self._repeat_group(self.run_of[call["path"]], parent)
                self._add(key, self._container_item(key, call, parent))
        return self.index[key]

    def _repeat_group(self, repeat: Repeat, parent: int) -> int:
        key = "repeat:" + repeat.first_path
        if key not in self.index:
            first, last = self.containers[repeat.paths[0]], self.containers[repeat.paths[-1]]
            self._add(key, {
                **self._base(key, repeat.label, "", repeat.class_name, "repeat", parent),
                "in": [shape_text(spec) for spec in first["input_specs"]],
                "out": [shape_text(spec) for spec in last["output_specs"]],
                "dtype": _dtypes(last["output_specs"]),
                "params": sum(self._subtree_params(path) for path in repeat.paths),
                "count": repeat.count, "open": False,
            })
        return self.index[key]

    def _add(self, key: str, item: dict[str, Any]) -> None:
        self.index[key] = len(self.items)
        self.items.append(item)

    # -- what each item says

    def _base(self, key: str, path: str, name: str, cls: str, kind: str, parent: int) -> dict[str, Any]:
        parent_path = self.items[parent]["path"] if parent >= 0 and self.items[parent]["kind"] != "repeat" else None
        if parent >= 0 and parent_path is None:  # inside a run: relative to the run's parent
            grand = self.items[parent]["parent"]
            parent_path = self.items[grand]["path"] if grand >= 0 else None
        label = path[len(parent_path) + 1:] if parent_path and path.startswith(parent_path + "/") else path
        return {"path": path, "label": label, "name": name, "cls": cls, "kind": kind,
                "parent": parent, "problems": self.problems.get(key, []), "reached": True}

    def _node_item(self, node: str, data: dict[str, Any], parent: int) -> dict[str, Any]:
        layer = data.get("layer")
        item = self._base(node, node, layer.name if layer is not None else "", data["class_name"],
                          data["kind"], parent)
        if data["kind"] == "op":
            item["label"] = data["class_name"]
        specs = data["input_specs"] if data["kind"] == "output" else data["output_specs"]
        item.update({
            "in": [shape_text(spec) for spec in data["input_specs"]],
            "out": [shape_text(spec) for spec in data["output_specs"]],
            "dtype": _dtypes(specs),
            "params": data["params"],
            "strategy": data.get("strategy") or "",
            "reached": data["kind"] != "unreached",
        })
        return item

    def _container_item(self, key: str, call: dict[str, Any], parent: int) -> dict[str, Any]:
        layer = call.get("layer")
        item = self._base(key, key, layer.name if layer is not None else "", call["class_name"], "container", parent)
        item.update({
            "in": [shape_text(spec) for spec in call["input_specs"]],
            "out": [shape_text(spec) for spec in call["output_specs"]],
            "dtype": _dtypes(call["output_specs"]),
            "params": self._subtree_params(call["path"]),
            "strategy": call.get("strategy") or "",
            "open": self._starts_open(parent),
        })
        return item

    def _unreached_group(self, path: str, parent: int) -> dict[str, Any]:
        data = self.trace.hierarchy.nodes[path]
        layer = data.get("layer")
        item = self._base("unreached:" + path, path, layer.name if layer is not None else "",
                          data["class_name"], "container", parent)
        item.update({"in": [], "out": [], "dtype": "", "params": self._subtree_params(path),
                     "strategy": "", "reached": False, "open": self._starts_open(parent)})
        return item

    def _starts_open(self, parent: int) -> bool:
        """A group at nesting level L (1: directly in the model; runs do not count) starts open
        when L < depth."""
        level = 1
        while parent >= 0:
            level += self.items[parent]["kind"] != "repeat"
            parent = self.items[parent]["parent"]
        return self.depth is None or level < self.depth

    def _subtree_params(self, path: str) -> int:
        hierarchy = self.trace.hierarchy
        return hierarchy.nodes[path]["params"] + sum(hierarchy.nodes[p]["params"] for p in _descendants(hierarchy, path))

    def _problems_by_key(self) -> dict[str, list[str]]:
        """Each problem's text, under the item of the layer where it happened (``""``: the model):
        the layer's first call, else its container's first call, else the model (a layer the
        final graph does not hold)."""
        keys = {}
        for node, path in self.trace.graph.nodes(data="path"):
            keys.setdefault(path, node)
        for call, data in self.containers.items():
            keys.setdefault(data["path"], call)
        found: dict[str, list[str]] = {}
        coverage = self.trace.coverage
        # Notes (a strategy that was not kept stopped there) are shown where problems are, and
        # say so: the reader sees why the trace shows one run.
        for problem, note in [*((p, False) for p in coverage.problems), *((n, True) for n in coverage.notes)]:
            key = keys.get(problem.path, "") if problem.path is not None else ""
            text = problem.reason + (f" ({problem.shown_location})" if problem.location else "")
            if note:
                text = f"note, the {problem.strategy} strategy stopped: {text}"
            found.setdefault(key, []).append(text)
        return found


def _dtypes(specs: list[Any]) -> str:
    # An untyped tensor (a TensorArray's flow: its spec is None) has no dtype to show.
    return ", ".join(dict.fromkeys(str(spec.dtype) for spec in specs if spec is not None and spec.dtype is not None))


def _parent_path(hierarchy: Any, path: str) -> str:
    return next(iter(hierarchy.predecessors(path)))


def _descendants(hierarchy: Any, path: str) -> list[str]:
    found, todo = [], list(hierarchy.successors(path))
    while todo:
        node = todo.pop()
        found.append(node)
        todo.extend(hierarchy.successors(node))
    return found
