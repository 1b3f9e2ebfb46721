"""``python -m simulator.cli``: the same as the ``ttx`` command."""

from simulator.cli import main

raise SystemExit(main())
