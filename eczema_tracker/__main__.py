"""`python -m eczema_tracker`: no arguments opens the app, subcommands run the CLI."""

from eczema_tracker.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
