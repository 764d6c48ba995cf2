"""The documentation runs: every code block of README.md and docs/*.md, and every example in
compose's docstrings, evaluated with Sybil.

- ```python blocks run in order, one namespace per page; a block written as a doctest
  (``>>>``) also checks its output (ELLIPSIS and NORMALIZE_WHITESPACE on).
- ```bash blocks run with bash, from a scratch directory that holds a link to examples/, and
  must exit 0.
- ``<!-- skip: next -->`` before a block skips it: only installs, and whole examples/ scripts
  included by snippet (tests/test_examples.py runs those).
- Docstrings: ``>>>`` examples run in their module's namespace.
- Without Graphviz's ``dot``, a page or module whose example renders a plot is skipped from that
  example on, with the reason; ``.ci/run`` runs these tests a second time with ``dot`` hidden.
"""

import doctest
import shutil
import subprocess
from pathlib import Path

import keras
import pytest
from sybil import Sybil
from sybil.document import PythonDocStringDocument
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser
from sybil.parsers.rest import DocTestParser

ROOT = Path(__file__).resolve().parent.parent
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
#: A bash block runs at most this long (a few `python -m compose` commands).
SHELL_TIMEOUT = 300


def _run_bash(example) -> None:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", example.parsed], capture_output=True,
                            text=True, timeout=SHELL_TIMEOUT)
    if result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


class _Docstrings(PythonDocStringDocument):
    """A module's docstrings, run in its namespace minus its ``from __future__ import
    annotations``: examples run as a user types them, where ``Tensor[...]`` annotations on a
    class defined in the example are evaluated there, not looked up in the module later."""

    def import_document(self, example):
        try:
            super().import_document(example)
        finally:
            self.namespace.pop("annotations", None)


MARKDOWN = Sybil(parsers=[PythonCodeBlockParser(doctest_optionflags=FLAGS),
                          CodeBlockParser("bash", _run_bash), SkipParser()])
DOCSTRINGS = Sybil(parsers=[DocTestParser(optionflags=FLAGS)], document_types={".py": _Docstrings})

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
MODULES = sorted((ROOT / "compose").rglob("*.py"))


def _evaluate(sybil: Sybil, path: Path) -> None:
    for example in sybil.parse(path).examples():
        try:
            example.evaluate()
        except Exception as err:
            _skip_if_graphviz_missing(err, path, example.line)
            raise


def _skip_if_graphviz_missing(err: Exception, path: Path, line: int) -> None:
    """Skip the rest of a page whose example renders a plot on a machine without Graphviz, as
    the README promises. Only then: with ``dot`` installed the same failure is a real one. The
    error comes as itself (a python block), in a doctest's report or in a bash block's stderr,
    so its name is looked for in the text."""
    if shutil.which("dot") is None and "GraphvizNotFound" in f"{type(err).__name__}: {err}":
        pytest.skip(f"{path.relative_to(ROOT)}:{line} renders a plot and Graphviz's `dot` is not installed")


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """An empty working directory (pages write plots there) with examples/ reachable."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    # Keras's automatic layer names restart, so a page prints the same names however it is run.
    keras.backend.clear_session()
    return tmp_path


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page(page, scratch):
    _evaluate(MARKDOWN, page)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_docstrings(module, scratch):
    _evaluate(DOCSTRINGS, module)
