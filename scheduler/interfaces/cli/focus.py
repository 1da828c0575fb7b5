"""What ``plan``, ``sync``, ``calendar`` and ``status`` share to stay readable at 70 markets:
``--story`` / ``--market`` / ``--network`` filters, checked the way every command checks them
(:func:`scheduler.core.selectors.check_names`: ``-n twitter`` says ``did you mean: x?``), and
the per-story summary of a sync with its details on demand (``--details``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click

from scheduler.interfaces.cli.common import echo_json
from scheduler.interfaces.formats import sync_report

F = TypeVar("F", bound=Callable[..., Any])


def filter_options(f: F) -> F:
    """``-s/--story``, ``-m/--market``, ``-n/--network``, each repeatable."""
    return filters_noted("")(f)


def filters_noted(note: str) -> Callable[[F], F]:
    """:func:`filter_options` whose help adds ``note`` (``sync``: only with ``--dry-run``)."""

    def decorate(f: F) -> F:
        for flag, dest, metavar, what in reversed(
            (
                ("--story", "stories", "STORY", "story"),
                ("--market", "markets", "MARKET", "market"),
                ("--network", "networks", "NETWORK", "network"),
            )
        ):
            f = click.option(
                f"-{what[0]}",
                flag,
                dest,
                multiple=True,
                metavar=metavar,
                help=f"Only this {what}{note} (repeat).",
            )(f)
        return f

    return decorate


def details_option(f: F) -> F:
    return click.option(
        "--details", is_flag=True, help="List each post after the per-story summary."
    )(f)


def checked(
    known: Mapping[str, Iterable[str]],
    *,
    stories: Sequence[str] = (),
    markets: Sequence[str] = (),
    networks: Sequence[str] = (),
    where: str = "",
) -> Any:
    """The :class:`~scheduler.core.selectors.Selector` of the filters, every name known (else
    ``BadSelector``, exit 1, with the closest names)."""
    from scheduler.core.selectors import Selector, check_names
    from scheduler.text.networks import NETWORKS

    network_names = sorted({*known.get("network", ()), *NETWORKS})
    check_names(
        (
            ("story", stories, sorted(set(known.get("story", ())))),
            ("market", markets, sorted(set(known.get("market", ())))),
            ("network", networks, network_names),
        ),
        where,
    )
    return Selector(stories=tuple(stories), markets=tuple(markets), networks=tuple(networks))


def check_in_calendar(engine: Any, **filters: Sequence[str]) -> Any:
    """:func:`checked` against the names the calendar holds (``calendar``, ``status``)."""
    known = known_in_calendar(engine)
    where = (
        " (in the calendar)"
        if known.get("story")
        else " in the calendar, which holds no post yet (`storyline sync` fills it)"
    )
    return checked(known, where=where, **filters)


def known_in_calendar(engine: Any) -> dict[str, list[str]]:
    """The stories, markets and networks the calendar holds (none when it does not exist)."""
    from scheduler.calendar import focus, operating

    if not focus.calendar_ids_possible(engine):
        return {}
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table(focus.POST.name):
            return {}
        return operating.known_values(conn)


def show_sync(
    engine: Any,
    d: Any,
    planned: Sequence[Any],
    *,
    fmt: str,
    details: bool,
    done: bool,
    filters: dict[str, Sequence[str]] | None = None,
    before: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Print what ``plan`` (or ``sync``) does: per story first, then each post on demand.

    ``filters`` narrow what is shown (never what is synced); they are checked against the
    content and the calendar before anything is printed."""
    from scheduler.calendar import focus

    ids = focus.calendar_ids(engine)
    selector = None
    if filters and any(filters.values()):
        known = {
            "story": {p.story for p in planned} | {focus.story_of(i) for i in ids},
            "market": {p.market for p in planned} | {i.rsplit("/", 1)[-1] for i in ids},
            "network": {p.network for p in planned},
        }
        selector = checked(known, where=" (in the content or the calendar)", **filters)
        d = focus.narrow(d, planned, selector, ids)
        planned = [
            p
            for p in planned
            if selector.matches(story=p.story, market=p.market, network=p.network)
        ]
    stories = focus.by_story(d, planned, ids)
    if fmt == "json":
        out = sync_report.diff_json(d, done=done)
        out.update(extra or {})
        out["stories"] = sync_report.stories_json(stories)
        if selector is not None:
            out["filters"] = selector.as_dict()
        echo_json(out)
        return
    if details and before is None:
        updated = [c.post_id for c in d.changes if c.action == "update"]
        before = focus.texts(engine, updated) if updated else {}
    scope = selector.describe() if selector is not None else ""
    click.echo(
        sync_report.report_text(d, stories, done=done, details=details, before=before, scope=scope)
    )
