"""Print, as a markdown table, how compose does on the corpus of real models in tests/real/:
which strategy traced each, how many leaf layers it reached, and whether `compose.to_functional`
converts it (or why not). The checks are those of tests/test_real_models.py.

    python docs/make_corpus_table.py [--hub] > table.md

docs/corpus.md is its output with --hub, under a short introduction.

`--hub` adds the keras_hub backbones (slower).
"""

import argparse
import os
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import compose  # noqa: E402
from real import MODELS, checks  # noqa: E402


def first_line(error: BaseException) -> str:
    """The error's type and the first line of its message, fit for a table cell."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}".replace("|", "\\|")


def row(name: str, source: str, module, build) -> str:
    """One table row: trace, gradient check and conversion of one model."""
    model, inputs, call_kwargs = build()
    trace = compose.trace(model, *inputs, **call_kwargs)
    coverage = trace.coverage
    used = checks.layers_with_gradient(model, inputs, call_kwargs, checks.leaf_layers(trace))
    hidden = checks.dishonest_layers(trace, used)
    try:
        checks.convert_and_compare(module, model, inputs, call_kwargs, trace)
        converts = "yes"
    except Exception as error:  # the table reports every failure, whatever its type
        converts = "no: " + first_line(error)
    problems = "; ".join(str(p) for p in coverage.problems) or ""
    honesty = "ok" if not hidden else "hides " + ", ".join(hidden)
    return (f"| {name} | [{source.rsplit('/', 1)[-1]}]({source}) | {trace.strategy} | "
            f"{coverage.layers_reached}/{coverage.layers_total} | {honesty} | {converts} |"
            + (f" {problems} |" if problems else " |"))


def entries(with_hub: bool):
    """(name, source, module, build) for every corpus model, in a fixed order."""
    for name, module in MODELS.items():
        yield name, module.SOURCE, module, module.build
    if with_hub:
        from real import hub_backbones

        for name, module, build in hub_backbones():
            yield name, module.SOURCE, module, build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", action="store_true", help="add the keras_hub backbones")
    args = parser.parse_args()
    # The examples' own Keras warnings (masks dropped by a nested decoder) are not the table's subject.
    warnings.filterwarnings("ignore", category=UserWarning)
    print("| model | source | strategy | layers reached | gradient check | converts | problems |")
    print("|---|---|---|---|---|---|---|")
    for name, source, module, build in entries(args.hub):
        print(row(name, source, module, build), flush=True)


if __name__ == "__main__":
    main()
