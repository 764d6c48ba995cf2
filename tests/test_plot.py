# Golden files: tests/golden/*.dot. Regenerate them with
#     COMPOSE_UPDATE_GOLDEN=1 python -m pytest tests/test_plot.py
# and review the diff before committing.
import os

import re
import shutil
import subprocess
import sys
import tempfile

import keras
import numpy as np
import pytest
from keras import layers

import compose
import corpus
import show_models
import test_summary
from compose._show._dot import render
from compose import trace

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def dot_text(model, *inputs, **kwargs) -> str:
    """The DOT text `plot` writes to a .dot file."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.dot")
        compose.plot(model, *inputs, to_file=path, **kwargs)
        with open(path, encoding="utf-8") as file:
            return file.read()


def canon_nodes(text: str) -> list[str]:
    """Names of the nodes Graphviz reads from ``text`` (through ``dot -Tcanon``)."""
    canon = render(text, "canon").decode("utf-8")
    return re.findall(r"^\s*([^\s\[{}]+)\s+\[", canon, flags=re.M)


def no_dot_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))


class EvilHeads(keras.Model):
    """Layers under dict keys that try to break out of DOT, plus a nested Functional model with
    such names, so cluster labels are tested too."""

    def __init__(self):
        super().__init__()
        self.heads = {name: layers.Dense(2) for name in show_models.EVIL_NAMES}
        x = keras.Input((3,))
        y = x
        for name in show_models.EVIL_NAMES:
            y = layers.Dense(3, name=name)(y)
        self.inner = keras.Model(x, y, name='cluster"]; x [label="y')

    def call(self, x):
        return [self.heads[name](self.inner(x)) for name in show_models.EVIL_NAMES]


@needs_dot
def test_evil_names_cannot_change_the_graph(tmp_path):
    model = EvilHeads()
    result = trace(model, (None, 3))
    path = tmp_path / "evil.dot"
    graph = compose.plot(result, to_file=path)
    for text in (path.read_text(encoding="utf-8"), graph.to_string()):
        nodes = canon_nodes(text)
        expected = [f"n{i}" for i in range(len(result.graph))]
        assert sorted(n for n in nodes if n not in ("graph", "node", "edge")) == sorted(expected)
    svg = render(path.read_text(encoding="utf-8"), "svg").decode("utf-8")
    for name in ("&quot;x&quot;]; evil [shape=box]; n2 [label=&quot;y&quot;", "a&quot;b", "trail\\",
                 "new\\nline", "colon:port", "&lt;b&gt;", "graph"):
        assert name in svg


def test_dot_file_needs_no_graphviz(monkeypatch, tmp_path):
    _, model, shape = corpus.residual()
    result = trace(model, shape)
    expected = dot_text(result)
    no_dot_on_path(monkeypatch, tmp_path)
    path = tmp_path / "model.dot"
    compose.plot(result, to_file=path)
    assert path.read_text(encoding="utf-8") == expected
    with pytest.raises(compose.GraphvizNotFound, match="apt-get install graphviz") as info:
        compose.plot(result, to_file=tmp_path / "model.svg")
    assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / "model.svg").exists()


@needs_dot
@pytest.mark.parametrize("extension, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")])
def test_rendered_formats_from_the_extension(tmp_path, extension, magic):
    _, model, shape = corpus.mlp()
    path = tmp_path / f"model{extension.upper()}"
    compose.plot(model, shape, to_file=path)
    assert path.read_bytes().startswith(magic)


def test_unknown_extension_and_rankdir_are_refused(tmp_path):
    model, _, _ = corpus.mlp()
    with pytest.raises(ValueError, match=r"use one of \.dot, \.gv, \.svg, \.png, \.pdf"):
        compose.plot(model, to_file=tmp_path / "model.jpeg")
    with pytest.raises(ValueError, match="rankdir must be one of"):
        compose.plot(model, rankdir="UP")


@needs_dot
def test_graphviz_failure_is_our_error_with_its_stderr():
    with pytest.raises(compose.GraphvizError, match="syntax error") as info:
        render("digraph { n0 -> }", "svg")
    assert "syntax error" in info.value.stderr


@needs_dot
def test_graphviz_failure_is_our_error_under_python_O():
    code = (
        "from compose._show._dot import render\n"
        "from compose import GraphvizError\n"
        "try:\n    render('digraph {', 'png')\n"
        "except GraphvizError as err:\n    print('caught', bool(err.stderr))\n"
    )
    done = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.stdout.strip() == "caught True", done.stderr


def test_clusters_depth_and_styles():
    model, inputs = show_models.build(show_models.hybrid)
    result = trace(model, *inputs)
    full = dot_text(result)
    assert full.count("subgraph cluster_") == 3  # stem, blocks.0, blocks.1
    assert "<b>blocks.1</b> <font color=\"#555555\">Block</font>" in full
    assert full.count("<i>not reached</i>") == 2 and 'style="rounded,dashed"' in full
    assert 'label=<relu>, shape=ellipse' in full
    shallow = dot_text(result, depth=1)
    assert "cluster" not in shallow
    nodes = re.findall(r"^\s*n\d+ \[.*?label=<<b>([^<]*)</b>", shallow, flags=re.M)
    assert nodes == ["@input", "stem", "blocks.0", "blocks.1", "head", "@output"]  # and the relu op
    assert "1 layer(s) inside not reached" in shallow
    names_only = dot_text(result, show_layer_names=False, show_shapes=False, show_dtype=True)
    assert "<b>Block</b>" not in names_only and "<b>LayerNormalization</b>" in names_only
    assert "float32" in names_only and "(None, 4)" not in names_only


def test_inferred_edges_are_dashed_and_problems_marked_where_they_happened():
    text = dot_text(show_models.InferredOnly(), np.ones((2, 3), "float32"))
    assert re.search(r"^\s*n1 -> n2 \[style=dashed\];$", text, flags=re.M)

    text = dot_text(show_models.WithBroken(), (None, 3))
    cluster = text[text.index("subgraph cluster_0"):]
    assert 'color="#c62828"' in cluster and "ValueError: boom &lt;here&gt;" in cluster


@pytest.mark.parametrize("factory", show_models.GOLDEN_MODELS, ids=lambda f: f.__name__)
def test_golden_dot(factory, tmp_path):
    model, inputs = show_models.build(factory)
    path = tmp_path / "model.dot"
    compose.plot(model, *inputs, to_file=path)
    text = path.read_text(encoding="utf-8")
    show_models.check_golden(f"{factory.__name__}.dot", text)
    model, inputs = show_models.build(factory)
    assert dot_text(model, *inputs) == text  # a rebuilt twin draws the same


@needs_dot
def test_notebook_bundle_is_the_svg_plot_and_the_summary():
    model, _, _ = corpus.mlp()
    result = trace(model)
    bundle = result._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml") and "<svg" in bundle["image/svg+xml"]
    assert bundle["text/plain"] == compose.summary(result, print_fn=None)
    assert set(result._repr_mimebundle_(exclude={"image/svg+xml"})) == {"text/plain"}


def test_notebook_falls_back_to_the_summary_without_graphviz(monkeypatch, tmp_path):
    model, _, _ = corpus.mlp()
    result = trace(model)
    no_dot_on_path(monkeypatch, tmp_path)
    assert result._repr_mimebundle_() == {"text/plain": compose.summary(result, print_fn=None)}


# -- Keras's keywords, held equal to Keras's own model_to_dot of a Functional model

def all_nodes(graph) -> list:
    """Every pydot node of ``graph`` and its subgraphs, with the name of the cluster holding it."""
    found = [(node, None) for node in graph.get_nodes()]
    for subgraph in graph.get_subgraphs():
        found += [(node, node_cluster or subgraph.get_name()) for node, node_cluster in all_nodes(subgraph)]
    return found


def bold(label: str, before: str = "") -> str | None:
    found = re.search(re.escape(before) + r"<b>([^<]*)</b>", label)
    return found and found.group(1)


def all_edges(graph) -> list:
    return graph.get_edges() + [edge for subgraph in graph.get_subgraphs() for edge in all_edges(subgraph)]


def keras_picture(model, **kwargs):
    """Keras's drawing as (name -> what its box says, edges as name pairs, clusters). Keras draws
    a nested Functional model's InputLayer as a box: an edge through it is one edge here."""
    graph = keras.utils.model_to_dot(model, **kwargs)
    layers_by_id = {str(id(layer)): layer for layer in _all_layers(model)}
    nodes, inputs, clusters = {}, set(), set()
    for node, cluster in all_nodes(graph):
        if node.get_name() not in layers_by_id:
            continue
        layer, label = layers_by_id[node.get_name()], node.get_label()
        if isinstance(layer, layers.InputLayer):
            inputs.add(layer.name)
            continue
        nodes[layer.name] = {"head": bold(label), "shape": bold(label, "Output shape: "),
                             "dtype": bold(label, "Output dtype: "), "activation": bold(label, "Activation: "),
                             "trainable": "Non-trainable" if "Non-trainable" in label else "Trainable" if "<b>Trainable" in label else None}
        if cluster:
            clusters.add(cluster.replace("cluster_", ""))
    pairs = {(layers_by_id[e.get_source()].name, layers_by_id[e.get_destination()].name) for e in all_edges(graph)}
    edges = {(a, b) for a, b in pairs if a not in inputs and b not in inputs}
    edges |= {(a, c) for a, b in pairs for b2, c in pairs if b == b2 and b in inputs}
    return nodes, edges, clusters


def _all_layers(model) -> list:
    found = [model]
    for layer in getattr(model, "layers", []):
        found += _all_layers(layer)
    return found


def our_picture(model, **kwargs):
    """Ours, read the same way from the pydot graph `plot` returns."""
    graph = compose.plot(model, **kwargs)
    nodes, names, clusters = {}, {}, set()
    for node, cluster in all_nodes(graph):
        tooltip, label = (node.get_tooltip() or "").strip('"'), node.get_label() or ""
        if not tooltip:
            continue
        path, _, cls = tooltip.rpartition(" (")
        names[node.get_name()] = name = path.rpartition("/")[2]
        if cls in ("Input)", "Output)"):
            continue
        rows = re.findall(r'<font point-size="9">([^<]*)</font>', label)
        shapes = next((row for row in rows if row.startswith("(") or row == "float32"), None)
        nodes[name] = {
            "head": bold(label),
            "shape": shapes.rpartition(" float32")[0] or shapes if shapes and kwargs.get("show_shapes") else None,
            "dtype": "float32" if shapes and shapes.endswith("float32") else None,
            "activation": next((row[len("Activation: "):] for row in rows if row.startswith("Activation: ")), None),
            "trainable": next((row for row in rows if row in ("Trainable", "Non-trainable")), None)}
        if cluster:
            clusters.add(bold(graph_cluster_label(graph, cluster)))
    edges = {(names[e.get_source()], names[e.get_destination()]) for e in graph.get_edges()}
    return nodes, {edge for edge in edges if not any(end.startswith("@") for end in edge)}, clusters


def graph_cluster_label(graph, name: str) -> str:
    for subgraph in graph.get_subgraphs():
        if subgraph.get_name() == name:
            return subgraph.get("label")
        found = graph_cluster_label(subgraph, name)
        if found:
            return found
    return ""


@pytest.mark.parametrize("kwargs", [
    {}, {"show_shapes": True}, {"show_shapes": True, "show_dtype": True}, {"show_dtype": True},
    {"show_layer_names": False}, {"expand_nested": True}, {"expand_nested": True, "show_shapes": True},
    {"show_layer_activations": True}, {"show_trainable": True},
    {"show_layer_activations": True, "show_trainable": True, "expand_nested": True},
], ids=lambda kwargs: ",".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults")
def test_keras_keywords_draw_what_keras_draws(kwargs):
    model = test_summary.keyword_model()
    # Keras's defaults where ours differ: no shapes, nested models as one box.
    as_keras = {"show_shapes": False, "expand_nested": False, **kwargs}
    theirs = keras_picture(model, **as_keras)
    ours = our_picture(model, **as_keras)
    assert len(theirs[0]) >= 5 and ours == theirs


def test_rankdir_and_dpi_are_graph_attributes_as_in_keras():
    model = test_summary.keyword_model()
    ours = compose.plot(model, rankdir="LR", dpi=72)
    theirs = keras.utils.model_to_dot(model, rankdir="LR", dpi=72)
    assert (ours.get("rankdir"), str(ours.get("dpi"))) == (theirs.get("rankdir"), str(theirs.get("dpi")))
    with pytest.raises(ValueError, match="contradicts depth=3"):
        compose.plot(model, expand_nested=False, depth=3)


# -- the rendered SVG in a real browser (issue 11 item 19)

from test_explore import driver  # noqa: E402,F401 (a fixture: headless Chromium, or a skip)

#: Texts sticking out of what shows them, as the browser lays them out: a node's or cluster's
#: shape, and the drawing itself (the svg element's box clips). Returns [{text, over, kind}].
OVERFLOW_JS = """
// Texts sticking out of what shows them, as the browser lays them out: a node's or cluster's
// shape, and the drawing itself (the svg element's box, which clips). Returns [{text, over, kind}].
const bad = [];
const svg = document.querySelector("svg").getBoundingClientRect();
const outside = (box, outer) => Math.max(outer.left - box.left, box.right - outer.right, outer.top - box.top, box.bottom - outer.bottom);
for (const text of document.querySelectorAll("svg text")) {
  if (!text.textContent.trim()) continue;  // a space between runs: no box of its own
  const group = text.closest("g.node, g.cluster, g.graph");
  const shape = group.classList.contains("graph") ? null : group.querySelector("polygon, ellipse, path");
  const box = text.getBoundingClientRect();
  const over = Math.max(outside(box, svg), shape ? outside(box, shape.getBoundingClientRect()) : 0);
  if (over > 0.5) bad.push({ text: text.textContent, over: Math.round(over * 10) / 10, kind: group.getAttribute("class") });
}
return bad;
"""


@needs_dot
def test_rendered_svg_fits_in_chromium(driver, tmp_path):
    from compose import demo

    # The demo's partial trace has the longest title (coverage line and a problem); dpi=200 is
    # Keras's default, and scaled the drawing but not its viewBox.
    for name, dpi in (("hybrid", 96), ("hybrid_200", 200)):
        path = tmp_path / f"{name}.svg"
        compose.plot(demo.HybridClassifier(name="hybrid"), (None, 8), to_file=path, inspect=True, dpi=dpi)
        driver.get(path.as_uri())
        assert driver.execute_script(OVERFLOW_JS) == []
        assert driver.execute_script("return document.querySelectorAll('svg text').length") > 20
        driver.save_screenshot(str(tmp_path / f"{name}.png"))
