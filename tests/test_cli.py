"""The command line: `python -m compose summary|plot|check|demo`, run as a user runs it."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

MODELS = textwrap.dedent(
    """
    import keras

    def mlp():
        inputs = keras.Input((8,))
        hidden = keras.layers.Dense(4, name="hidden")(inputs)
        return keras.Model(inputs, keras.layers.Dense(2, name="out")(hidden), name="mlp")

    class Branchy(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.a = keras.layers.Dense(3, name="a")
            self.b = keras.layers.Dense(3, name="b")

        def call(self, x):
            h = self.a(x)
            if float(keras.ops.sum(h).numpy()) > 1e9:  # needs values: only eager can follow
                h = self.b(h)
            return h

    branchy = Branchy(name="branchy")
    not_a_model = 3
    """
)


def run(*args, cwd):
    # As a user runs it: the command line quiets TensorFlow's start-up notes by itself.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [sys.executable, "-m", "compose", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300,
    )


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "user_models.py").write_text(MODELS)
    return tmp_path


def test_summary_of_a_factory(workdir):
    result = run("summary", "user_models:mlp", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "hidden" in result.stdout and "out" in result.stdout
    assert "46" in result.stdout  # 8*4+4 + 4*2+2 parameters in the footer


def test_plot_writes_the_file_the_extension_names(workdir):
    result = run("plot", "user_models:mlp", "-o", "mlp.dot", cwd=workdir)
    assert result.returncode == 0, result.stderr
    text = (workdir / "mlp.dot").read_text()
    assert text.startswith("digraph") or text.startswith("strict digraph")
    assert "hidden" in text and str(workdir / "mlp.dot") in result.stdout


def test_check_passes_complete_and_fails_partial_models(workdir):
    complete = run("check", "user_models:mlp", cwd=workdir)
    assert complete.returncode == 0, complete.stderr
    assert "2/2 layers reached" in complete.stdout
    partial = run("check", "user_models.py:branchy", "--input", "4", cwd=workdir)
    assert partial.returncode == 3, partial.stderr
    assert "1/2 layers reached" in partial.stdout and "user_models.py:" in partial.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("summary", "user_models"), "expected MODULE:ATTR"),
        (("summary", "no_such_module:x"), "cannot import 'no_such_module'"),
        (("summary", "user_models:missing"), "has no attribute 'missing'"),
        (("summary", "user_models:not_a_model"), "is not a Keras model or layer (got int)"),
        (("check", "user_models.py:branchy", "--input", "4,x"), "expected sizes separated by commas"),
        (("summary", "user_models.py:branchy"), "needs inputs"),
    ],
)
def test_errors_are_one_line_without_traceback(workdir, args, message):
    result = run(*args, cwd=workdir)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()  # one line: no traceback, no TensorFlow start-up chatter
    assert message in line and line.startswith(f"python -m compose {args[0]}: ")


def test_demo_prints_summary_and_writes_plots(tmp_path):
    result = run("demo", "-o", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hybrid" in result.stdout and "not reached" in result.stdout
    assert (tmp_path / "demo.dot").read_text().lstrip().startswith(("digraph", "strict digraph"))
    if shutil.which("dot"):
        assert (tmp_path / "demo.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert f"wrote {tmp_path / 'demo.dot'}" in result.stdout
