"""The tracer: recover any Keras model's connectivity into networkx graphs (see README.md)."""

from ._result import Call as Call
from ._result import Coverage as Coverage
from ._result import Problem as Problem
from ._result import StrategyRun as StrategyRun
from ._result import Trace as Trace
from ._tracing import trace as trace
