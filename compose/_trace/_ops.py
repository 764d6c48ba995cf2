"""What an operation between layers is to the tracer, and what its node is called: one authority.

Three walkers go back from a tensor to the recorded calls that produced it: the graph strategy
through a TensorFlow graph, the eager strategy through the ops it saw run, and the replay that
rebuilds a Functional model. They all ask `role` what an op is to dataflow, and `op_name` (or
`keras_op_name`) what its node is called, so renaming an op or adding a type to a role is a
change here only.
"""

from __future__ import annotations

import enum
import re


class Role(enum.Enum):
    """What a TensorFlow op is to a walk back through the graph."""

    #: Passes a tensor through unchanged: looked through, never a node.
    PLUMBING = "plumbing"
    #: A function argument inside a branch or loop body: leads to the captured outer tensor.
    CAPTURE = "capture"
    #: Constants and weights: no dataflow from the model's inputs, never a node.
    NO_SOURCE = "no source"
    #: Reads a variable: a weight used outside a layer when the replay meets it.
    VARIABLE = "variable"
    #: Data-dependent control flow (``tf.cond``, ``tf.while_loop``): a node fed by its branches.
    CONTROL = "control"
    #: Anything else: a computation, one op node.
    COMPUTE = "compute"


_ROLES = {
    "Identity": Role.PLUMBING, "IdentityN": Role.PLUMBING, "EnsureShape": Role.PLUMBING,
    "Placeholder": Role.CAPTURE,
    "Const": Role.NO_SOURCE,
    "ReadVariableOp": Role.VARIABLE, "VarHandleOp": Role.VARIABLE, "VariableV2": Role.VARIABLE,
    "If": Role.CONTROL, "StatelessIf": Role.CONTROL, "While": Role.CONTROL, "StatelessWhile": Role.CONTROL,
}

#: The function-valued attributes of each control-flow op: the graphs of its branches, or of its
#: condition and body.
BRANCHES = {
    "If": ("then_branch", "else_branch"), "StatelessIf": ("then_branch", "else_branch"),
    "While": ("cond", "body"), "StatelessWhile": ("cond", "body"),
}
LOOPS = frozenset({"While", "StatelessWhile"})

#: TensorFlow op types renamed to what they do; others are their type in snake case.
_NAMES = {
    "AddV2": "add", "Sub": "subtract", "Mul": "multiply", "RealDiv": "divide",
    "BatchMatMulV2": "matmul", "BatchMatMulV3": "matmul", "MatMul": "matmul",
    "ConcatV2": "concat", "Pack": "stack", "StridedSlice": "slice", "If": "cond",
    "StatelessIf": "cond", "While": "while", "StatelessWhile": "while",
}

#: Keras operations that hand a tensor on unchanged: never nodes.
_IDENTITY_KERAS_OPS = frozenset({"convert_to_tensor", "identity"})

#: How TensorFlow names the op that runs a ``tf.function`` (its FuncGraph) eagerly, ``forward``
#: under a gradient tape; the number changes with every tracing, so the node is named after the
#: Python function instead.
_FUNCTION_CALL = re.compile(r"__(?:inference|forward)_(.+)_\d+")

#: The suffix TensorFlow adds to make a repeated name scope unique (``Gelu_1``, ``res_0_2``).
UNIQUIFIED = re.compile(r"_\d+$")


def role(op_type: str) -> Role:
    """What an op of this TensorFlow type is to a walk back through the graph."""
    return _ROLES.get(op_type, Role.COMPUTE)


def snake(name: str) -> str:
    """``"GetItem"`` -> ``"get_item"``: how op classes and TF op types become node names."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def op_name(op_type: str, scope: str | None = None) -> str:
    """The node name of a TensorFlow op: the TF function that made it when its ops were grouped
    under that function's name scope (``"Gelu_1"`` -> ``"gelu"``), the Python function a
    ``tf.function`` call ran, or what the op does (``"AddV2"`` -> ``"add"``)."""
    if scope:
        return snake(UNIQUIFIED.sub("", scope.rsplit("/", 1)[-1]))
    function = _FUNCTION_CALL.fullmatch(op_type)
    if function:
        return function.group(1)
    return _NAMES.get(op_type, snake(op_type))


def keras_op_name(operation: object) -> str:
    """The node name of a Keras operation (``keras.ops.relu`` -> ``"relu"``): its class in snake case."""
    return snake(type(operation).__name__)


def is_identity_keras_op(operation: object) -> bool:
    """A Keras operation that hands its input on unchanged (Functional standardizing inputs)."""
    return keras_op_name(operation) in _IDENTITY_KERAS_OPS
