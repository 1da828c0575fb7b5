"""``storyline new story NAME``: a valid draft story to start from, not an empty page.

The scaffold names the markets and networks that exist (from ``markets.yaml`` and the
editorial lines), so the first ``storyline validate`` passes, and it explains each field in a
comment. The modeline at the top lets a YAML language server (VS Code's YAML extension) check
and complete the file against ``storyline schema story``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from scheduler.app.settings import Settings
from scheduler.content.files import ID_PATTERN
from scheduler.content.loader import load_content
from scheduler.core.errors import ConfigError
from scheduler.lines.loader import load_lines

SCHEMA_FILE = "story.schema.json"
#: Where ``new story`` writes the schema: in the content folder, which is committed, so the
#: modeline works for everyone who clones it (the data dir is git-ignored).
SCHEMA_DIR = "schema"
#: The reveal is scaffolded this far ahead: time to write, translate and approve.
LEAD_TIME = timedelta(days=14)


class StoryExists(ConfigError):
    """``new story`` never overwrites a story someone already wrote."""


@dataclass(frozen=True, slots=True)
class Scaffold:
    path: Path
    text: str
    markets: tuple[str, ...]
    networks: tuple[str, ...]


def check_name(name: str) -> str:
    """A story name is its id: a file-name-safe word, as ``content`` requires of story ids."""
    if not re.fullmatch(ID_PATTERN, name) or name.endswith((".yaml", ".yml")):
        raise ConfigError(
            f"{name!r} cannot be a story id: use letters, digits, '.', '_' and '-', starting "
            "with a letter or digit, without .yaml (e.g. winter-tyres-2026)"
        )
    return name


def _q(text: str) -> str:
    """A YAML scalar that stays a string whatever it holds (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _flow(items: Sequence[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _commented(pairs: Sequence[tuple[str, str]], column: int = 38) -> str:
    """``key: value   # comment`` lines with the comments lined up, as people write YAML."""
    return "\n".join(
        f"{code.ljust(column - 1)} # {comment}" if comment else code for code, comment in pairs
    )


def render_story(
    name: str,
    *,
    markets: Sequence[str],
    networks: Sequence[str],
    launch_day: date,
    schema_ref: str,
) -> str:
    """The text of the scaffold: a draft, every field commented, valid as it stands."""
    title = name.replace("-", " ").replace("_", " ").strip().capitalize()
    followup = "linkedin" if "linkedin" in networks else (networks[0] if networks else "")
    followup_line = (
        f"  followup: {{offset: +3d, networks: [{followup}]}}  # after: one network follows up"
        if followup
        else "  followup: +3d"
    )
    head = [
        ("title: " + _q(title), "internal title, shown in previews and the calendar"),
        ("campaign: " + _q(name), "utm_campaign and grouping"),
        ("language: en", "the language of the text below"),
        ("audience: public", "public | pro (picks the market's claim or claim_pro)"),
        ("status: draft", "draft | approved: only approved stories are published"),
        (f"launch: {launch_day.isoformat()} 09:00", "09:00 on each market's own clock"),
        (f"# launch: {launch_day.isoformat()}T09:00 Europe/Paris", "... or one instant worldwide"),
        (f"networks: {_flow(networks)}", ""),
        (f"markets: {_flow(markets)}", ""),
    ]
    return f"""# yaml-language-server: $schema={schema_ref}
# A story, written once: Storyline tells it on each network in that network's voice
# (editorial_lines/<network>/), at each market's local hour. Check it with `storyline validate`,
# see it with `storyline preview {name} --format html -o preview.html` or `storyline serve`.

{_commented(head)}

beats:                                # the arc: tease before the reveal, follow up after
  teaser: -7d
  reveal: 0
{followup_line}

story:
  headline: {_q(title)}
  hook: {_q("One sentence that makes people stop scrolling.")}
  body: >-
    The longer telling: what is new, why it matters, who is behind it.
  facts: []                           # short facts the templates may list

# link: https://brand.example/{name}
hashtags: []                          # without spaces; with or without '#'
# media:                              # files under the content folder; alt text is required
#   - {{file: media/{name}.jpg, alt: "What the picture shows, for people who cannot see it"}}

# locales:                            # translations; a missing field falls back to the text above
#   fr: {{headline: ..., hook: ..., body: ...}}
# overrides:                          # the last word, per network then per market
#   network: {{x: {{hook: ...}}}}
#   market: {{cn: {{hashtags: [...]}}}}
"""


def schema_path(content_dir: Path) -> Path:
    """``content/schema/story.schema.json``: committed with the stories it checks."""
    return content_dir / SCHEMA_DIR / SCHEMA_FILE


def schema_reference(story_path: Path, schema: Path) -> str:
    """The schema's path as the YAML language server resolves it: relative to the story."""
    target = schema.resolve()
    return Path(os.path.relpath(target, story_path.parent.resolve())).as_posix()


def plan_scaffold(settings: Settings, name: str, today: date) -> Scaffold:
    """What ``new story NAME`` would write, from the markets and lines that exist."""
    check_name(name)
    path = settings.content_dir / "stories" / f"{name}.yaml"
    if path.exists():
        raise StoryExists(f"{path} already exists: pick another name or edit that file")
    lines = load_lines(settings.lines_dir)
    networks = tuple(sorted(lines.by_network))
    content = load_content(settings.content_dir, networks=networks)
    markets = tuple(content.markets)
    if not markets:
        raise ConfigError(
            f"no markets in {settings.content_dir / 'markets.yaml'}: a story needs somewhere to "
            "be told (see docs/preview.md)"
        )
    if not networks:
        raise ConfigError(f"no editorial lines in {settings.lines_dir}: nothing to publish on")
    text = render_story(
        name,
        markets=markets,
        networks=networks,
        launch_day=today + LEAD_TIME,
        schema_ref=schema_reference(path, schema_path(settings.content_dir)),
    )
    return Scaffold(path, text, markets, networks)


def write_schema(content_dir: Path) -> Path:
    """Write ``storyline schema story`` where the scaffold's modeline points, so editors
    check the story at once; regenerated each time, since it follows the code."""
    from scheduler.content.schema import schema_text

    path = schema_path(content_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_text("story") + "\n", encoding="utf-8")
    return path


def write_scaffold(scaffold: Scaffold) -> Path:
    """Create the file; ``x`` mode so a file that appeared meanwhile is not overwritten."""
    scaffold.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with scaffold.path.open("x", encoding="utf-8") as out:
            out.write(scaffold.text)
    except FileExistsError:
        raise StoryExists(f"{scaffold.path} already exists: pick another name") from None
    return scaffold.path
