"""Benchmarks: each module measures a ratio against its baseline in the same run.

Every benchmark module ``bench/<name>.py`` exposes ``run(quick: bool = False) -> str``, which
measures and returns a Markdown section (a heading, the command, a table of figures with their
targets and a pass/fail mark). ``python -m bench all`` runs them all and writes
``docs/benchmarks.md``; ``python -m bench NAME`` runs one and prints its section.
"""
