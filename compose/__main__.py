"""``python -m compose ...``: see `compose._cli`."""

from ._cli import main

raise SystemExit(main())
