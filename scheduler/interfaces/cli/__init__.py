"""The ``storyline`` command line: a thin layer that parses, calls the application, formats."""

from scheduler.interfaces.cli.main import cli, main

__all__ = ["cli", "main"]
