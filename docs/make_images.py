"""Draw the pictures of the docs from the examples, with `compose.plot` (and, for the
comparison page, Keras's own `plot_model`), and write the interactive viewers the examples page
embeds, with `compose.explore`. Nothing in docs/images/ or docs/viewers/ is made by hand, and
neither is kept in git (each folder ignores itself).

mkdocs runs this before every build (``hooks`` in mkdocs.yml); to run it by hand:

    python docs/make_images.py [OUT_DIR]      # default: docs/images (viewers: docs/viewers)
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import compose  # noqa: E402
from compose import demo  # noqa: E402
from compose._show._explore import explore  # noqa: E402  (the lead exports it as compose.explore)

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
VIEWERS = ROOT / "docs" / "viewers"


def example(name: str) -> Any:
    """An examples/ script as a module (the scripts are not a package; their `main` is not run)."""
    module_name = f"compose_example_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, ROOT / "examples" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def quickstart(path: Path) -> None:
    residual = example("quickstart").Residual
    inputs = keras.Input((8,), name="features")
    outputs = keras.layers.Dense(1, name="head")(residual(units=8, name="residual")(inputs))
    compose.plot(keras.Model(inputs, outputs, name="quickstart"), to_file=path)


def hybrid(path: Path) -> None:
    # The demo's model with its data-dependent branch on: a partial trace, drawn honestly.
    compose.plot(demo.HybridClassifier(name="hybrid"), (None, 8), to_file=path, inspect=True)


def nesting_tower(path: Path) -> None:
    compose.plot(example("nesting").Tower(name="tower"), (None, 8), to_file=path)


def nesting_shared(path: Path) -> None:
    compose.plot(example("nesting").build_functional(), to_file=path, depth=1)


def tree_from_data(path: Path) -> None:
    module = example("tree_network")
    tokens = keras.ops.convert_to_numpy(keras.ops.array([[3, 7, 5]], dtype="int32"))
    compose.plot(module.ParsingTreeNet(name="parsing"), tokens, to_file=path, depth=1)


def tree_as_argument(path: Path) -> None:
    module = example("tree_network")
    spec = compose.TensorSpec((None, 3), "int32")
    compose.plot(module.TreeNet(name="tree"), spec, to_file=path, depth=1, tree=((0, 1), 2))


def captioning(path: Path) -> None:
    module = example("captioning")
    compose.plot(module.Captioner(name="captioner"), module.inputs(), to_file=path, depth=2, rankdir="LR")


def pix2pix(path: Path) -> None:
    module = example("pix2pix")
    compose.plot(module.Generator(name="generator"), (None, module.SIZE, module.SIZE, 3), to_file=path)


def transfer_learning(path: Path) -> None:
    module = example("transfer_learning")
    compose.plot(module.Classifier(name="classifier"), (None, *module.IMAGE), to_file=path, depth=1)


def keras_plot_model_subclassed(path: Path) -> None:
    # What Keras draws for the same subclassed model: one box ("We treat subclassed models as a
    # single node", keras/src/utils/model_visualization.py).
    tower = example("nesting").Tower(name="tower")
    tower(keras.ops.zeros((1, 8)))  # built by a call, as a user's trained model is
    keras.utils.plot_model(tower, to_file=str(path), show_shapes=True, expand_nested=True, dpi=72)


def keras_plot_model_twin(path: Path) -> None:
    # The subclassed model converted by compose.to_functional: Keras's own tools now see it.
    tree = example("tree_network").TreeNet(name="tree")
    twin = compose.to_functional(tree, compose.TensorSpec((None, 3), "int32"), tree=(((0,), 1), 2))
    keras.utils.plot_model(twin, to_file=str(path), show_shapes=True, dpi=72)


class EncoderBlock(keras.layers.Layer):
    """A post-norm transformer encoder layer: attention, then a feed-forward part."""

    def __init__(self, units: int = 32, heads: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(heads, units // heads)
        self.norm1, self.norm2 = keras.layers.LayerNormalization(), keras.layers.LayerNormalization()
        self.ffn_in, self.ffn_out = keras.layers.Dense(4 * units, activation="gelu"), keras.layers.Dense(units)

    def call(self, x):
        x = self.norm1(x + self.attention(x, x))
        return self.norm2(x + self.ffn_out(self.ffn_in(x)))


class Transformer(keras.Model):
    """A token classifier: embeddings, six identical encoder layers, a head."""

    def __init__(self, vocabulary: int = 100, units: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.layers.Embedding(vocabulary, units)
        self.encoder = [EncoderBlock(units) for _ in range(6)]
        self.head = keras.layers.Dense(3)

    def call(self, ids):
        x = self.tokens(ids)
        for block in self.encoder:
            x = block(x)
        return self.head(x)


def transformer(path: Path) -> None:
    explore(Transformer(name="transformer"), compose.TensorSpec((None, 16), "int32"), to_file=path)


def bert(path: Path) -> None:
    import keras_hub

    # keras_hub's BERT from a tiny config: the same code as bert_base_en, small enough to trace
    # at every build.
    backbone = keras_hub.models.BertBackbone(vocabulary_size=100, num_layers=4, num_heads=2, hidden_dim=32,
                                             intermediate_dim=64, max_sequence_length=16, name="bert")
    explore(backbone, to_file=path, title="keras_hub BertBackbone (tiny config)")


#: The viewers embedded in the examples page.
VIEWER_PAGES: dict[str, Callable[[Path], None]] = {f"{make.__name__}.html": make for make in (transformer, bert)}

# Keras's plot_model shows its picture through IPython when it is installed, which cannot show
# an SVG file; its pictures are PNG.
PICTURES: dict[str, Callable[[Path], None]] = {
    **{f"{draw.__name__}.svg": draw
       for draw in (quickstart, hybrid, nesting_tower, nesting_shared, tree_from_data,
                    tree_as_argument, captioning, pix2pix, transfer_learning)},
    **{f"{draw.__name__}.png": draw for draw in (keras_plot_model_subclassed, keras_plot_model_twin)},
}


def main(out_dir: str | os.PathLike[str] = IMAGES, viewers_dir: str | os.PathLike[str] = VIEWERS) -> list[Path]:
    """Write every picture into ``out_dir`` and every viewer into ``viewers_dir``; returns the
    paths written."""
    written = _write(Path(out_dir), PICTURES)
    return written + _write(Path(viewers_dir), VIEWER_PAGES)


def _write(out: Path, makers: dict[str, Callable[[Path], None]]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    # Generated at every build, never committed: the folder ignores itself.
    (out / ".gitignore").write_text("*\n", encoding="utf-8")
    written = []
    for name, make in makers.items():
        keras.backend.clear_session()  # Keras's automatic layer names restart: same output every time
        make(out / name)
        written.append(out / name)
    return written


def on_pre_build(config: Any) -> None:
    """mkdocs hook: the pictures and viewers are made before mkdocs collects the site's files."""
    main(Path(config["docs_dir"]) / "images", Path(config["docs_dir"]) / "viewers")


if __name__ == "__main__":
    for written in main(*sys.argv[1:]):
        print(f"wrote {written} ({written.stat().st_size // 1024} KB)")
