"""Loading never runs code or imports modules that a config names, beyond what Keras's safe mode
allows. Each attack is checked with a sentinel: a file that would exist had the code run."""

import json
import sys
import zipfile

import keras
import numpy as np
import pytest

import compose
from compose import Tensor


class Scale(compose.Block):
    units: int = 4

    def setup(self):
        self.dense = keras.layers.Dense(self.units)

    def call(self, x: Tensor["batch", "units"]) -> Tensor["batch", "units"]:
        return self.dense(x)


@pytest.fixture
def trap(tmp_path, monkeypatch):
    """A module that, if imported, writes a sentinel file; importable from tmp_path."""
    sentinel = tmp_path / "sentinel"
    (tmp_path / "compose_trap.py").write_text(
        f"open({str(sentinel)!r}, 'w').close()\ndef system(*a, **k):\n    open({str(sentinel)!r}, 'w').close()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield sentinel
    sys.modules.pop("compose_trap", None)


def _saved_model(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, Scale(name="scale")(inputs))
    path = tmp_path / "model.keras"
    model.save(path)
    return path


def _tamper(path, edit):
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    edit(config["config"]["layers"][1])  # the Scale block's entry
    files["config.json"] = json.dumps(config).encode()
    tampered = path.with_name("tampered.keras")
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return tampered


def _causes(err):
    while err is not None:
        yield err
        err = err.__cause__ or err.__context__


def test_trap_fires_when_imported(trap):
    # The sentinel mechanism itself works, so its absence below means something.
    import compose_trap  # noqa: F401

    assert trap.exists()


def test_block_from_config_refuses_serialized_objects(trap):
    config = Scale().get_config()
    config["units"] = {"module": "compose_trap", "class_name": "function", "config": "system"}
    with pytest.raises(compose.UnsafeConfigError, match="hyperparameter 'units' holds a serialized object.*never imports or runs"):
        Scale.from_config(config)
    assert not trap.exists() and "compose_trap" not in sys.modules


def test_block_from_config_refuses_unknown_keys(trap):
    config = dict(Scale().get_config(), module="compose_trap", exec="system('x')")
    with pytest.raises(compose.HyperparameterError, match="unknown keyword argument.*'exec'"):
        Scale.from_config(config)
    assert not trap.exists()


def test_load_refuses_serialized_object_in_hyperparameter(tmp_path, trap):
    def edit(layer):
        layer["config"]["units"] = {"module": "compose_trap", "class_name": "function", "config": "system", "registered_name": None}

    with pytest.raises(Exception) as info:
        keras.saving.load_model(_tamper(_saved_model(tmp_path), edit))
    assert any(isinstance(e, compose.UnsafeConfigError) for e in _causes(info.value))
    assert not trap.exists() and "compose_trap" not in sys.modules


@pytest.mark.parametrize(
    "module, class_name, registered",
    [
        ("compose_trap", "system", None),  # a function of a module outside the allowlist
        ("os", "system", None),  # os.system itself
        ("compose_trap", "Scale", "compose_trap>Scale"),  # a class nobody registered
    ],
)
def test_load_refuses_classes_outside_the_allowlist(tmp_path, trap, module, class_name, registered):
    def edit(layer):
        layer.update(module=module, class_name=class_name, registered_name=registered)

    with pytest.raises((TypeError, ValueError)):
        keras.saving.load_model(_tamper(_saved_model(tmp_path), edit))
    assert not trap.exists() and "compose_trap" not in sys.modules


def test_load_refuses_lambda_in_safe_mode(tmp_path):
    sentinel = tmp_path / "lambda-ran"
    target = str(sentinel)  # a str closure: Keras serializes the lambda with what it captures
    inputs = keras.Input((4,))
    touch = keras.layers.Lambda(lambda x: (open(target, "w").close(), x)[1], name="touch")
    model = keras.Model(inputs, touch(Scale(name="scale")(inputs)))
    sentinel.unlink()  # building the model ran the lambda once
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(path)
    assert not sentinel.exists()
    # The sentinel is real: allowing unsafe code makes it appear.
    keras.saving.load_model(path, safe_mode=False).predict(np.ones((1, 4)), verbose=0)
    assert sentinel.exists()
