"""Blocks nest in every direction: fit, predict after save/load (no custom_objects), clone."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from block_contract import check_block
from nesting_models import (
    UNITS,
    Residual,
    UserModel,
    WithFunctional,
    WithFunctionalOfBlocks,
    WithSequential,
    functional_around,
    hybrid_model,
    sequential_around,
    shared_block_model,
)

import compose

SAMPLES = 16


def _data():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((SAMPLES, UNITS)).astype("float32")
    y = rng.standard_normal((SAMPLES, 1)).astype("float32")
    return x, y


def _layer_classes(model: keras.layers.Layer) -> list[str]:
    """Class names of every layer reachable from `model`, depth first: its architecture."""
    return [type(layer).__name__ for layer in model._flatten_layers(include_self=True)]


def _fit_save_load_clone(model: keras.Model, tmp_path) -> keras.Model:
    """What a user checks of a nested model; returns the loaded model for case-specific checks."""
    x, y = _data()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = model.get_weights()
    assert len(before) == len(after)
    # Every weight, the Blocks' and the inner models' included, received a gradient step.
    assert all(not np.array_equal(b, a) for b, a in zip(before, after))
    expected = model.predict(x, verbose=0)

    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: the blocks registered themselves
    assert type(loaded) is type(model)
    assert _layer_classes(loaded) == _layer_classes(model)
    assert loaded.count_params() == model.count_params()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)

    fresh = compose.clone(model)
    assert type(fresh) is type(model)
    assert _layer_classes(fresh) == _layer_classes(model)
    assert fresh.count_params() == model.count_params()
    assert all(
        not np.array_equal(a, b) for a, b in zip(fresh.get_weights(), model.get_weights())
        if a.size > 1  # biases start at zero in both
    ), "clone without copy_weights must start from new weights"
    twin = compose.clone(model, copy_weights=True)
    np.testing.assert_allclose(twin.predict(x, verbose=0), expected, atol=1e-6)
    return loaded


@pytest.mark.parametrize(
    "block", [Residual(), WithFunctional(), WithSequential(), WithFunctionalOfBlocks()],
    ids=lambda b: type(b).__name__,
)
def test_nesting_blocks_keep_the_block_contract(block, tmp_path):
    check_block(block, (2, UNITS), tmp_path=tmp_path)


def test_functional_inside_a_block(tmp_path):  # (a)
    model = functional_around(WithFunctional(name="outer"), "a_functional_in_block")
    loaded = _fit_save_load_clone(model, tmp_path)
    inner = loaded.get_layer("outer").inner
    assert isinstance(inner, keras.Model) and not isinstance(inner, keras.Sequential)


def test_sequential_inside_a_block(tmp_path):  # (b)
    model = functional_around(WithSequential(name="outer"), "b_sequential_in_block")
    loaded = _fit_save_load_clone(model, tmp_path)
    assert isinstance(loaded.get_layer("outer").inner, keras.Sequential)


def test_block_inside_functional(tmp_path):  # (c)
    loaded = _fit_save_load_clone(functional_around(Residual(name="res"), "c_block"), tmp_path)
    assert isinstance(loaded.get_layer("res"), Residual)


def test_block_inside_sequential(tmp_path):  # (d)
    model = sequential_around(Residual(name="res"), "d_block_in_sequential")
    loaded = _fit_save_load_clone(model, tmp_path)
    assert isinstance(loaded.get_layer("res"), Residual)


def test_block_inside_a_user_model_subclass(tmp_path):  # (e)
    model = UserModel(name="e_user_model")
    model(_data()[0][:1])  # Keras builds a subclassed model by calling it
    assert model.count_params() == 25
    loaded = _fit_save_load_clone(model, tmp_path)
    assert isinstance(loaded.block, Residual) and loaded.units == UNITS


def test_three_levels_functional_block_functional_block(tmp_path):  # (f)
    model = functional_around(WithFunctionalOfBlocks(name="middle"), "f_three_levels")
    loaded = _fit_save_load_clone(model, tmp_path)
    middle = loaded.get_layer("middle")
    assert isinstance(middle, WithFunctionalOfBlocks)
    assert any(isinstance(layer, Residual) for layer in middle.inner.layers)
    # Residual (4*4 + 4) + head Dense(1) (4 + 1): nothing lost or duplicated across the levels.
    assert loaded.count_params() == 25


def test_one_block_called_at_two_sites(tmp_path):  # (g)
    model = shared_block_model()
    # Residual (4*4 + 4) counted once, plus Dense(1) (4 + 1); two copies would make 45.
    assert model.count_params() == 25
    assert len(model.trainable_weights) == 4
    loaded = _fit_save_load_clone(model, tmp_path)
    assert loaded.count_params() == 25
    # Still one layer called twice, not two layers.
    assert sum(isinstance(layer, Residual) for layer in loaded.layers) == 1
    x, _ = _data()
    shared, head = loaded.get_layer("shared"), loaded.layers[-1]
    np.testing.assert_allclose(
        head(shared(shared(x))), loaded.predict(x, verbose=0), atol=1e-6
    )


def test_hybrid_model_used_by_the_distributed_check(tmp_path):
    _fit_save_load_clone(hybrid_model(), tmp_path)


class MLP(compose.Block):
    units: int = UNITS
    hidden: int = 8

    def setup(self):
        self.up = keras.layers.Dense(self.hidden, activation="relu")
        self.down = keras.layers.Dense(self.units)
        self.norm = keras.layers.LayerNormalization()

    def call(self, x: compose.Tensor["batch", "units"]) -> compose.Tensor["batch", "units"]:
        return self.norm(x + self.down(self.up(x)))


class PlainMLP(keras.layers.Layer):
    """MLP as a Keras user writes it by hand."""

    def __init__(self, units=UNITS, hidden=8, **kwargs):
        super().__init__(**kwargs)
        self.units, self.hidden = units, hidden
        self.up = keras.layers.Dense(hidden, activation="relu")
        self.down = keras.layers.Dense(units)
        self.norm = keras.layers.LayerNormalization()

    def call(self, x):
        return self.norm(x + self.down(self.up(x)))


def test_block_count_params_equals_plain_keras(tmp_path):
    x, _ = _data()
    plain = PlainMLP()
    plain(x)
    block = MLP()
    check_block(block, (2, UNITS), tmp_path=tmp_path)
    # up (4*8 + 8) + down (8*4 + 4) + norm (4 + 4)
    assert plain.count_params() == block.count_params() == 84
    assert len(block.trainable_weights) == len(plain.trainable_weights) == 6

    built_only = MLP()
    built_only.build((None, UNITS))  # the generated build creates every sublayer's weights
    assert built_only.count_params() == 84
