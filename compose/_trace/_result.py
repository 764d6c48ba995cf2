"""What a trace returns: the dataflow graph, the layer tree, and an honest account of coverage.

These are values: `Trace`, `Coverage`, `Problem` and `StrategyRun` are frozen attrs classes. The
two networkx graphs inside a `Trace` are built once by the tracer and must be treated as
read-only by consumers (summary tables, plots, reuse); `Trace.view` returns a new graph.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import attrs
import networkx as nx

from ._hierarchy import subtree_params

@attrs.frozen(eq=False)
class Call:
    """What one recorded call received and returned, holding the very tensors of the traced run
    (KerasTensors, graph tensors or eager values, as the strategy ran): enough to replay it.

    Attributes:
        args: the positional arguments, as passed (nested structures, non-tensor values kept).
        kwargs: the keyword arguments, as passed (``training=``, ``axis=``, ...).
        outputs: what the call returned.
        operation: for op nodes, the Keras ``Operation`` (symbolic strategy), the
            ``tf.Operation`` (graph strategy) or the ``EagerOp`` (eager strategy: op type and
            attributes; an eager op has no ``tf.Operation``) that ran; ``None`` for layer calls.
    """

    args: tuple
    kwargs: dict
    outputs: Any
    operation: Any = None


def reason_of(error: BaseException) -> str:
    """An exception as a `Problem.reason`: its type and the first line of its message."""
    metadata = getattr(error, "ag_error_metadata", None)
    message = getattr(metadata, "cause_message", None) or str(error)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if len(first) > 300:
        first = first[:297] + "..."
    name = type(error).__name__
    if first.startswith(name + ":"):
        return first  # AutoGraph's cause message already names the type
    return f"{name}: {first}" if first else name


@attrs.frozen
class Problem:
    """One thing the tracer could not recover, and why.

    Attributes:
        path: path of the innermost layer whose ``call`` was running when it happened
            (``"encoder/block.1"``), or ``None`` when it happened in the model's own ``call``
            outside any sublayer.
        reason: what went wrong, in one line, e.g.
            ``"ValueError: boom"`` or ``"`.numpy()` is not available on a symbolic tensor"``.
        location: ``"file.py:42"``, the innermost frame of the failure in the user's own code
            (outside keras, tensorflow and compose), or ``None`` when there is no such frame.
        strategy: the strategy that met the problem (``"symbolic"``, ``"graph"`` or ``"eager"``).
    """

    path: str | None
    reason: str
    location: str | None
    strategy: str

    @property
    def shown_location(self) -> str | None:
        """`location` as views print it: relative to the working folder when the file is inside
        it, else the file's name alone, so a plot shared in a paper shows no one's folders."""
        if self.location is None:
            return None
        file, _, line = self.location.rpartition(":")
        relative = os.path.relpath(file) if os.path.isabs(file) else file
        shown = relative if not relative.startswith(os.pardir) else os.path.basename(file)
        return f"{shown}:{line}"

    def __str__(self) -> str:
        where = f" ({self.shown_location})" if self.location else ""
        return f"{self.path or '<model>'}: {self.reason}{where}"


@attrs.frozen
class StrategyRun:
    """One strategy's attempt on the model, or on one container of it (a region).

    Attributes:
        name: the strategy's name (``"symbolic"``, ``"graph"``, ``"eager"``).
        finished: ``True`` when it ran the ``call`` to the end.
        reason: why it stopped, when it did not finish (``None`` otherwise).
        nodes: ids of the `Trace.graph` nodes this attempt contributed, in graph order.
        path: the container it traced (a region: where the symbolic strategy stopped, that
            container alone was traced by the next strategy), or ``None`` for the whole model.
        location: ``"file.py:42"`` in the user's code where it stopped, when it did and one
            is known.
    """

    name: str
    finished: bool
    reason: str | None = None
    nodes: tuple[str, ...] = ()
    path: str | None = None
    location: str | None = None


@attrs.frozen
class Coverage:
    """How much of the model the trace recovered.

    Attributes:
        layers_total: number of leaf layers in `Trace.hierarchy`.
        layers_reached: how many of them were called at least once during the trace.
        unreached: paths of the leaf layers never reached, in hierarchy order.
        exact_edges: edges of `Trace.graph` proven by dataflow (``exact=True``).
        inferred_edges: edges only inferred (``exact=False``), e.g. by the eager strategy
            across computations it could not see.
        problems: what stopped the kept recording or could not be recovered, first first (when
            no strategy finished, what stopped each of them).
        notes: why the strategies that were not kept stopped (a graph strategy's ``.numpy()``
            error, when the eager one then ran to the end): not problems of this trace, but the
            reason it shows one run where it does.
    """

    layers_total: int
    layers_reached: int
    unreached: tuple[str, ...]
    exact_edges: int
    inferred_edges: int
    problems: tuple[Problem, ...] = ()
    notes: tuple[Problem, ...] = ()

    @property
    def complete(self) -> bool:
        """Every leaf layer reached, every edge exact, and no problem met."""
        return not self.unreached and not self.inferred_edges and not self.problems

    def sentence(self, problems: bool = True) -> str:
        """The coverage sentence every view prints: ``"2/3 layers reached, 4 exact and 1
        inferred edges"``, then ``", 1 problem(s)"`` when there are any (and ``problems``)."""
        text = f"{self.layers_reached}/{self.layers_total} layers reached"
        text += f", {self.exact_edges} exact and {self.inferred_edges} inferred edges"
        if problems and self.problems:
            text += f", {len(self.problems)} problem(s)"
        return text

    def __str__(self) -> str:
        details = ": " + "; ".join(map(str, self.problems)) if self.problems else ""
        return self.sentence() + details


#: How a Trace shows itself in a notebook. The showing part sets it when imported: it draws
#: traces, so it imports the tracer, never the other way round.
_notebook_display: Callable[[Trace, Any, Any], dict[str, str]] | None = None


def show_in_notebooks(display: Callable[[Trace, Any, Any], dict[str, str]]) -> None:
    """Make ``display(trace, include, exclude)`` the ``_repr_mimebundle_`` of every Trace."""
    global _notebook_display
    _notebook_display = display


@attrs.frozen(eq=False)
class Trace:
    """The connectivity of one model, as far as it could be recovered.

    Attributes:
        model: the traced Keras model or layer.
        graph: `networkx.MultiDiGraph`, fully expanded dataflow, nodes in call order. Node ids
            are deterministic strings: the node's path, with ``#k`` for the k-th repeated call
            (``"blocks.1/dense#1"``); op nodes are ``<parent path>/<op name>`` numbered the same
            way (``"add"``, ``"add#1"``, ``"encoder/relu"``); inputs and outputs are
            ``"@input"``/``"@output"`` for a single tensor, else ``"@input.0"``,
            ``"@input.image"``, ... following the nesting of the model's arguments and results.
            Node attributes:

            - ``kind``: one of ``"input"``, ``"output"``, ``"layer"``, ``"op"``, ``"unreached"``.
            - ``path``: for layers, the layer's path (see below, without ``#k``); for ops the
              node id; for inputs/outputs the id without ``@``.
            - ``layer``: the Keras layer object, or ``None`` (inputs, outputs, ops).
            - ``class_name``: the layer's class name; for ops, the op's name (``"add"``);
              ``"Input"``/``"Output"`` for inputs/outputs.
            - ``parent``: path of the enclosing expanded container, or ``None`` when the node
              sits directly in the traced model.
            - ``scope``: node id of the enclosing container *call* (``"block#1"``), or ``None``;
              it tells apart the inner nodes of two calls of one shared container.
            - ``input_specs``, ``output_specs``: lists of `compose.TensorSpec`, one per tensor
              in the flattened arguments / results (empty for unreached layers).
            - ``params``: the layer's own parameter count, as in `hierarchy` (every call node of
              a shared layer carries it; sum over `hierarchy` for totals). 0 for non-layers.
            - ``strategy``: which strategy recorded the node (``"symbolic"``, ``"graph"`` or ``"eager"``).
            - ``call``: the `Call` (arguments and results of that call) for layer and op
              nodes; ``None`` on inputs, outputs and unreached layers.

            Only leaf layers appear as ``layer`` nodes; containers are expanded (see
            `hierarchy`). Edge attributes: ``exact`` (bool: proven by dataflow, or only
            inferred) and ``spec`` (the `compose.TensorSpec` of the tensor, or ``None``).
            ``graph.graph["containers"]`` maps each expanded container call's id
            (``"encoder"``, ``"encoder#1"``) to its attributes, shaped like a layer node's;
            `view` collapses into these (each with its `Call` as ``call``).
            ``graph.graph["inputs"]`` and ``graph.graph["outputs"]`` hold the structures the
            model was called with and returned in the recorded run.

            Paths are ``/``-joined names users know: under a subclassed parent, the attribute
            holding the layer (``self.d1`` -> ``d1``, ``self.blocks[2]`` -> ``blocks.2``,
            ``self.heads["q"]`` -> ``heads.q``); inside Sequential/Functional, the layer's Keras
            name.
        hierarchy: `networkx.DiGraph`, the tree of layers: root (id ``""``, the model) ->
            containers -> leaves, one node per layer path (no ``#k``), unreached layers
            included, children in definition order. Node attributes: ``layer``,
            ``class_name``, ``params`` (weights the layer holds directly, not through a
            sublayer, so the sum over the tree is ``model.count_params()``), ``calls`` (times
            called during the trace), ``reached`` (``calls > 0``), ``leaf`` (bool).
        coverage: the `Coverage` of this trace.
        strategies: one `StrategyRun` per strategy tried on the whole model (``path`` None), in
            order, a strategy tried only when the ones before it could not finish; then, for
            the kept recording, each region: a container where it stopped, and the strategies
            tried on that container alone (``path`` the container's), in call order.
    """

    model: Any
    graph: nx.MultiDiGraph
    hierarchy: nx.DiGraph
    coverage: Coverage
    strategies: tuple[StrategyRun, ...]

    @property
    def regions(self) -> tuple[StrategyRun, ...]:
        """The containers traced by another strategy than the model's, each as the run that
        finished on it, in call order."""
        return tuple(run for run in self.strategies if run.path is not None and run.finished)

    @property
    def strategy(self) -> str:
        """Name of the strategy whose recording the graph is mainly built from: the last tried
        on the whole model (regions inside it may be traced by later ones)."""
        return [run for run in self.strategies if run.path is None][-1].name

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter shows a trace as the showing part says (`show_in_notebooks`)."""
        if _notebook_display is None:
            return {"text/plain": repr(self)}
        return _notebook_display(self, include, exclude)

    def view(self, depth: int | None = None) -> nx.MultiDiGraph:
        """The graph with every node deeper than ``depth`` merged into its ancestor call.

        Depth 1 shows only what sits directly in the model (its top-level layers, with nested
        containers collapsed into one ``layer`` node each); ``None`` gives a copy of the full
        graph. A merged node keeps the container's call id (``"encoder"``, ``"encoder#1"``),
        its specs, and as ``params`` the total of its subtree in `hierarchy`. Edges inside a
        merged node disappear; edges crossing its border are kept with their attributes.

        Raises:
            ValueError: ``depth`` is less than 1.

        Example:
            >>> import keras, compose
            >>> inner = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(4)], name="inner")
            >>> inputs = keras.Input((3,))
            >>> model = keras.Model(inputs, keras.layers.Dense(1, name="head")(inner(inputs)))
            >>> result = compose.trace(model)
            >>> tuple(n for n, kind in result.graph.nodes(data="kind") if kind == "layer")
            ('inner/dense', 'inner/dense_1', 'head')
            >>> tuple(result.view(1).nodes())
            ('@input', 'inner', 'head', '@output')
        """
        if depth is None:
            return self.graph.copy()
        if depth < 1:
            raise ValueError(f"depth must be >= 1 (or None for the full graph), got {depth}")
        target: dict[str, str] = {}
        merged: dict[str, dict[str, Any]] = {}
        totals = subtree_params(self.hierarchy)
        for node, data in self.graph.nodes(data=True):
            chain = [node]
            scope = data.get("scope")
            while scope is not None:
                chain.append(scope)
                scope = self._containers[scope]["scope"]
            # chain runs innermost -> outermost; the node at depth d is chain[-d].
            keep = chain[-depth] if len(chain) > depth else node
            target[node] = keep
            if keep != node and keep not in merged:
                merged[keep] = dict(self._containers[keep], params=totals[self._containers[keep]["path"]])
        view = nx.MultiDiGraph()
        for node, data in self.graph.nodes(data=True):
            keep = target[node]
            if keep not in view:
                view.add_node(keep, **(merged.get(keep) or data))
        for source, dest, data in self.graph.edges(data=True):
            if target[source] != target[dest]:
                view.add_edge(target[source], target[dest], **data)
        return view

    @property
    def _containers(self) -> dict[str, dict[str, Any]]:
        return self.graph.graph["containers"]
