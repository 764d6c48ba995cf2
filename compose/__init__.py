"""compose: mix symbolic and subclassed Keras models without losing what either gives."""

from importlib.metadata import PackageNotFoundError, version

from ._quiet import import_tensorflow

import_tensorflow()  # first, so that TF_CPP_MIN_LOG_LEVEL=3 silences all of its start-up lines

from ._blocks import Block as Block
from ._blocks import Tensor as Tensor
from ._blocks import TensorSpec as TensorSpec
from ._errors import CloneError as CloneError
from ._errors import ComposeError as ComposeError
from ._errors import GraphvizError as GraphvizError
from ._errors import GraphvizNotFound as GraphvizNotFound
from ._errors import HyperparameterError as HyperparameterError
from ._errors import PathError as PathError
from ._errors import SpecError as SpecError
from ._errors import TraceError as TraceError
from ._errors import UnsafeConfigError as UnsafeConfigError
from ._reuse import clone as clone
from ._reuse import intermediates as intermediates
from ._reuse import to_functional as to_functional
from ._show import Explorer as Explorer
from ._show import explore as explore
from ._show import plot as plot
from ._show import summary as summary
from ._trace import Coverage as Coverage
from ._trace import Problem as Problem
from ._trace import Trace as Trace
from ._trace import trace as trace

try:
    __version__ = version("keras-compose")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
