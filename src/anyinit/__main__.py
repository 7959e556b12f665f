"""``python -m anyinit``: the command line."""

from .cli import main

raise SystemExit(main())
