import networkx as nx
import pytest

import corpus
from compose import trace


def layer_edges(graph: nx.MultiDiGraph) -> set[tuple[str, str]]:
    """Edges between layers, inputs and outputs, with op nodes contracted."""
    ends = {n for n, kind in graph.nodes(data="kind") if kind != "op"}
    edges = set()
    for start in ends:
        stack, seen = list(graph.successors(start)), set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in ends:
                edges.add((start, node))
            else:
                stack.extend(graph.successors(node))
    return edges


@pytest.mark.parametrize("build", corpus.TWINS, ids=lambda f: f.__name__)
def test_twins_recover_the_same_layer_edges(build):
    functional, subclassed, shape = build()
    from_functional = trace(functional)
    from_subclassed = trace(subclassed, shape)
    for result in (from_functional, from_subclassed):
        assert result.coverage.complete, result.coverage
        assert all(exact for _, _, exact in result.graph.edges(data="exact"))
    assert layer_edges(from_functional.graph) == layer_edges(from_subclassed.graph)
    assert sum(from_subclassed.hierarchy.nodes[p]["params"] for p in from_subclassed.hierarchy) == subclassed.count_params()


def test_residual_edges_are_exactly_the_dataflow():
    _, model, shape = corpus.residual()
    result = trace(model, shape)
    assert layer_edges(result.graph) == {("@input", "d1"), ("d1", "d2"), ("d1", "@output"), ("d2", "@output")}
    assert [n for n, k in result.graph.nodes(data="kind") if k == "op"] == ["add"]


def test_shared_layer_gets_one_node_per_call_and_params_once():
    _, model, shape = corpus.shared()
    result = trace(model, shape)
    assert layer_edges(result.graph) == {("@input", "d"), ("d", "d#1"), ("d#1", "@output")}
    assert result.hierarchy.nodes["d"]["calls"] == 2
    assert sum(p for _, p in result.hierarchy.nodes(data="params")) == model.count_params() == 20


def test_tf_ops_become_named_op_nodes_through_the_graph_strategy():
    _, model, shape = corpus.tf_ops()
    result = trace(model, shape)
    assert [(r.name, r.finished) for r in result.strategies] == [("symbolic", False), ("graph", True)]
    ops = [d["class_name"] for _, d in result.graph.nodes(data=True) if d["kind"] == "op"]
    assert ops == ["relu", "concat", "reshape", "matmul"]


def test_keras_ops_are_recorded_by_the_symbolic_strategy():
    _, model, shape = corpus.keras_ops()
    result = trace(model, shape)
    assert [(r.name, r.finished) for r in result.strategies] == [("symbolic", True)]
    ops = [d["class_name"] for _, d in result.graph.nodes(data=True) if d["kind"] == "op"]
    assert ops == ["sigmoid", "multiply", "absolute", "concatenate"]
    assert {("@input", "sigmoid"), ("a", "multiply"), ("sigmoid", "multiply"), ("@input", "absolute"),
            ("multiply", "concatenate"), ("absolute", "concatenate"), ("concatenate", "b")} <= set(result.graph.edges())
