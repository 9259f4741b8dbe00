"""`python -m crewdash` runs the same entry point as the `crewdash` script."""

from crewdash.cli import main

raise SystemExit(main())
