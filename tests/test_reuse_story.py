"""The transfer-learning story of examples/transfer_learning.py, checked as a user would."""

import importlib.util
import pathlib

import keras
import numpy as np

import compose

_EXAMPLE = pathlib.Path(__file__).parents[1] / "examples" / "transfer_learning.py"
_spec = importlib.util.spec_from_file_location("transfer_learning", _EXAMPLE)
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)


def test_applications_backbone_inside_a_subclassed_model_both_ways(tmp_path, capsys):
    model = example.Classifier()
    images = np.random.default_rng(0).uniform(size=(4, *example.IMAGE)).astype("float32")
    expected = model(images).numpy()
    weights = [w.numpy().copy() for w in model.weights]

    # An extractor for an inner block of the backbone, equal to Keras's own extractor.
    inputs = keras.Input(example.IMAGE)
    path = "backbone/block_5_add"
    extractor = keras.Model(inputs, compose.intermediates(model, inputs, paths=path)[path])
    backbone = model.backbone
    by_keras = keras.Model(backbone.input, backbone.get_layer("block_5_add").output)
    np.testing.assert_allclose(extractor(images), by_keras(images), atol=1e-6)
    np.testing.assert_allclose(compose.intermediates(model, images, paths=path)[path], by_keras(images), atol=1e-6)

    # The reverse: a Functional twin, saved and loaded without the model's code, then cut.
    twin = compose.to_functional(model)
    np.testing.assert_allclose(twin(images), expected, atol=1e-6)
    twin.save(tmp_path / "twin.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "twin.keras")(images), expected, atol=1e-6)
    cut = compose.intermediates(twin, twin.input, paths="neck_norm")["neck_norm"]
    head = keras.layers.Dense(2, activation="softmax")
    new_model = keras.Model(twin.input, head(keras.layers.GlobalAveragePooling2D()(cut)))
    model.backbone.trainable = False
    new_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = new_model.fit(images, np.array([0, 1, 0, 1]), epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # The new model trained the shared Neck, not the frozen backbone; the source model sees it.
    after = {w.path: w.numpy() for w in model.weights}
    before = dict(zip((w.path for w in model.weights), weights))
    assert all(np.array_equal(before[p], after[p]) for p in after if p.startswith(backbone.name))
    assert not np.array_equal(before[model.neck.norm.beta.path], after[model.neck.norm.beta.path])


def test_the_example_runs():
    example.main()
