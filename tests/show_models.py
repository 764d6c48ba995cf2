"""Models and golden files shared by test_summary and test_plot.

Golden files live in tests/golden/. Run with COMPOSE_UPDATE_GOLDEN=1 to rewrite them from the
current output (then review the diff), e.g.
    COMPOSE_UPDATE_GOLDEN=1 python -m pytest tests/test_summary.py tests/test_plot.py
"""

from __future__ import annotations

import os
import pathlib

import keras
import numpy as np
from keras import layers

import corpus

GOLDEN = pathlib.Path(__file__).parent / "golden"

#: Names that would break DOT if written unescaped, or as ids.
EVIL_NAMES = ['"x"]; evil [shape=box]; n2 [label="y"', 'a"b', "trail\\", "new\nline", "colon:port", "<b>", "graph"]


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with the golden file ``name``, or rewrite it under COMPOSE_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if os.environ.get("COMPOSE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with COMPOSE_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"


class Block(layers.Layer):
    """A residual block holding a spare layer it never calls."""

    def __init__(self, units: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.norm, self.dense = layers.LayerNormalization(), layers.Dense(units)
        self.spare = layers.Dense(units)

    def call(self, x):
        return x + self.dense(self.norm(x))


class Hybrid(keras.Model):
    """A subclassed model nesting a Functional model, two Blocks and a keras.ops op."""

    def __init__(self):
        super().__init__()
        x = keras.Input((3,))
        self.stem = keras.Model(x, layers.Dense(4, name="proj")(x), name="stem")
        self.blocks = [Block(), Block()]
        self.head = layers.Dense(2)

    def call(self, x):
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.head(keras.ops.relu(h))


class _KeepsDoubled(layers.Layer):
    """Leaves a tensor computed from its output on itself: no recorded call returns it, so
    only an inferred edge can reach it (TF ops between layers are recorded exactly)."""

    def call(self, x):
        y = keras.ops.relu(x)
        self.doubled = y * 2.0
        return y


class Broken(layers.Layer):
    """Raises in its call after calling its sublayer; the message holds markup to escape."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(4)

    def call(self, x):
        self.inner(x)
        raise ValueError("boom <here>")


RAISE_LINE = Broken.call.__code__.co_firstlineno + 2


class WithBroken(keras.Model):
    """A trace that stops inside `block`, leaving `last` unreached."""

    def __init__(self):
        super().__init__()
        self.block, self.last = Broken(), layers.Dense(2)

    def call(self, x):
        return self.last(self.block(x))


class InferredOnly(keras.Model):
    """Eager-only (a Python `float` of a value), with one edge that can only be inferred: a -> b."""

    def __init__(self):
        super().__init__()
        self.a, self.b = _KeepsDoubled(), layers.Dense(2)

    def call(self, x):
        h = self.a(x)
        return self.b(self.a.doubled * float(np.asarray(h).max() > 1e9))


def hybrid():
    return Hybrid(), (None, 3)


def _subclassed(build):
    def make():
        _, model, shape = build()
        return model, shape
    make.__name__ = build.__name__
    return make


def _functional(build):
    def make():
        model, _, _ = build()
        return model, ()
    make.__name__ = build.__name__ + "_functional"
    return make


#: Models with golden files: (name, factory returning (model, inputs)).
GOLDEN_MODELS = [
    _subclassed(corpus.mlp), _functional(corpus.multi_io), _subclassed(corpus.dict_io),
    _subclassed(corpus.shared), _subclassed(corpus.nested_sequential),
    _functional(corpus.nested_functional), _subclassed(corpus.tf_ops), _subclassed(corpus.attention),
    hybrid,
]


def build(factory):
    """The model of ``factory`` with Keras's name counters reset, so its auto-names are the same
    in every run and whatever ran before."""
    keras.backend.clear_session()
    model, shape = factory()
    return model, (shape,) if shape != () else ()
