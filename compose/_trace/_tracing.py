"""`trace`: try the strategies in order, keep the best recording, and leave the model as it was."""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

import attrs
import keras

from .._errors import TraceError
from ._eager import EagerRecorder
from ._graph import GraphRecorder
from ._hierarchy import LayerTree, leaf_rule
from ._inputs import check_model, normalize
from ._locate import user_location
from ._recorder import LOCK, Recorder
from ._result import Coverage, Problem, StrategyRun, Trace, reason_of
from ._snapshot import Builds, ModelSnapshot
from ._symbolic import SymbolicRecorder

#: The strategies, cheapest first; each runs only where the ones before could not finish. What
#: differs between them is declared on each class (see `Recorder`), so a new one is a new module
#: and its place here.
STRATEGIES: tuple[type[Recorder], ...] = (SymbolicRecorder, GraphRecorder, EagerRecorder)


def trace(model: keras.layers.Layer, *inputs: Any, strict: bool = False, leaf: Any = None, **call_kwargs: Any) -> Trace:
    """Recover the connectivity of ``model`` into a `Trace`.

    Args:
        model: any Keras model or layer: Functional, Sequential, subclassed, or a mix.
        *inputs: the model's positional inputs as ``keras.Input``/KerasTensors,
            `compose.TensorSpec`, ``tf.TensorSpec``, shape tuples or concrete arrays, nested in
            lists/dicts as the model takes them. Optional for a model that knows its inputs
            (Functional/Sequential with inputs, or built). The eager strategy runs on arrays
            drawn from a fixed seed when no concrete inputs are given.
        strict: raise `TraceError` instead of returning a trace with problems.
        leaf: layers not to open: a class, a tuple of classes, or a predicate on a layer.
        **call_kwargs: passed to the model's ``call`` (``training=``, a parse tree, ...).

    Returns:
        The `Trace`. Strategies are tried in order (symbolic, graph, eager), each only when
        the ones before could not finish; when none finishes, the one that reached the most
        layers is kept, with its failure in ``coverage.problems``.

    Raises:
        TraceError: ``strict=True`` and a problem was met; ``.trace`` holds the partial trace,
            and the original exception is the ``__cause__``.

    Example:
        >>> import keras, compose
        >>> class Net(keras.Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.d1, self.d2 = keras.layers.Dense(4), keras.layers.Dense(2)
        ...     def call(self, x):
        ...         return self.d2(keras.ops.relu(self.d1(x)))
        >>> result = compose.trace(Net(), (None, 3))
        >>> list(result.graph.edges())
        [('@input', 'd1'), ('d1', 'relu'), ('relu', 'd2'), ('d2', '@output')]
        >>> print(result.coverage)
        2/2 layers reached, 4 exact and 0 inferred edges
    """
    return trace_whole_or_regions(model, inputs, strict, leaf, call_kwargs, regions=True)


def trace_whole_or_regions(model: Any, inputs: tuple, strict: bool, leaf: Any, call_kwargs: dict, *, regions: bool) -> Trace:
    """`trace`, with per-container regions or (``regions=False``) one strategy for the whole
    model: `to_functional` tries the first and, where its replay fails, the second."""
    with recording(model, inputs, call_kwargs, leaf, regions=regions) as session:
        runs: list[tuple[Recorder, Exception | None]] = []
        for strategy in STRATEGIES:
            recorder, error = session.run(strategy)
            runs.append((recorder, error))
            if error is None:
                break
        result = _assemble(model, session.tree, runs)
    if strict and (result.coverage.problems or result.coverage.notes):
        # Only an eager region may have stopped, inside a run that finished: no run's error.
        cause = next((err for _, err in reversed(runs) if err is not None), None)
        raise _strict_error(model, result) from cause
    return result


def _strict_error(model: Any, result: Trace) -> TraceError:
    """``strict=True`` asks for a trace that holds for every input: a strategy that stopped is
    a problem then, even where a later one ran (and showed one run), so the partial trace the
    error carries lists the notes as problems."""
    coverage = result.coverage
    problems = coverage.problems + coverage.notes
    partial = attrs.evolve(result, coverage=attrs.evolve(coverage, problems=problems, notes=()))
    return TraceError(f"could not trace {model.name!r}: {problems[0]}", trace=partial)


@attrs.define
class Session:
    """One model being recorded: its layer tree, its inputs as strategies take them, and the
    snapshot that puts it back. Made by `recording`, which holds the tracer's lock throughout."""

    model: Any
    tree: LayerTree
    inputs: tuple
    call_kwargs: dict
    snapshot: ModelSnapshot
    #: The layers unbuilt at the start, built by the first run that reaches them.
    builds: Builds
    #: Whether a container the symbolic strategy cannot run is traced alone by another strategy.
    regions: bool = True
    #: Whether a run finished: the builds it made are kept (else undone at the end).
    finished: bool = False

    def run(self, strategy: type[Recorder], **options: Any) -> tuple[Recorder, Exception | None]:
        """Record the model's call with ``strategy``; a failure of the user's code is returned
        with the partial recording, never raised."""
        recorder = strategy(self.tree, session=self, **options)
        if strategy.runs_model or self.builds.pending:
            self.snapshot.save_variables()  # only running the model, or building it, changes them
        error: Exception | None = None
        try:
            recorder.run(self.model, self.inputs, self.call_kwargs)
        except Exception as err:  # noqa: BLE001 - any failure of user code is a result
            error = err
        finally:
            self.snapshot.restore_variables()
        self.finished = self.finished or error is None
        recorder.finish()
        recorder.refine(self)
        return recorder, error


@contextlib.contextmanager
def recording(model: Any, inputs: tuple, call_kwargs: dict, leaf: Any = None, regions: bool = True) -> Iterator[Session]:
    """A `Session` on ``model``: the tracer's lock held (its patches are process-wide), and at the
    end its Keras call records put back, and the layers it found unbuilt left built by the runs
    only if one finished, even on error."""
    check_model(model)
    with LOCK, _deep_recursion():
        tree = LayerTree(model, leaf_rule(leaf))
        given = normalize(model, inputs)
        snapshot = ModelSnapshot(model)
        builds = Builds(model)
        session = Session(model, tree, given, call_kwargs, snapshot, builds, regions)
        try:
            yield session
        finally:
            builds.close(session.finished)
            snapshot.restore_graph_state()


#: How deep a recording may recurse. Walking back through thousands of TensorFlow ops in a row,
#: or containers nested 150 deep (each level a few frames of Keras and of the recorder), passes
#: Python's default of 1,000. These are calls between Python functions, which since Python 3.11
#: use no C stack, so the deeper limit is safe.
_RECURSION_LIMIT = 100_000


@contextlib.contextmanager
def _deep_recursion() -> Iterator[None]:
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, _RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def _assemble(model: Any, tree: LayerTree, runs: list[tuple[Recorder, Exception | None]]) -> Trace:
    finished = [r for r, err in runs if err is None]
    chosen = finished[0] if finished else max((r for r, _ in runs), key=lambda r: len(r.calls))
    tree.refresh()
    graph = chosen.graph
    calls = {p: c for p, c in chosen.calls.items() if p in tree.layers}
    unreached = tree.unreached(calls)
    hierarchy = tree.graph(calls)
    for path in unreached:
        node = tree.unreached_node(path, hierarchy.nodes[path]["params"])
        node.strategy = chosen.strategy
        graph.add_node(path, **node.attributes())
    failures = _failures(runs)
    # When a strategy finished, the others' failures are why it was needed, not problems of
    # its trace: notes. When none did, the trace is partial, and every failure says why.
    problems = [p for r, p in failures if r is chosen or not finished]
    notes = [p for r, p in failures if r is not chosen and finished] + chosen.notes
    edges = [exact for _, _, exact in graph.edges(data="exact")]
    coverage = Coverage(
        layers_total=sum(1 for p, leaf in tree.leaves.items() if leaf and p),
        layers_reached=sum(1 for p, leaf in tree.leaves.items() if leaf and p and calls.get(p)),
        unreached=tuple(unreached),
        exact_edges=sum(edges),
        inferred_edges=len(edges) - sum(edges),
        problems=_distinct(problems),
        notes=_distinct(notes),
    )
    strategies = tuple(
        StrategyRun(
            name=r.strategy,
            finished=err is None,
            reason=None if err is None else reason_of(err),
            location=None if err is None else user_location(err),
            nodes=tuple(n for n, s in graph.nodes(data="strategy") if s == r.strategy) if r is chosen else (),
        )
        for r, err in runs
    ) + tuple(chosen.regions)
    return Trace(model=model, graph=graph, hierarchy=hierarchy, coverage=coverage, strategies=strategies)


def _failures(runs: list[tuple[Recorder, Exception | None]]) -> list[tuple[Recorder, Problem]]:
    """Each failure that is a problem where it happens (not the symbolic strategy's), with
    the recording that met it."""
    return [
        (recorder, Problem(
            path=recorder.failure.path if recorder.failure else None,
            reason=reason_of(err),
            location=user_location(err),
            strategy=recorder.strategy,
        ))
        for recorder, err in runs
        if err is not None and recorder.failures_are_problems
    ]


def _distinct(problems: list[Problem]) -> tuple[Problem, ...]:
    """One problem per place and reason: the same failure met by two strategies is one."""
    kept: list[Problem] = []
    for problem in problems:
        same = [i for i, p in enumerate(kept) if (p.path, p.reason) == (problem.path, problem.reason)]
        if not same:
            kept.append(problem)
        elif kept[same[0]].location is None:
            # Code AutoGraph converted has no user frame; the eager run of it has.
            kept[same[0]] = problem
    return tuple(kept)
