"""Train the hybrid model on one device and under MirroredStrategy over two logical CPUs; print JSON.

Run as a script (test_distributed.py starts it in a fresh process): the logical CPU devices must
be configured before TensorFlow initializes its devices, which any earlier test would have done.

Usage: python distributed_check.py OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import tensorflow as tf

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import keras
import numpy as np
from nesting_models import UNITS, WithFunctional, hybrid_model

STEPS = 3


def _train(model: keras.Model, x: np.ndarray, y: np.ndarray) -> list[float]:
    """Loss at each of STEPS steps on the same batch, then the loss after them."""
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=False)
    losses = [float(model.train_on_batch(x, y)) for _ in range(STEPS)]
    return losses + [float(model.evaluate(x, y, batch_size=len(x), verbose=0))]


def main(out_dir: Path) -> dict:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, UNITS)).astype("float32")
    y = rng.standard_normal((8, 1)).astype("float32")

    single = hybrid_model()
    initial = single.get_weights()
    single_losses = _train(single, x, y)

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = hybrid_model()
        mirrored.set_weights(initial)  # same starting point as the single-device run
        mirrored_losses = _train(mirrored, x, y)
        variables_mirrored = all(
            isinstance(v.value, tf.distribute.DistributedValues) for v in mirrored.weights
        )
        path = out_dir / "mirrored.keras"
        mirrored.save(path)

    expected = mirrored.predict(x, verbose=0)
    loaded = keras.saving.load_model(path)  # outside the scope, no custom_objects
    return {
        "replicas": strategy.num_replicas_in_sync,
        "variables_mirrored": variables_mirrored,
        "single_losses": single_losses,
        "mirrored_losses": mirrored_losses,
        "loaded_block_class": type(loaded.get_layer("hybrid_block")).__name__,
        "loaded_is_block": isinstance(loaded.get_layer("hybrid_block"), WithFunctional),
        "prediction_max_diff": float(np.max(np.abs(loaded.predict(x, verbose=0) - expected))),
        "trained_max_diff": float(
            max(np.max(np.abs(a - b)) for a, b in zip(single.get_weights(), loaded.get_weights()))
        ),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
