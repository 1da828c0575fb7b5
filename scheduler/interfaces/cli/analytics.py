"""``storyline analytics``: what each post earned.

``pull`` asks each network for its posts' counts now (docs/operations.md, "Metrics"); the
worker's beat does the same on its own queue at +1 h, +24 h, +7 d and +28 d after publication.
Other subcommands (``import``) join this group from their own modules.
"""

from __future__ import annotations

import click


@click.group("analytics")
def analytics_group() -> None:
    """Metrics from the networks and web outcomes: pull them, import them."""
