"""Commands for operators in control: ``pause``, ``resume``, ``hold``, ``resolve``, ``restore``,
``audit``, and what every operator command shares (``--format json``, ``--as``, the selectors,
the audit record).

Every operator command writes one audit record (who, when, what, on which posts, how many it
changed); who is ``--as``, else the git e-mail, else the OS user.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import (
    EXIT_USAGE,
    TEXT_OR_JSON,
    F,
    calendar_engine,
    clock_now,
    echo_json,
    fail,
    pass_settings,
)
from scheduler.interfaces.formats import operator_views as views


def operator_dispatcher(settings: Settings) -> Any:
    """The calendar's dispatcher for an operator command (no HTTP client, no secrets read)."""
    from scheduler.app.publishing import dispatcher_for
    from scheduler.calendar.migrate import ensure_schema

    engine = calendar_engine(settings)
    ensure_schema(engine)
    return dispatcher_for(
        settings, engine=engine, clock=lambda: clock_now(settings), publishers=False
    )


def who(given: str | None) -> str:
    """Who runs the command: ``--as``, else the git e-mail, else the OS user."""
    import getpass
    import subprocess

    if given:
        return given
    try:
        email = subprocess.run(
            ["git", "config", "user.email"],  # noqa: S607 - the user's own git
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        email = ""
    if email:
        return email
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def operator_options(f: F) -> F:
    """``--format text|json`` and ``--as NAME`` (who the audit trail names)."""
    f = click.option(
        "--as",
        "as_who",
        metavar="NAME",
        help="Who runs this, for the audit trail (default: git user.email, else the OS user).",
    )(f)
    f = click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)(f)
    return f


def selector_options(f: F) -> F:
    """The selectors shared by pause, resume, hold, cancel and release."""
    options: list[Callable[[F], F]] = [
        click.option("--all", "everything", is_flag=True, help="Every post."),
        click.option(
            "-s", "--story", "stories", multiple=True, metavar="STORY", help="This story (repeat)."
        ),
        click.option(
            "-m",
            "--market",
            "markets",
            multiple=True,
            metavar="MARKET",
            help="This market (repeat).",
        ),
        click.option(
            "-n",
            "--network",
            "networks",
            multiple=True,
            metavar="NETWORK",
            help="This network (repeat).",
        ),
        click.option(
            "--account",
            "accounts",
            multiple=True,
            metavar="NETWORK:ACCOUNT",
            help="This account (repeat).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def selector_of(**values: Any) -> Any:
    """The Selector of the selector options (``--account`` checked as NETWORK:ACCOUNT)."""
    from scheduler.core.selectors import BadSelector, Selector

    try:
        return Selector.parse(
            everything=bool(values.get("everything")),
            stories=tuple(values.get("stories", ())),
            markets=tuple(values.get("markets", ())),
            networks=tuple(values.get("networks", ())),
            accounts=tuple(values.get("accounts", ())),
        )
    except BadSelector as exc:
        fail(str(exc), EXIT_USAGE)


def audit(
    d: Any,
    *,
    by: str,
    command: str,
    selector: Mapping[str, Any],
    changed: int,
    detail: dict[str, Any] | None = None,
) -> datetime:
    """Appends the audit record of a command that ran; returns when."""
    from scheduler.calendar import operating

    at: datetime = d.now().astimezone(UTC)
    with d.uow.transaction() as conn:
        operating.record(
            conn,
            at=at,
            by=by,
            command=command,
            selector=dict(selector),
            changed=changed,
            detail=detail,
        )
    return at


def said(row: Mapping[str, Any]) -> str:
    due = row["due_utc"]
    return f"{row['post_id']}: {row['status']} (due {due:%Y-%m-%d %H:%M:%S} UTC)"


def report_post(d: Any, command: str, row: Any, by: str, fmt: str) -> None:
    """Audits and prints what a one-post command did."""
    selector = {"post": row["post_id"]}
    at = audit(d, by=by, command=command, selector=selector, changed=1)
    if fmt == "json":
        echo_json(views.result_json(command=command, by=by, at=at, selector=selector, posts=[row]))
    else:
        click.echo(said(row))
    if row["status"] in ("planned", "retry_wait"):
        warn_if_paused(d, row)


def warn_if_paused(d: Any, row: Mapping[str, Any]) -> None:
    """A post sent "now" under a pause waits for the resume: say so, rather than let the
    operator wonder why nothing goes out."""
    from scheduler.calendar import operating
    from scheduler.core.selectors import scope_label

    with d.uow.reading() as conn:
        found = operating.pauses(conn)
    stopping = operating.paused_by(
        found, row["story"], row["market"], row["network"], row["account"]
    )
    for p in stopping:
        flag = "--all" if p.scope == "all" else f"--{p.scope} {p.value}"
        click.echo(
            f"note: {scope_label(p.scope, p.value)} is paused: {row['post_id']} goes out after "
            f"`storyline resume {flag}`",
            err=True,
        )


def report_bulk(
    d: Any, command: str, verb: str, selector: Any, changed: Any, by: str, fmt: str
) -> None:
    """Audits and prints what a bulk command did: the post ids and how many."""
    at = audit(
        d,
        by=by,
        command=command,
        selector=selector.as_dict(),
        changed=changed.count,
        detail={"post_ids": changed.post_ids[:1000], "left": changed.left},
    )
    if fmt == "json":
        echo_json(
            views.result_json(
                command=command,
                by=by,
                at=at,
                selector=selector.as_dict(),
                posts=changed.post_ids,
                left=changed.left,
            )
        )
        return
    click.echo(views.changed_text(verb, selector.describe(), changed.post_ids))
    for reason, n in sorted(changed.left.items()):
        how = {
            "past_due": "past due: release each with `storyline release POST_ID`",
            "draft": "their story is a draft: approve it and sync",
            "awaiting_signoff": "they wait for a sign-off: `storyline approve STORY`",
        }.get(reason, reason)
        click.echo(f"left held: {n} post(s), {how}", err=True)


SAY_WHICH = (
    "say which posts to {command}: --all, --story STORY, --market MARKET, --network NETWORK "
    "or --account NETWORK:ACCOUNT"
)


def one_or_many(post_id: str | None, selector: Any, command: str) -> None:
    if post_id is not None and not selector.empty:
        fail(f"give either POST_ID or selectors to `{command}`, not both", EXIT_USAGE)
    if post_id is None and selector.empty:
        fail(
            SAY_WHICH.format(command=command).replace(": --all", ": POST_ID, or --all"), EXIT_USAGE
        )


# --- pause / resume ----------------------------------------------------------------------------


def _report_pauses(
    d: Any, command: str, selector: Any, result: Any, by: str, fmt: str, reason: str | None
) -> None:
    at = audit(
        d,
        by=by,
        command=command,
        selector=selector.as_dict(),
        changed=len(result.changed),
        detail={"reason": reason, "in_force": [p.as_dict() for p in result.in_force]},
    )
    if fmt == "json":
        out = views.result_json(
            command=command, by=by, at=at, selector=selector.as_dict(), posts=[]
        )
        out.update(
            changed=len(result.changed),
            scopes=result.labels(result.changed),
            paused=[p.as_dict() for p in result.in_force],
            waiting=result.waiting,
        )
        echo_json(out)
        return
    verb = "paused" if command == "pause" else "resumed"
    if result.changed:
        click.echo(f"{verb}: {', '.join(result.labels(result.changed))}")
    if result.unchanged:
        state = "already paused" if command == "pause" else "was not paused"
        click.echo(f"{state}: {', '.join(result.labels(result.unchanged))}")
    if command == "pause":
        click.echo("new claims stop at the next tick; posts in flight finish")
    click.echo(views.pauses_text(result.in_force, result.waiting))


@click.command("pause")
@selector_options
@click.option("--reason", help="Why, for the other operators (shown by status and run).")
@click.option("--list", "list_only", is_flag=True, help="Only show the pauses in force.")
@operator_options
@pass_settings
def pause_command(
    settings: Settings,
    /,
    reason: str | None,
    list_only: bool,
    fmt: str,
    as_who: str | None,
    **selectors: Any,
) -> None:
    """Stop claiming the posts a selector names, from the next tick on; posts already being
    sent finish. `--all` stops the whole brand. Lifted by `storyline resume`."""
    from scheduler.calendar import operating
    from scheduler.dispatch import bulk

    selector = selector_of(**selectors)
    d = operator_dispatcher(settings)
    if list_only:
        if not selector.empty:
            fail("--list shows every pause; give it no selector", EXIT_USAGE)
        with d.uow.reading() as conn:
            in_force = operating.pauses(conn)
        if fmt == "json":
            echo_json([p.as_dict() for p in in_force])
        else:
            click.echo(views.pauses_text(in_force))
        return
    if selector.empty:
        fail(SAY_WHICH.format(command="pause"), EXIT_USAGE)
    by = who(as_who)
    result = bulk.pause(d, selector, reason=reason, by=by)
    _report_pauses(d, "pause", selector, result, by, fmt, reason)


@click.command("resume")
@selector_options
@operator_options
@pass_settings
def resume_command(settings: Settings, /, fmt: str, as_who: str | None, **selectors: Any) -> None:
    """Lift the pauses the selectors name (`--all` lifts `pause --all`); the next tick claims
    what became due meanwhile."""
    from scheduler.dispatch import bulk

    selector = selector_of(**selectors)
    if selector.empty:
        fail(SAY_WHICH.format(command="resume"), EXIT_USAGE)
    d = operator_dispatcher(settings)
    by = who(as_who)
    result = bulk.resume(d, selector)
    _report_pauses(d, "resume", selector, result, by, fmt, None)


# --- hold / resolve / restore ------------------------------------------------------------------


@click.command("hold")
@click.argument("post_id", required=False)
@selector_options
@click.option("--reason", help="Why, for the other operators.")
@operator_options
@pass_settings
def hold_command(
    settings: Settings,
    /,
    post_id: str | None,
    reason: str | None,
    fmt: str,
    as_who: str | None,
    **selectors: Any,
) -> None:
    """Keep planned, retry_wait or queued posts from going out until `storyline release`:
    one POST_ID, or every post the selectors name."""
    from scheduler.dispatch import bulk, operator

    selector = selector_of(**selectors)
    one_or_many(post_id, selector, "hold")
    d = operator_dispatcher(settings)
    by = who(as_who)
    if post_id is not None:
        report_post(d, "hold", operator.hold(d, post_id, reason), by, fmt)
        return
    report_bulk(d, "hold", "held", selector, bulk.hold_many(d, selector, reason), by, fmt)


@click.command("resolve")
@click.argument("post_id")
@click.option("--published", "url", metavar="URL", help="It is online, at this URL.")
@click.option("--not-published", "not_published", is_flag=True, help="It did not go out.")
@operator_options
@pass_settings
def resolve_command(
    settings: Settings,
    post_id: str,
    url: str | None,
    not_published: bool,
    fmt: str,
    as_who: str | None,
) -> None:
    """Settle a needs_review post once you have looked on the network: `--published URL`
    records it as published; `--not-published` sends it now."""
    from scheduler.dispatch import operator

    if (url is None) == (not not_published):
        fail("say what you saw: --published URL or --not-published", EXIT_USAGE)
    if url is not None and not re.match(r"^https?://\S+$", url):
        fail(f"--published takes the post's URL (https://...), not {url!r}", EXIT_USAGE)
    d = operator_dispatcher(settings)
    row = operator.resolve(d, post_id, url)
    report_post(d, "resolve", row, who(as_who), fmt)


@click.command("restore")
@click.argument("post_id")
@operator_options
@pass_settings
def restore_command(settings: Settings, post_id: str, fmt: str, as_who: str | None) -> None:
    """Undo a cancel: the post goes back to planned at its own time (refused once that time
    has passed)."""
    from scheduler.dispatch import operator

    d = operator_dispatcher(settings)
    report_post(d, "restore", operator.restore(d, post_id), who(as_who), fmt)


# --- audit -------------------------------------------------------------------------------------

_RELATIVE = re.compile(r"^(\d+)\s*([mhd])$")


def parse_since(text: str, now: datetime) -> datetime:
    """``2026-12-01``, ``2026-12-01T08:00`` (UTC unless an offset is given), or ``90m``,
    ``24h``, ``7d`` ago."""
    if m := _RELATIVE.match(text.strip()):
        unit = {"m": "minutes", "h": "hours", "d": "days"}[m.group(2)]
        return now - timedelta(**{unit: int(m.group(1))})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (2026-12-01, 2026-12-01T08:00) or a duration (24h, 7d)",
            param_hint="--since",
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


@click.command("audit")
@click.option("--since", metavar="WHEN", help="From this date or time (UTC), or 24h / 7d ago.")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def audit_command(settings: Settings, since: str | None, fmt: str) -> None:
    """What operators did: who, when, which command, on which posts, how many it changed."""
    from scheduler.calendar import migrate, operating

    start = None if since is None else parse_since(since, clock_now(settings))
    engine = calendar_engine(settings)
    migrate.ensure_schema(engine)
    with engine.connect() as conn:
        entries = operating.audit_entries(conn, start)
    if fmt == "json":
        echo_json([e.as_dict() for e in entries])
    else:
        click.echo(views.audit_text(entries))


# --- what status and run show ------------------------------------------------------------------


def pauses_in_force(engine: Any) -> Sequence[Any]:
    from scheduler.calendar import operating

    with engine.connect() as conn:
        return operating.pauses(conn)


def pause_news(engine: Any, shown: set[tuple[str, str]]) -> tuple[list[str], set[tuple[str, str]]]:
    """For ``run``'s feed: a line per pause started or lifted since the last look."""
    in_force = pauses_in_force(engine)
    now = {(p.scope, p.value) for p in in_force}
    lines = [f"‖ {views.pause_line(p)}" for p in in_force if (p.scope, p.value) not in shown]
    lines += [
        f"▶ resumed: {scope if scope == 'all' else f'{scope} {value}'}"
        for scope, value in sorted(shown - now)
    ]
    return lines, now


#: Registered by the ``storyline`` group.
COMMANDS = (
    pause_command,
    resume_command,
    hold_command,
    resolve_command,
    restore_command,
    audit_command,
)


def post_marker(engine: Any, post_id: str) -> Any:
    """One post's state columns and the pauses that stop it (``status POST_ID``)."""
    from scheduler.calendar import operating
    from scheduler.publishers.base import marker_of

    with engine.connect() as conn:
        found = operating.marker(conn, post_id)
    return None if found is None else {"id": marker_of(post_id), **found}
