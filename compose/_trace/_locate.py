"""Find the user's own line in a traceback: the innermost frame outside keras, tensorflow and
compose (and outside code AutoGraph generated, which is mapped back to its source)."""

from __future__ import annotations

import os
import sysconfig
import traceback
from typing import Any

import keras
import tensorflow as tf

#: Folders of code that is not the user's: keras, tensorflow, compose itself (this file's
#: package's parent) and the standard library.
_LIBRARIES = tuple(
    os.path.dirname(os.path.dirname(os.path.abspath(module.__file__))) + os.sep + name + os.sep
    for module, name in ((keras, "keras"), (tf, "tensorflow"))
)
_LIBRARIES += (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)
_LIBRARIES += (sysconfig.get_paths()["stdlib"] + os.sep,)
_GENERATED = "__autograph_generated_file"


def _is_user(filename: str) -> bool:
    path = os.path.abspath(filename)
    return not filename.startswith("<") and _GENERATED not in path and not path.startswith(_LIBRARIES)


#: Lines of code AutoGraph generated -> the user's own ``file:line`` they were converted from.
_SOURCE_LINES: dict[tuple[str, int], str] = {}


def register_converted(function: Any) -> None:
    """Remember where the lines of an AutoGraph-converted function came from, so that a
    failure inside it is reported at the user's line, not at a generated file's."""
    for generated, origin in getattr(function, "ag_source_map", {}).items():
        _SOURCE_LINES[(generated.filename, generated.lineno)] = f"{origin.loc.filename}:{origin.loc.lineno}"


def user_location(error: BaseException) -> str | None:
    """``"file.py:42"`` of the innermost user frame of ``error``, or None when there is none."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if _GENERATED in frame.filename:
            mapped = _SOURCE_LINES.get((frame.filename, frame.lineno))
            if mapped is not None:
                return mapped
            break  # the innermost user code ran converted; its mapped stack says where
        if _is_user(frame.filename):
            return f"{frame.filename}:{frame.lineno}"
    metadata = getattr(error, "ag_error_metadata", None)
    for frame in getattr(metadata, "translated_stack", ()):
        if _is_user(frame.filename):
            return f"{frame.filename}:{frame.lineno}"
    for frame in reversed(frames):
        if _is_user(frame.filename):
            return f"{frame.filename}:{frame.lineno}"
    return None
