"""``storyline explain POST_ID [FIELD]``: where each value of a post came from.

The way ``git blame`` names the commit behind each line, this names the file and line behind
each field of one post: the story's own text, its translation, the beat's own content, an
override, ``markets.yaml``, the template. Resolution itself stays pure
(:func:`scheduler.core.resolve.resolve` keeps a :class:`~scheduler.core.resolve.Source` per
field); this module only loads the folders and lays the answer out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scheduler.app.pipeline import load_plan
from scheduler.app.settings import Settings
from scheduler.core.diagnostics import Position
from scheduler.core.errors import NotFound
from scheduler.core.model import Media
from scheduler.core.resolve import Resolved, resolve
from scheduler.core.suggest import unknown
from scheduler.planning.plan import Selection

#: The fields ``explain`` can name, in the order it shows them.
FIELDS = (
    "headline",
    "hook",
    "body",
    "facts",
    "hashtags",
    "link",
    "media",
    "claim",
    "account",
    "locale",
    "due",
    "template",
    "text",
)


@dataclass(frozen=True, slots=True)
class Origin:
    """One field of a post: its value, and where it was written (``path`` in ``pos.file``)."""

    field: str
    value: str
    path: str
    pos: Position

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "value": self.value,
            "path": self.path,
            "file": self.pos.file,
            "line": self.pos.line,
            "column": self.pos.column,
        }


def _shown(value: Any) -> str:
    if value is None or value == ():
        return "(empty)"
    if isinstance(value, tuple):
        return " | ".join(_shown(v) for v in value)
    if isinstance(value, Media):
        return f"{value.file} ({value.alt})"
    return str(value)


def _relative(pos: Position, root: Path) -> Position:
    """Positions as the reader typed the folders: relative to the working directory."""
    try:
        return Position(str(Path(pos.file).resolve().relative_to(root)), pos.line, pos.column)
    except ValueError:
        return pos


def explain(
    settings: Settings, post_id: str, now: datetime, field: str | None = None
) -> list[Origin]:
    """Each field of ``post_id`` (or only ``field``) with the file and line it came from.

    Raises :class:`NotFound` for a post id or field the content does not hold, with the
    closest names.
    """
    if field is not None and field not in FIELDS:
        raise NotFound(unknown("field", field, list(FIELDS)))
    parts = post_id.split("/")
    if len(parts) != 4:
        raise NotFound(f"{post_id!r} is not a post id: write <story>/<beat>/<network>/<market>")
    story_id, beat_name, network, code = parts
    selection = Selection(
        stories=frozenset([story_id]),
        beats=frozenset([beat_name]),
        networks=frozenset([network]),
        markets=frozenset([code]),
    )
    planned = load_plan(settings, now, selection)
    post = next((p for p in planned.posts if p.post_id == post_id), None)
    if post is None:
        known = [
            p.post_id for p in load_plan(settings, now, Selection(stories=selection.stories)).posts
        ]
        raise NotFound(unknown("post", post_id, known))
    from scheduler.content.loader import load_content
    from scheduler.lines.loader import load_lines

    lines = load_lines(settings.lines_dir, eager=False)
    content = load_content(settings.content_dir, networks=lines.networks)
    story = content.stories[story_id]
    beat = story.beat(beat_name)
    market = content.markets[code]
    resolved = resolve(story, network, market, beat)
    out: list[Origin] = []
    for name in FIELDS[:8]:
        source = resolved.sources.get(name)
        value = getattr(resolved, name)
        if source is None:
            out.append(Origin(name, _shown(value), "(not set)", Position(story.path)))
        else:
            out.append(Origin(name, _shown(value), source.label, source.pos))
    account = market.accounts[network]
    out.append(
        Origin("account", account.display, f"markets.{code}.accounts.{network}", account.pos)
    )
    out.append(
        Origin(
            "locale",
            market.locale,
            f"markets.{code}.locale",
            market.positions.get("locale", market.pos),
        )
    )
    assert beat is not None  # the post exists, so its beat does
    out.append(
        Origin(
            "due",
            f"{post.due_local:%Y-%m-%d %H:%M %Z} ({post.timezone}), offset {beat.offset.text}",
            f"launch + beats.{beat.name}.offset",
            story.pos("beats", beat.name, "offset")
            if beat.offset.text != "0"
            else story.launch.pos,
        )
    )
    template = lines.template_name(network, beat_name)
    where = Position(lines.sources[template], 1, 1) if template is not None else story.pos()
    if template is not None:
        out.append(Origin("template", template, "template", where))
    phrases = _phrase_origins(lines.by_network[network].path, market.locale)
    out.extend(_blame(post.text, resolved, where, phrases))
    root = Path.cwd().resolve()
    out = [Origin(o.field, o.value, o.path, _relative(o.pos, root)) for o in out]
    return [o for o in out if field is None or o.field == field]


def _pieces(resolved: Resolved) -> list[tuple[str, str]]:
    """(text a post may show, field it comes from), longest first: what a line may hold."""
    pieces = [
        (resolved.headline, "headline"),
        (resolved.hook or "", "hook"),
        (resolved.body or "", "body"),
        (resolved.claim or "", "claim"),
        ((resolved.link or "").split("?", 1)[0], "link"),
        *((fact, "facts") for fact in resolved.facts),
        *((f"#{tag}", "hashtags") for tag in resolved.hashtags),
        *((media.alt, "media") for media in resolved.media),
    ]
    return sorted(((t, n) for t, n in pieces if t.strip()), key=lambda p: -len(p[0]))


def _phrase_origins(line_file: str, locale: str) -> list[tuple[str, str, Position]]:
    """(phrase text, ``phrases.<locale>.<key>``, position) of a line's phrases the market
    reads (its locale, its language, then English), longest first."""
    from scheduler.content.yamlpos import load_yaml, scalar_text

    root = load_yaml(Path(line_file)).root
    node = root.get("phrases") if root is not None and root.is_map else None
    if node is None or not node.is_map:
        return []
    language = locale.split("-")[0]
    out: dict[str, tuple[str, str, Position]] = {}
    for key in dict.fromkeys(("en", language, locale)):  # later ones win
        texts = node.get(key)
        if texts is None or not texts.is_map:
            continue
        for name, _kpos, value in texts.entries():
            text = scalar_text(value)
            if text and text.strip():
                out[name] = (text.strip(), f"phrases.{key}.{name}", value.pos)
    return sorted(out.values(), key=lambda p: -len(p[0]))


def _blame(
    text: str,
    resolved: Resolved,
    template: Position,
    phrases: list[tuple[str, str, Position]],
) -> list[Origin]:
    """Each line of the rendered text with the field it shows, else the line's phrase it
    says, else the template: ``git blame`` for the post itself."""
    pieces = _pieces(resolved)
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name = next((n for t, n in pieces if t in line), None)
        source = resolved.sources.get(name) if name is not None else None
        phrase = next((p for p in phrases if p[0] in line), None)
        if source is not None:
            out.append(Origin("text", line, source.label, source.pos))
        elif phrase is not None:
            out.append(Origin("text", line, phrase[1], phrase[2]))
        else:
            out.append(Origin("text", line, "template", template))
    return out


def explain_text(origins: list[Origin]) -> str:
    """``file:line  field  path  value``, aligned like ``git blame``."""
    if not origins:
        return ""
    where = [f"{o.pos.file}:{o.pos.line}" for o in origins]
    wide = max(len(w) for w in where)
    name = max(len(o.field) for o in origins)
    path = max(len(o.path) for o in origins)
    rows = []
    for w, o in zip(where, origins, strict=True):
        value = o.value if len(o.value) <= 100 else o.value[:99] + "…"
        rows.append(f"{w:<{wide}}  {o.field:<{name}}  {o.path:<{path}}  {value}".rstrip())
    return "\n".join(rows)
