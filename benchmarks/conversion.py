"""`to_functional` on the real-model corpus (tests/real/): conversion time against trace time.

Converting traces the model and then replays it, builds the Functional model and runs both to
compare them; the ratio says what the replay and the check cost beyond the trace itself.

Run: python benchmarks/conversion.py
"""

import sys
from pathlib import Path
from statistics import median

from _timing import best

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import compose  # noqa: E402 - after the corpus's folder is importable
from real import MODELS  # noqa: E402


def main() -> None:
    ratios = []
    print(f"{'model':<22} {'trace s':>8} {'convert s':>10} {'ratio':>6}")
    for name, module in MODELS.items():
        model, inputs, call_kwargs = module.build()
        call_kwargs = {**call_kwargs, "training": False}
        traced = best(lambda: compose.trace(model, *inputs, **call_kwargs), repeat=2)
        try:
            converted = best(lambda: compose.to_functional(model, *inputs, **call_kwargs), repeat=2)
        except (compose.TraceError, TypeError, ValueError) as err:
            print(f"{name:<22} {traced:8.2f} {'refused':>10}   ({type(err).__name__})")
            continue
        ratios.append(converted / traced)
        print(f"{name:<22} {traced:8.2f} {converted:10.2f} {converted / traced:6.2f}")
    print(f"median ratio conversion / trace over {len(ratios)} converted models: {median(ratios):.2f}")


if __name__ == "__main__":
    main()
