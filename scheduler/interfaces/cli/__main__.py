"""``python -m scheduler.interfaces.cli``: the same as the ``storyline`` command."""

from scheduler.interfaces.cli import main

main()
