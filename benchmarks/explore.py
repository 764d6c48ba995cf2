"""How fast `compose.explore` opens a ~1,000-node trace in headless Chromium.

Builds a 24-layer transformer encoder as a subclassed model (attention written out with Dense
layers and keras.ops, so that every layer opens to its leaves), traces it, writes the viewer with
every container open and nothing rolled up, and measures in the page, with performance.now():

- from the start of the viewer's script to the first layout drawn (target <= 2 s), and
- expanding one collapsed container, click to drawn (target <= 200 ms);

then, for comparison, Keras's own ``keras.utils.model_to_dot`` (what ``plot_model`` renders) on
the Functional equivalent (``compose.to_functional``) with every nested model expanded.

Run: ``python benchmarks/explore.py`` (needs /usr/bin/chromium and /usr/bin/chromedriver, and
``pip install selenium``). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from _timing import best  # noqa: E402

import compose  # noqa: E402
from compose._show import _explore  # noqa: E402
from compose._show._explore import describe, explore, render_page  # noqa: E402

LAYERS, UNITS, HEADS, SEQUENCE = 24, 24, 3, 16


class Attention(layers.Layer):
    """Multi-head self-attention written out head by head with keras.ops: 29 nodes per call."""

    def __init__(self, units: int = UNITS, heads: int = HEADS, **kwargs):
        super().__init__(**kwargs)
        self.units, self.heads = units, heads
        self.query, self.key, self.value = layers.Dense(units), layers.Dense(units), layers.Dense(units)
        self.out = layers.Dense(units)

    def call(self, x):
        q, k, v = self.query(x), self.key(x), self.value(x)
        size = self.units // self.heads
        heads = []
        for h in range(self.heads):
            part = slice(h * size, (h + 1) * size)
            scores = ops.matmul(q[:, :, part], ops.transpose(k[:, :, part], (0, 2, 1))) / size**0.5
            heads.append(ops.matmul(ops.softmax(scores), v[:, :, part]))
        return self.out(ops.concatenate(heads, axis=-1))


class EncoderLayer(layers.Layer):
    """A pre-norm transformer layer with a gated feed-forward part: 40 nodes per call."""

    def __init__(self, units: int = UNITS, heads: int = HEADS, **kwargs):
        super().__init__(**kwargs)
        self.norm1, self.norm2 = layers.LayerNormalization(), layers.LayerNormalization()
        self.attention = Attention(units, heads)
        self.ffn_in, self.ffn_gate, self.ffn_out = layers.Dense(2 * units), layers.Dense(2 * units), layers.Dense(units)
        self.drop1, self.drop2 = layers.Dropout(0.1), layers.Dropout(0.1)

    def call(self, x):
        x = x + self.drop1(self.attention(self.norm1(x)))
        h = self.norm2(x)
        return x + self.drop2(self.ffn_out(self.ffn_in(h) * ops.silu(self.ffn_gate(h))))


class Encoder(keras.Model):
    def __init__(self, depth: int = LAYERS, **kwargs):
        super().__init__(**kwargs)
        self.embed = layers.Dense(UNITS)
        self.layers_ = [EncoderLayer() for _ in range(depth)]
        self.head = layers.Dense(2)

    def call(self, x):
        x = self.embed(x)
        for layer in self.layers_:
            x = layer(x)
        return self.head(x)


def browser():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1400,1000"):
        options.add_argument(argument)
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=options)


def wait_for_layout(driver, count: int) -> dict[str, str]:
    for _ in range(600):
        state = driver.execute_script("return Object.assign({}, document.querySelector('.cx-viewer').dataset)")
        if state.get("state") == "ready" and int(state.get("layouts", 0)) >= count:
            return state
        time.sleep(0.05)
    raise TimeoutError(f"the viewer did not finish layout {count}: {state}")


def main() -> None:
    model = Encoder(name="encoder")
    started = time.perf_counter()
    trace = compose.trace(model, (None, SEQUENCE, 8))
    traced = time.perf_counter() - started
    containers = len(trace.graph.graph["containers"])
    print(f"nodes in the trace: {trace.graph.number_of_nodes()} + {containers} containers (traced in {traced:.1f} s)")

    started = time.perf_counter()
    page = explore(trace, depth=None, roll_up=False)
    built = time.perf_counter() - started
    library = len((pathlib.Path(_explore.__file__).parent / "assets" / "elk.bundled.js").read_bytes())
    size = len(page.html.encode("utf-8"))
    print(f"HTML: {size - library:,} bytes without the vendored library, {size:,} with it (written in {built:.2f} s)")

    # The same trace with the layers closed, to time opening one of them.
    closed = render_page(describe(trace, depth=1), "encoder")
    with tempfile.TemporaryDirectory() as folder:
        opened_file, closed_file = pathlib.Path(folder, "open.html"), pathlib.Path(folder, "closed.html")
        page.save(opened_file)
        closed_file.write_text(closed, encoding="utf-8")
        driver = browser()
        try:
            driver.get(opened_file.as_uri())
            state = wait_for_layout(driver, 1)
            first_layout = float(state["firstLayoutMs"]) / 1000
            print(f"open and lay out {state['nodes']} nodes, everything open, in headless Chromium: "
                  f"{first_layout * 1000:.0f} ms, of which drawing {float(state['drawMs']):.0f} ms (target <= 2000 ms)")
            driver.get(closed_file.as_uri())
            state = wait_for_layout(driver, 1)
            print(f"open at depth 1 ({state['nodes']} nodes): {float(state['firstLayoutMs']):.0f} ms")
            # A click from script: the node may lie below the window.
            target = driver.find_element("css selector", '.cx-node[data-path="layers_.12"]')
            driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", target)
            state = wait_for_layout(driver, 2)
            print(f"expand one container (layers_.12, all layers closed): {float(state['layoutMs']):.0f} ms (target <= 200 ms)")
        finally:
            driver.quit()

    # Keras draws each EncoderLayer of the Functional twin as one box (it cannot open a subclassed
    # layer): fewer nodes than explore lays out. DOT is text only; Graphviz's layout is the SVG.
    functional = compose.to_functional(model, (None, SEQUENCE, 8))
    to_dot = best(lambda: keras.utils.model_to_dot(functional, show_shapes=True, expand_nested=True))
    ours = built + first_layout
    print(f"keras.utils.model_to_dot on the Functional equivalent ({len(functional.layers)} layers): {to_dot:.2f} s")
    print(f"ratio vs keras.utils.plot_model to DOT: {ours / to_dot:.1f} "
          f"(explore: {built:.2f} s to write the page + {first_layout:.2f} s to lay it out in the browser)")
    if shutil.which("dot"):
        with tempfile.TemporaryDirectory() as folder:
            to_png = best(lambda: keras.utils.plot_model(functional, to_file=os.path.join(folder, "m.png"), show_shapes=True, expand_nested=True), repeat=1)
        print(f"keras.utils.plot_model to PNG (DOT laid out by Graphviz): {to_png:.2f} s; ratio {ours / to_png:.2f}")


if __name__ == "__main__":
    main()
