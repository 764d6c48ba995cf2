"""`plot`: any model as a Graphviz graph, its containers as nested clusters."""

from __future__ import annotations

import os
import textwrap
from typing import Any

import attrs
import pydot

from ._dot import FORMATS, DotGraph, html, quoted, render
from ._outline import Item, Outline, as_trace, coverage_line, nesting_depth, outline, shape_text
from .._trace import Problem

_GREY = '"#9a9a9a"'
_RED = '"#c62828"'
#: Characters per line, and lines, of a problem's reason in the picture; the summary has it all.
_REASON_WIDTH, _REASON_LINES = 48, 3


def plot(
    model_or_trace: Any,
    *inputs: Any,
    to_file: str | os.PathLike[str] | None = None,
    depth: int | None = None,
    show_shapes: bool = True,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool | None = None,
    dpi: int = 96,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    roll_up: bool = True,
    **call_kwargs: Any,
) -> pydot.Dot:
    """Draw any model's dataflow: layers as boxes, nested containers as clusters.

    The keywords are Keras's ``plot_model``'s, with its meanings (docs/showing.md has the
    table), plus ``depth`` and ``roll_up``.

    Args:
        model_or_trace: a Keras model or layer (traced with ``compose.trace(model, *inputs,
            **call_kwargs)``), or a `compose.Trace`.
        *inputs: the model's inputs, taken as `compose.trace` takes them.
        to_file: where to write the picture; the extension picks the format: ``.dot``/``.gv``
            (DOT text, no Graphviz needed), ``.svg``, ``.png``, ``.pdf`` (through Graphviz's
            ``dot`` program).
        depth: draw containers nested deeper than this as one box each (``None``: all open).
        show_shapes: show each node's output shape.
        show_dtype: show each node's output dtype.
        show_layer_names: show layer paths; else only their classes.
        rankdir: Graphviz's direction: ``"TB"`` (top to bottom) or ``"LR"``, ``"BT"``, ``"RL"``.
        expand_nested: ``False`` draws every container in the model as one box (Keras's
            default), which is ``depth=1``; ``True`` or ``None`` opens them down to ``depth``.
        dpi: resolution of ``.png`` output.
        show_layer_activations: add ``Activation: NAME`` to layers that have an ``activation``.
        show_trainable: add ``Trainable`` or ``Non-trainable`` to layers that have weights.
        roll_up: draw a run of identical chained containers (e.g. 24 transformer layers) as one
            box ``path ×N`` with the params of all N; ``False`` draws each.
        **call_kwargs: keyword arguments of the model's ``call`` (``training=``, ...).

    Returns:
        The graph as a ``pydot.Dot`` (its ``to_string()`` is the DOT text). Inferred edges are
        dashed, unreached layers grey and dashed, and problems are written in red on the layer
        (or container, or the graph's title) where they happened.

    Raises:
        ValueError: unknown extension or ``rankdir``, or ``expand_nested=False`` with a depth.
        compose.GraphvizNotFound: a rendered format was asked and ``dot`` is not installed.
        compose.GraphvizError: ``dot`` failed; the error carries its stderr.

    Example:
        >>> import keras, compose
        >>> inputs = keras.Input((3,))
        >>> model = keras.Model(inputs, keras.layers.Dense(2, name="head")(inputs))
        >>> dot = compose.plot(model, to_file="model.dot")
        >>> tuple(n.get_tooltip().strip('"') for n in dot.get_nodes() if n.get_tooltip())
        ('@input (Input)', 'head (Dense)', '@output (Output)')
        >>> from pathlib import Path
        >>> Path("model.dot").read_text().startswith("digraph")
        True
    """
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"rankdir must be one of 'TB', 'LR', 'BT', 'RL', got {rankdir!r}")
    fmt = None
    if to_file is not None:
        extension = os.path.splitext(os.fspath(to_file))[1].lower()
        if extension not in FORMATS:
            raise ValueError(
                f"cannot tell the format of {os.fspath(to_file)!r} from its extension; "
                f"use one of {', '.join(FORMATS)}"
            )
        fmt = FORMATS[extension]
    result = as_trace(model_or_trace, inputs, call_kwargs)
    style = _Style(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    shown = outline(result, nesting_depth(depth, expand_nested), roll_up=roll_up)
    graph = to_dot(shown, style, rankdir=rankdir, dpi=dpi)
    if to_file is not None:
        text = graph.text()
        data = text.encode("utf-8") if fmt is None else render(text, fmt, what=f"{os.fspath(to_file)!r}")
        with open(to_file, "wb") as file:
            file.write(data)
    return graph.to_pydot()


@attrs.frozen
class _Style:
    show_shapes: bool = True
    show_dtype: bool = False
    show_layer_names: bool = True
    show_layer_activations: bool = False
    show_trainable: bool = False


def to_dot(shown: Outline, style: _Style | None = None, *, rankdir: str = "TB", dpi: int = 96) -> DotGraph:
    """The `DotGraph` of an outline: one DOT node per view node or unreached item."""
    style = style or _Style()
    model = shown.trace.model
    title = f"<b>{html(model.name)}</b> <font color=\"#555555\">{html(type(model).__name__)}</font>"
    title += f"<br/><font point-size=\"9\">{html(coverage_line(shown.trace))}</font>"
    title += "".join("<br/>" + row for row in _problem_rows(shown.problems))
    graph = DotGraph(
        graph={"rankdir": rankdir, "dpi": str(int(dpi)), "newrank": "true",
               "fontname": '"Helvetica"', "fontsize": "11", "nodesep": "0.25", "ranksep": "0.3",
               "labelloc": "t", "label": f"<{title}>"},
        node={"shape": "box", "style": '"rounded"', "fontname": '"Helvetica"', "fontsize": "10",
              "margin": '"0.12,0.04"', "height": "0.3"},
        edge={"arrowsize": "0.6", "color": '"#555555"'},
    )
    ids: dict[str, str] = {}

    def add(items: list[Item], cluster: str | None, strategy: str) -> None:
        previous = None
        for item in items:
            if item.kind == "container":
                inside = item.data.get("strategy") or strategy
                add(item.children, graph.add_cluster(_cluster_attrs(item, strategy), cluster), inside)
                continue
            ids[item.id] = graph.add_node(_node_attrs(item, style), cluster)
            # An unreached layer has no edges, so Graphviz would put it on the top rank and
            # stretch its cluster up there; on the rank of the node before it, it stays beside.
            if not item.reached and previous is not None:
                graph.add_same_rank((previous, ids[item.id]), cluster)
            previous = ids[item.id]

    add(shown.roots, None, shown.trace.strategy)
    drawn: dict[tuple[str, str], bool] = {}
    for source, dest, exact in shown.view.edges(data="exact", default=True):
        # Two tensors between the same nodes (mha(x, x)) are one arrow, dashed if either is inferred.
        drawn[source, dest] = drawn.get((source, dest), True) and bool(exact)
    for (source, dest), exact in drawn.items():
        graph.add_edge(ids[source], ids[dest], {} if exact else {"style": "dashed"})
    return graph


def _node_attrs(item: Item, style: _Style) -> dict[str, str]:
    data = item.data
    cls = html(data["class_name"])
    name = html(item.name)
    tooltip = quoted(f"{item.id} ({data['class_name']})")
    if item.kind == "op":
        return {"label": f"<{cls}>", "shape": "ellipse", "fontsize": "8", "height": "0.2",
                "margin": '"0.04,0.02"', "color": '"#777777"', "tooltip": tooltip}
    head = f"<b>{name}</b> <font color=\"#555555\">{cls}</font>" if style.show_layer_names else f"<b>{cls}</b>"
    rows = [head]
    attrs: dict[str, str] = {"tooltip": tooltip}
    if item.kind in ("input", "output"):
        rows = [f"<b>{name}</b>"]
        attrs.update(style='"rounded,filled"', fillcolor='"#e8eef8"', color='"#6a7fa8"')
    rows.extend(_keras_rows(item, style))
    if not item.reached:
        rows.append("<i>not reached</i>")
        attrs.update(style='"rounded,dashed"', color=_GREY, fontcolor=_GREY)
    elif style.show_shapes or style.show_dtype:
        specs = data["input_specs"] if item.kind == "output" else data.get("output_specs", [])
        detail = ", ".join(_spec_text(spec, style) for spec in specs) or "?"
        rows.append(f"<font point-size=\"9\">{html(detail)}</font>")
    if item.collapsed:
        attrs.update(style='"rounded,filled,bold"', fillcolor='"#f3f3f3"')
    if item.hidden_unreached:
        rows.append(f"<font point-size=\"9\" color={_GREY}>{item.hidden_unreached} layer(s) inside not reached</font>")
    if item.problems:
        rows.extend(_problem_rows(item.problems))
        attrs.update(color=_RED, penwidth="2")
    attrs["label"] = "<" + "<br/>".join(rows) + ">"
    return dict(sorted(attrs.items()))


def _keras_rows(item: Item, style: _Style) -> list[str]:
    """The rows Keras's ``show_layer_activations`` and ``show_trainable`` add to a layer's box."""
    layer = item.data.get("layer")
    if layer is None or item.kind in ("input", "output"):
        return []
    rows = []
    activation = getattr(layer, "activation", None)
    if style.show_layer_activations and activation is not None:
        name = getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(activation)
        rows.append(f"<font point-size=\"9\">Activation: {html(name)}</font>")
    if style.show_trainable and layer.weights:
        rows.append(f"<font point-size=\"9\">{'Trainable' if layer.trainable else 'Non-trainable'}</font>")
    return rows


def _spec_text(spec: Any, style: _Style) -> str:
    parts = []
    if style.show_shapes:
        parts.append(shape_text(spec))
    if style.show_dtype and spec is not None and spec.dtype is not None:
        parts.append(str(spec.dtype))
    return " ".join(parts)


def _cluster_attrs(item: Item, outer_strategy: str) -> dict[str, str]:
    label = f"<b>{html(item.id)}</b> <font color=\"#555555\">{html(item.data['class_name'])}</font>"
    attrs = {"label": "", "labeljust": "l", "style": '"rounded"', "color": '"#7a8aa0"',
             "fontsize": "10", "tooltip": quoted(f"{item.id} ({item.data['class_name']})")}
    strategy = item.data.get("strategy")
    if item.reached and strategy and strategy != outer_strategy:
        # A region, traced by another strategy than what holds it: the eager one shows one run.
        label += f" <i>{strategy} strategy{', one run' if strategy == 'eager' else ''}</i>"
        attrs.update(_REGION_STYLES.get(strategy, {}))
    if not item.reached:
        label += " <i>not reached</i>"
        attrs.update(style='"rounded,dashed"', color=_GREY, fontcolor=_GREY)
    if item.problems:
        label += "".join("<br/>" + row for row in _problem_rows(item.problems))
        attrs.update(color=_RED, penwidth="2")
    attrs["label"] = f"<{label}>"
    return attrs


#: How a region's cluster looks, by the strategy that traced it.
_REGION_STYLES = {
    "graph": {"style": '"rounded,bold"', "color": '"#2e6da4"'},
    "eager": {"style": '"rounded,bold,dashed"', "color": '"#b26a00"'},
}


def _problem_rows(problems: list[Problem]) -> list[str]:
    rows = []
    for problem in problems:
        text = problem.reason + (f" ({problem.shown_location})" if problem.location else "")
        lines = textwrap.wrap(text, _REASON_WIDTH, max_lines=_REASON_LINES, placeholder=" ...") or [""]
        rows.append(f"<font point-size=\"9\" color={_RED}>" + "<br/>".join(html(line) for line in lines) + "</font>")
    return rows
