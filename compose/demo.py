"""The demo behind ``python -m compose demo``: a hybrid model, its summary and its plot.

The model mixes everything compose is for: a subclassed ``keras.Model`` whose ``call`` runs a
Functional sub-model, typed Blocks in a Python list, a TensorFlow op between layers, and a branch
that needs concrete values (``.numpy()``), so that only an eager run can follow it. The trace says
exactly that: which layers it reached, which edges are proven, and where it had to give up on
tracing symbolically.

This module is public on purpose: it is an example to read, and a problem met inside it is
reported at its lines, as one in your own code would be.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import tensorflow as tf

import compose
from compose import Tensor


class Gate(compose.Block):
    """A gated projection: ``proj(x) * sigmoid(gate(x))``."""

    units: int = 16

    def setup(self):
        self.proj = keras.layers.Dense(self.units, name="proj")
        self.gate = keras.layers.Dense(self.units, activation="sigmoid", name="gate")

    def call(self, x: Tensor["batch", "units"]) -> Tensor["batch", "units"]:
        return self.proj(x) * self.gate(x)


def feature_extractor(units: int) -> keras.Model:
    """A Functional sub-model, nested inside the subclassed one."""
    inputs = keras.Input((units,), name="features_in")
    hidden = keras.layers.Dense(units, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.LayerNormalization(name="norm")(hidden)
    return keras.Model(inputs, outputs, name="features")


@keras.saving.register_keras_serializable(package="compose.demo")
class HybridClassifier(keras.Model):
    """Subclassed model: Dense -> relu (a tf op) -> Functional -> two Gate blocks -> head.

    With ``inspect=True`` it also looks at its logits' values in Python and, when they are
    extreme, answers from a fallback head: a branch only an eager run can follow.
    """

    def __init__(self, units: int = 16, classes: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.units, self.classes = units, classes
        self.embed = keras.layers.Dense(units, name="embed")
        self.features = feature_extractor(units)
        self.blocks = [Gate(units=units, name=f"gate_{i}") for i in range(2)]
        self.head = keras.layers.Dense(classes, name="head")
        self.fallback = keras.layers.Dense(classes, name="fallback")

    def call(self, x, inspect=False):
        h = tf.nn.relu(self.embed(x))
        h = self.features(h)
        for block in self.blocks:
            h = h + block(h)
        logits = self.head(h)
        if inspect and float(tf.reduce_max(tf.abs(logits)).numpy()) > 100.0:
            logits = self.fallback(h)
        return logits

    def get_config(self):
        return {**super().get_config(), "units": self.units, "classes": self.classes}


def main(out_dir: str | os.PathLike = ".", print_fn=print) -> list[Path]:
    """Build the demo model, print its summary, and plot it.

    Args:
        out_dir: where to write ``demo.dot``, and ``demo.svg`` when Graphviz is installed;
            created if missing.
        print_fn: called with the summary table and each line of the report.

    Returns:
        The paths written.

    Example:
        >>> paths = main("demo_out", print_fn=lambda *_: None)
        >>> paths[0].name  # then demo.svg, when Graphviz is installed
        'demo.dot'
    """
    model = HybridClassifier(name="hybrid")
    trace = compose.trace(model, (None, 8), inspect=True)
    compose.summary(trace, print_fn=print_fn)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "demo.dot"]
    compose.plot(trace, to_file=written[0])
    try:
        compose.plot(trace, to_file=out / "demo.svg")
        written.append(out / "demo.svg")
    except compose.GraphvizNotFound as err:
        print_fn(f"(no SVG: {err})")
    for path in written:
        print_fn(f"wrote {path.resolve()}")
    return written
