"""The command line: `python -m compose summary|plot|check|demo`, run as a user runs it."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from compose._cli import main

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

    class Options(keras.Model):  # reaches `b` only with training=True, use_b=True, mode="wide"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.a = keras.layers.Dense(3, name="a")
            self.b = keras.layers.Dense(3, name="b")

        def call(self, x, training=None, use_b=False, mode="plain"):
            h = self.a(x)
            if training and use_b and mode == "wide":
                h = self.b(h)
            return h

    class Ids(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.head = keras.layers.Dense(2, name="head")

        def call(self, ids):
            return self.head(tf.gather(tf.ones((10, 4)), ids))

    class Residual(compose.Block):
        units: int = 8

        def setup(self):
            self.dense = keras.layers.Dense(self.units)

        def call(self, x: Tensor["batch", "units"]) -> Tensor["batch", "units"]:
            return x + self.dense(x)

    def exits():
        raise SystemExit(0)

    def fails():
        raise RuntimeError("no weights here")
    """
)
MODELS = "import tensorflow as tf\nimport compose\nfrom compose import Tensor\n" + MODELS


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
    (tmp_path / "exits_on_import.py").write_text("raise SystemExit(0)\n")
    return tmp_path


def in_process(capsys, *args):
    """``python -m compose ARGS`` run here (faster than a new process): status, stdout, stderr."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


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
        (("check", "user_models.py:exits"), "calling user_models.py:exits raised SystemExit: 0"),
        (("check", "exits_on_import.py:model"), "importing exits_on_import.py raised SystemExit: 0"),
        (("check", "user_models.py:fails"), "calling user_models.py:fails raised RuntimeError: no weights here"),
        (("check", "user_models.py:branchy", "--input", "int33:4"), "unknown dtype 'int33'"),
        (("check", "user_models.py:branchy", "--input", "(None,-4)"), "expected a shape tuple of sizes and None"),
        (("check", "user_models.py:branchy", "--call-kwarg", "3=x"), "expected NAME=VALUE"),
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


def test_a_file_target_imports_its_siblings_as_python_file_py_does(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "layers_of_mine.py").write_text("import keras\nWIDTH = 3\n")
    (folder / "model.py").write_text(
        "import keras\nfrom layers_of_mine import WIDTH\n"
        "def model():\n"
        "    inputs = keras.Input((WIDTH,))\n"
        "    return keras.Model(inputs, keras.layers.Dense(2, name='out')(inputs))\n"
    )
    monkeypatch.chdir(tmp_path)
    path = list(sys.path)
    status, out, err = in_process(capsys, "check", "project/model.py:model")
    assert (status, err) == (0, "") and "1/1 layers reached" in out
    assert sys.path == path  # put back after loading


def test_call_arguments_and_input_dtypes(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    status, out, _ = in_process(capsys, "check", "user_models.py:Options", "--input", "4")
    assert status == 3 and "1/2 layers reached" in out and "  not reached: b" in out
    status, out, err = in_process(
        capsys, "check", "user_models.py:Options", "--input", "(None,4)", "--training",
        "--call-kwarg", "use_b=True", "--call-kwarg", "mode=wide",  # a literal, and a bare word
    )
    assert (status, err) == (0, "") and "2/2 layers reached" in out
    status, out, err = in_process(capsys, "check", "user_models.py:Ids", "--input", "int32:(None,5)")
    assert (status, err) == (0, "") and "1/1 layers reached" in out


def test_call_kwarg_values_are_literals_never_code(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    status, out, _ = in_process(
        capsys, "check", "user_models.py:Options", "--input", "4",
        "--call-kwarg", "mode=__import__('pathlib').Path('pwned').touch()",
    )
    assert status == 3 and not (workdir / "pwned").exists()


def test_check_names_the_unreached_layers_problems_and_notes(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    status, out, _ = in_process(capsys, "check", "user_models.py:branchy", "--input", "4")
    lines = out.splitlines()
    assert status == 3 and lines[0].startswith("branchy: 1/2 layers reached")
    assert "  not reached: b" in lines
    assert any(line.startswith("  note: ") and "user_models.py:" in line and "graph strategy, not kept" in line for line in lines)


def test_needs_inputs_says_input_with_the_declared_width(workdir, capsys, monkeypatch):
    monkeypatch.chdir(workdir)
    status, _, err = in_process(capsys, "check", "user_models.py:Residual")
    assert status == 1 and "(on the command line: --input 8)" in err
    status, _, err = in_process(capsys, "check", "user_models.py:branchy")
    assert status == 1 and "--input 16" in err


def test_explore_writes_one_self_contained_page(workdir):
    result = run("explore", "user_models:mlp", "-o", "mlp.html", cwd=workdir)
    assert result.returncode == 0, result.stderr
    page = (workdir / "mlp.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script src=" not in page
