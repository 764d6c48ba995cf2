"""The checks a user of compose would make on a real model, shared by tests/test_real_models.py
and docs/make_corpus_table.py. Public API of compose only."""

from __future__ import annotations

import os
import tempfile

import keras
import networkx as nx
import numpy as np
import tensorflow as tf

import compose


def flat_outputs(outputs) -> list:
    """The float tensors of a (nested) model output, in a fixed order."""
    return [t for t in tf.nest.flatten(outputs) if t is not None and tf.as_dtype(t.dtype).is_floating]


def leaf_layers(trace: compose.Trace) -> dict[str, keras.layers.Layer]:
    """{path: layer} of the hierarchy's leaves: the layers compose counts in its coverage."""
    tree = trace.hierarchy
    return {path: tree.nodes[path]["layer"] for path in tree if tree.out_degree(path) == 0}


def layers_with_gradient(model, inputs, call_kwargs, layers: dict[str, keras.layers.Layer]) -> list[str]:
    """Paths of the layers whose weights get a nonzero gradient of a (randomly weighted) sum of
    the outputs."""
    weighted = {path: layer.trainable_weights for path, layer in layers.items() if layer.trainable_weights}
    rng = np.random.default_rng(0)
    with tf.GradientTape() as tape:
        outputs = [tf.cast(t, "float32") for t in flat_outputs(model(*inputs, **call_kwargs))]
        # A randomly weighted sum: a plain sum of softmax outputs is constant, with no gradient.
        total = tf.add_n([tf.reduce_sum(t * rng.standard_normal(t.shape).astype("float32")) for t in outputs])
    grads = tape.gradient(total, {path: [w.value for w in ws] for path, ws in weighted.items()},
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return [path for path, gs in grads.items() if any(np.any(np.asarray(g) != 0) for g in gs)]


def dishonest_layers(trace: compose.Trace, used: list[str]) -> list[str]:
    """Of the layers that do influence the output, those with no path in the graph from one of
    their call nodes to an output node: the graph would hide that they matter."""
    graph = trace.graph
    outputs = [n for n, kind in graph.nodes(data="kind") if kind == "output"]
    reaching = set()
    for out in outputs:
        reaching |= nx.ancestors(graph, out)
    missing = []
    for path in used:
        layer = trace.hierarchy.nodes[path]["layer"]
        calls = [n for n, obj in graph.nodes(data="layer") if obj is layer]
        if not any(n in reaching for n in calls):
            missing.append(path)
    return missing


def call_twin(twin, inputs, **kwargs):
    """A Functional twin takes several positional inputs as one list."""
    return twin(call_twin_inputs(inputs), **kwargs)


def max_difference(a, b) -> float:
    """Largest absolute difference between two (nested) outputs of the same structure."""
    flat_a, flat_b = tf.nest.flatten(a), tf.nest.flatten(b)
    assert len(flat_a) == len(flat_b), (len(flat_a), len(flat_b))
    return max(float(np.max(np.abs(np.asarray(x, "float64") - np.asarray(y, "float64")))) for x, y in zip(flat_a, flat_b))


def saved_and_loaded(twin, custom: dict) -> keras.Model:
    """The twin after a `.keras` round trip, loaded in Keras's default safe mode."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "twin.keras")
        twin.save(path)
        return keras.saving.load_model(path, custom_objects=custom)


def matching_paths(model_trace: compose.Trace, twin_trace: compose.Trace, count: int = 2) -> list[tuple[str, str]]:
    """Up to ``count`` (model path, twin path) pairs naming the same layer call: the first and the
    middle single-call leaf layers of the model's graph."""
    def single_calls(trace):
        by_layer = {}
        for node, data in trace.graph.nodes(data=True):
            if data["kind"] == "layer" and data["layer"] is not None:
                by_layer.setdefault(id(data["layer"]), []).append(node)
        return {key: nodes[0] for key, nodes in by_layer.items() if len(nodes) == 1}

    in_model, in_twin = single_calls(model_trace), single_calls(twin_trace)
    leaves = {id(layer) for layer in leaf_layers(model_trace).values()}
    shared = [key for key in in_model if key in in_twin and key in leaves]
    picked = [shared[0], shared[len(shared) // 2]] if shared else []
    return [(in_model[key], in_twin[key]) for key in dict.fromkeys(picked)][:count]


def custom_objects(module) -> dict:
    """The Keras layer classes a corpus module defines, or takes from a corpus module it imports:
    loading or cloning its twin needs them, as the examples do not register them with
    keras.saving."""
    package = module.__name__.rpartition(".")[0]
    spaces = [vars(module)] + [vars(v) for v in vars(module).values()
                               if type(v) is type(module) and v.__name__.startswith(package + ".")]
    return {name: obj for space in spaces for name, obj in space.items()
            if isinstance(obj, type) and issubclass(obj, keras.layers.Layer) and obj.__module__.startswith(package + ".")}


def from_same_state(model, run):
    """``run()``, with every variable of ``model`` (random-generator states included) first put
    back to the values it has now: two runs of a model that samples then see the same draws."""
    saved = [(v, np.array(v.numpy())) for v in model.variables]
    for variable, value in saved:
        variable.assign(value)
    result = run()
    for variable, value in saved:
        variable.assign(value)
    return result


def convert_and_compare(module, model, inputs, call_kwargs, trace, tolerance: float = 1e-6) -> keras.Model:
    """Convert ``model`` and check the twin as a user would; raises the first failure (compose's
    own error, or an AssertionError naming what differs)."""
    call_kwargs = {**call_kwargs, "training": False}  # the inference twin, compared in inference mode
    twin = compose.to_functional(model, *inputs, **call_kwargs)
    expected = from_same_state(model, lambda: model(*inputs, **call_kwargs))
    # Both in inference mode: a layer whose `training` defaults to True (RandomFlip) runs as
    # training in a Functional model called without it, as it would in the model.
    got = from_same_state(model, lambda: call_twin(twin, inputs, training=False))
    assert max_difference(got, expected) <= tolerance, f"twin differs by {max_difference(got, expected)}"
    custom = custom_objects(module)
    loaded = from_same_state(model, lambda: saved_and_loaded(twin, custom))
    reloaded = call_twin(loaded, inputs, training=False)
    # A reloaded sampling layer does not continue the original's random stream: compare the
    # outputs that do not depend on it.
    kept = [i for i in range(len(tf.nest.flatten(expected))) if i not in getattr(module, "RANDOM_OUTPUTS", ())]
    difference = max_difference([tf.nest.flatten(reloaded)[i] for i in kept], [tf.nest.flatten(expected)[i] for i in kept])
    assert difference <= tolerance, f"loaded twin differs by {difference}"
    with keras.saving.custom_object_scope(custom):
        keras.models.clone_model(twin)
    twin_trace = compose.trace(twin)
    pairs = matching_paths(trace, twin_trace)
    assert pairs, "no layer call found in both the model and its twin"
    compared = 0
    for model_path, twin_path in pairs:
        try:
            want = from_same_state(model, lambda: compose.intermediates(model, *inputs, paths=model_path, **call_kwargs))
        except compose.PathError:
            continue  # in a branch of a cond these inputs do not take: no value to compare
        compared += 1
        have = from_same_state(model, lambda: compose.intermediates(twin, call_twin_inputs(inputs), paths=twin_path, training=False))
        difference = max_difference(have[twin_path], want[model_path])
        assert difference <= tolerance, f"intermediate {model_path} (twin: {twin_path}) differs by {difference}"
    assert compared, f"no layer call of {[p for p, _ in pairs]} runs on these inputs"
    return twin


def call_twin_inputs(inputs):
    """The inputs as the twin takes them (several positional inputs as one list)."""
    return list(inputs) if len(inputs) > 1 else inputs[0]


def layer_links(trace: compose.Trace) -> set[tuple[str, str]]:
    """(a, b) for each input or layer call ``a`` whose result reaches layer call or output ``b``
    through ops only: the connections between layers, whatever the ops in between (a graph
    trace records TensorFlow's ops, a symbolic one Keras's, so edge counts differ)."""
    graph = trace.graph
    links = set()
    for start, kind in graph.nodes(data="kind"):
        if kind not in ("input", "layer"):
            continue
        seen, stack = set(), list(graph.successors(start))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if graph.nodes[node]["kind"] == "op":
                stack.extend(graph.successors(node))
            elif graph.nodes[node]["kind"] in ("layer", "output"):
                links.add((start, node))
    return links
