"""How a `Trace` shows itself in Jupyter: its plot as SVG, or its summary without Graphviz."""

from __future__ import annotations

from typing import Any, Iterable

from ._dot import render
from .._errors import GraphvizError, GraphvizNotFound
from ._outline import outline
from ._plot import to_dot
from ._summary import summary


def mimebundle(trace: Any, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> dict[str, str]:
    """The ``_repr_mimebundle_`` of a trace: ``image/svg+xml`` when Graphviz can draw it, and
    always ``text/plain`` (the summary table), which frontends without SVG show instead."""
    bundle = {"text/plain": summary(trace, print_fn=None)}
    wanted = (include is None or "image/svg+xml" in include) and "image/svg+xml" not in (exclude or ())
    if wanted:
        try:
            bundle["image/svg+xml"] = render(to_dot(outline(trace)).text(), "svg").decode("utf-8")
        except (GraphvizNotFound, GraphvizError):
            # A notebook must still show something: the text summary is the honest fallback.
            pass
    return bundle
