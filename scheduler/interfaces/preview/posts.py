"""The preview page: every planned post of a story, drawn as its network's feed would draw it.

Planned posts become small view values (:class:`Card`) first, and the template only lays them
out, so what a card says — the fold, the length badge, the findings — is decided and tested
here in Python.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup

from scheduler.core.diagnostics import Finding, Severity
from scheduler.core.model import Media
from scheduler.core.post import PlannedPost
from scheduler.interfaces.preview.feeds import FEEDS, FeedStyle, feed_style
from scheduler.interfaces.preview.render import OFFLINE_CSP, render
from scheduler.interfaces.preview.text import fold, initials, linkify
from scheduler.text import networks

#: Media files up to this size are embedded in the page; bigger ones get a placeholder box.
MAX_EMBEDDED_BYTES = 1_500_000

#: ``measure(network, text) -> (length, limit)``; ``None`` when the network has no known limit.
Measure = Callable[[str, str], tuple[int, int] | None]


def network_measure(network: str, text: str) -> tuple[int, int] | None:
    """Length and limit the network's own way (:mod:`scheduler.text.networks`)."""
    try:
        return networks.measure(network, text), networks.limit(network)
    except networks.UnknownNetwork:
        return None


@dataclass(frozen=True, slots=True)
class MediaView:
    file: str
    alt: str
    kind: str
    data_uri: str | None  # the image itself, or None: draw a placeholder with the alt text
    note: str  # why there is no image, for the placeholder


@dataclass(frozen=True, slots=True)
class FindingView:
    severity: str
    code: str
    message: str
    where: str


@dataclass(frozen=True, slots=True)
class Card:
    """One post as its feed shows it, ready for the template."""

    post: PlannedPost
    style: FeedStyle
    initials: str
    handle: str
    when: str  # local time and zone, as the market reads it
    when_iso: str
    utc: str
    shown: Markup
    hidden: Markup
    title: str | None
    link: str | None
    link_in_text: bool
    media: tuple[MediaView, ...]
    first_comment: Markup | None
    findings: tuple[FindingView, ...]
    length: int | None
    limit: int | None
    #: An X thread's posts (linkified) and each one's length; empty for a single post.
    thread: tuple[tuple[Markup, int], ...] = ()

    @property
    def is_folded(self) -> bool:
        return bool(self.hidden)

    @property
    def over_limit(self) -> bool:
        if self.thread:  # the whole is long by design; each post is measured on its own
            return False
        return self.length is not None and self.limit is not None and self.length > self.limit

    @property
    def worst(self) -> str:
        """``error``, ``warning``, ``info`` or ``ok``: the card's border colour."""
        for severity in ("error", "warning", "info"):
            if any(f.severity == severity for f in self.findings):
                return severity
        return "ok"

    @property
    def is_draft(self) -> bool:
        return str(self.post.story_status) == "draft"

    @property
    def signoff_label(self) -> str:
        """The card's sign-off badge: who signed it off, or what it waits for."""
        s = self.post.signoff
        if s is None:
            return ""
        if s.state == "approved":
            return f"✓ signed off by {s.by}"
        if s.state == "changed":
            return f"changed since {s.by} signed off"
        return f"awaiting {s.market} sign-off"


@dataclass(frozen=True, slots=True)
class MarketGroup:
    market: str
    name: str
    timezone: str
    cards: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class BeatGroup:
    beat: str
    markets: tuple[MarketGroup, ...]


def format_local(moment: datetime) -> str:
    """``Tue 1 Dec 2026, 09:00 CET`` — day, date, 24-hour time and the zone's abbreviation."""
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} {moment.tzname() or ''}".rstrip()


def _handle(post: PlannedPost) -> str:
    account = post.account
    if not account or account.isdigit() or account.startswith("UC"):
        return ""  # numeric page ids and channel ids are not what a reader sees
    return account if account.startswith("@") else f"@{account}"


def media_view(file: str, alt: str, kind: str, content_dir: Path | None) -> MediaView:
    """Embed the image when it is a small image file inside the content folder."""
    if kind != "image":
        return MediaView(file, alt, kind, None, kind)
    if content_dir is None:
        return MediaView(file, alt, kind, None, "not embedded")
    root = content_dir.resolve()
    path = (root / file).resolve()
    if not path.is_relative_to(root):
        return MediaView(file, alt, kind, None, "outside the content folder")
    if not path.is_file():
        return MediaView(file, alt, kind, None, "file not found")
    size = path.stat().st_size
    if size > MAX_EMBEDDED_BYTES:
        return MediaView(file, alt, kind, None, f"{size // 1000} kB: too big to embed")
    mime, _ = mimetypes.guess_type(path.name)
    if mime is None or not mime.startswith("image/"):
        return MediaView(file, alt, kind, None, "not an image")
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return MediaView(file, alt, kind, f"data:{mime};base64,{encoded}", "")


def finding_view(finding: Finding) -> FindingView:
    where = f"{finding.file}:{finding.line}" if finding.line else finding.file
    severity = finding.severity.value if isinstance(finding.severity, Severity) else "error"
    return FindingView(severity, finding.code, finding.message, where)


def card(
    post: PlannedPost,
    *,
    content_dir: Path | None,
    measure: Measure | None,
    limit_overrides: Mapping[str, int] | None = None,
    media_of: Callable[[Media], MediaView] | None = None,
) -> Card:
    """Decide everything the card shows; the template only lays it out."""
    style = feed_style(post.network)
    cut = fold(post.text, style.fold)
    measured = measure(post.network, post.text) if measure is not None else None
    if measured is not None and limit_overrides and post.post_id in limit_overrides:
        measured = (measured[0], limit_overrides[post.post_id])  # a server's own limit
    return Card(
        post=post,
        style=style,
        initials=initials(post.account_name or post.account or post.network),
        handle=_handle(post),
        when=format_local(post.due_local),
        when_iso=post.due_local.isoformat(),
        utc=post.due_utc.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        shown=linkify(cut.shown),
        hidden=linkify(cut.hidden),
        title=post.title,
        link=post.link if post.link and post.link.startswith(("http://", "https://")) else None,
        link_in_text=bool(post.link) and (post.link or "") in post.text,
        media=tuple(
            media_of(m) if media_of else media_view(m.file, m.alt, m.kind, content_dir)
            for m in post.media
        ),
        first_comment=linkify(post.first_comment) if post.first_comment else None,
        findings=tuple(finding_view(f) for f in post.findings),
        length=measured[0] if measured else None,
        limit=measured[1] if measured else None,
        thread=tuple((linkify(part), networks.measure(post.network, part)) for part in post.thread),
    )


_DATA_URI = re.compile(r"data:image/[\w.+-]+;base64,[A-Za-z0-9+/=]+")


def image_classes(cards: Iterable[Card]) -> dict[str, str]:
    """One CSS class per distinct image: a photo used on forty cards is embedded once."""
    classes: dict[str, str] = {}
    for c in cards:
        for m in c.media:
            if m.data_uri and m.data_uri not in classes:
                classes[m.data_uri] = f"img-{len(classes) + 1}"
    return classes


def image_css(classes: Mapping[str, str]) -> Markup:
    """``.img-N { background-image: url(data:...) }`` rules; only well-formed data URIs."""
    rules = [
        f".{name} {{ background-image: url({uri}); }}"
        for uri, name in classes.items()
        if _DATA_URI.fullmatch(uri)
    ]
    return Markup("\n".join(rules))  # noqa: S704 - base64 data URIs checked just above


def _network_order(network: str) -> tuple[int, str]:
    order = list(FEEDS)
    return (order.index(network) if network in order else len(order), network)


def group(
    cards: Iterable[Card], market_names: Mapping[str, str] | None = None
) -> tuple[BeatGroup, ...]:
    """Beats in the order they go out, markets by code, networks in a fixed order."""
    names = market_names or {}
    by_beat: dict[str, list[Card]] = {}
    for c in sorted(cards, key=lambda c: c.post.due_utc):
        by_beat.setdefault(c.post.beat, []).append(c)
    beats = []
    for beat, beat_cards in by_beat.items():
        by_market: dict[str, list[Card]] = {}
        for c in beat_cards:
            by_market.setdefault(c.post.market, []).append(c)
        markets = tuple(
            MarketGroup(
                market=m,
                name=names.get(m, m.upper()),
                timezone=cs[0].post.timezone,
                cards=tuple(sorted(cs, key=lambda c: _network_order(c.post.network))),
            )
            for m, cs in sorted(by_market.items())
        )
        beats.append(BeatGroup(beat, markets))
    return tuple(beats)


def render_preview_html(
    posts: Sequence[PlannedPost],
    *,
    title: str,
    generated_at: datetime,
    content_dir: Path | None = None,
    market_names: Mapping[str, str] | None = None,
    measure: Measure | None = network_measure,
    limit_overrides: Mapping[str, int] | None = None,
    csp: str = OFFLINE_CSP,
    reload_version: str | None = None,
    outside: Sequence[Finding] = (),
) -> str:
    """One self-contained HTML page showing ``posts`` as their feeds would.

    ``outside`` are findings on no post that still concern them (a market that does not load,
    a line's error): shown above the posts, as ``file:line:col`` lines.

    ``content_dir`` lets small media files be embedded; ``market_names`` turns market codes into
    names; ``limit_overrides`` (post id -> limit, ``Plan.limit_overrides``) replaces the
    network's limit where an account's server sets its own; ``reload_version`` (used by
    ``storyline serve``) adds a poll that reloads the page
    when the server's version changes.
    """
    seen: dict[tuple[str, str, str], MediaView] = {}

    def media_of(m: Media) -> MediaView:
        """Each file is read and encoded once per page, however many cards show it."""
        key = (m.file, m.alt, m.kind)
        if key not in seen:
            seen[key] = media_view(m.file, m.alt, m.kind, content_dir)
        return seen[key]

    cards = [
        card(
            p,
            content_dir=content_dir,
            measure=measure,
            limit_overrides=limit_overrides,
            media_of=media_of,
        )
        for p in posts
    ]
    findings = [f for c in cards for f in c.findings]
    images = image_classes(cards)
    return render(
        "preview.html.j2",
        title=title,
        generated=generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        beats=group(cards, market_names),
        count=len(cards),
        errors=sum(f.severity == "error" for f in findings),
        warnings=sum(f.severity == "warning" for f in findings),
        networks=sorted({c.post.network for c in cards}, key=_network_order),
        network_styles=[
            feed_style(n) for n in sorted({c.post.network for c in cards}, key=_network_order)
        ],
        market_labels=[
            (m, (market_names or {}).get(m, m.upper()))
            for m in sorted({c.post.market for c in cards})
        ],
        markets=sorted({c.post.market for c in cards}),
        stories=sorted({c.post.story for c in cards}),
        images=images,
        image_css=image_css(images),
        csp=csp,
        reload_version=reload_version,
        outside=[finding_view(f) for f in outside],
    )
