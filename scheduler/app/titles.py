"""Story titles for pages that read the calendar database, which keeps posts, not stories.

The calendar page names each story by its title. The database holds each post's own title (a
YouTube video's, say), not its story's, so the titles come from the content folder when it is
at hand; an operator's machine without the content falls back to the story ids.
"""

from __future__ import annotations

from pathlib import Path

from scheduler.content.loader import load_content
from scheduler.text.networks import NETWORKS


def story_titles(content_dir: Path) -> dict[str, str]:
    """Each loadable story's id and title in ``content_dir`` (none when the folder is absent).

    Never raises for bad content: a story that does not load keeps its id as its name.
    """
    if not content_dir.is_dir():
        return {}
    content = load_content(content_dir, networks=tuple(NETWORKS))
    return {s.id: s.title for s in content.stories.values()}
