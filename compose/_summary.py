"""`summary`: Keras's summary table for any model, with connectivity and an honest coverage line."""

from __future__ import annotations

import io
import textwrap
import math
from typing import Any, Callable

import networkx as nx
import rich.console
import rich.table
import rich.text

from ._outline import Item, Outline, as_trace, outline
from ._specs import TensorSpec

#: Share of the line each column takes: Layer (type), Output Shape, Param #, Connected to.
_COLUMNS = (("Layer (type)", 0.34, "left"), ("Output Shape", 0.22, "left"),
            ("Param #", 0.12, "right"), ("Connected to", 0.32, "left"))

#: Keras picks its width from the terminal; ours is fixed so the same model prints the same
#: table everywhere (docs, golden files, CI logs). ``line_length`` changes it.
DEFAULT_LINE_LENGTH = 110


def summary(
    model_or_trace: Any,
    *inputs: Any,
    depth: int | None = None,
    print_fn: Callable[[str], Any] | None = print,
    line_length: int | None = None,
    **call_kwargs: Any,
) -> str:
    """Print and return a Keras-style summary table of any model, connections included.

    Args:
        model_or_trace: a Keras model or layer (traced with ``compose.trace(model, *inputs,
            **call_kwargs)``), or a `compose.Trace`.
        *inputs: the model's inputs, taken as `compose.trace` takes them.
        depth: show containers nested deeper than this as one row each (``None``: all).
        print_fn: called once with the whole table; ``None`` prints nothing.
        line_length: width of the table in characters (default 110).
        **call_kwargs: keyword arguments of the model's ``call`` (``training=``, ...).

    Returns:
        The table and its footer as text: one row per layer call, op and input/output, nested
        rows indented under their container; unreached layers with their params and "not
        reached"; totals equal to Keras's; one coverage line and one line per problem.

    Raises:
        TypeError: inputs were given with a `Trace` (it already holds its inputs).

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
    shown = outline(result, depth)
    width = line_length or DEFAULT_LINE_LENGTH
    columns, used = [], 0
    for header, share, justify in _COLUMNS:
        size = round(share * width) if header != "Connected to" else width - used
        used += size
        columns.append(rich.table.Column(header, justify=justify, width=size - 3))  # 3: borders
    table = rich.table.Table(*columns, width=width, show_lines=True)
    for cells in _rows(shown):
        table.add_row(*(rich.text.Text(cell) for cell in cells))

    buffer = io.StringIO()
    console = rich.console.Console(file=buffer, width=width, color_system=None, highlight=False,
                                   force_terminal=False, force_jupyter=False, legacy_windows=False)
    model = result.model
    console.print(rich.text.Text(f'Model: "{model.name}" ({type(model).__name__})'))
    console.print(table)
    for line in _footer(shown):
        # Wrapped here rather than by rich: continuation lines are indented under their label.
        for part in textwrap.wrap(line, width, initial_indent=" ", subsequent_indent="   "):
            console.print(rich.text.Text(part), soft_wrap=True)
    text = buffer.getvalue()
    if print_fn is not None:
        print_fn(text)
    return text


def _rows(shown: Outline) -> list[tuple[str, str, str, str]]:
    rows = []
    members = _members(shown)
    for level, item in shown.walk():
        prefix = "   " * level + "└ " if level else ""
        kind = "op" if item.kind == "op" else item.data["class_name"]
        name = f"{prefix}{item.name} ({kind})"
        if item.problems:
            name += " !"
        rows.append((name, _shape(item), _params(item), _connections(shown.view, item, members)))
    return rows


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
    shapes = [_format_shape(spec) for spec in specs]
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _format_shape(spec: TensorSpec) -> str:
    if spec.shape is None:
        return "(?)"
    return "(" + ", ".join(str(dim) for dim in spec.shape) + ")"


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
    return ", ".join(source if exact else f"{source} (inferred)" for source, exact in seen.items())


def _footer(shown: Outline) -> list[str]:
    result = shown.trace
    trainable = _count(result.model.trainable_weights)
    frozen = _count(result.model.non_trainable_weights)
    coverage = result.coverage
    line = (f"Coverage: {coverage.layers_reached}/{coverage.layers_total} layers reached, "
            f"{coverage.exact_edges} exact and {coverage.inferred_edges} inferred edges")
    if coverage.problems:
        line += f", {len(coverage.problems)} problem(s)"
    line += f" (traced by the {result.strategy} strategy)"
    lines = [f"Total params: {trainable + frozen:,}", f"Trainable params: {trainable:,}",
             f"Non-trainable params: {frozen:,}", line]
    lines += [f"Problem: {problem}" for problem in coverage.problems]
    return lines


def _count(weights: list[Any]) -> int:
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(int(d) for d in w.shape) for w in unique)
