"""``python -m compose summary|plot|check|demo``: the command line.

Errors reach the user as one line on stderr and a non-zero exit, never as a traceback: the
command line is used in documentation builds, where a traceback hides the one line that matters.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Sequence

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
        ("check", "print the trace's coverage; exit 3 when connectivity is incomplete"),
    ):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument(
            "target", help="MODULE:ATTR, a model or a zero-argument function returning one; "
            "MODULE is an importable name or a path to a .py file"
        )
        command.add_argument(
            "--input", action="append", default=[], metavar="SHAPE",
            help="an input's shape without the batch dim, e.g. 8 or 32,32,3; repeat for several",
        )
        if name != "check":
            command.add_argument("--depth", type=int, default=None, help="collapse deeper levels")
        command.add_argument("-o", "--output", default=None, metavar="FILE", help="write here")
    demo = commands.add_parser("demo", help="build a hybrid model, print its summary, plot it")
    demo.add_argument("-o", "--output", default=".", metavar="DIR", help="where to write the plot")
    return parser


def _shape(text: str) -> tuple[int | None, ...]:
    try:
        dims = tuple(int(d) for d in text.split(",") if d.strip())
    except ValueError as err:
        raise CommandLineError(
            f"--input {text!r}: expected sizes separated by commas, e.g. 8 or 32,32,3"
        ) from err
    if not dims or any(d <= 0 for d in dims):
        raise CommandLineError(f"--input {text!r}: expected positive sizes, e.g. 8 or 32,32,3")
    return (None, *dims)


def _import(module: str) -> Any:
    if module.endswith(".py") or "/" in module or "\\" in module:
        path = Path(module)
        if not path.is_file():
            raise CommandLineError(f"no such file: {module}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = loaded
        spec.loader.exec_module(loaded)
        return loaded
    sys.path.insert(0, "")  # as `python -m` does: modules in the current directory import
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise CommandLineError(f"cannot import {module!r}: {err}") from err


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
    obj = _import(module)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as err:
            raise CommandLineError(f"{module!r} has no attribute {attr!r}") from err
    if not isinstance(obj, keras.layers.Layer) and callable(obj):
        obj = obj()
    if not isinstance(obj, keras.layers.Layer):
        raise CommandLineError(f"{target} is not a Keras model or layer (got {type(obj).__name__})")
    return obj


def _run(args: argparse.Namespace) -> int:
    import compose  # deferred: `--help` and argument errors should not wait for TensorFlow
    from compose import demo

    if args.command == "demo":
        demo.main(args.output)
        return 0
    model = load_target(args.target)
    trace = compose.trace(model, *[_shape(s) for s in args.input])
    if args.command == "check":
        print(f"{model.name}: {trace.coverage}")
        return 0 if trace.coverage.complete else _EXIT_INCOMPLETE
    if args.command == "summary":
        text = compose.summary(trace, depth=args.depth, print_fn=lambda *_: None)
        if args.output:
            Path(args.output).write_text(text + "\n")
            print(f"wrote {Path(args.output).resolve()}")
        else:
            print(text)
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
