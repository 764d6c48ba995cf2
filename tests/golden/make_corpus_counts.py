"""Print, as JSON, what a trace of each real-model corpus model reaches: leaf layers reached and
the links between layer calls (`checks.layer_links`). tests/golden/corpus_counts.json is its output under the compose of the commit it
names, the baseline that tests/test_real_models.py holds every later trace to (same or more).

    git worktree add /tmp/old <commit>
    PYTHONPATH=/tmp/old python tests/golden/make_corpus_counts.py <commit> > tests/golden/corpus_counts.json

The corpus (tests/real/) is the current one, so models added since are traced by the old code.
"""

import json
import os
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import compose  # noqa: E402 - after the corpus's folder is importable
from real import MODELS, checks, hub_backbones  # noqa: E402


def main() -> None:
    warnings.simplefilter("ignore")
    corpus = [(name, module.build) for name, module in MODELS.items()]
    corpus += [(name, build) for name, _, build in hub_backbones()]
    counts = {}
    for name, build in corpus:
        model, inputs, call_kwargs = build()
        trace = compose.trace(model, *inputs, **call_kwargs)
        counts[name] = {"layers_reached": trace.coverage.layers_reached, "layer_links": len(checks.layer_links(trace))}
        print(name, counts[name], file=sys.stderr, flush=True)
    print(json.dumps({"commit": sys.argv[1] if len(sys.argv) > 1 else None, "counts": counts}, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
