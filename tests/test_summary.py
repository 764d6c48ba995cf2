# Golden files: tests/golden/*.summary.txt. Regenerate them with
#     COMPOSE_UPDATE_GOLDEN=1 python -m pytest tests/test_summary.py
# and review the diff before committing.
import keras
import numpy as np
import pytest
from keras import layers

import compose
import corpus
import show_models
from compose import trace


def rows(text: str) -> dict[str, tuple[str, str, str]]:
    """Table rows of a summary (Keras's or ours) as name -> (class, output shape, params)."""
    found = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) < 3 or not cells[0]:
            continue
        name, _, cls = cells[0].lstrip("└ ").rpartition(" (")
        found[name] = (cls.rstrip(")"), cells[1], cells[2])
    return found


@pytest.mark.parametrize("build", [corpus.mlp, corpus.multi_io, corpus.nested_sequential, corpus.nested_functional,
                                   corpus.attention, corpus.convnet, corpus.lstm], ids=lambda f: f.__name__)
def test_functional_rows_match_keras_summary(build, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # Keras's console is as wide as the terminal
    model, _, _ = build()
    captured = []
    model.summary(line_length=200, print_fn=captured.append)
    ours = rows(compose.summary(model, depth=1, line_length=200, print_fn=None))
    theirs = rows("".join(captured))
    names = [layer.name for layer in model.layers if not isinstance(layer, layers.InputLayer)]
    assert names and {n: ours[n] for n in names} == {n: theirs[n] for n in names}


def test_totals_equal_keras_with_non_trainable_weights(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    x = keras.Input((3,))
    model = keras.Model(x, layers.Dense(2)(layers.BatchNormalization()(layers.Dense(4)(x))))
    captured = []
    model.summary(print_fn=captured.append)
    text = compose.summary(model, print_fn=None)
    for label in ("Total params", "Trainable params", "Non-trainable params"):
        keras_line = next(line for line in "".join(captured).splitlines() if label + ":" in line)
        figure = keras_line.split(":")[1].split("(")[0].strip()
        assert f" {label}: {figure}\n" in text
    assert f"Total params: {model.count_params():,}" in text and "Non-trainable params: 8" in text


class WithSpare(keras.Model):
    def __init__(self):
        super().__init__()
        self.used, self.spare = layers.Dense(2), layers.Dense(5)
        self.spare.build((None, 3))

    def call(self, x):
        return self.used(x)


def test_unreached_layer_keeps_its_params_and_says_not_reached():
    model = WithSpare()
    text = compose.summary(model, (None, 3), print_fn=None)
    assert rows(text)["spare"] == ("Dense", "not reached", "20")
    assert f"Total params: {model.count_params():,}" in text
    assert " Coverage: 1/2 layers reached, 2 exact and 0 inferred edges" in text


def test_problem_is_marked_on_its_row_and_listed_with_file_and_line():
    text = compose.summary(show_models.WithBroken(), (None, 3), print_fn=None)
    assert "block (Broken) !" in text
    location = f"{show_models.__file__}:{show_models.RAISE_LINE}"
    assert f" Problem: block: ValueError: boom <here> ({location})" in text.replace("\n", "")
    assert rows(text)["last"][1] == "not reached"


def test_nested_rows_are_indented_and_depth_collapses_them():
    model, inputs = show_models.build(show_models.hybrid)
    result = trace(model, *inputs)
    full = compose.summary(result, print_fn=None)
    assert "│    └ proj (Dense)" in full and "│    └ dense (Dense)" in full
    assert rows(full)["blocks.0"] == ("Block", "(None, 4)", "28")
    assert rows(full)["spare"] == ("Dense", "not reached", "0")
    shallow = rows(compose.summary(result, depth=1, print_fn=None))
    assert "proj" not in shallow and "spare" not in shallow
    assert shallow["blocks.1"] == ("Block", "(None, 4)", "28")


def test_connections_name_paths_calls_and_inferred_edges():
    _, model, shape = corpus.shared()
    assert rows(compose.summary(model, shape, print_fn=None))["d#1"] == ("Dense", "(None, 4)", "shared")
    text = compose.summary(model, shape, print_fn=None)
    assert "│ d#1 (Dense)" in text and "│ d                " in text

    text = compose.summary(show_models.InferredOnly(), np.ones((2, 3), "float32"), print_fn=None)
    assert "a (inferred)" in text


def test_markup_in_names_is_printed_as_is():
    x = keras.Input((3,))
    model = keras.Model(x, layers.Dense(2, name="[bold red]x[i]")(x))
    assert "[bold red]x[i] (Dense)" in compose.summary(model, print_fn=None)


def test_print_fn_gets_the_returned_text_once(capsys):
    model, _, _ = corpus.mlp()
    calls = []
    text = compose.summary(model, print_fn=calls.append)
    assert calls == [text]
    compose.summary(model, print_fn=None)
    assert capsys.readouterr().out == ""
    compose.summary(model)
    assert capsys.readouterr().out == text + "\n"


def test_line_length_sets_the_width():
    model, _, _ = corpus.mlp()
    lines = compose.summary(model, line_length=90, print_fn=None).splitlines()
    assert max(len(line) for line in lines) == 90


def test_a_trace_takes_no_inputs():
    model, _, _ = corpus.mlp()
    with pytest.raises(TypeError, match="already a Trace"):
        compose.summary(trace(model), (None, 5))


@pytest.mark.parametrize("factory", show_models.GOLDEN_MODELS, ids=lambda f: f.__name__)
def test_golden_summary(factory):
    model, inputs = show_models.build(factory)
    text = compose.summary(model, *inputs, print_fn=None)
    show_models.check_golden(f"{factory.__name__}.summary.txt", text)
    model, inputs = show_models.build(factory)
    assert compose.summary(model, *inputs, print_fn=None) == text  # a rebuilt twin prints the same
