"""Typed building blocks: tensor specs with named dims, hyperparameters, checked call signatures
and the Block class (see README.md). The rest of compose uses what is re-exported here."""

from ._block import Block as Block
from ._block import declared_inputs as declared_inputs
from ._specs import Tensor as Tensor
from ._specs import TensorSpec as TensorSpec
