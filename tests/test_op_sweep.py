"""The op sweep: every public TensorFlow function of the numeric modules, called on small inputs,
converted by `compose.to_functional` and checked.

The functions are enumerated, not picked: the public callables of ``tf.math``, ``tf.nn``,
``tf.linalg``, ``tf.image``, ``tf.signal`` and the array and sort functions of ``tf`` itself.
Arguments come from a table: a tensor for each parameter named like a tensor, a small value for
each parameter whose name says what it is (``axis``, ``perm``, ``paddings``...); the first
combination that runs eagerly is the function's call. Each call is then traced once, alone in a
``tf.function``, to learn its ops. Calls whose ops `TFOp` takes are converted many to a model
(parallel branches, so a batch costs one trace and one save) and must (a) come back as TFOp
layers (a `tf.cond` inside as a `Cond` layer, or its branch when the shapes decide; a
`tf.while_loop` as a `While` layer), (b) give the model's outputs, (c) survive ``.keras`` save
and safe-mode load, (d) round-trip their config; a batch that fails is split in halves. Calls
with a refused op, and those likeliest to fail (`classify`), are converted alone. A call compose
refuses must raise a `compose.TraceError` from its own refusal; any other failure is a bug. The page
``docs/op-sweep.md`` (``docs/make_op_sweep.py``) lists the refusals with their reasons and the
failures, sorted by function, and the test checks that page is what the sweep finds today.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import json
import pathlib
import re
import warnings
import zipfile
from typing import Any, Callable

import keras
import numpy as np
import pytest
import tensorflow as tf

import compose
from compose._reuse import TFOp
from compose._reuse._control_flow import Cond, While
from compose._reuse import _op_layers
from compose._reuse._replay import Unreplayable
from compose._trace import Role, role

PAGE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "op-sweep.md"
MODULES = {"tf.math": tf.math, "tf.nn": tf.nn, "tf.linalg": tf.linalg, "tf.image": tf.image, "tf.signal": tf.signal}
#: Where tf's own array, sort and einsum functions are defined: the top-level `tf` functions
#: from these modules join the sweep.
ARRAY_MODULES = ("array_ops", "array_ops_stack", "sort_ops", "special_math_ops", "manip_ops", "math_ops")
BATCH = 96  # calls per converted model: one trace and one save per batch
SCOPES = itertools.count()

rng = np.random.default_rng(0)
#: The model inputs, by name: (value of a batch of 2, dtype). The batch stays open in the twin.
INPUTS = {
    "x": rng.uniform(0.1, 0.9, (2, 3)).astype("float32"),
    "y": rng.uniform(0.1, 0.9, (2, 3)).astype("float32"),
    "i": rng.integers(1, 4, (2, 3)).astype("int32"),
    "j": rng.integers(1, 4, (2, 3)).astype("int32"),
    "b": np.array([[True, False, True], [False, True, True]]),
    # Symmetric positive definite: Cholesky, inverse, eigen and logarithm are all defined.
    "m": (np.eye(3) * 2 + rng.uniform(0.0, 0.3, (2, 3, 3)) @ rng.uniform(0.0, 0.3, (2, 3, 3)).transpose(0, 2, 1)).astype("float32"),
    "img": rng.uniform(0.0, 1.0, (2, 4, 4, 3)).astype("float32"),
    "sig": rng.uniform(-1.0, 1.0, (2, 8)).astype("float32"),
}
#: Tensor candidates, most common first; "c" is complex, made from x and y inside the model.
TENSORS = ("x", "i", "b", "m", "img", "sig", "c")
SECOND = {"x": "y", "i": "j", "b": "b", "m": "m", "img": "img", "sig": "sig", "c": "c"}

#: Small values for parameters whose name says what they are; other parameters get tensors.
BY_NAME: dict[str, list[Any]] = {
    "axis": [1, -1, [1]], "dim": [1], "axes": [[1], 1], "perm": [[1, 0], [0, 2, 1]],
    "shape": [[-1], [-1, 3]], "multiples": [[1, 2], [1, 2, 1, 1]],
    "paddings": [[[0, 0], [1, 1]], [[0, 0], [1, 1], [1, 1], [0, 0]]],
    "depth": [4], "k": [2], "size": [[2, 2], 2], "num_or_size_splits": [3, 1], "num": [None, 3],
    "begin": [[0, 1]], "end": [[2, 3]], "strides": [[1, 1], 1, [1, 1, 1, 1]], "shift": [1],
    "indices": ["idx"], "segment_ids": ["seg"], "num_segments": [2], "seed": [(1, 2)],
    "frame_length": [4], "frame_step": [2], "fft_length": [4, [4]], "block_size": [2],
    "ksize": [2], "pool_size": [2], "window_shape": [[2, 2]], "pooling_type": ["AVG"],
    "padding": ["SAME"], "filters": ["filt"], "filter": ["filt"], "equation": ["ij,kj->ik"],
    "dilations": [1], "rate": [1], "rates": [[1, 1, 1, 1]], "sizes": [[1, 2, 2, 1]],
    "offset_height": [1], "offset_width": [1], "target_height": [2], "target_width": [2],
    "delta": [0.1], "contrast_factor": [1.5], "saturation_factor": [1.5], "gamma": [1.0],
    "max_delta": [0.1], "lower": [0.5], "upper": [1.5], "central_fraction": [0.5],
    "num_lower": [1], "num_upper": [0], "diagonal": ["sig3"], "rhs": ["m"], "dims": [[1]],
    "num_mel_bins": [4], "num_spectrogram_bins": [5], "sample_rate": [8000],
    "window_length": [4], "ord": ["euclidean"], "bias": ["bias"], "clip_value_min": [0.2],
    "clip_value_max": [0.8], "x_max": [0.8], "boxes": ["boxes"], "box_indices": ["box_idx"],
    "crop_size": [[2, 2]], "max_output_size": [2], "bins": [4], "value_range": [[0.0, 1.0]],
    "nbins": [4], "num_classes": [3], "num_true": [1], "sorted_sequence": ["sorted"],
    "minlength": [4], "alpha": [0.5], "scale": [2.0], "mean": ["y"], "variance": ["y"],
    "offset": ["y"], "depth_radius": [2], "norm": [2], "weights": ["y"], "lengths": ["lens"],
    "seq_lengths": ["lens"], "seq_axis": [1], "batch_axis": [0], "bandwidth": [2], "n": [4],
    "dtype": [tf.float16, tf.int32], "inputs": [["x", "y"]], "values": [["x", "y"]],
    "params": ["x"], "ids": ["idx"], "repeats": [2], "num_rows": [3],
}
#: Optional parameters worth giving when the call fails without them (tf.unstack needs a
#: known axis, and the batch axis is open).
OPTIONAL = {"axis": 1}


def _special(name: str, t: dict[str, Any]) -> Any:
    """Tensor-valued small arguments that depend on the inputs' shapes."""
    return {
        "idx": tf.constant([1, 0]), "seg": tf.constant([0, 0]), "filt": tf.ones((2, 2, 3, 2)),
        "sig3": t["sig"][:, :3], "bias": tf.constant([0.1, 0.2, 0.3]),
        "boxes": tf.constant([[0.0, 0.0, 1.0, 1.0], [0.2, 0.2, 0.8, 0.8]]),
        "box_idx": tf.constant([0, 1]), "sorted": tf.constant([[0.2, 0.5, 0.7]] * 2),
        "lens": tf.constant([2, 3]),
    }.get(name, t.get(name, name))


@dataclasses.dataclass
class Call:
    """One function of the sweep and, once found, the arguments it runs on."""

    name: str
    fn: Callable
    args: tuple = ()  # each an input name (str in `INPUTS`/`_special`) or a plain value
    kwargs: dict = dataclasses.field(default_factory=dict)
    outcome: str = ""  # "converted", "refused", or why the call is not in the sweep
    reason: str = ""
    ops: list[str] = dataclasses.field(default_factory=list)  # op types of the outputs
    alone: bool = False  # checked in a batch of its own (`classify`)

    def run(self, t: dict[str, Any]) -> list[Any]:
        values = tf.nest.map_structure(lambda a: _special(a, t) if isinstance(a, str) else a, list(self.args))
        return tf.nest.flatten(self.fn(*values, **self.kwargs))


def functions() -> list[tuple[str, Callable]]:
    """The public functions of the swept modules, each once (``tf.math.add`` is ``tf.add``)."""
    found, seen = [], set()
    named = [(f"{prefix}.{n}", getattr(module, n)) for prefix, module in MODULES.items() for n in dir(module)]
    named += [(f"tf.{n}", getattr(tf, n)) for n in dir(tf)
              if getattr(getattr(tf, n), "__module__", "").rsplit(".", 1)[-1] in ARRAY_MODULES]
    for name, fn in sorted(named):
        if name.rsplit(".", 1)[-1].startswith("_") or not inspect.isfunction(inspect.unwrap(fn)):
            continue
        if id(inspect.unwrap(fn)) not in seen:
            seen.add(id(inspect.unwrap(fn)))
            found.append((name, fn))
    return found


def candidates(fn: Callable) -> list[tuple[tuple, dict]]:
    """(args, kwargs) for ``fn``'s required parameters, from the tables, most likely first; then
    the same with `OPTIONAL` parameters given."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    plain = [(args, {}) for args in required_args(parameters)]
    optional = {p.name: OPTIONAL[p.name] for p in parameters if p.default is not p.empty and p.name in OPTIONAL}
    return plain + [(args, optional) for args, _ in plain] if optional else plain


def required_args(parameters: Any) -> list[tuple]:
    """Combinations for the required parameters: a tensor kind first (with its partner kind for
    later tensor parameters), or the table's values when the first parameter is a named one."""
    required = [p.name for p in parameters if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not required:
        return []
    first, rest = required[0], required[1:]
    if first in BY_NAME:
        return list(itertools.islice(itertools.product(*(BY_NAME.get(r, TENSORS) for r in required)), 60))
    combos = []
    for tensor in TENSORS:
        options = [[SECOND[tensor]] if r not in BY_NAME else BY_NAME[r] for r in rest]
        combos += [(tensor, *more) for more in itertools.islice(itertools.product(*options), 12)]
    return combos


def eager_inputs() -> dict[str, Any]:
    t = {name: tf.constant(value) for name, value in INPUTS.items()}
    return {**t, "c": tf.complex(t["x"], t["y"])}


def find_call(name: str, fn: Callable, t: dict[str, Any]) -> Call:
    """The first table combination ``fn`` runs on, eagerly, giving tensors."""
    for args, kwargs in candidates(fn):
        call = Call(name, fn, args, kwargs)
        try:
            outputs = call.run(t)
        except Exception:  # noqa: BLE001 - a combination that does not fit: try the next
            continue
        if outputs and all(tf.is_tensor(o) and o.dtype != tf.string for o in outputs):
            return call
    return Call(name, fn, outcome="no small call", reason="no combination of the argument table runs it")


SPECS = {name: tf.TensorSpec((None, *value.shape[1:]), tf.as_dtype(value.dtype)) for name, value in INPUTS.items()}


def graph_ops(calls: list[Call]) -> None:
    """Trace every call once in a ``tf.function`` with the batch open, and classify it by the ops
    that make its outputs: the twin needs those ops as TFOp layers."""

    def probe(*tensors):
        t = dict(zip(INPUTS, tensors))
        t["c"] = tf.complex(t["x"], t["y"])
        ran = []
        for call in calls:
            try:
                ran.append((call, call.run(t)))
            except Exception as error:  # noqa: BLE001 - recorded, then the next call
                call.outcome, call.reason = "no small call", f"fails with the batch open: {type(error).__name__}"
        # The ops computed from the inputs: a graph lists its ops inputs first.
        dependent: set[str] = set()
        for op in tf.compat.v1.get_default_graph().get_operations():
            if op.type == "Placeholder" or any(i.op.name in dependent for i in op.inputs):
                dependent.add(op.name)
        for call, outputs in ran:
            classify(call, outputs, dependent)
        return []

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices of the functions probed
        tf.function(probe, autograph=False).get_concrete_function(*SPECS.values())


def classify(call: Call, outputs: list[Any], dependent: set[str]) -> None:
    """The call's outcome from its ops: "refused" if one `TFOp` refuses, else "converted" (to be
    checked); ``dependent`` names the ops computed from the inputs."""
    if any(tf.get_static_value(o) is not None for o in outputs):
        call.outcome, call.reason = "constant", "its result is known from the input shapes (a constant, not an op)"
        return
    ops = [producer(o) for o in outputs]
    if any(op is None for op in ops):
        call.outcome, call.reason = "no op", "returns an input unchanged"
        return
    if any(op.name not in dependent for op in ops):
        # Computed from constants only (a window, `tf.eye`): the twin holds the value, as a
        # `Constant` layer, not the ops.
        call.outcome, call.reason = "constant", "computed from constants only: a `Constant` layer in the twin"
        return
    call.ops = [op.type for op in ops]
    found = reachable(ops)
    call.outcome = "converted" if all(convertible(op) for op in found) else "refused"
    # A call whose conversion is the likeliest to fail is checked alone, not in a batch (which
    # a failure splits, at the cost of more conversions): a result of unknown rank, or an op
    # computed from constants only, which TensorFlow does not fold (a window, `tf.eye`).
    call.alone = any(o.shape.rank is None for o in outputs) or any(op.name not in dependent for op in found)


def producer(tensor: Any) -> Any:
    """The op making ``tensor``, looking through identities; None for a model input."""
    op = tensor.op
    while role(op.type) is Role.PLUMBING:
        op = op.inputs[0].op
    return None if op.type == "Placeholder" else op


def reachable(ops: list[Any]) -> list[Any]:
    """The ops the outputs depend on, up to the inputs, skipping what TensorFlow can fold."""
    seen, todo, found = set(), list(ops), []
    while todo:
        op = todo.pop()
        if op.name in seen or op.type in ("Placeholder", "Const"):
            continue
        seen.add(op.name)
        if all(tf.get_static_value(o) is not None for o in op.outputs):
            continue
        found.append(op)
        todo += [t.op for t in op.inputs]
    return found


def convertible(op: Any) -> bool:
    if role(op.type) in (Role.CONTROL, Role.VARIABLE):
        return False
    try:
        _op_layers.check_op_type(op.type)
        _op_layers.describe(op)
    except Exception:  # noqa: BLE001 - any reason means refused
        return False
    return True


class Branches(keras.Model):
    """Every call of a batch applied to the inputs, side by side: one output list."""

    def __init__(self, calls: list[Call]) -> None:
        super().__init__()
        self.calls = calls
        # A scope per call, new in the process: op layers are named from it, and compose's op
        # layer names can collide across conversions (issue 10, item 5).
        self.scopes = [f"s{next(SCOPES)}" for _ in calls]

    def call(self, inputs: list) -> list:
        t = dict(zip(INPUTS, inputs))
        t["c"] = tf.complex(t["x"], t["y"])
        outputs = []
        for scope, call in zip(self.scopes, self.calls):
            with tf.name_scope(scope):
                outputs += call.run(t)
        return outputs


def sweep(tmp: pathlib.Path) -> list[Call]:
    """Every swept function with its outcome; converted batches and refusals are checked as the
    module docstring says (an AssertionError names the batch or call that fails)."""
    t = eager_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices of the functions tried
        calls = [find_call(name, fn, t) for name, fn in functions()]
    graph_ops([c for c in calls if not c.outcome])
    batched = [c for c in calls if c.outcome == "converted" and not c.alone]
    for start in range(0, len(batched), BATCH):
        check_batches(batched[start:start + BATCH], tmp)
    for call in calls:
        if call.outcome == "refused" or call.alone:
            check_batches([call], tmp)  # a refusal alone, with the replay's reason
    return calls


def max_diff(a: Any, b: Any) -> float:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    if a.dtype.kind in "biu":
        return float(np.any(a != b))
    same = (a == b) | (np.isnan(a) & np.isnan(b))  # equal infinities and NaNs count as equal
    with np.errstate(invalid="ignore"):
        return float(np.max(np.where(same, 0.0, np.abs(a - b)), initial=0.0))


def check_batch(calls: list[Call], tmp: pathlib.Path) -> None:
    """(a)-(d) for one batch of calls converted together."""
    model = Branches(calls)
    arrays = list(INPUTS.values())
    expected = model(arrays)
    twin = compose.to_functional(model, list(SPECS.values()))
    producers = [o._keras_history.operation for o in twin.outputs]
    ops = [op for c in calls for op in c.ops]
    assert len(producers) == len(ops) and all(map(made_by, producers, ops))
    assert max(max_diff(a, b) for a, b in zip(tf.nest.flatten(twin(arrays)), expected)) <= 1e-6
    twin.save(tmp / "twin.keras")
    loaded = keras.saving.load_model(tmp / "twin.keras", safe_mode=True)
    assert max(max_diff(a, b) for a, b in zip(tf.nest.flatten(loaded(arrays)), expected)) <= 1e-6
    # Plain JSON data, and a model rebuilt from it has the same config again (from_config
    # consumes the dict it is given: it gets a copy).
    config = json.dumps(twin.get_config())
    assert json.dumps(keras.Model.from_config(json.loads(config)).get_config()) == config


def check_batches(batch: list[Call], tmp: pathlib.Path) -> None:
    """`check_batch`; a batch that fails is checked again in halves (a bad call costs a few
    smaller conversions, not one per call), and a call failing alone gets its outcome from the
    failure (`outcome_of`)."""
    try:
        check_batch(batch, tmp)
    except Exception as error:  # noqa: BLE001 - split, then each call's failure is recorded
        if len(batch) > 1:
            check_batches(batch[: len(batch) // 2], tmp)
            check_batches(batch[len(batch) // 2 :], tmp)
        else:
            batch[0].outcome, batch[0].reason = outcome_of(error)
        return
    for call in batch:
        call.outcome, call.reason = "converted", ""


def made_by(layer: Any, op_type: str) -> bool:
    """Whether ``layer`` of the twin stands for an op of ``op_type``: its `TFOp`, for a
    `tf.cond` a `Cond` (or the branch's model, when the shapes decide the predicate), for a
    `tf.while_loop` a `While`."""
    if op_type in ("If", "StatelessIf"):
        return isinstance(layer, (Cond, keras.Model))
    if op_type in ("While", "StatelessWhile"):
        return isinstance(layer, While)
    return isinstance(layer, TFOp) and layer.op == op_type


def outcome_of(error: Exception) -> tuple[str, str]:
    """(outcome, reason) of a call whose conversion failed: "refused" when compose refuses it on
    purpose (the replay's `Unreplayable`, a `TFOp` that has no Functional form), "wrong twin"
    when a check of `check_batch` fails, else "crash": a bug, listed so that none goes unseen."""
    cause = error.__cause__ if isinstance(error, compose.TraceError) else None
    if isinstance(cause, Unreplayable):
        return "refused", _plain(cause.reason.split("cannot be rebuilt: ")[-1])
    if isinstance(cause, _op_layers.NoFunctionalForm):
        return "refused", _plain(str(cause))
    kind = "wrong twin" if isinstance(error, AssertionError) else "crash"
    return kind, _plain(f"{type(error).__name__}: {error}")


def _plain(message: str) -> str:
    """A message as one table cell: its first line that says something (Keras puts a header
    and terminal colours around a layer's error), names of this run's layers and scopes made
    neutral, pipes escaped."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in message.splitlines()]
    lines = [line for line in lines if line and not line.endswith("Exception encountered when calling TFOp.call().")]
    text = (lines[0] if lines else message).split(" Received:")[0]  # Keras appends the values
    text = re.sub(r"'(branches|s\d+)[^']*'", "'…'", text)
    text = re.sub(r"\b(branches_\d+|keras_tensor_\d+|s\d+/)", "…", text)
    return re.sub(r" at 0x[0-9a-f]+", "", text).replace("|", "\\|")


FAILING = ("crash", "wrong twin")


def render(calls: list[Call]) -> str:
    """The page: counts, the refused calls with their reasons, the functions left out and why."""
    by = {outcome: [c for c in calls if c.outcome == outcome] for outcome in sorted({c.outcome for c in calls})}
    lines = [
        "# TensorFlow ops in twins",
        "",
        "<!-- Generated by docs/make_op_sweep.py from tests/test_op_sweep.py; do not edit. -->",
        "",
        "`compose.to_functional` turns each TensorFlow operation a model's call runs between its",
        "layers into a `TFOp` layer: the raw op with its attributes and constant arguments as plain",
        "data, so the twin saves and loads in Keras's safe mode. Only pure numeric ops are accepted;",
        "anything random, stateful, or touching strings, files or resources is refused, when",
        "converting and when loading a file.",
        "",
        "`tests/test_op_sweep.py` calls every public function of `tf.math`, `tf.nn`, `tf.linalg`,",
        "`tf.image`, `tf.signal` and tf's array and sort functions on small inputs, and converts each",
        "with `compose.to_functional`. Each converted call is checked: its ops are `TFOp` layers, the",
        "twin gives the model's outputs, survives `.keras` save and safe-mode load, and its config",
        "round-trips. Each refused call raises `compose.TraceError` with the reason below. A",
        "`tf.cond` that a function builds inside becomes a `Cond` layer (or its branch, where the",
        "shapes decide), and a `tf.while_loop` a `While` layer holding its condition and body, as",
        "one in the model's own code does.",
        "",
        f"Functions swept: {len(calls)}.",
        "",
        "| outcome | functions |",
        "|---|---|",
        *(f"| {outcome} | {len(group)} |" for outcome, group in by.items()),
        "",
        "## Refused",
        "",
        "| function | ops of its outputs | reason |",
        "|---|---|---|",
        *(f"| `{c.name}` | {', '.join(c.ops)} | {c.reason} |" for c in by.get("refused", [])),
        "",
        "## Failing",
        "",
        "Calls whose conversion fails with an error compose does not mean: a bug, listed here until",
        "it is fixed (`crash`: an exception; `wrong twin`: a twin that differs from its model or",
        "does not survive save and load).",
        "",
        "| function | ops of its outputs | outcome | error |",
        "|---|---|---|---|",
        *(f"| `{c.name}` | {', '.join(c.ops)} | {c.outcome} | {c.reason} |" for c in calls if c.outcome in FAILING),
        "",
        "## Not swept",
        "",
        "Functions the sweep has no conversion to check for: no combination of its argument table",
        "runs them on the small inputs, or their result is an input or a constant, not an op.",
        "",
        "| function | outcome | why |",
        "|---|---|---|",
        *(f"| `{c.name}` | {c.outcome} | {c.reason} |" for c in calls if c.outcome not in ("converted", "refused", *FAILING)),
        "",
        "## Converted",
        "",
        ", ".join(f"`{c.name}`" for c in by.get("converted", [])),
        "",
    ]
    return "\n".join(lines)


def test_sweep_converts_every_pure_numeric_op_and_the_page_says_what_it_refuses(tmp_path):
    calls = sweep(tmp_path)
    assert sum(c.outcome == "converted" for c in calls) >= 250
    assert render(calls) == PAGE.read_text(), "docs/op-sweep.md is stale: run python docs/make_op_sweep.py"


# -- TFOp configs ------------------------------------------------------------------------------


def concat_config(**attrs: Any) -> dict[str, Any]:
    return {"op": "ConcatV2", "arguments": [[{"tensor": 0}, {"tensor": 1}], {"constant": -1, "dtype": "int32"}], "attrs": attrs}


def test_inferred_attributes_a_config_gives_must_match_the_inputs():
    x, y = keras.Input((2,)), keras.Input((3,))
    for agreeing in ({}, {"N": 2}, {"N": 2, "T": "float32", "Tidx": "int32"}):
        assert TFOp.from_config(concat_config(**agreeing))([x, y]).shape == (None, 5)
    for wrong, message in (({"N": 3}, "attribute N is 3, the inputs give 2"), ({"T": "int32"}, "attribute T is tf.int32")):
        layer = TFOp.from_config(concat_config(**wrong))
        with pytest.raises(ValueError, match=message):
            layer([x, y])
        with pytest.raises(ValueError, match=message):
            layer([tf.ones((1, 2)), tf.ones((1, 3))])


def test_renamed_parameters_and_plain_constants_round_trip():
    # Squeeze's attribute squeeze_dims is the raw op's axis; an empty constant keeps its shape;
    # a complex constant is its real and imaginary parts.
    assert TFOp("Squeeze", [{"tensor": 0}], {"squeeze_dims": [1]})(keras.Input((1, 3))).shape == (None, 3)
    for value in (np.zeros((0, 2), "int32"), np.array([1 + 2j, -0.5j], "complex64"), np.array([[True], [False]])):
        plain = _op_layers.constant(value)
        json.dumps(plain)
        result = TFOp("Identity", [plain])([])
        assert result.dtype == value.dtype and result.shape == value.shape and np.array_equal(result, value)


def save_relu(path: pathlib.Path) -> None:
    inputs = keras.Input((3,))
    keras.Model(inputs, TFOp("Relu", [{"tensor": 0}], name="op")(inputs)).save(path)


def with_layer_config(path: pathlib.Path, crafted: pathlib.Path, **config: Any) -> None:
    """A copy of the .keras file at ``path`` whose layer ``op`` has ``config`` instead."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                model = json.loads(data)
                layer = next(l for l in model["config"]["layers"] if l["config"]["name"] == "op")
                layer["config"].update(config)
                data = json.dumps(model).encode()
            target.writestr(item, data)


#: Configs a file could hold, each refused on loading: ops that reach outside the process (the
#: deny list, file and print ops, a raw op writing into its reference input) and arguments
#: that are no plain numbers.
CRAFTED = [
    *({"op": op, "arguments": [{"constant": "SENTINEL", "dtype": "string"}]} for op in sorted(_op_layers._DENIED)),
    {"op": "WriteFile", "arguments": [{"constant": "SENTINEL", "dtype": "string"}, {"constant": "x", "dtype": "string"}]},
    {"op": "ReadFile", "arguments": [{"constant": "SENTINEL", "dtype": "string"}]},
    {"op": "PrintV2", "arguments": [{"tensor": 0}], "attrs": {"output_stream": "file://SENTINEL"}},
    {"op": "DebugIdentity", "arguments": [{"tensor": 0}], "attrs": {"debug_urls": ["file://SENTINEL"]}},
    {"op": "ApplyGradientDescent", "arguments": [{"tensor": 0}, {"constant": 1.0, "dtype": "float32"}, {"tensor": 0}]},
    {"op": "Relu", "arguments": [{"constant": ["SENTINEL"], "dtype": "string"}]},
    {"op": "Relu", "arguments": [{"class_name": "Lambda", "config": {"function": "SENTINEL"}}]},
    {"op": "Relu", "arguments": [{"tensor": 0}], "attrs": {"T": {"class_name": "Lambda"}}},
]


@pytest.mark.parametrize("config", CRAFTED, ids=lambda c: c["op"])
def test_loading_refuses_a_crafted_config_before_anything_runs(config, tmp_path):
    sentinel = tmp_path / "sentinel"
    save_relu(tmp_path / "relu.keras")
    crafted = json.loads(json.dumps(config).replace("SENTINEL", str(sentinel)))
    with_layer_config(tmp_path / "relu.keras", tmp_path / "crafted.keras", **{"attrs": {}, **crafted})
    with pytest.raises(compose.UnsafeConfigError, match="TFOp: "):
        keras.saving.load_model(tmp_path / "crafted.keras", safe_mode=True)
    assert not sentinel.exists()
