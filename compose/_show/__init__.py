"""Showing a trace: summary tables, Graphviz plots, the interactive viewer, notebook display
(see README.md). Importing it makes traces show themselves in notebooks."""

from .._trace import show_in_notebooks
from ._display import mimebundle
from ._explore import Explorer as Explorer
from ._explore import explore as explore
from ._plot import plot as plot
from ._summary import summary as summary

show_in_notebooks(mimebundle)
