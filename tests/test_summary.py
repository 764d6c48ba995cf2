# Golden files: tests/golden/*.summary.txt. Regenerate them with
#     COMPOSE_UPDATE_GOLDEN=1 python -m pytest tests/test_summary.py
# and review the diff before committing.

import os
import re

import keras
import numpy as np
import pytest
from keras import layers

import compose
import corpus
import show_models
from compose import trace


def rows(text: str) -> dict[str, tuple[str, str, str]]:
    """Table rows of a summary (Keras's or ours) as name -> (class, output shape, params); our
    rows are keyed by path, without the Keras name shown after `` = ``."""
    found = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) < 3 or not cells[0]:
            continue
        name, _, cls = cells[0].lstrip("└ ").rpartition(" (")
        found[name.partition(" = ")[0]] = (cls.rstrip(")"), cells[1], cells[2])
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
    assert re.search(r"block = broken(_\d+)? \(Broken\) !", text)
    # Shown relative to the working folder: a summary shared elsewhere shows no one's folders.
    location = f"{os.path.relpath(show_models.__file__)}:{show_models.RAISE_LINE}"
    assert f" Problem: block: ValueError: boom <here> ({location})" in text.replace("\n", "")
    assert rows(text)["last"][1] == "not reached"


def test_problem_locations_are_shown_without_the_authors_folders(tmp_path, monkeypatch):
    result = compose.trace(show_models.WithBroken(), (None, 3))
    problem = result.coverage.problems[0]
    assert problem.location == f"{show_models.__file__}:{show_models.RAISE_LINE}"  # kept whole
    monkeypatch.chdir(tmp_path)  # a working folder the file is not in: only its name is shown
    assert problem.shown_location == f"show_models.py:{show_models.RAISE_LINE}"
    assert str(show_models.__file__) not in compose.summary(result, print_fn=None).replace("\n", "")
    assert str(show_models.__file__) not in compose.plot(result).to_string()


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
    name = model.d.name  # the Keras name, beside both calls' paths
    assert f"│ d#1 = {name} (Dense)" in text and f"│ d = {name} (Dense) " in text

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


# -- Keras's keywords, held equal to Keras's own summary of a Functional model

def keyword_model() -> keras.Model:
    """A Functional model with everything Keras's keywords look at: two inputs (so Keras prints
    its "Connected to" layout), a nested Functional and a nested Sequential model, a frozen layer,
    a layer with non-trainable weights, a layer without weights, activations."""
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    inner = keras.Input((6,))
    enc = keras.Model(inner, layers.Dense(4, name="e2")(layers.Dense(5, name="e1", activation="tanh")(inner)), name="enc")
    body = keras.Sequential([layers.Dense(4, name="s1"), layers.Dropout(0.1, name="drop")], name="body")
    frozen = layers.Dense(4, name="frozen", activation="relu")
    frozen.trainable = False
    h = layers.BatchNormalization(name="bn")(frozen(enc(layers.Concatenate(name="cat")([a, b]))))
    return keras.Model([a, b], layers.Dense(2, name="out", activation="softmax")(body(h)), name="keywords")


def table(text: str) -> list[tuple[str, ...]]:
    """The layer rows of a summary (Keras's or ours), in order, as (name, class, output shape,
    params[, trainable]); inputs and outputs left out (Keras prints an InputLayer row inside a
    nested Functional model, where nothing is called)."""
    found = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) < 3 or not cells[0]:
            continue
        name, _, cls = cells[0].lstrip("└ ").rpartition(" (")
        cls = cls.rstrip(")")
        if cls not in ("InputLayer", "Input", "Output"):
            trainable = (cells[-1],) if re.search(r"┃\s*Trainable\s*┃", text) else ()
            found.append((name, cls, cells[1], cells[2]) + trainable)
    return found


def keras_summary(model: keras.Model, **kwargs) -> str:
    captured = []
    model.summary(print_fn=captured.append, **{"line_length": 180, **kwargs})
    return "".join(captured)


@pytest.mark.parametrize("kwargs", [
    {}, {"expand_nested": False}, {"expand_nested": True}, {"show_trainable": True},
    {"expand_nested": True, "show_trainable": True}, {"layer_range": ("enc", "bn")},
    {"layer_range": ("e.c", "b.*"), "expand_nested": True},
], ids=lambda kwargs: ",".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults")
def test_keras_keywords_give_keras_rows(kwargs, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    model = keyword_model()
    # Keras's default is expand_nested=False; ours leaves it to depth, which opens everything.
    as_keras = {"expand_nested": False, **kwargs}
    ours = table(compose.summary(model, line_length=180, print_fn=None, **as_keras))
    assert len(ours) >= 3 and ours == table(keras_summary(model, **as_keras))
    if "expand_nested" not in kwargs:
        opened = compose.summary(model, line_length=180, print_fn=None, **kwargs)
        assert opened == compose.summary(model, line_length=180, print_fn=None, expand_nested=True, **kwargs)


def header_edges(text: str) -> list[int]:
    header = next(line for line in text.splitlines() if line.startswith("┃"))
    return [i for i, char in enumerate(header) if char == "┃"]


def test_positions_set_the_column_edges_as_in_keras(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    model = keyword_model()
    positions = [0.3, 0.6, 0.75, 1.0]
    theirs = header_edges(keras_summary(model, positions=positions, line_length=100))
    ours = header_edges(compose.summary(model, positions=positions, line_length=100, print_fn=None))
    # rich shares the padding out a character differently: each edge within 2 of Keras's.
    assert len(ours) == len(theirs) == 5
    assert all(abs(a - b) <= 2 for a, b in zip(ours, theirs)), (ours, theirs)
    # Keras documents absolute positions but multiplies them by the width; ours are characters.
    absolute = header_edges(compose.summary(model, positions=[40, 60, 72, 100], line_length=100, print_fn=None))
    assert absolute == [0, 40, 60, 72, 99]


def test_keyword_misuse_is_refused():
    model = keyword_model()
    with pytest.raises(ValueError, match="positions needs 4 right edges"):
        compose.summary(model, positions=[0.5, 1.0], print_fn=None)
    with pytest.raises(ValueError, match="matches no top-level layer"):
        compose.summary(model, layer_range=("nothing", "out"), print_fn=None)
    with pytest.raises(ValueError, match="two strings"):
        compose.summary(model, layer_range=("enc",), print_fn=None)
    with pytest.raises(ValueError, match="contradicts depth=2"):
        compose.summary(model, expand_nested=False, depth=2, print_fn=None)


def test_show_trainable_marks_frozen_and_weightless_layers():
    found = {row[0]: row[-1] for row in table(compose.summary(keyword_model(), show_trainable=True, print_fn=None))}
    assert (found["frozen"], found["bn"], found["cat"], found["enc"], found["drop"]) == ("N", "Y", "-", "Y", "-")


# -- every user string escaped; every node shown

class _Raises(layers.Layer):
    def call(self, x):
        raise ValueError("boom \x1b[2J\x1b[31mred")


class Hostile(keras.Model):
    """Paths, a class name and a problem message carrying terminal escape sequences and other
    controls (a loaded model's names can: Keras checks names only where TensorFlow uses them)."""

    def __init__(self):
        super().__init__(name="hostile")
        escaping = type("Csi\x9b2J", (_Raises,), {})
        self.heads = {"red\x1b[31mtext\x1b[0m": layers.Dense(2), "bidi\u202eevil": escaping(name="esc")}

    def call(self, x):
        return self.heads["bidi\u202eevil"](self.heads["red\x1b[31mtext\x1b[0m"](x))


def test_control_characters_in_names_and_problems_are_printed_as_escapes():
    text = compose.summary(Hostile(), (None, 3), print_fn=None, line_length=200)
    assert not any(char in text for char in "\x1b\x9b\u202e")
    assert re.search(r"heads\.red\\x1b\[31mtext\\x1b\[0m = dense(_\d+)? \(Dense\)", text)
    assert "heads.bidi\\u202eevil = esc (Csi\\x9b2J) !" in text
    assert "boom \\x1b[2J\\x1b[31mred" in text.replace("\n", "")


class TensorArrayLoop(keras.Model):
    """Writes to a `tf.TensorArray` in a Python loop: in the graph strategy each write is an op
    node whose output (the array's flow) has no tensor spec: ``output_specs == [None]``."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(4)

    def call(self, x):
        import tensorflow as tf

        h = self.dense(x)
        steps = tf.TensorArray(tf.float32, size=3)
        for i in range(3):
            steps = steps.write(i, h * float(i))
        return tf.reduce_sum(steps.stack(), axis=0)


def test_every_view_shows_a_node_without_a_spec(tmp_path):
    result = trace(TensorArrayLoop(), (None, 3))
    untyped = [node for node, specs in result.graph.nodes(data="output_specs") if specs == [None]]
    assert result.strategy == "graph" and len(untyped) == 3
    rows_ = rows(compose.summary(result, print_fn=None))
    assert rows_[untyped[0]] == ("op", "?", "0")
    assert "tensor_array_v2_write" in compose.plot(result).to_string()
    from compose._show._explore import explore  # the lead exports it as compose.explore

    page = explore(result, depth=None)
    assert page.html.count("tensor_array_v2_write") >= 3


class NamedBranches(keras.Model):
    """Keras names that are not the attribute paths, and a Sequential child whose layers' paths
    are their Keras names."""

    def __init__(self):
        super().__init__()
        self.stack = keras.Sequential([layers.Dense(4, name="pos_proj"), layers.Dense(4, name="neg_proj")],
                                      name="pos_stack")
        self.branch = layers.Dense(4, name="pos_branch")
        self.head = layers.Dense(2, name="branch")
        self.alarm = layers.Dense(2, name="red\x1b[31m")

    def call(self, x):
        return self.alarm(self.head(self.stack(x) + self.branch(x)))


def test_keras_names_are_shown_beside_paths_where_they_differ():
    text = compose.summary(NamedBranches(), (None, 3), print_fn=None)
    assert "│ stack = pos_stack (Sequential) " in text
    assert "│    └ pos_proj (Dense) " in text  # inside a Sequential the path is the Keras name
    assert "│ branch = pos_branch (Dense) " in text and "│ head = branch (Dense) " in text
    assert "│ alarm = red\\x1b[31m (Dense) " in text and "\x1b" not in text
    assert "stack/neg_proj" in text  # connections name paths only
    # Keras's own names in a Functional model are its paths: nothing is added.
    functional, _, _ = corpus.nested_functional()
    assert " = " not in compose.summary(functional, print_fn=None)


def test_layer_range_matches_keras_names_and_paths():
    model = NamedBranches()
    by_name = rows(compose.summary(model, (None, 3), layer_range=("pos_branch", "alarm"), print_fn=None))
    assert list(by_name) == ["branch", "add", "head", "alarm"]
    by_path = rows(compose.summary(model, (None, 3), layer_range=("stack", "pos_branch"), print_fn=None))
    assert list(by_path) == ["stack", "pos_proj", "neg_proj", "branch"]


def test_keras_hub_blocks_show_their_names_once():
    keras_hub = pytest.importorskip("keras_hub", reason="needs keras_hub (pip install keras-hub)")

    class Encoder(keras.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [keras_hub.layers.TransformerEncoder(16, 2) for _ in range(2)]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    model = Encoder()
    model(np.zeros((1, 5, 8), "float32"))
    text = compose.summary(model, (None, 5, 8), print_fn=None, roll_up=False, line_length=200)
    assert re.search(r"│ blocks\.1 = transformer_encoder_?\d* \(TransformerEncoder\)", text)
    # A private attribute's underscore is no difference: `_feedforward_output_dense` says it.
    assert "│    └ _feedforward_output_dense (Dense) " in text
