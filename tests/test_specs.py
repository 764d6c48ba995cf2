"""Specs: shapes with named dims, the annotation syntax, and the matching rules."""

import typing

import pytest

from compose import Tensor, TensorSpec
from compose._blocks._specs import Mismatch, match, spec_from_annotation


def test_spec_normalizes_shape_and_dtype():
    spec = TensorSpec(["batch", 16, None], "float32")
    assert spec.shape == ("batch", 16, None)
    assert spec.dtype == "float32"
    assert TensorSpec(8).shape == (8,)
    assert hash(spec) == hash(TensorSpec(("batch", 16, None), "float32"))


@pytest.mark.parametrize(
    "shape, message",
    [((1.5,), "a dim must be"), ((True,), "a dim must be"), ((-1,), ">= 0"), ((..., 2, ...), "at most one")],
)
def test_spec_rejects_bad_dims(shape, message):
    with pytest.raises((TypeError, ValueError), match=message):
        TensorSpec(shape)


def test_spec_rejects_unknown_dtype():
    with pytest.raises(ValueError, match="unknown dtype 'float99'"):
        TensorSpec((2,), "float99")


def test_annotation_carries_spec_and_is_a_typing_construct():
    annotation = Tensor["batch", 16]
    assert spec_from_annotation(annotation) == TensorSpec(("batch", 16))
    assert typing.get_origin(annotation) is typing.Annotated
    assert spec_from_annotation(Tensor.int32["batch", "seq"]) == TensorSpec(("batch", "seq"), "int32")
    assert spec_from_annotation(int) is None


def test_annotation_rejects_unknown_dtype_attribute():
    with pytest.raises(AttributeError, match="no dtype 'flaot32'"):
        Tensor.flaot32


def test_describe_shows_bindings():
    spec = TensorSpec(("batch", "units"), "float32")
    assert spec.describe({"units": 32}) == "(batch, units=32) float32"
    assert str(TensorSpec((None, 28, 28), "float32")) == "(None, 28, 28) float32"
    assert str(TensorSpec((4,))) == "(4,)"


def test_named_dims_bind_once_per_call():
    bindings = {}
    match(TensorSpec(("batch", "d")), TensorSpec((4, 8), "float32"), bindings)
    assert bindings == {"batch": 4, "d": 8}
    match(TensorSpec(("batch", "d")), TensorSpec((4, 8), "float32"), bindings)
    with pytest.raises(Mismatch, match="'d' is 8 here, found 9 on axis 1"):
        match(TensorSpec(("batch", "d")), TensorSpec((4, 9), "float32"), bindings)


def test_unknown_found_dims_cannot_be_disproved():
    bindings = {}
    match(TensorSpec(("batch", 3)), TensorSpec((None, 3), "float32"), bindings)
    assert "batch" not in bindings  # nothing known to bind
    match(TensorSpec(("batch", 3)), TensorSpec((5, 3), "float32"), bindings)
    assert bindings["batch"] == 5


def test_fixed_dims_rank_and_dtype_must_match():
    with pytest.raises(Mismatch, match="axis 1 must be 3, found 4"):
        match(TensorSpec((None, 3)), TensorSpec((2, 4), "float32"), {})
    with pytest.raises(Mismatch, match="rank 2 expected, found rank 3"):
        match(TensorSpec((None, 3)), TensorSpec((2, 3, 1), "float32"), {})
    with pytest.raises(Mismatch, match="dtype int32 expected, found float32"):
        match(TensorSpec((None,), "int32"), TensorSpec((2,), "float32"), {})
    match(TensorSpec((None,)), TensorSpec((2,), "int64"), {})  # no dtype declared: any


def test_ellipsis_matches_any_number_of_dims():
    spec = TensorSpec(("batch", ..., "c"))
    for shape in [(2, 3), (2, 5, 5, 3), (2, 7, 3)]:
        bindings = {}
        match(spec, TensorSpec(shape, "float32"), bindings)
        assert bindings == {"batch": 2, "c": 3}
    with pytest.raises(Mismatch, match="rank >= 2 expected, found rank 1"):
        match(spec, TensorSpec((2,), "float32"), {})
