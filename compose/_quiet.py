"""Importing TensorFlow without its start-up chatter, when the user asked for that.

``TF_CPP_MIN_LOG_LEVEL=3`` is TensorFlow's documented way to silence its C++ logging, but
TensorFlow 2.21 writes some lines (oneDNN, CUDA, CPU features) before its logger reads the setting.
When the variable asks for silence, those lines are dropped at the file-descriptor level for the
duration of the import only; errors still raise as exceptions.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def _run_as_command() -> bool:
    """Whether compose is being imported to run ``python -m compose ...``: while Python locates
    the module to run, ``sys.argv[0]`` is ``"-m"`` (documented in the `sys.argv` reference)."""
    return sys.argv[:1] == ["-m"]


def import_tensorflow() -> None:
    """Import TensorFlow, quietly when ``TF_CPP_MIN_LOG_LEVEL`` is 3 and it is not loaded yet.

    The command line asks for that level itself (unless the user set another): its output is
    a summary or a one-line error, and TensorFlow's start-up notes would bury it."""
    if _run_as_command():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    quiet = "tensorflow" not in sys.modules and os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "3"
    with _stderr_to_devnull() if quiet else contextlib.nullcontext():
        import tensorflow  # noqa: F401
