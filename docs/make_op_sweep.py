"""Write docs/op-sweep.md: what the op sweep of tests/test_op_sweep.py converts and refuses.

    python docs/make_op_sweep.py

The test checks the committed page against a fresh sweep, so run this after any change to
`TFOp`, the sweep or TensorFlow.
"""

import os
import pathlib
import sys
import tempfile
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from test_op_sweep import PAGE, render, sweep  # noqa: E402


def main() -> None:
    # The test runs under pyproject's filterwarnings (warnings are errors, some of which refuse
    # a conversion): the page is made under the same rules, or it would differ from the test.
    warnings.simplefilter("error")
    for module in ("tensorflow", "google.protobuf", "keras.src"):
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=module)
    with tempfile.TemporaryDirectory() as tmp:
        PAGE.write_text(render(sweep(pathlib.Path(tmp))))
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
