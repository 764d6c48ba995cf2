"""Reuse of any model through its trace: inner activations, a Functional twin, clones (see
README.md). The rest of compose uses what is re-exported here."""

from ._clone import clone as clone
from ._functional import intermediates as intermediates
from ._functional import to_functional as to_functional
from ._op_layers import TFOp as TFOp
from ._by_call import SpecFromCall as SpecFromCall
