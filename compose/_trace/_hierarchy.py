"""The layer tree: which layers a model holds, under which path, and which of them are leaves.

Paths use the names a user knows. Under a subclassed parent, that is the attribute holding the
layer (``self.d1`` -> ``d1``, ``self.blocks[2]`` -> ``blocks.2``, ``self.heads["q"]`` ->
``heads.q``); inside Sequential and Functional models, which have no such attributes, it is the
layer's Keras name.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator

import keras
import networkx as nx

from .._compat import KERAS_BOOKKEEPING, Functional, all_layers
from ._node import Node

#: Keras's own containers: shipped by Keras, yet opened like user layers.
_CONTAINERS = (keras.Sequential, Functional, keras.Model)


LeafRule = Callable[[keras.layers.Layer], bool]


class ExactLeafRule:
    """A leaf rule taken as it answers, even for layers without sublayers (which ``leaf=``
    predicates cannot open): `to_functional` opens a layer Keras cannot save, to replay its ops."""

    def __init__(self, rule: LeafRule) -> None:
        self.rule = rule

    def __call__(self, layer: keras.layers.Layer) -> bool:
        return self.rule(layer)


def leaf_rule(leaf: Any) -> LeafRule:
    """Turn the ``leaf=`` argument of `trace` (None, classes, or a predicate) into a predicate.

    The predicate answers "is this layer a leaf?"; a leaf is drawn as one node and not opened.
    """
    if leaf is None:
        return default_leaf
    if isinstance(leaf, ExactLeafRule):
        return leaf
    if isinstance(leaf, type) or (isinstance(leaf, tuple) and all(isinstance(c, type) for c in leaf)):
        classes = leaf
        return lambda layer: isinstance(layer, classes) or default_leaf(layer)
    if isinstance(leaf, (list, set, frozenset)):
        return leaf_rule(tuple(leaf))
    if callable(leaf):
        return lambda layer: bool(leaf(layer)) or not _sublayers(layer)
    raise TypeError(f"leaf= takes a layer class, a tuple of classes or a predicate, got {leaf!r}")


def default_leaf(layer: keras.layers.Layer) -> bool:
    if not _sublayers(layer):
        return True
    return shipped_by_keras(type(layer)) and not isinstance(layer, _CONTAINERS)


def shipped_by_keras(cls: type) -> bool:
    """Whether ``cls`` is one of Keras's own classes (defined in a module under ``keras``)."""
    return cls.__module__.split(".")[0] == "keras"


def _sublayers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    if isinstance(layer, keras.Sequential):
        return list(layer.layers)
    if isinstance(layer, Functional):
        return [op for op in layer.layers if not isinstance(op, keras.layers.InputLayer)]
    return list(getattr(layer, "_layers", ()))


def _named(value: Any, name: str) -> Iterator[tuple[str, keras.layers.Layer]]:
    if isinstance(value, keras.layers.Layer):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _named(item, f"{name}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _named(item, f"{name}.{key}")


def children(layer: keras.layers.Layer) -> list[tuple[str, keras.layers.Layer]]:
    """The direct sublayers of ``layer`` with their names, in definition order."""
    subs = _sublayers(layer)
    if not subs:
        return []
    if isinstance(layer, (keras.Sequential, Functional)):
        return [(sub.name, sub) for sub in subs]
    wanted = {id(sub) for sub in subs}
    named: dict[int, tuple[str, keras.layers.Layer]] = {}
    # Public attributes name a child first; private ones only when nothing public holds it.
    attributes = sorted(
        ((a, v) for a, v in vars(layer).items() if a not in KERAS_BOOKKEEPING and not a.startswith("_self_")),
        key=lambda item: item[0].startswith("_"),
    )
    for attr, value in attributes:
        for name, sub in _named(value, attr):
            if id(sub) in wanted and id(sub) not in named:
                named[id(sub)] = (name, sub)
    # A sublayer tracked without an attribute of its own keeps its Keras name.
    return [named.get(id(sub), (sub.name, sub)) for sub in subs]


class LayerTree:
    """Paths and leaf status of every layer under a model, computed once and kept in sync.

    Sublayers created lazily in ``build`` appear only after it ran; `path_of` refreshes the tree
    when it meets a layer it does not know yet.
    """

    def __init__(self, model: keras.layers.Layer, is_leaf: LeafRule) -> None:
        self.model = model
        self.is_leaf = is_leaf
        self.refresh()

    def refresh(self) -> None:
        """Walk the model again (depth first, definition order); the first path to a layer wins."""
        self.paths: dict[int, str] = {id(self.model): ""}
        self.layers: dict[str, keras.layers.Layer] = {"": self.model}
        self.parent: dict[str, str | None] = {"": None}
        self.leaves: dict[str, bool] = {"": False}
        self._walk(self.model, "")
        self._drop_held_by_leaves()

    def _drop_held_by_leaves(self) -> None:
        """A layer also held inside a leaf (``self.enc`` and ``Sequential([self.enc, ...])``
        kept whole) belongs to that leaf: it runs, and is counted, as part of it."""
        held = {
            id(sub)
            for path, is_leaf in self.leaves.items()
            if is_leaf and path
            for sub in all_layers(self.layers[path], include_self=False)
        }
        for path in [p for p, layer in self.layers.items() if id(layer) in held]:
            del self.paths[id(self.layers[path])], self.layers[path], self.parent[path], self.leaves[path]

    def _walk(self, layer: keras.layers.Layer, path: str) -> None:
        for name, sub in children(layer):
            if id(sub) in self.paths:
                continue  # shared with an earlier parent: one place in the tree
            sub_path = f"{path}/{name}" if path else name
            self.paths[id(sub)] = sub_path
            self.layers[sub_path] = sub
            self.parent[sub_path] = path
            self.leaves[sub_path] = self.is_leaf(sub)
            if not self.leaves[sub_path]:
                self._walk(sub, sub_path)

    def path_of(self, layer: keras.layers.Layer, scope_path: str | None) -> str:
        """The path of ``layer``; a layer unknown even after a refresh (made on the fly in a
        ``call``) is named by its Keras name under the calling container."""
        if id(layer) not in self.paths:
            self.refresh()
        if id(layer) not in self.paths:
            path = f"{scope_path}/{layer.name}" if scope_path else layer.name
            self.paths[id(layer)] = path
            self.layers[path] = layer
            self.parent[path] = scope_path or ""
            self.leaves[path] = self.is_leaf(layer)
        return self.paths[id(layer)]

    def leaf(self, layer: keras.layers.Layer) -> bool:
        return self.leaves[self.paths[id(layer)]]

    def graph(self, calls: dict[str, int]) -> nx.DiGraph:
        """The hierarchy as described on `Trace.hierarchy`, with ``calls`` counted per path."""
        tree = nx.DiGraph()
        own = _own_params(self.layers, self.parent)
        for path, layer in self.layers.items():
            count = calls.get(path, 0)
            tree.add_node(
                path,
                layer=layer,
                class_name=type(layer).__name__,
                params=own[path],
                calls=count,
                reached=count > 0 or path == "",
                leaf=self.leaves[path],
            )
            if self.parent[path] is not None:
                tree.add_edge(self.parent[path], path)
        return tree

    def unreached_node(self, path: str, params: int) -> Node:
        """The `Node` of a layer known only from the tree: one the trace never reached."""
        layer = self.layers[path]
        return Node("unreached", path, type(layer).__name__, layer=layer, parent=self.parent[path] or None, params=params)

    def unreached(self, calls: dict[str, int]) -> list[str]:
        """Leaf paths never called, in hierarchy order."""
        return [p for p, is_leaf in self.leaves.items() if is_leaf and p and not calls.get(p)]


def _own_params(layers: dict[str, keras.layers.Layer], parent: dict[str, str | None]) -> dict[str, int]:
    """Weights each layer holds directly. Deepest layers claim first, so a weight is counted
    once, by its innermost holder; a weight shared by two layers is counted once too."""
    depth = {path: path.count("/") + (1 if path else 0) for path in layers}
    claimed: set[int] = set()
    own = dict.fromkeys(layers, 0)
    for path in sorted(layers, key=lambda p: -depth[p]):
        for weight in getattr(layers[path], "weights", ()):
            if id(weight) in claimed:
                continue
            claimed.add(id(weight))
            own[path] += count_params([weight])
    return own


def subtree_params(hierarchy: nx.DiGraph) -> dict[str, int]:
    """Weights held in each layer's subtree (``params`` summed below it), in one bottom-up pass."""
    totals: dict[str, int] = {}
    for path in reversed(list(nx.topological_sort(hierarchy))):
        totals[path] = hierarchy.nodes[path]["params"] + sum(totals[c] for c in hierarchy.successors(path))
    return totals


def count_params(weights: Any) -> int:
    """How many numbers the weights hold, each weight once (a weight listed twice is one)."""
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(int(d) for d in w.shape) for w in unique)
