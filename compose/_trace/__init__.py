"""The tracer: recover any Keras model's connectivity into networkx graphs (see README.md).

What the rest of compose uses of it is re-exported here, and nothing else is: the public
`trace` and its result types; `recording` (a locked session running one strategy, for
`intermediates`); `ModelSnapshot` (undo what calling layers did); finding a call by path or
Keras name (`resolve_paths`, `keras_name_beside`); the default leaf rule (`default_leaf`), one
taken as it answers (`ExactLeafRule`) and what Keras ships (`shipped_by_keras`); the op
vocabulary shared by every walk through TensorFlow graphs (`role`, `op_name`); input forms; the
node schema.
"""

from ._eager import EagerRecorder as EagerRecorder
from ._hierarchy import ExactLeafRule as ExactLeafRule
from ._hierarchy import count_params as count_params
from ._hierarchy import default_leaf as default_leaf
from ._hierarchy import shipped_by_keras as shipped_by_keras
from ._hierarchy import subtree_params as subtree_params
from ._inputs import InputShape as InputShape
from ._inputs import as_arrays as as_arrays
from ._inputs import larger_arrays as larger_arrays
from ._inputs import normalize as normalize
from ._locate import user_location as user_location
from ._node import Node as Node
from ._paths import keras_name_beside as keras_name_beside
from ._paths import resolve as resolve_paths
from ._ops import BRANCHES as BRANCHES
from ._ops import LOOPS as LOOPS
from ._ops import Role as Role
from ._ops import is_identity_keras_op as is_identity_keras_op
from ._ops import op_name as op_name
from ._ops import role as role
from ._recorder import tensors as tensors
from ._result import Call as Call
from ._result import Coverage as Coverage
from ._result import Problem as Problem
from ._result import Trace as Trace
from ._result import reason_of as reason_of
from ._result import show_in_notebooks as show_in_notebooks
from ._snapshot import ModelSnapshot as ModelSnapshot
from ._tracing import recording as recording
from ._tracing import trace as trace
from ._tracing import trace_whole_or_regions as trace_whole_or_regions
