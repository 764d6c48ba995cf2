"""`summary`: Keras's summary table for any model, with connectivity and an honest coverage line."""

from __future__ import annotations

import io
import re
import textwrap
from typing import Any, Callable, Sequence

import networkx as nx
import rich.console
import rich.table
import rich.text

from .._trace import count_params
from ._dot import visible
from ._outline import Item, Outline, as_trace, nesting_depth, outline, regions_text, shape_text

#: The columns: header, right edge as a share of the line (Keras's ``positions``), alignment.
_COLUMNS = (("Layer (type)", 0.34, "left"), ("Output Shape", 0.555, "left"),
            ("Param #", 0.675, "right"), ("Connected to", 1.0, "left"))
#: Keras's column for ``show_trainable``: the others shrink to 90% of the line to make room.
_TRAINABLE = ("Trainable", "center")

#: Keras picks its width from the terminal; ours is fixed so the same model prints the same
#: table everywhere (docs, golden files, CI logs). ``line_length`` changes it; ``show_trainable``
#: adds 12, as in Keras.
DEFAULT_LINE_LENGTH = 110


def summary(
    model_or_trace: Any,
    *inputs: Any,
    depth: int | None = None,
    print_fn: Callable[[str], Any] | None = print,
    line_length: int | None = None,
    positions: Sequence[float] | None = None,
    expand_nested: bool | None = None,
    show_trainable: bool = False,
    layer_range: Sequence[str] | None = None,
    roll_up: bool = True,
    **call_kwargs: Any,
) -> str:
    """Print and return a Keras-style summary table of any model, connections included.

    The keywords are Keras's ``Model.summary``'s, with its meanings (docs/showing.md has the
    table), plus ``depth`` and ``roll_up``.

    Args:
        model_or_trace: a Keras model or layer (traced with ``compose.trace(model, *inputs,
            **call_kwargs)``), or a `compose.Trace`.
        *inputs: the model's inputs, taken as `compose.trace` takes them.
        depth: show containers nested deeper than this as one row each (``None``: all).
        print_fn: called once with the whole table; ``None`` prints nothing.
        line_length: width of the table in characters (default 110).
        positions: right edge of each of the four columns (Layer, Output Shape, Param #,
            Connected to), as shares of the line (all <= 1) or in characters.
        expand_nested: ``False`` shows every container in the model as one row (Keras's
            default), which is ``depth=1``; ``True`` or ``None`` opens them down to ``depth``.
        show_trainable: add Keras's "Trainable" column: ``Y``, ``N``, or ``-`` without weights.
        layer_range: two regular expressions, matched (``re.match``) against the Keras names
            and paths of the model's top-level rows: the rows from the first match of the
            first to the last match of the second, with what is nested in them.
        roll_up: show a run of identical chained containers (e.g. 24 transformer layers) as one
            row ``path ×N`` with the params of all N; ``False`` shows each.
        **call_kwargs: keyword arguments of the model's ``call`` (``training=``, ...).

    Returns:
        The table and its footer as text: one row per layer call, op and input/output, nested
        rows indented under their container; a row names its layer by path, with its Keras name
        after `` = `` where that differs from the path's last part (``head = dense_3 (Dense)``);
        unreached layers with their params and "not reached"; totals equal to Keras's; one
        coverage line and one line per problem. Control characters in names and messages are
        printed as escapes (``\\x1b``).

    Raises:
        TypeError: inputs were given with a `Trace` (it already holds its inputs).
        ValueError: ``positions``, ``layer_range`` or ``expand_nested`` with ``depth`` do not fit.

    Example:
        >>> import keras, compose
        >>> class Net(keras.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.d1, self.d2 = keras.layers.Dense(4), keras.layers.Dense(2)
        ...     def call(self, x):
        ...         return self.d2(self.d1(x))
        >>> text = compose.summary(Net(), (None, 3), print_fn=None, line_length=72)
        >>> print(next(line for line in text.splitlines() if "Coverage" in line))
         Coverage: 2/2 layers reached, 3 exact and 0 inferred edges (traced by
    """
    result = as_trace(model_or_trace, inputs, call_kwargs)
    shown = outline(result, nesting_depth(depth, expand_nested), roll_up=roll_up)
    width = line_length or DEFAULT_LINE_LENGTH + (12 if show_trainable else 0)
    columns = _columns(width, positions, show_trainable)
    table = rich.table.Table(*columns, width=width, show_lines=True)
    for cells in _rows(shown, show_trainable, _top_level_range(shown, layer_range), columns[0].width):
        table.add_row(*(rich.text.Text(cell) for cell in cells))

    buffer = io.StringIO()
    console = rich.console.Console(file=buffer, width=width, color_system=None, highlight=False,
                                   force_terminal=False, force_jupyter=False, legacy_windows=False)
    model = result.model
    console.print(rich.text.Text(visible(f'Model: "{model.name}" ({type(model).__name__})')))
    console.print(table)
    for line in _footer(shown):
        # Wrapped here rather than by rich: continuation lines are indented under their label.
        for part in textwrap.wrap(visible(line), width, initial_indent=" ", subsequent_indent="   "):
            console.print(rich.text.Text(part), soft_wrap=True)
    text = buffer.getvalue()
    if print_fn is not None:
        print_fn(text)
    return text


def _columns(width: int, positions: Sequence[float] | None, show_trainable: bool) -> list[rich.table.Column]:
    """The table's columns, each as wide as Keras's ``positions`` say (right edges)."""
    edges = list(positions) if positions is not None else [edge for _, edge, _ in _COLUMNS]
    if len(edges) != len(_COLUMNS):
        raise ValueError(f"positions needs {len(_COLUMNS)} right edges (Layer (type), Output Shape, "
                         f"Param #, Connected to), got {len(edges)}: {edges!r}")
    if all(edge <= 1 for edge in edges):
        edges = [edge * width for edge in edges]
    specs = [(header, justify) for header, _, justify in _COLUMNS]
    if show_trainable:
        # Keras's rule: the given columns take 90% of the line, the Trainable column the rest.
        edges, specs = [edge * 0.9 for edge in edges] + [width], specs + [_TRAINABLE]
    columns, used = [], 0
    for (header, justify), edge in zip(specs, edges):
        size = round(edge) - used
        if size < 4:
            raise ValueError(f"line_length {width} and positions {list(positions or [])!r} leave the "
                             f"{header!r} column {size} characters; it needs at least 4")
        used += size
        # Each column loses 3 characters to its padding and left border, and the table's right
        # border takes one more: from "Connected to", which rich would otherwise pick itself.
        inner = size - 3 - (header == "Connected to")
        columns.append(rich.table.Column(header, justify=justify, width=inner))
    return columns


def _top_level_range(shown: Outline, layer_range: Sequence[str] | None) -> set[int] | None:
    """The ids (``id()``) of the top-level items Keras's ``layer_range`` keeps; ``None``: all."""
    if layer_range is None:
        return None
    if len(layer_range) != 2 or not all(isinstance(pattern, str) for pattern in layer_range):
        raise ValueError(f"layer_range must be two strings (regular expressions), got {layer_range!r}")
    names = [_names(item) for item in shown.roots]
    first = [i for i, found in enumerate(names) if any(re.match(layer_range[0], name) for name in found)]
    last = [i for i, found in enumerate(names) if any(re.match(layer_range[1], name) for name in found)]
    if not first or not last:
        raise ValueError(f"layer_range {list(layer_range)!r} matches no top-level layer; their names "
                         f"are {', '.join(visible(names[0]) for names in names)}")
    return {id(item) for item in shown.roots[first[0]:last[-1] + 1]}


def _names(item: Item) -> list[str]:
    """What ``layer_range`` matches: the path shown, and the Keras name where there is a layer."""
    layer = item.data.get("layer")
    return [item.name] + ([layer.name] if layer is not None else [])


def _rows(shown: Outline, show_trainable: bool, kept: set[int] | None, name_width: int) -> list[tuple[str, ...]]:
    rows = []
    members = _members(shown)
    keep = True
    for level, item in shown.walk():
        if level == 0:
            keep = kept is None or id(item) in kept
        if not keep:
            continue
        prefix = "   " * level + "└ " if level else ""
        kind = "op" if item.kind == "op" else item.data["class_name"]
        keras_name = f" = {visible(item.keras_name)}" if item.keras_name is not None else ""
        name = f"{prefix}{visible(item.name)}{keras_name} ({visible(kind)})"
        if item.problems:
            name += " !"
        cells = (_wrap(name, name_width, len(prefix) + 2), _shape(item), _params(item),
                 _connections(shown.view, item, members))
        rows.append(cells + ((_trainable(item),) if show_trainable else ()))
    return rows


def _wrap(name: str, width: int, indent: int) -> str:
    """A name cell's lines, continuation lines indented under the name (rich would start them at
    the column's edge, under the parent's rows)."""
    indent = min(indent, width // 2)
    lines = textwrap.wrap(name, width, subsequent_indent=" " * indent, break_on_hyphens=False)
    return "\n".join(lines) or name


def _trainable(item: Item) -> str:
    """Keras's Trainable cell: ``Y``/``N`` for a layer with weights, ``-`` for anything else."""
    layer = item.data.get("layer")
    if item.kind in ("op", "input", "output") or layer is None or not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def _members(shown: Outline) -> dict[str, list[str]]:
    """The view nodes inside each container call, in order, for the edges crossing its border."""
    members: dict[str, list[str]] = {}

    def collect(item: Item) -> list[str]:
        inside = [item.id] if item.kind != "container" else []
        for child in item.children:
            inside += collect(child)
        if item.kind == "container":
            members[item.id] = inside
        return inside

    for root in shown.roots:
        collect(root)
    return members


def _shape(item: Item) -> str:
    if not item.reached:
        return "not reached"
    specs = item.data["input_specs"] if item.kind == "output" else item.data.get("output_specs", [])
    if not specs:
        return "?"
    shapes = [shape_text(spec) for spec in specs]
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _params(item: Item) -> str:
    if item.kind == "output":
        return ""
    if not item.first_call:
        return "shared"
    return f"{item.params:,}"


def _connections(view: nx.MultiDiGraph, item: Item, members: dict[str, list[str]]) -> str:
    if item.kind == "container":
        inside = members[item.id]
        kept = set(inside)
        edges = [(u, d) for v in inside if v in view for u, _, d in view.in_edges(v, data=True) if u not in kept]
    elif item.id in view:
        edges = [(u, d) for u, _, d in view.in_edges(item.id, data=True)]
    else:
        edges = []
    seen: dict[str, bool] = {}
    for source, data in edges:
        # Several tensors from one node (mha(x, x)) are one connection; inferred if any is.
        seen[source] = seen.get(source, True) and bool(data.get("exact", True))
    if not seen:
        return "-"
    return ", ".join(visible(source) if exact else f"{visible(source)} (inferred)" for source, exact in seen.items())


def _footer(shown: Outline) -> list[str]:
    result = shown.trace
    trainable = count_params(result.model.trainable_weights)
    frozen = count_params(result.model.non_trainable_weights)
    coverage = result.coverage
    line = f"Coverage: {coverage.sentence()} (traced by the {result.strategy} strategy{regions_text(result)})"
    lines = [f"Total params: {trainable + frozen:,}", f"Trainable params: {trainable:,}",
             f"Non-trainable params: {frozen:,}", line]
    lines += [f"Problem: {problem}" for problem in coverage.problems]
    # Why a strategy that was not kept stopped: the reason this trace shows one run, no failure.
    lines += [f"Note: the {note.strategy} strategy stopped: {note}" for note in coverage.notes]
    return lines

