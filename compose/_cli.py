"""``python -m compose summary|plot|check|demo``: the command line.

Errors reach the user as one line on stderr and a non-zero exit, never as a traceback: the
command line is used in documentation builds, where a traceback hides the one line that matters.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import keras

_EXIT_ERROR = 1
_EXIT_INCOMPLETE = 3  # `check`: the trace ran, but the connectivity is not complete


class CommandLineError(Exception):
    """A problem with what was asked on the command line; printed as one line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m compose",
        description="Summaries, plots and coverage checks for any Keras model.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("summary", "print a summary table with connectivity"),
        ("plot", "write a Graphviz plot (.dot, .svg, .png, .pdf from -o); DOT to stdout without -o"),
        ("explore", "write the interactive viewer, one self-contained HTML file (-o, default model.html)"),
        ("check", "print the trace's coverage; exit 3 when connectivity is incomplete"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument(
            "target", help="MODULE:ATTR, a model or a zero-argument function returning one; "
            "MODULE is an importable name or a path to a .py file"
        )
        command.add_argument(
            "--input", action="append", default=[], metavar="[DTYPE:]SHAPE",
            help="an input: its shape without the batch dim (8, 32,32,3) or whole as a tuple "
            "((None,16)), after its dtype if not float32 (int32:(None,16)); repeat for several",
        )
        command.add_argument(
            "--training", action="store_true", help="call the model with training=True"
        )
        command.add_argument(
            "--call-kwarg", action="append", default=[], metavar="NAME=VALUE",
            help="a keyword argument of the model's call; VALUE is a Python literal (3, 0.5, "
            "'text', (1, 2), None) or else a string; repeat for several",
        )
        if name != "check":
            command.add_argument("--depth", type=int, default=None, help="collapse deeper levels")
        command.add_argument("-o", "--output", default=None, metavar="FILE", help="write here")
    demo = commands.add_parser("demo", help="build a hybrid model, print its summary, plot it")
    demo.add_argument("-o", "--output", default=".", metavar="DIR", help="where to write the plot")
    return parser


def _input(text: str) -> Any:
    """One ``--input [DTYPE:]SHAPE`` as a `compose.TensorSpec`."""
    import compose

    dtype, _, shape = text.rpartition(":")
    if dtype:
        try:
            dtype = keras.backend.standardize_dtype(dtype)
        except ValueError as err:
            raise CommandLineError(
                f"--input {text!r}: unknown dtype {dtype!r}; use a Keras dtype such as int32"
            ) from err
    return compose.TensorSpec(_shape(shape, text), dtype or None)


def _shape(text: str, option: str) -> tuple[int | None, ...]:
    """``(None,16)`` as written, or ``16`` / ``32,32,3`` / ``None,8`` with the batch dim added."""
    if text.strip().startswith("("):
        try:
            dims = ast.literal_eval(text)  # a literal, never code
        except (ValueError, SyntaxError):
            dims = None
        if not isinstance(dims, tuple) or not all(_is_size(d) for d in dims):
            raise CommandLineError(
                f"--input {option!r}: expected a shape tuple of sizes and None, e.g. (None,16)"
            )
        return dims
    try:
        dims = tuple(None if d.strip() == "None" else int(d) for d in text.split(",") if d.strip())
    except ValueError as err:
        raise CommandLineError(
            f"--input {option!r}: expected sizes separated by commas, e.g. 8 or 32,32,3"
        ) from err
    if not dims or not all(d is None or d > 0 for d in dims):
        raise CommandLineError(f"--input {option!r}: expected positive sizes, e.g. 8 or 32,32,3")
    return (None, *dims)


def _is_size(dim: Any) -> bool:
    return dim is None or (type(dim) is int and dim >= 0)


def _call_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """``--training`` and every ``--call-kwarg NAME=VALUE``: VALUE read as a Python literal
    (``ast.literal_eval``, which runs no code), else kept as the string it is."""
    kwargs: dict[str, Any] = {"training": True} if args.training else {}
    for text in args.call_kwarg:
        name, sep, value = text.partition("=")
        if not sep or not name.isidentifier():
            raise CommandLineError(f"--call-kwarg {text!r}: expected NAME=VALUE, e.g. depth=3")
        if name in kwargs:
            raise CommandLineError(f"--call-kwarg {text!r}: {name!r} is given twice")
        try:
            kwargs[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            kwargs[name] = value  # a bare word such as `mean` is meant as a string
    return kwargs


@contextlib.contextmanager
def _importable(folder: str) -> Iterator[None]:
    """``folder`` first on ``sys.path`` while the target loads, as ``python file.py`` puts the
    file's folder (and ``python -m`` the current one); the path is put back afterwards."""
    saved = list(sys.path)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.path[:] = saved


def _is_file(module: str) -> bool:
    return module.endswith(".py") or "/" in module or "\\" in module


def _import(module: str) -> Any:
    if _is_file(module):
        path = Path(module)
        if not path.is_file():
            raise CommandLineError(f"no such file: {module}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = loaded
        spec.loader.exec_module(loaded)
        return loaded
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise CommandLineError(f"cannot import {module!r}: {err}") from err


def _folder(module: str) -> str:
    return str(Path(module).resolve().parent) if _is_file(module) else ""


def load_target(target: str) -> keras.layers.Layer:
    """The model named by a command-line target.

    Args:
        target: ``MODULE:ATTR``; ``MODULE`` is an importable name or a path to a ``.py`` file,
            ``ATTR`` a (dotted) attribute holding a model or a zero-argument function returning one.

    Returns:
        The Keras model or layer.

    Raises:
        CommandLineError: the target is malformed, cannot be imported, or is not a Keras layer.

    Example:
        >>> load_target("compose.demo:HybridClassifier").name
        'hybrid_classifier'
    """
    module, sep, attr = target.rpartition(":")
    if not sep or not module or not attr:
        raise CommandLineError(f"{target!r}: expected MODULE:ATTR, e.g. mypackage.models:build")
    with _importable(_folder(module)):
        obj = _guarded(f"importing {module}", _import, module)
        for part in attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError as err:
                raise CommandLineError(f"{module!r} has no attribute {attr!r}") from err
        if not isinstance(obj, keras.layers.Layer) and callable(obj):
            obj = _guarded(f"calling {target}", obj)
    if not isinstance(obj, keras.layers.Layer):
        raise CommandLineError(f"{target} is not a Keras model or layer (got {type(obj).__name__})")
    return obj


def _guarded(stage: str, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, where any way out but a value is an error of the target: a module that
    calls ``sys.exit(0)`` on import must not pass a CI check silently. Ctrl-C still stops."""
    try:
        return fn(*args)
    except (CommandLineError, KeyboardInterrupt):
        raise
    except BaseException as err:  # noqa: BLE001 - SystemExit included, on purpose
        detail = f": {err}" if str(err) else ""
        raise CommandLineError(f"{stage} raised {type(err).__name__}{detail}") from err


def _check(model: keras.layers.Layer, trace: Any) -> int:
    """The coverage line, then each unreached layer and each problem by name."""
    coverage = trace.coverage
    print(f"{model.name}: {coverage.sentence()}")
    if coverage.unreached:
        print(f"  not reached: {', '.join(coverage.unreached)}")
    for problem in coverage.problems:
        print(f"  problem: {problem}")
    for note in coverage.notes:
        print(f"  note: {note} (the {note.strategy} strategy, not kept)")
    return 0 if coverage.complete else _EXIT_INCOMPLETE


def _run(args: argparse.Namespace) -> int:
    import compose  # deferred: `--help` and argument errors should not wait for TensorFlow
    from compose import demo

    if args.command == "demo":
        demo.main(args.output)
        return 0
    inputs = [_input(s) for s in args.input]
    kwargs = _call_kwargs(args)
    model = load_target(args.target)
    trace = _guarded(f"tracing {args.target}", lambda: compose.trace(model, *inputs, **kwargs))
    if args.command == "check":
        return _check(model, trace)
    if args.command == "summary":
        text = compose.summary(trace, depth=args.depth, print_fn=lambda *_: None)
        if args.output:
            Path(args.output).write_text(text + "\n")
            print(f"wrote {Path(args.output).resolve()}")
        else:
            print(text)
        return 0
    if args.command == "explore":
        path = Path(args.output or "model.html")
        compose.explore(trace, depth=args.depth or 1).save(path)
        print(f"wrote {path.resolve()}")
        return 0
    dot = compose.plot(trace, to_file=args.output, depth=args.depth)
    if args.output:
        print(f"wrote {Path(args.output).resolve()}")
    else:
        print(dot.to_string())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command, as ``python -m compose`` does.

    Args:
        argv: the arguments after ``python -m compose``; ``None`` reads ``sys.argv``.

    Returns:
        The exit status: 0 on success; 1 on an error (one line on stderr); 3 from ``check``
        when the trace is not complete; 130 on Ctrl-C. Argument errors exit 2 through argparse.

    Example:
        >>> main(["check", "compose.demo:HybridClassifier", "--input", "8"])
        hybrid_classifier...: 8/9 layers reached, ...
        3
    """
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 - every failure becomes one line, by design
        print(f"python -m compose {args.command}: {type(err).__name__}: {err}".splitlines()[0],
              file=sys.stderr)
        return _EXIT_ERROR
