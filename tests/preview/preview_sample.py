"""A small, realistic set of planned posts for the preview tests: every network, three beats,
four markets, long texts that fold, findings, an image, and one hostile post."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.core.diagnostics import Finding, Severity
from scheduler.core.model import Media, StoryStatus
from scheduler.core.post import PlannedPost, post_id
from scheduler.interfaces.preview import CalendarRow

STORY = "suv-comfort"
FILE = "content/stories/suv-comfort.yaml"
LAUNCH_LOCAL = {"fr": 9, "de": 9, "gb": 9, "cn": 10}
ZONES = {"fr": "Europe/Paris", "de": "Europe/Berlin", "gb": "Europe/London", "cn": "Asia/Shanghai"}
MARKET_NAMES = {"fr": "France", "de": "Germany", "gb": "United Kingdom", "cn": "China"}
ACCOUNTS = {
    "facebook": ("100200300", "Holdout {m}"),
    "instagram": ("holdout_{m}", "Holdout {m}"),
    "x": ("Holdout{M}", "Holdout {M}"),
    "linkedin": ("9001", "Holdout Motors {M}"),
    "youtube": ("UCholdout", "Holdout Motors"),
    "weibo": ("5000000001", "好德汽车"),
    "mastodon": ("holdout@social.example", "Holdout"),
    "bluesky": ("holdout.bsky.social", "Holdout"),
    "threads": ("holdout_{m}", "Holdout {m}"),
}
BEATS = {"teaser": -7, "reveal": 0, "followup": 3}

LONG_BODY = (
    "Seven years of listening to drivers went into this car. Families told us what they "
    "wanted: room for three child seats, a boot that takes a pram without a fight, seats that "
    "stay comfortable after four hours on the motorway, and a cabin quiet enough to hear the "
    "youngest one asleep in the back. Our engineers in Lyon and Wolfsburg rebuilt the "
    "suspension from scratch, tuned it on real roads in every season, and tested it with "
    "more than 1,200 families before a single journalist drove it. The result is the calmest "
    "ride we have ever built. Read the full story and book a test drive near you."
)


def png_bytes(width: int = 96, height: int = 96) -> bytes:
    """A small gradient PNG, so a real image can be embedded without shipping a binary file."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, 90, y * 255 // height)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def write_media(content_dir: Path) -> None:
    media = content_dir / "media"
    media.mkdir(parents=True, exist_ok=True)
    (media / "suv-front.png").write_bytes(png_bytes())


def text_for(network: str, market: str, beat: str) -> str:
    if network == "weibo":
        return (
            "#舒适SUV# 七年倾听，只为一次更安静的旅程。@好德汽车 全新舒适SUV，"
            + "细节决定舒适。" * 25
            + " https://brand.example/cn/suv"
        )
    if beat == "teaser":
        return f"Something comfortable is coming to {MARKET_NAMES[market]}. #ComfortSUV"
    if network == "x":
        return (
            "Meet the comfort SUV: quieter, roomier, calmer. Test drives open today. "
            "@HoldoutUK #ComfortSUV https://brand.example/suv"
        )
    if network in {"mastodon", "bluesky", "threads"}:
        return "The comfort SUV is here: quieter, roomier, calmer. #ComfortSUV https://brand.example/suv"
    return f"The comfort SUV is here. {LONG_BODY} #ComfortSUV #Holdout https://brand.example/suv"


def findings_for(network: str, market: str, beat: str) -> tuple[Finding, ...]:
    found: list[Finding] = []
    if network == "facebook" and market == "fr" and beat == "reveal":
        found.append(
            Finding(
                FILE, 14, 5, Severity.WARNING, "banned-word", "banned word 'promo' in the text (fr)"
            )
        )
    if network == "linkedin" and market == "de":
        found.append(
            Finding(
                FILE,
                30,
                3,
                Severity.WARNING,
                "missing-translation",
                "no de translation of story.body: falling back to en",
            )
        )
    if network == "x" and market == "gb" and beat == "reveal":
        found.append(
            Finding(
                FILE,
                22,
                7,
                Severity.ERROR,
                "x-too-long",
                "the post is 291 characters; X allows 280",
            )
        )
    return tuple(found)


def planned_posts(markets: tuple[str, ...] = ("fr", "de", "gb", "cn")) -> list[PlannedPost]:
    posts: list[PlannedPost] = []
    for beat, days in BEATS.items():
        for market in markets:
            zone = ZoneInfo(ZONES[market])
            local = datetime(2026, 12, 1, LAUNCH_LOCAL[market], 0, tzinfo=zone) + timedelta(
                days=days
            )
            networks = ["linkedin"] if beat == "followup" else list(ACCOUNTS)
            if market == "cn":
                networks = [n for n in networks if n in {"weibo", "linkedin"}]
            elif "weibo" in networks:
                networks.remove("weibo")
            for network in networks:
                account, name = ACCOUNTS[network]
                posts.append(
                    PlannedPost(
                        post_id=post_id(STORY, beat, network, market),
                        story=STORY,
                        beat=beat,
                        network=network,
                        market=market,
                        account=account.format(m=market, M=market.upper()),
                        account_name=name.format(m=market, M=market.upper()),
                        timezone=ZONES[market],
                        due_utc=local.astimezone(UTC),
                        due_local=local,
                        text=text_for(network, market, beat),
                        title="The comfort SUV: seven years of listening"
                        if network == "youtube"
                        else None,
                        link="https://brand.example/suv",
                        media=(
                            Media(
                                "media/suv-front.png",
                                "The comfort SUV from the front, parked on a quiet street",
                            ),
                        )
                        if network not in {"x", "linkedin"} or beat == "reveal"
                        else (),
                        first_comment="Book a test drive: https://brand.example/suv/test-drive"
                        if network == "instagram" and beat == "reveal"
                        else None,
                        story_status=StoryStatus.APPROVED,
                        campaign="suv-comfort-launch",
                        findings=findings_for(network, market, beat),
                    )
                )
    return posts


def hostile_post() -> PlannedPost:
    zone = ZoneInfo("Europe/Paris")
    local = datetime(2026, 12, 1, 9, 0, tzinfo=zone)
    return PlannedPost(
        post_id=post_id("evil", "reveal", "facebook", "fr"),
        story="evil",
        beat="reveal",
        network="facebook",
        market="fr",
        account="100",
        account_name='<img src=x onerror="alert(1)">',
        timezone="Europe/Paris",
        due_utc=local.astimezone(UTC),
        due_local=local,
        text=(
            '<script>alert("pwned")</script> see javascript:alert(1) and '
            'https://ok.example/?a=1&b="x" #tag'
        ),
        title="</title><script>alert(2)</script>",
        link="javascript:alert(3)",
        media=(Media("../../../etc/passwd", '"><script>alert(4)</script>'),),
        findings=(Finding(FILE, 1, 1, Severity.ERROR, "x<y>", "<b>bold</b> message"),),
    )


STATES = [
    "published",
    "published",
    "failed",
    "planned",
    "held",
    "cancelled",
    "queued",
    "needs_review",
    "retry_wait",
]


def calendar_rows() -> list[CalendarRow]:
    """The sample posts as calendar rows, in a spread of states, plus a second story."""
    rows = []
    posts = planned_posts()
    for i, p in enumerate(posts):
        status = STATES[i % len(STATES)] if p.beat == "teaser" else "planned"
        rows.append(
            CalendarRow.of_planned(
                p,
                status=status,
                story_title="The comfort SUV arrives",
                error="HTTP 400: media rejected" if status == "failed" else None,
            )
        )
    for market in ("fr", "gb"):
        zone = ZoneInfo(ZONES[market])
        for beat, day, hour in (("teaser", 7, 18), ("reveal", 14, 18), ("followup", 21, 12)):
            local = datetime(2026, 12, day, hour, 30, tzinfo=zone)
            for network in ("instagram", "bluesky"):
                rows.append(
                    CalendarRow(
                        post_id=post_id("winter-tyres", beat, network, market),
                        story="winter-tyres",
                        beat=beat,
                        network=network,
                        market=market,
                        account_name=f"Holdout {market}",
                        timezone=ZONES[market],
                        due_utc=local.astimezone(UTC),
                        status="planned",
                        text="Winter is coming: check your tyres before the first frost.",
                        story_title="Winter tyres check",
                    )
                )
    return rows
