"""Tracing per container (regions) against what Keras and TensorFlow take for the same work.

Three measurements, each side by side in one run:

1. keras_hub backbones of the corpus (tests/real/): how many the symbolic strategy traces (whole,
   or with graph/eager regions), and the time to trace them all against the time Keras takes to
   construct the same backbones (`from_config`: the symbolic construction Keras does).
2. Real models of the corpus whose own `call` the symbolic strategy cannot run (they go to the
   graph strategy) or that have regions: the trace time against a bare
   `tf.function(model).get_concrete_function(...)` of the same call on the same specs.
3. A 200-block residual model with one `tf.nn.gelu` in one block: the trace time against the
   symbolic trace of the same model without that op (only that block is a graph region).

Run: python benchmarks/regions.py [--no-hub]
"""

import copy
import sys
from pathlib import Path
from statistics import median

import keras
import numpy as np
import tensorflow as tf
from _timing import best_pair

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import compose  # noqa: E402 - after the corpus's folder is importable
from real import MODELS, hub_backbones  # noqa: E402


def kind(result) -> str:
    """How the model was traced: its strategy, and the strategies of its regions."""
    regions = sorted({run.name for run in result.strategies if run.path is not None and run.finished})
    return result.strategy + (f" + {'/'.join(regions)} regions" if regions else "")


def hub() -> None:
    total_trace = total_keras = 0.0
    counts: dict[str, int] = {}
    for name, _, build in hub_backbones():
        model, inputs, call_kwargs = build()
        config = model.get_config()

        def construct():
            # Some backbones' from_config replaces entries of the dict it is given by layers.
            return type(model).from_config(copy.deepcopy(config))

        try:
            construct()
        except Exception as err:  # noqa: BLE001 - the backbone's own from_config fails
            print(f"  {name:<28} left out: Keras cannot construct it from its config ({type(err).__name__})")
            continue
        t_trace, t_keras = best_pair(
            lambda: compose.trace(model, *inputs, **call_kwargs), construct, repeat=2
        )
        result = compose.trace(model, *inputs, **call_kwargs)
        counts[kind(result)] = counts.get(kind(result), 0) + 1
        total_trace, total_keras = total_trace + t_trace, total_keras + t_keras
        print(f"  {name:<28} {kind(result):<32} trace {t_trace:6.3f}s  Keras {t_keras:6.3f}s")
    n = sum(counts.values())
    symbolic = sum(c for k, c in counts.items() if k.startswith("symbolic"))
    print(f"keras_hub: {symbolic}/{n} traced by the symbolic strategy ({counts}); all traced in "
          f"{total_trace:.2f}s, Keras constructs them in {total_keras:.2f}s: ratio "
          f"{total_trace / total_keras:.2f} (target <= 0.5)")


def concrete_function_of(model, inputs, call_kwargs):
    specs = [tf.TensorSpec((None, *np.shape(x)[1:]), keras.backend.standardize_dtype(x.dtype)) for x in inputs]
    return lambda: tf.function(lambda *a: model(*a, **call_kwargs)).get_concrete_function(*specs)


def real_models() -> None:
    ratios = []
    for name, module in MODELS.items():
        model, inputs, call_kwargs = module.build()
        result = compose.trace(model, *inputs, **call_kwargs)
        if result.strategy == "symbolic" and not any(run.path for run in result.strategies):
            continue
        if not all(isinstance(x, np.ndarray) for x in inputs):
            continue  # the bare tf.function below wants one spec per input array
        t_trace, t_tf = best_pair(
            lambda: compose.trace(model, *inputs, **call_kwargs), concrete_function_of(model, inputs, call_kwargs)
        )
        ratios.append(t_trace / t_tf)
        print(f"  {name:<22} {kind(result):<32} trace {t_trace:6.3f}s  tf.function {t_tf:6.3f}s  "
              f"ratio {t_trace / t_tf:5.2f}")
    print(f"real models with a graph strategy or regions: median trace / bare tf.function trace "
          f"{median(ratios):.2f} over {len(ratios)} (target <= 1.1)")


class Block(keras.layers.Layer):
    def __init__(self, tf_op=False, **kwargs):
        super().__init__(**kwargs)
        self.tf_op = tf_op
        self.dense = keras.layers.Dense(8)

    def call(self, x):
        h = self.dense(x)
        return x + (tf.nn.gelu(h) if self.tf_op else h)


class Residual(keras.Model):
    def __init__(self, n_blocks, op_in=None):
        super().__init__()
        self.blocks = [Block(i == op_in) for i in range(n_blocks)]

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return x


def one_op() -> None:
    plain, with_op = Residual(200), Residual(200, op_in=100)
    for model in (plain, with_op):
        model(np.ones((1, 8), "float32"))
    t_op, t_plain = best_pair(lambda: compose.trace(with_op, (None, 8)), lambda: compose.trace(plain, (None, 8)))
    result = compose.trace(with_op, (None, 8))
    print(f"200 blocks, one tf.nn.gelu in blocks.100 ({kind(result)}): {t_op:.3f}s, the same without "
          f"the op {t_plain:.3f}s: ratio {t_op / t_plain:.2f} (target <= 1.5)")


if __name__ == "__main__":
    one_op()
    real_models()
    if "--no-hub" not in sys.argv:
        hub()
