"""Every script in examples/ runs to the end, as a user would run it: a fresh Python process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: Each example is meant to take well under 20 s on 2 cores; this only stops a hung one.
TIMEOUT = 120
#: What each example must print, so that a script that silently skips its point fails.
EXPECTED = {
    "quickstart.py": "clone with copied weights gives the same predictions",
    "nesting.py": "its normalization layer: ['shared/norm', 'shared/norm#1']",
    "tree_network.py": "3. every kind of node: 5/5 layers reached",
    "captioning.py": "calls of the attention block: 4",
    "pix2pix.py": "caught at build time: up_1: argument 'skip'",
    "transfer_learning.py": "new model trained one epoch",
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path):
    # Run from an empty directory: an example must not depend on, or litter, the working dir.
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert EXPECTED[name] in result.stdout, result.stdout[-3000:]
    assert not list(tmp_path.iterdir()), "the example left files in the working directory"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_reads_like_user_code(name):
    # The examples are the documentation's showcase: no environment set-up, no linter escapes.
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    assert "os.environ" not in source and "noqa" not in source
