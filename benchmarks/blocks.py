"""What a Block costs over the same layer written by hand in plain Keras.

Two numbers, each a ratio Block / plain Keras, in one run:

- eager forward of a chain of 30 residual layers (batch 4, 8 units: overhead-bound, so any
  per-call cost of `Block.__call__` shows). Target <= 1.05.
- one compiled training step (a `tf.function`, jit_compile=False) of the same chain. The checks
  run only while the step is traced, so the target is <= 1.01, i.e. no difference.

Timing: warm-up first; then many calls of the Block chain and of the plain chain, each timed
alone, alternating (see `compare`); the median ratio of a few such rounds. On a 2-core machine
shared with other work, a same-vs-same ratio (one Block chain against itself) stays within
about 0.5% of 1. A third line times `Block.__call__`'s own eager fast path on a
layer whose `call` does nothing.

Run: python benchmarks/blocks.py [--pairs N] [--rounds N] [--profile]
"""

from __future__ import annotations

import argparse
import time

import keras
import numpy as np
import tensorflow as tf

import compose

DEPTH, BATCH, UNITS = 30, 4, 8


class BlockResidual(compose.Block):
    units: int = UNITS

    def setup(self):
        self.dense = keras.layers.Dense(self.units)

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return x + self.dense(x)


class PlainResidual(keras.layers.Layer):
    """The same layer as a Keras user writes it by hand."""

    def __init__(self, units=UNITS, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units)

    def call(self, x):
        return x + self.dense(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class EmptyBlock(compose.Block):
    units: int = UNITS

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return x


class EmptyPlain(keras.layers.Layer):
    def call(self, x):
        return x


def _chains(x: tf.Tensor) -> tuple[list, list]:
    blocks = [BlockResidual(name=f"block_{i}") for i in range(DEPTH)]
    plain = [PlainResidual(name=f"plain_{i}") for i in range(DEPTH)]
    _forward(blocks, x)  # the first eager call is the checked one; build everything
    _forward(plain, x)
    for b, p in zip(blocks, plain):
        p.set_weights(b.get_weights())
    np.testing.assert_allclose(_forward(blocks, x), _forward(plain, x), rtol=1e-5)
    return blocks, plain


def _forward(layers: list, x: tf.Tensor) -> tf.Tensor:
    for layer in layers:
        x = layer(x)
    return x


def _train_step(layers: list):
    inputs = keras.Input((UNITS,))
    model = keras.Model(inputs, _forward(layers, inputs))
    optimizer = keras.optimizers.SGD(0.001)
    optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=False)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    return step


def _op_types(step, x, y) -> list[str]:
    return sorted(op.type for op in step.get_concrete_function(x, y).graph.get_operations())


def compare(block_fn, plain_fn, pairs: int) -> tuple[float, float]:
    """Seconds per call of each: the lower decile over `pairs` calls timed one by one, alternating
    block and plain (and which goes first) after a warm-up, so drift in machine load hits both.
    The lower decile is the least-disturbed time yet, unlike the minimum, not one lucky call."""
    for _ in range(max(pairs // 20, 5)):
        block_fn()
        plain_fn()
    clock = time.perf_counter
    times: dict = {block_fn: [], plain_fn: []}
    for i in range(pairs):
        for fn in (block_fn, plain_fn) if i % 2 else (plain_fn, block_fn):
            start = clock()
            fn()
            times[fn].append(clock() - start)
    return float(np.percentile(times[block_fn], 10)), float(np.percentile(times[plain_fn], 10))


def measure(what: str, block_fn, plain_fn, pairs: int, rounds: int, target: float) -> float:
    """Print and return the median ratio over `rounds` independent `compare`s: one burst of load
    from elsewhere on the machine then moves one round, not the result."""
    results = [compare(block_fn, plain_fn, pairs) for _ in range(rounds)]
    ratios = [b / p for b, p in results]
    ratio = float(np.median(ratios))
    block, plain = (float(np.median(t)) for t in zip(*results))
    verdict = "ok" if ratio <= target else "MISSES target"
    print(f"{what:<34} block {block * 1e6:9.1f} us  plain {plain * 1e6:9.1f} us  "
          f"ratio {ratio:.3f} (target <= {target:.2f}: {verdict}; rounds: "
          f"{', '.join(f'{r:.3f}' for r in ratios)})")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=150,
                        help="eager forward pairs timed per round; the compiled step times 16x as many")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile the eager Block chain and print the top entries")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    x = tf.constant(np.random.default_rng(0).standard_normal((BATCH, UNITS)), tf.float32)
    y = tf.zeros((BATCH, UNITS))
    blocks, plain = _chains(x)

    print(f"{DEPTH} residual layers, batch {BATCH}, {UNITS} units; "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}; lower decile of timed calls")
    eager_ratio = measure(f"eager forward ({DEPTH} layers)", lambda: _forward(blocks, x),
                          lambda: _forward(plain, x), args.pairs, args.rounds, 1.05)

    block_step, plain_step = _train_step(blocks), _train_step(plain)
    measure("compiled train step (tf.function)", lambda: block_step(x, y),
            lambda: plain_step(x, y), 16 * args.pairs, args.rounds, 1.01)
    same = _op_types(block_step, x, y) == _op_types(plain_step, x, y)
    print(f"{'':<34} same ops in both step graphs: {same}")

    empty_block, empty_plain = EmptyBlock(), EmptyPlain()
    empty_block(x), empty_plain(x)
    block_call, plain_call = compare(lambda: empty_block(x), lambda: empty_plain(x), 20000)
    print(f"{'eager __call__ of a no-op layer':<34} block {block_call * 1e6:9.2f} us  plain "
          f"{plain_call * 1e6:9.2f} us  Block fast path: {(block_call - plain_call) * 1e6:.2f} us")

    if args.profile or eager_ratio > 1.05:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [_forward(blocks, x) for _ in range(200)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
