"""Draw the pictures of the docs from the examples, with `compose.plot` (and, for the
comparison page, Keras's own `plot_model`). Nothing in docs/images/ is drawn by hand.

mkdocs runs this before every build (``hooks`` in mkdocs.yml); to run it by hand:

    python docs/make_images.py [OUT_DIR]      # default: docs/images
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

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"


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


# Keras's plot_model shows its picture through IPython when it is installed, which cannot show
# an SVG file; its pictures are PNG.
PICTURES: dict[str, Callable[[Path], None]] = {
    **{f"{draw.__name__}.svg": draw
       for draw in (quickstart, hybrid, nesting_tower, nesting_shared, tree_from_data,
                    tree_as_argument, captioning, pix2pix, transfer_learning)},
    **{f"{draw.__name__}.png": draw for draw in (keras_plot_model_subclassed, keras_plot_model_twin)},
}


def main(out_dir: str | os.PathLike[str] = IMAGES) -> list[Path]:
    """Write every picture into ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in PICTURES.items():
        keras.backend.clear_session()  # Keras's automatic layer names restart: same picture every time
        draw(out / name)
        written.append(out / name)
    return written


def on_pre_build(config: Any) -> None:
    """mkdocs hook: the pictures are drawn before mkdocs collects the files of the site."""
    main(Path(config["docs_dir"]) / "images")


if __name__ == "__main__":
    for written in main(*sys.argv[1:]):
        print(f"wrote {written} ({written.stat().st_size // 1024} KB)")
