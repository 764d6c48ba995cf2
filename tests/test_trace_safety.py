import threading

import keras
import numpy as np
from keras import layers

import corpus
import test_trace_dynamic as dynamic
from compose import trace
from keras.src.layers.layer import Layer


def _state(model):
    return (
        [w.numpy().copy() for w in model.variables],
        [(l.trainable, len(l._inbound_nodes), len(l._outbound_nodes), "call" in vars(l)) for l in model._flatten_layers()],
        Layer.__call__, Layer.symbolic_call, keras.config.is_traceback_filtering_enabled(),
    )


def _same(before, after):
    assert all(np.array_equal(a, b) for a, b in zip(before[0], after[0]))
    assert before[1:] == after[1:]


def test_tracing_leaves_the_model_unchanged_on_success_and_failure():
    x = np.ones((2, 3), "float32")
    for model in (dynamic.TensorIf(), dynamic.EagerOnly(), dynamic.WithBroken()):
        broken = isinstance(model, dynamic.WithBroken)
        # A model whose call fails cannot be built by calling it; a first trace builds it.
        trace(model, x) if broken else model(x)
        outputs = None if broken else model(x)
        before = _state(model)
        trace(model, x)
        _same(before, _state(model))
        if outputs is not None:
            np.testing.assert_allclose(model(x), outputs)


def test_batch_norm_statistics_survive_the_eager_strategy():
    class BN(keras.Model):
        def __init__(self):
            super().__init__()
            self.bn = layers.BatchNormalization()

        def call(self, x):
            h = self.bn(x, training=True)
            return h if float(h.numpy().sum()) > 1e9 else h * 2.0

    model = BN()
    model(np.ones((2, 3), "float32"))
    before = _state(model)
    trace(model, np.full((2, 3), 5.0, "float32"))
    _same(before, _state(model))


def test_functional_layers_keep_their_single_inbound_node():
    functional, _, _ = corpus.residual()
    trace(functional)
    assert functional.get_layer("d1").output is not None


def test_two_traces_give_identical_graphs():
    def snapshot(result):
        return list(result.graph.nodes(data="kind")), list(result.graph.edges(keys=True, data="exact"))

    for build in corpus.TWINS:
        functional, subclassed, shape = build()
        assert snapshot(trace(subclassed, shape)) == snapshot(trace(subclassed, shape))


def test_concurrent_traces_are_safe():
    models = [corpus.tf_ops()[1] for _ in range(4)]
    results = [None] * 4

    def work(i):
        results[i] = trace(models[i], (None, 4))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.coverage.complete for r in results)
    assert len({tuple(r.graph.nodes) for r in results}) == 1


def test_view_collapses_containers():
    _, model, shape = corpus.nested_sequential()
    result = trace(model, shape)
    assert list(result.view(1).nodes) == ["@input", "body", "out", "@output"]
    assert result.view(1).nodes["body"]["params"] == 16 + 20
