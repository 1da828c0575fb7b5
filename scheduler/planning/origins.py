"""Findings on a rendered post, moved to the field that wrote the text.

A network's limit or a banned word is found in the rendered post, but the writer fixes a
field of the story: ``overrides.network.x.hook`` at line 52, not ``story:`` at line 14. Each
such finding is moved to the field that contributed the text (as ``storyline explain`` names
it), names every field when several did, and says what to do: shorten which field by how many
characters, or give a shorter text for this network only. Text no field wrote came from the
template (or a phrase of its line): the finding then points at the template. Pure: no I/O.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from scheduler.core.diagnostics import Finding, Position
from scheduler.core.resolve import Resolved, Source
from scheduler.lines.model import EditorialLine
from scheduler.text.networks import NetworkSpec, limit, measure
from scheduler.text.voice import VoiceRules, check_voice

#: The fields whose text a template may copy into a post, in the order they are named.
_TEXT_FIELDS = ("headline", "hook", "body", "facts", "claim")
#: Length findings, by the suffix of their code (``x-too-long``).
_LENGTH_CODES = ("-too-long", "-long-text", "-too-many-bytes")
#: Voice findings whose words come from a field.
_WORD_CODES = ("banned-word", "banned-pattern")
#: The layers an override of one network in one market would replace.
_OVERRIDABLE = ("story", "locales", "overrides")


@dataclass(frozen=True, slots=True)
class _Part:
    """One field's text found in the post, where it was written, and its length there."""

    name: str
    text: str
    source: Source
    length: int


@dataclass(frozen=True, slots=True)
class PostText:
    """What a post's findings are traced back through: its fields, its text, its template."""

    fields: Resolved
    text: str
    network: str
    market: str
    template: str
    limit_override: int | None = None
    title: str | None = None
    #: The template's source, the line's phrases and the line: where words no field wrote are.
    template_source: str = ""
    phrases: Mapping[str, str] = field(default_factory=dict)
    line: EditorialLine | None = None

    @property
    def spec(self) -> NetworkSpec | None:
        """A line-defined network's own limits (webhook's ``limits:``); None: the network's."""
        return self.line.spec if self.line is not None else None


def trace(findings: Iterable[Finding], post: PostText, rules: VoiceRules) -> list[Finding]:
    """``findings`` of one rendered post, each moved to the field that produced its text."""
    out = []
    for finding in findings:
        if finding.code.endswith(_LENGTH_CODES):
            out.append(_length(finding, post))
        elif finding.code in _WORD_CODES:
            out.append(_words(finding, post, rules))
        elif finding.code.endswith("too-many-hashtags"):
            out.append(_hashtags(finding, post))
        elif finding.code == "link-missing":
            note = "; the template does not write the link (`{{ link }}`)"
            out.append(_moved(finding, Position(post.template, 1, 1), note))
        else:
            out.append(finding)
    return out


def _parts(post: PostText, within: str | None = None, tags: bool = False) -> list[_Part]:
    """The fields whose text (each fact, for ``facts``) is in the post (or in ``within``, its
    title), longest first; with ``tags``, the hashtags too (words, not length: a network
    counts them apart)."""
    sent = post.text if within is None else within
    parts = []
    for name in (*_TEXT_FIELDS, "hashtags") if tags else _TEXT_FIELDS:
        source = post.fields.sources.get(name)
        value = getattr(post.fields, name)
        if source is None or not value:
            continue
        pieces = [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
        if name == "hashtags":
            pieces = [f"#{t.lstrip('#＃')}" for t in pieces]
        shown = [p for p in pieces if p.strip() and p.strip() in sent]
        if shown:
            text = "\n".join(shown)
            parts.append(_Part(name, text, source, measure(post.network, text, post.spec)))
    parts.sort(key=lambda p: -p.length)
    return parts


def _where(part: _Part, home: str = "") -> str:
    """```locales.fr.hook` (line 55)``; the file too when it is not ``home`` (a claim of
    ``markets.yaml`` in a story's finding)."""
    pos = part.source.pos
    at = f"line {pos.line}" if pos.file == home or not home else f"{pos.file}:{pos.line}"
    return f"`{part.source.label}` ({at})"


def _shorter_here(part: _Part, post: PostText) -> str | None:
    """The override that would give this network (in this market, for a translation) its own
    shorter text, unless the text already is one."""
    head = part.source.path[0] if part.source.path else ""
    if head not in _OVERRIDABLE:
        return None  # a beat's own text is the last word: only shortening it helps
    path = part.source.path
    if path[:2] == ("overrides", "network") or (len(path) > 4 and path[3] == "network"):
        return None
    if head == "locales" or path[:2] == ("overrides", "market"):
        return f"overrides.market.{post.market}.network.{post.network}.{part.name}"
    return f"overrides.network.{post.network}.{part.name}"


def _length(finding: Finding, post: PostText) -> Finding:
    title = finding.code.endswith("-title-too-long")
    parts = _parts(post, (post.title or "") if title else None)
    if not parts:
        return _at_template(finding, post)
    first = parts[0]
    own = post.spec
    over = measure(post.network, post.text, own) - limit(post.network, post.limit_override, own)
    if over <= 0 or title:  # a soft limit: say where the text comes from, no arithmetic
        advice = ""
    elif over <= first.length:
        field = first.name if first.source.path[0] == "story" else first.source.label
        advice = f"; shorten `{field}` by {over:,} characters"
        other = _shorter_here(first, post)
        if other is not None:
            advice += f", or give `{other}`"
    else:
        names = ", ".join(f"`{p.source.label}`" for p in parts)
        advice = f"; shorten {names} by {over:,} characters in all"
    home = first.source.pos.file
    origin = "; the text comes from " + ", ".join(_where(p, home) for p in parts)
    return _moved(finding, first.source.pos, origin + advice)


def _hashtags(finding: Finding, post: PostText) -> Finding:
    """Too many hashtags: at the field that gives the post its tags (the tags the text spells
    out count too, so it also says where that text comes from)."""
    source = post.fields.sources.get("hashtags")
    if source is None or not post.fields.hashtags:
        return _at_template(finding, post)
    note = f"; the post's hashtags come from `{source.label}` (line {source.pos.line})"
    return _moved(finding, source.pos, note)


def _core(finding: Finding) -> str:
    """A voice finding's message without where in the text it was found."""
    return finding.message.rsplit(", at ", 1)[0]


def _words(finding: Finding, post: PostText, rules: VoiceRules) -> Finding:
    """The field whose own text breaks the same rule, else the template."""
    wanted = _core(finding)
    for part in _parts(post, tags=True):
        found = check_voice(
            rules,
            text=part.text,
            locale=post.fields.locale,
            signature=None,
            link=None,
            pos=part.source.pos,
        )
        if any(f.code == finding.code and _core(f) == wanted for f in found):
            return _moved(finding, part.source.pos, f"; written in {_where(part)}")
    word = _matched(finding)
    for number, text in enumerate(post.template_source.splitlines(), 1):
        at = text.casefold().find(word.casefold()) if word else -1
        if at >= 0:
            where = Position(post.template, number, at + 1)
            return _moved(finding, where, "; the template itself writes it")
    for key, text in post.phrases.items():
        if word and post.line is not None and word.casefold() in text.casefold():
            note = f"; the phrase {key!r} of {post.line.path} writes it"
            return _moved(finding, post.line.phrase_pos(key, text), note)
    return _at_template(finding, post)


def _matched(finding: Finding) -> str:
    """The words a voice finding quotes first (``'deal' is banned ...``)."""
    head = finding.message.split(" is banned by", 1)[0]
    try:
        value = ast.literal_eval(head)
    except (ValueError, SyntaxError):
        return ""
    return value if isinstance(value, str) else ""


def _at_template(finding: Finding, post: PostText) -> Finding:
    """No field wrote it: the template's own words, or a phrase of its line."""
    return _moved(
        finding,
        Position(post.template, 1, 1),
        "; no field of the story wrote this text: it comes from the template or a phrase of "
        "its line",
    )


def _moved(finding: Finding, pos: Position, note: str) -> Finding:
    return replace(
        finding, file=pos.file, line=pos.line, column=pos.column, message=finding.message + note
    )
