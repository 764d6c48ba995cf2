"""Runs of identical chained containers (compose/_show/_repeats.py): what every view rolls up."""

from __future__ import annotations

import keras
import pytest
from keras import layers

import compose
from compose._show._repeats import MIN_REPEAT, Repeat, find_repeats


class EncoderBlock(layers.Layer):
    """A post-norm transformer encoder layer."""

    def __init__(self, units: int = 16, heads: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(heads, units // heads)
        self.norm1, self.norm2 = layers.LayerNormalization(), layers.LayerNormalization()
        self.ffn1, self.ffn2 = layers.Dense(2 * units, activation="relu"), layers.Dense(units)

    def call(self, x):
        x = self.norm1(x + self.attention(x, x))
        return self.norm2(x + self.ffn2(self.ffn1(x)))


class Encoder(keras.Model):
    """Embedding, a stack of blocks held in a list, a head: the shape of BERT's encoder."""

    def __init__(self, blocks=None, **kwargs):
        super().__init__(**kwargs)
        self.embed = layers.Dense(16)
        self.layers_ = blocks if blocks is not None else [EncoderBlock() for _ in range(6)]
        self.head = layers.Dense(2)

    def call(self, x):
        x = self.embed(x)
        for block in self.layers_:
            x = block(x)
        return self.head(x)


class Residual(layers.Layer):
    """A small block whose config (the dropout rate) does not show in its weights or graph."""

    def __init__(self, rate: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.dense, self.drop = layers.Dense(8), layers.Dropout(rate)

    def call(self, x):
        return x + self.drop(self.dense(x))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


def stack(*blocks):
    return keras.Sequential([keras.Input((8,)), *blocks], name="stack")


def labels(model, *inputs, **kwargs):
    return [repeat.label for repeat in find_repeats(compose.trace(model, *inputs), **kwargs)]


def test_a_transformer_encoder_stack_is_one_run():
    repeats = find_repeats(compose.trace(Encoder(name="encoder"), (None, 5, 16)))
    assert repeats == (Repeat("", "EncoderBlock", tuple(f"layers_.{i}" for i in range(6))),)
    (run,) = repeats
    assert (run.first_path, run.count, run.label) == ("layers_.0", 6, "layers_ ×6")


def test_a_sequential_of_identical_blocks_is_one_run():
    model = stack(*(Residual() for _ in range(4)))
    assert labels(model) == ["residual ×4"]  # residual, residual_1, ...: Keras's own names


def test_runs_are_values_and_deterministic():
    model = Encoder(name="encoder")
    first = find_repeats(compose.trace(model, (None, 5, 16)))
    assert first == find_repeats(compose.trace(model, (None, 5, 16)))
    assert hash(first[0]) == hash(Repeat("", "EncoderBlock", first[0].paths))


def test_different_configs_break_the_run():
    # Same weights, same inner graph: only the config (the dropout rate) tells them apart.
    model = stack(*(Residual(rate, name=f"res_{i}") for i, rate in enumerate((0.1, 0.1, 0.2, 0.2))))
    assert labels(model) == []
    assert [run.paths for run in find_repeats(compose.trace(model), threshold=2)] == [
        ("res_0", "res_1"), ("res_2", "res_3")]


def test_different_hyperparameters_break_the_run():
    blocks = [EncoderBlock(heads=2), EncoderBlock(heads=2), EncoderBlock(heads=4), EncoderBlock(heads=2), EncoderBlock(heads=2)]
    assert labels(Encoder(blocks), (None, 5, 16)) == []


class Parallel(keras.Model):
    """The same blocks side by side, all fed the input: alike, but not a chain."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.branches = [Residual() for _ in range(4)]

    def call(self, x):
        return keras.ops.sum(keras.ops.stack([branch(x) for branch in self.branches]), axis=0)


class OutsideResidual(keras.Model):
    """An op between the blocks, in their parent: not chained directly."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [Residual() for _ in range(4)]

    def call(self, x):
        for block in self.blocks:
            x = x + block(x)
        return x


class Shared(keras.Model):
    """One block called three times: one layer, not a run of three."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = Residual()

    def call(self, x):
        for _ in range(3):
            x = self.block(x)
        return x


@pytest.mark.parametrize("model_class", [Parallel, OutsideResidual, Shared])
def test_blocks_not_chained_directly_are_not_a_run(model_class):
    assert labels(model_class(), (None, 8)) == []


def test_runs_shorter_than_the_threshold_stay():
    assert MIN_REPEAT == 3
    assert labels(stack(Residual(), Residual())) == []
    assert labels(stack(Residual(), Residual()), threshold=2) == ["residual ×2"]


def test_a_run_inside_a_container_is_found_with_its_parent():
    model = keras.Sequential([keras.Input((8,)), stack(*(Residual() for _ in range(3))), layers.Dense(2)])
    (run,) = find_repeats(compose.trace(model))
    assert (run.parent, run.label) == ("stack", "stack/residual ×3")


@pytest.mark.parametrize(("paths", "parent", "label"), [
    (tuple(f"encoder/layers.{i}" for i in range(10, 24)), "encoder", "encoder/layers ×14"),
    (("conv2d", "conv2d_1", "conv2d_2"), "", "conv2d ×3"),
    (("transformer_layer_0", "transformer_layer_1", "transformer_layer_2"), "", "transformer_layer ×3"),
    (("m/first", "m/second", "m/third"), "m", "m/first..third ×3"),
])
def test_labels(paths, parent, label):
    assert Repeat(parent, "Block", paths).label == label


# -- the views roll runs up: summary and plot (explore: tests/test_explore.py)

def summary_rows(text: str) -> dict[str, tuple[str, ...]]:
    found = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) == 4 and cells[0]:
            name, _, cls = cells[0].lstrip("└ ").rpartition(" (")
            found[name.partition(" = ")[0]] = (cls.rstrip(")"), *cells[1:])  # by path, not Keras name
    return found


def subtree_params(result, path: str) -> int:
    return sum(result.hierarchy.nodes[p]["params"] for p in result.hierarchy.nodes if p == path or p.startswith(path + "/"))


def test_summary_rolls_six_identical_blocks_into_one_row():
    result = compose.trace(Encoder(name="encoder"), (None, 10, 16))
    rolled = summary_rows(compose.summary(result, print_fn=None))
    total = sum(subtree_params(result, f"layers_.{i}") for i in range(6))
    assert rolled["layers_ ×6"] == ("EncoderBlock", "(None, 10, 16)", f"{total:,}", "embed")
    assert rolled["head"][3] == "layers_ ×6"
    assert not any(name.startswith("layers_.") or "attention" in name for name in rolled)
    unrolled = summary_rows(compose.summary(result, roll_up=False, print_fn=None, line_length=160))  # rows unwrapped
    assert "layers_ ×6" not in unrolled and {f"layers_.{i}" for i in range(6)} <= set(unrolled)
    assert unrolled["head"][3] == "layers_.5/norm2"
    # The totals are the model's either way.
    assert compose.summary(result, print_fn=None).split("Total params")[1] == compose.summary(result, roll_up=False, print_fn=None).split("Total params")[1]


def test_plot_draws_a_run_as_one_box_with_the_params_of_all():
    result = compose.trace(Encoder(name="encoder"), (None, 10, 16))
    rolled = compose.plot(result, to_file=None).to_string()
    assert rolled.count("subgraph") == 0 and "layers_ ×6" in rolled
    assert len(compose.plot(result).get_nodes()) == 4 + 3  # node defaults are not nodes: @input embed run head @output
    unrolled = compose.plot(result, roll_up=False).to_string()
    assert "×6" not in unrolled and unrolled.count("subgraph cluster_") == 6


def test_depth_hides_a_run_inside_a_collapsed_container_and_shows_one_at_its_level():
    inner = Encoder(name="inner")
    outer = keras.Sequential([keras.Input((10, 16)), inner], name="outer")
    result = compose.trace(outer)
    assert "inner ×" not in compose.summary(result, depth=1, print_fn=None)
    assert "inner/layers_ ×6" in compose.plot(result, depth=2).to_string().replace("&#215;", "×")
    assert "layers_ ×6 (EncoderBlock)" in compose.summary(result, print_fn=None)


@pytest.fixture(scope="module")
def bert():
    keras_hub = pytest.importorskip("keras_hub", reason="needs keras_hub (pip install keras-hub)")
    backbone = keras_hub.models.BertBackbone(vocabulary_size=50, num_layers=4, num_heads=2, hidden_dim=16,
                                             intermediate_dim=32, max_sequence_length=8)
    return compose.trace(backbone)


def test_a_keras_hub_bert_backbone_rolls_up_its_transformer_layers(bert):
    rolled = summary_rows(compose.summary(bert, line_length=160, print_fn=None))
    total = sum(subtree_params(bert, f"transformer_layer_{i}") for i in range(4))
    assert rolled["transformer_layer ×4"][:3] == ("TransformerEncoder", "(None, None, 16)", f"{total:,}")
    assert not any(name.startswith("transformer_layer_") for name in rolled)
    dot = compose.plot(bert).to_string()
    assert "transformer_layer ×4" in dot and "transformer_layer_2" not in dot
    assert "transformer_layer_2" in compose.plot(bert, roll_up=False).to_string()
