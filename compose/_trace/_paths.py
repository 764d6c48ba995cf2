"""Finding a layer call by what a user knows it by: its path, or its Keras name.

A trace names calls by path (``encoder/blocks.1/dense``, ``dense#1`` for a second call; see
`_hierarchy`). Users also know layers by ``layer.name``: what Keras's own summary shows
(``dense_3``) or a name they gave (``pos_branch``). Under a subclassed parent the two differ, so
the views show the Keras name beside the path where it differs (`keras_name_beside`), and
`resolve` accepts either, suggesting from both when it finds neither.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Mapping, Sequence

from .._errors import PathError

#: How many calls an unknown path's error suggests.
_SUGGESTIONS = 5
#: A call suffix: ``dense#1`` is the second call of ``dense``.
_CALL = re.compile(r"(.*)#(\d+)")


def keras_name_beside(path: str, layer: Any) -> str | None:
    """``layer.name`` where a view should show it beside ``path`` (a layer path, no ``#k``):
    where it differs from the path's last segment (``head`` holding ``dense_3``); else None.
    A private attribute's underscores do not count (keras_hub keeps ``feedforward_dense`` in
    ``self._feedforward_dense``): the path says the name already."""
    segment = path.rsplit("/", 1)[-1]
    if layer is None or layer.name in (segment, segment.lstrip("_")):
        return None
    return layer.name


def resolve(wanted: Sequence[str], calls: Sequence[str], layers: Mapping[str, Any]) -> dict[str, str]:
    """The call id each of ``wanted`` names, as ``{wanted: call id}`` in the order given.

    A string is looked up as a call id (a path, ``#k`` for a later call) first, then as the
    Keras name of one layer (``#k`` allowed after it too): a path wins over another layer's
    Keras name.

    Args:
        wanted: paths or Keras names.
        calls: every call id of the recording, in call order.
        layers: the layer tree, path -> layer (the model at ``""``).

    Raises:
        PathError: a string names no call (the message suggests the nearest calls, by path or
            Keras name), a layer never called on these inputs, or a Keras name several layers
            share (the message lists their paths).
    """
    known = set(calls)
    return {text: _resolve_one(text, calls, known, layers) for text in wanted}


def _resolve_one(text: str, calls: Sequence[str], known: set[str], layers: Mapping[str, Any]) -> str:
    if text in known:
        return text
    if text in layers:
        raise PathError(f"path {text!r} names a layer that is not called on these inputs", path=text)
    named, suffix = _named(text, layers), ""
    suffixed = _CALL.fullmatch(text)
    if not named and suffixed:
        named, suffix = _named(suffixed[1], layers), "#" + suffixed[2]
    if len(named) > 1:
        candidates = tuple(path + suffix for path in named)
        raise PathError(
            f"Keras name {text!r} is shared by {len(named)} layers; pass one of their paths: "
            + ", ".join(map(repr, candidates)),
            path=text,
            known=candidates,
        )
    if named and named[0] + suffix in known:
        return named[0] + suffix
    if named and not suffix:
        raise PathError(
            f"Keras name {text!r} names the layer at path {named[0]!r}, which is not called on these inputs",
            path=text,
            known=(named[0],),
        )
    near = _nearest(text, calls, layers)
    shown = ", ".join(repr(call) + _aka(call, layers) for call in near)
    raise PathError(
        f"{text!r} names no layer call, by path or Keras name; nearest known paths: {shown or '(none)'}",
        path=text,
        known=near,
    )


def _named(name: str, layers: Mapping[str, Any]) -> list[str]:
    """The paths of the layers called ``name`` by Keras (not the model itself)."""
    return [path for path, layer in layers.items() if path and layer.name == name]


def _layer_path(call: str, layers: Mapping[str, Any]) -> str:
    """The layer path of a call id: ``dense`` for ``dense#1``."""
    suffixed = _CALL.fullmatch(call)
    return suffixed[1] if call not in layers and suffixed else call


def _aka(call: str, layers: Mapping[str, Any]) -> str:
    path = _layer_path(call, layers)
    name = keras_name_beside(path, layers.get(path))
    return f" (Keras name {name!r})" if name is not None else ""


def _nearest(text: str, calls: Sequence[str], layers: Mapping[str, Any]) -> tuple[str, ...]:
    """The calls whose path or Keras name is most like ``text``, nearest first (ties in call order)."""

    def likeness(call: str) -> float:
        path = _layer_path(call, layers)
        layer = layers.get(path)
        names = [call] + ([layer.name + call[len(path):]] if layer is not None else [])
        return max(difflib.SequenceMatcher(None, text, name).ratio() for name in names)

    ranked = sorted(enumerate(calls), key=lambda item: (-likeness(item[1]), item[0]))
    return tuple(call for _, call in ranked[:_SUGGESTIONS])
