"""`check_block`: the whole contract of a Block in one call, like Keras's own `run_layer_test`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras
import numpy as np

import compose
from compose._blocks._specs import Mismatch, match


def _random(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    if "int" in dtype:
        return rng.integers(0, 4, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def check_block(block: compose.Block, *input_shapes: tuple[int, ...], tmp_path: Path,
                dtypes: tuple[str, ...] | None = None) -> Any:
    """Check `block` against its contract and return its eager output.

    `input_shapes` are concrete shapes, batch included, one per tensor argument of `call`.
    Checks: the eager call matches the declared return spec; a Functional model built from
    `keras.Input`s gives the same output shape (batch unknown); `get_config` survives a JSON round
    trip and `from_config` rebuilds an equal block; the block saves inside a model to a `.keras`
    file and loads WITHOUT `custom_objects`, giving the same outputs; `compose.clone` with
    `copy_weights=True` gives the same outputs and without gives the same architecture.
    """
    dtypes = dtypes or ("float32",) * len(input_shapes)
    values = [_random(s, d) for s, d in zip(input_shapes, dtypes)]
    out = block(*values)

    expected = type(block)._signature.output
    if isinstance(expected, compose.TensorSpec):
        bindings = {n: getattr(block, n) for n in type(block)._hyperparameter_dims}
        try:
            match(expected, compose.TensorSpec.of(out), bindings)
        except Mismatch as err:  # pragma: no cover - reported as a test failure
            raise AssertionError(f"{block.name}: output breaks its return spec: {err}") from err

    inputs = [keras.Input(s[1:], batch_size=None, dtype=d) for s, d in zip(input_shapes, dtypes)]
    symbolic = block(*inputs)
    assert tuple(symbolic.shape)[1:] == tuple(out.shape)[1:], (symbolic.shape, out.shape)
    model = keras.Model(inputs, symbolic)

    config = block.get_config()
    rebuilt = type(block).from_config(json.loads(json.dumps(config)))
    assert rebuilt.get_config() == config  # tuples come back as tuples: hyperparameters are typed
    assert repr(rebuilt) == repr(block)

    path = tmp_path / f"{block.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: blocks register themselves
    np.testing.assert_allclose(loaded.predict(values, verbose=0), model.predict(values, verbose=0),
                               atol=1e-6)
    assert loaded.count_params() == model.count_params()

    twin = compose.clone(block, copy_weights=True)
    np.testing.assert_allclose(np.asarray(twin(*values)), np.asarray(out), atol=1e-6)
    fresh = compose.clone(block)
    assert fresh.get_config()["name"] == block.name and type(fresh) is type(block)
    assert fresh.count_params() == block.count_params()
    if block.count_params():
        assert any(
            not np.array_equal(a, b) for a, b in zip(fresh.get_weights(), block.get_weights())
        ), "clone without copy_weights must start from new weights"
    return out
