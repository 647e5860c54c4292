"""Allow ``python -m newsmon``."""

from newsmon.cli import main

raise SystemExit(main())
