"""The ``storyline`` command line (DESIGN §4): parse, call the core, format. No logic of its own.

Heavy modules (SQLAlchemy, Celery, httpx) are imported inside the commands that need them, so
``validate`` and ``preview`` start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from scheduler.app.settings import Settings
from scheduler.core.diagnostics import format_text
from scheduler.core.errors import ContentError, StorylineError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def fail(message: str, code: int = EXIT_FINDINGS) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


class StorylineGroup(click.Group):
    """Turns every StorylineError into a readable message and exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ContentError as exc:
            click.echo(format_text(exc.findings), err=True)
            fail(str(exc))
        except StorylineError as exc:
            fail(str(exc))


def settings_of(ctx: click.Context) -> Settings:
    obj = ctx.find_object(Settings)
    assert obj is not None
    return obj


pass_settings = click.make_pass_decorator(Settings)


@click.group(cls=StorylineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storyline")
@click.option(
    "--content",
    "content_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Content folder (markets.yaml, stories/). Env: STORYLINE_CONTENT_DIR.",
)
@click.option(
    "--lines",
    "lines_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Editorial lines folder. Env: STORYLINE_LINES_DIR.",
)
@click.option(
    "--database-url",
    "database_url_override",
    metavar="URL",
    help="Calendar database. Env: STORYLINE_DATABASE_URL (default: SQLite in the data dir).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    content_dir: Path | None,
    lines_dir: Path | None,
    database_url_override: str | None,
) -> None:
    """Storyline: write a story once, publish it in each network's voice, at each market's hour."""
    try:
        settings = Settings.from_env()
    except StorylineError as exc:
        fail(str(exc), EXIT_USAGE)
    ctx.obj = settings.with_overrides(
        content_dir=content_dir, lines_dir=lines_dir, database_url_override=database_url_override
    )


# --- commands are registered below, one section per feature --------------------------------

# [content commands: validate, preview, schema, new]


@cli.command("schema")
@click.argument("kind", type=click.Choice(["story", "markets", "line"]), default="story")
def schema_command(kind: str) -> None:
    """Print the JSON Schema (draft 2020-12) of a story, markets.yaml or a line.yaml."""
    from scheduler.content.schema import schema_text

    click.echo(schema_text(kind))


@cli.group("new")
def new_group() -> None:
    """Scaffold content files to start from."""


@new_group.command("story")
@click.argument("name")
@pass_settings
def new_story_command(settings: Settings, name: str) -> None:
    """Write content/stories/NAME.yaml: a valid draft using the markets and lines that exist."""
    from scheduler.content.scaffold import plan_scaffold, write_scaffold, write_schema

    scaffold = plan_scaffold(settings, name, clock_now(settings).date())
    path = write_scaffold(scaffold)
    schema = write_schema(settings.data_dir)
    click.echo(
        f"wrote {path} (draft; {len(scaffold.markets)} markets, "
        f"{len(scaffold.networks)} networks) and its schema {schema}: "
        "edit it, then `storyline validate`"
    )


def _content_now() -> Any:
    """Now, for the content commands (only marks posts already due; never changes text)."""
    from datetime import UTC, datetime

    return datetime.now(UTC)


@cli.command("validate")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Compiler-style lines, or the JSON of DESIGN §4.",
)
@pass_settings
def validate_command(settings: Settings, fmt: str) -> None:
    """Check the content and the editorial lines: exit 0 clean (warnings allowed), 1 errors."""
    from scheduler.app.pipeline import load_plan
    from scheduler.core.diagnostics import Severity, format_json, has_errors

    result = load_plan(settings, _content_now())
    findings = [f for f in result.findings if f.severity is not Severity.INFO]
    if fmt == "json":
        click.echo(format_json(findings))
    else:
        for f in findings:
            colour = "red" if f.is_error else "yellow"
            click.echo(click.style(f.format(), fg=colour))
        click.echo(format_text(findings).rsplit("\n", 1)[-1] + f", {len(result.posts)} post(s)")
    if has_errors(findings):
        sys.exit(EXIT_FINDINGS)


def _length_and_limit(post: Any, overrides: Any) -> tuple[int, int]:
    """The post's length counted the network's way, and the limit that applies to it."""
    from scheduler.text import networks

    override = overrides.get(post.post_id)
    return networks.measure(post.network, post.text), networks.limit(post.network, override)


def _iso_utc(when: Any) -> str:
    from datetime import UTC

    return str(when.astimezone(UTC).isoformat().replace("+00:00", "Z"))


def _preview_json(post: Any, overrides: Any) -> dict[str, Any]:
    """One post in the shape DESIGN §4 fixes for ``preview --format json``."""
    length, limit = _length_and_limit(post, overrides)
    return {
        "post_id": post.post_id,
        "story": post.story,
        "beat": post.beat,
        "network": post.network,
        "market": post.market,
        "account": post.account,
        "timezone": post.timezone,
        "due_local": post.due_local.isoformat(),
        "due_utc": _iso_utc(post.due_utc),
        "text": post.text,
        "title": post.title,
        "link": post.link,
        "media": [{"file": m.file, "alt": m.alt, "kind": m.kind} for m in post.media],
        "length": length,
        "limit": limit,
        "findings": [f.as_dict() for f in post.findings],
        # beyond the contract: what else a reviewer needs (as the calendar's JSON names it)
        "account_name": post.account_name,
        "first_comment": post.first_comment,
        "status": str(post.story_status),
    }


def _preview_text(post: Any, overrides: Any) -> str:
    """One post as a community manager reads it: who, when (local and UTC), what, how long."""
    from datetime import UTC

    length, limit = _length_and_limit(post, overrides)
    colour = "green" if length <= 0.9 * limit else "yellow" if length <= limit else "red"
    local = post.due_local
    head = f"── {post.post_id} "
    out = [
        click.style(head + "─" * max(3, 78 - len(head)), bold=True),
        f"{post.account_name} on {post.network} · "
        f"{local:%a %Y-%m-%d %H:%M} {local.tzname()} ({post.timezone}) · "
        f"{post.due_utc.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        + ("" if str(post.story_status) == "approved" else f" · {post.story_status}"),
    ]
    if post.title:
        out.append(click.style(f"title: {post.title}", bold=True))
    out += [f"  {ln}" if ln else "" for ln in post.text.splitlines()]
    if post.first_comment:
        out.append(f"first comment: {post.first_comment}")
    if post.media:
        out.append("media: " + ", ".join(m.file for m in post.media))
    out.append(click.style(f"length {length}/{limit}", fg=colour))
    for f in post.findings:
        tint = "red" if f.is_error else "yellow" if f.severity == "warning" else "cyan"
        out.append(click.style(f"{f.severity}[{f.code}]: {f.message}", fg=tint))
    return "\n".join(out) + "\n"


@cli.command("preview")
@click.argument("story")
@click.option("-n", "--network", "networks", multiple=True, help="Only this network (repeatable).")
@click.option("-m", "--market", "markets", multiple=True, help="Only this market (repeatable).")
@click.option("-b", "--beat", "beats", multiple=True, help="Only this beat (repeatable).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of the terminal.",
)
@pass_settings
def preview_command(
    settings: Settings,
    story: str,
    networks: tuple[str, ...],
    markets: tuple[str, ...],
    beats: tuple[str, ...],
    fmt: str,
    output: Path | None,
) -> None:
    """Show exactly what each market's account will post for STORY, and when."""
    from scheduler.app.pipeline import load_plan
    from scheduler.planning.plan import Selection

    selection = Selection(
        stories=frozenset([story]),
        networks=frozenset(networks) or None,
        markets=frozenset(markets) or None,
        beats=frozenset(beats) or None,
    )
    now = _content_now()
    result = load_plan(settings, now, selection)
    if fmt == "json":
        import json

        rendered = json.dumps(
            [_preview_json(p, result.limit_overrides) for p in result.posts],
            ensure_ascii=False,
            indent=2,
        )
    elif fmt == "html":
        from scheduler.interfaces.preview import render_preview_html

        rendered = render_preview_html(
            result.posts,
            title=f"Preview: {story}",
            generated_at=now,
            content_dir=settings.content_dir,
            market_names=result.market_names,
        )
    else:
        rendered = "\n".join(_preview_text(p, result.limit_overrides) for p in result.posts) or (
            f"{story}: no posts (check the filters, and the markets' accounts)"
        )
        if result.posts:
            found = [f for p in result.posts for f in p.findings]
            errors = sum(f.is_error for f in found)
            warnings = sum(f.severity == "warning" for f in found)
            rendered += click.style(
                f"\n{story}: {len(result.posts)} post(s), {errors} error(s), {warnings} warning(s)",
                fg="red" if errors else "yellow" if warnings else "green",
            )
    if output is not None:
        output.write_text(click.unstyle(rendered) + "\n", encoding="utf-8")
        click.echo(f"wrote {len(result.posts)} post(s) to {output}", err=True)
    else:
        click.echo(rendered)


# [calendar commands: plan, sync, calendar, status, db]


def clock_now(settings: Settings) -> Any:
    """Now, aware UTC. ``STORYLINE_NOW`` (ISO 8601) pins the clock — for tests and demos only."""
    from datetime import UTC, datetime

    from scheduler.core.errors import ConfigError

    pinned = settings.environ.get("STORYLINE_NOW", "").strip()
    if not pinned:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"STORYLINE_NOW must be an ISO 8601 instant, not {pinned!r}") from None
    if when.tzinfo is None:
        raise ConfigError(f"STORYLINE_NOW needs a UTC offset or Z: {pinned!r}")
    return when.astimezone(UTC)


def load_planned(settings: Settings, now: Any, doing: str) -> Any:
    """The content's posts; refuses (ContentError, exit 1) when the content has errors."""
    from scheduler.app.pipeline import load_plan
    from scheduler.core.diagnostics import has_errors, sort_findings

    result = load_plan(settings, now)
    findings = sort_findings(result.findings)
    if has_errors(findings):
        raise ContentError(findings, f"the content has errors: nothing was {doing}")
    if findings:
        click.echo(format_text(findings), err=True)
    return result.posts


def _calendar_engine(settings: Settings) -> Any:
    from scheduler.calendar.database import engine_for

    return engine_for(settings.database_url)


def _echo_json(value: Any) -> None:
    import json

    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


_TEXT_OR_JSON = click.Choice(["text", "json"])


@cli.command("plan")
@click.option("--format", "fmt", type=_TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def plan_command(settings: Settings, fmt: str) -> None:
    """Show what `sync` would change in the calendar. Writes nothing."""
    from scheduler.calendar.diff import compare
    from scheduler.interfaces import formats as calendar_export

    now = clock_now(settings)
    planned = load_planned(settings, now, "planned")
    d = compare(_calendar_engine(settings), planned, now)
    if fmt == "json":
        _echo_json(calendar_export.diff_json(d))
    else:
        click.echo(calendar_export.diff_text(d))


#: Below this many writes a progress bar would only flicker.
PROGRESS_MIN_ROWS = 2_000


@cli.command("sync")
@click.option("--format", "fmt", type=_TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def sync_command(settings: Settings, fmt: str) -> None:
    """Make the calendar match the content in one transaction; refuses content with errors."""
    from contextlib import ExitStack

    from scheduler.calendar.apply import sync
    from scheduler.calendar.diff import Diff
    from scheduler.interfaces import formats as calendar_export

    now = clock_now(settings)
    planned = load_planned(settings, now, "synced")
    with ExitStack() as stack:

        def on_diff(d: Diff) -> Callable[[int], None] | None:
            if d.writes < PROGRESS_MIN_ROWS or not sys.stderr.isatty():
                return None
            bar = stack.enter_context(
                click.progressbar(length=d.writes, label="syncing", file=sys.stderr)
            )
            return bar.update

        result = sync(_calendar_engine(settings), planned, now, on_diff=on_diff)
    if result.created_schema and fmt == "text":
        click.echo("created the calendar database", err=True)
    if result.skipped:
        click.echo(
            f"{result.skipped} post(s) were claimed by a dispatcher during the sync "
            "and left as they are",
            err=True,
        )
    if fmt == "json":
        out = calendar_export.diff_json(result.diff, done=True)
        out["skipped"] = result.skipped
        _echo_json(out)
    else:
        click.echo(calendar_export.diff_text(result.diff, done=True))


#: The state names of DESIGN §6 (``models.PostState``), spelled out so that importing the CLI
#: does not import SQLAlchemy: `validate` and `preview` must start fast.
POST_STATES = (
    "planned",
    "queued",
    "publishing",
    "published",
    "retry_wait",
    "failed",
    "reconciling",
    "needs_review",
    "cancelled",
    "held",
)


@cli.command("calendar")
@click.option("--from", "from_date", type=click.DateTime(["%Y-%m-%d"]), help="First local day.")
@click.option("--to", "to_date", type=click.DateTime(["%Y-%m-%d"]), help="Last local day.")
@click.option("-n", "--network", "networks", multiple=True, help="Only this network (repeat).")
@click.option("-m", "--market", "markets", multiple=True, help="Only this market (repeat).")
@click.option("--status", "statuses", multiple=True, type=click.Choice(POST_STATES), help="Repeat.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "ics", "html"]),
    default="table",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write here.")
@pass_settings
def calendar_command(
    settings: Settings,
    from_date: Any,
    to_date: Any,
    networks: tuple[str, ...],
    markets: tuple[str, ...],
    statuses: tuple[str, ...],
    fmt: str,
    output: Path | None,
) -> None:
    """What goes out when. --from/--to are local dates, read in each post's market zone."""
    import json

    from sqlmodel import Session

    from scheduler.calendar.migrate import ensure_schema
    from scheduler.calendar.queries import calendar_rows
    from scheduler.interfaces import formats as calendar_export

    if from_date and to_date and to_date < from_date:
        raise click.BadParameter(
            f"--to {to_date:%Y-%m-%d} is before --from {from_date:%Y-%m-%d}", param_hint="--to"
        )
    engine = _calendar_engine(settings)
    ensure_schema(engine)
    with Session(engine) as session:
        rows = calendar_rows(
            session,
            from_date=from_date.date() if from_date else None,
            to_date=to_date.date() if to_date else None,
            networks=networks,
            markets=markets,
            statuses=statuses,
        )
    now = clock_now(settings)
    data: bytes
    if fmt == "json":
        rendered = json.dumps(calendar_export.calendar_json(rows), indent=2, ensure_ascii=False)
        data = rendered.encode()
    elif fmt == "ics":
        data = calendar_export.calendar_ics(rows, now)
    elif fmt == "html":
        data = calendar_export.calendar_html(rows, now).encode()
    else:
        data = calendar_export.calendar_table(rows).encode()
    if output is None:
        click.echo(data.decode().rstrip("\r\n") if fmt != "ics" else data.decode(), nl=fmt != "ics")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data if data.endswith(b"\n") or fmt == "ics" else data + b"\n")
    click.echo(f"wrote {output} ({len(rows)} post(s))", err=True)


@cli.command("status")
@click.argument("post_id", required=False)
@click.option("--format", "fmt", type=_TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def status_command(settings: Settings, post_id: str | None, fmt: str) -> None:
    """Posts per state; with POST_ID, that post in full with its attempts."""
    from sqlmodel import Session

    from scheduler.calendar.migrate import ensure_schema
    from scheduler.calendar.queries import post_detail, state_counts
    from scheduler.interfaces import formats as calendar_export

    engine = _calendar_engine(settings)
    ensure_schema(engine)
    with Session(engine) as session:
        if post_id is None:
            counts = state_counts(session)
            if fmt == "json":
                _echo_json(counts)
            else:
                click.echo(calendar_export.status_text(counts))
            return
        row, attempts = post_detail(session, post_id)
    if fmt == "json":
        _echo_json(calendar_export.post_json(row, attempts))
    else:
        click.echo(calendar_export.post_text(row, attempts))


@cli.group("db")
def db_group() -> None:
    """The calendar database's schema."""


@db_group.command("upgrade")
@pass_settings
def db_upgrade_command(settings: Settings) -> None:
    """Apply the migrations this version needs (safe to run any number of times)."""
    from scheduler.calendar.migrate import upgrade

    engine = _calendar_engine(settings)
    before, after = upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"the calendar database is up to date ({after}): {where}")
    else:
        click.echo(f"upgraded the calendar database {before or 'empty'} → {after}: {where}")


# [publishing commands: run, retry, cancel, publish, release]


def _dispatcher(settings: Settings) -> Any:
    """The calendar's dispatcher for an operator command (no HTTP client, no secrets read)."""
    from scheduler.calendar.migrate import ensure_schema
    from scheduler.dispatch.dispatcher import Dispatcher

    engine = _calendar_engine(settings)
    ensure_schema(engine)
    return Dispatcher(engine, settings, clock=lambda: clock_now(settings))


def _said(row: Any) -> str:
    due = row["due_utc"]
    return f"{row['post_id']}: {row['status']} (due {due:%Y-%m-%d %H:%M:%S} UTC)"


@cli.command("retry")
@click.argument("post_id")
@pass_settings
def retry_command(settings: Settings, post_id: str) -> None:
    """Send a failed or needs_review post again, now. For needs_review, check the network
    first: the earlier attempt may have gone out."""
    click.echo(_said(_dispatcher(settings).retry(post_id)))


@cli.command("cancel")
@click.argument("post_id")
@pass_settings
def cancel_command(settings: Settings, post_id: str) -> None:
    """Never send this post (planned, held, queued, retry_wait, failed or needs_review)."""
    click.echo(_said(_dispatcher(settings).cancel(post_id)))


@cli.command("publish")
@click.argument("post_id")
@click.option("--now", "now_flag", is_flag=True, help="Make the post due now (required).")
@pass_settings
def publish_command(settings: Settings, post_id: str, now_flag: bool) -> None:
    """Publish a planned, held or retry_wait post now; the running dispatcher sends it."""
    if not now_flag:
        fail("say when: `storyline publish POST_ID --now`", EXIT_USAGE)
    click.echo(_said(_dispatcher(settings).publish_now(post_id)))


@cli.command("release")
@click.argument("post_id", required=False)
@click.option("--account", metavar="NETWORK:ACCOUNT", help="Every post held for this account.")
@pass_settings
def release_command(settings: Settings, post_id: str | None, account: str | None) -> None:
    """Held -> planned: one post (sent now if its time has passed), or an account's posts
    held for re-auth once its credentials are fixed."""
    if (post_id is None) == (account is None):
        fail("give either POST_ID or --account NETWORK:ACCOUNT", EXIT_USAGE)
    d = _dispatcher(settings)
    if post_id is not None:
        click.echo(_said(d.release(post_id)))
        return
    assert account is not None
    network, sep, key = account.partition(":")
    if not sep or not network or not key:
        fail(f"--account takes NETWORK:ACCOUNT (like x:BrandFR), not {account!r}", EXIT_USAGE)
    count = d.release_account(network, key)
    click.echo(f"released {count} post(s) of {network}:{key}")


_MARKS = {
    "published": ("✓", "green"),
    "failed": ("✗", "red"),
    "needs_review": ("?", "yellow"),
    "held": ("‖", "yellow"),
    "retry_wait": ("↻", "yellow"),
}


def _event_line(event: Any) -> str:
    from zoneinfo import ZoneInfo

    mark, colour = _MARKS.get(event.status, ("·", "white"))
    local = event.due_utc.astimezone(ZoneInfo(event.timezone))
    story_beat = "/".join(event.post_id.split("/")[:2])
    where = event.remote_id if event.remote_id and event.remote_id.startswith("outbox/") else None
    detail = f"→ {where or event.url or event.remote_id}" if event.status == "published" else ""
    if event.status != "published" and event.reason:
        detail = f"  {event.reason}"
    head = click.style(mark, fg=colour)
    when = f"{local:%H:%M} {local.tzname()}"
    return f"{head} {when:<9} {event.market:<3} {event.network:<9} {story_beat}  {detail}"


@cli.command("run")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Publishing threads (publishing waits on the network, so threads, not processes).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Re-time the sample calendar to start now (its own calendar, outbox only).",
)
@pass_settings
def run_command(settings: Settings, concurrency: int, demo: bool) -> None:
    """Upgrade the database, sync the content, then run a worker with its dispatcher,
    printing each post as it goes out. Ctrl-C stops it cleanly."""
    import contextlib
    import os
    import signal
    import subprocess
    import time
    from datetime import timedelta

    from scheduler.calendar.apply import sync
    from scheduler.calendar.migrate import upgrade
    from scheduler.dispatch.demo import demo_shift
    from scheduler.dispatch.events import events_since

    if demo:
        data = settings.data_dir
        settings = settings.with_overrides(
            database_url_override=f"sqlite:///{(data / 'demo.db').resolve()}",
            broker_url_override=f"sqla+sqlite:///{(data / 'demo-broker.db').resolve()}",
            publisher_override="outbox",
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = _calendar_engine(settings)
    upgrade(engine)
    now = clock_now(settings)
    planned = load_planned(settings, now, "synced")
    if demo:
        planned = demo_shift(planned, now)
    result = sync(engine, planned, now)
    click.echo(calendar_export_summary(result))
    env = dict(os.environ)
    env.update(
        STORYLINE_DATA_DIR=str(settings.data_dir.resolve()),
        STORYLINE_CONTENT_DIR=str(settings.content_dir.resolve()),
        STORYLINE_LINES_DIR=str(settings.lines_dir.resolve()),
        STORYLINE_DATABASE_URL=settings.database_url,
        STORYLINE_BROKER_URL=settings.broker_url,
        STORYLINE_TICK_SECONDS=str(settings.tick_seconds),
    )
    if settings.publisher_override:
        env["STORYLINE_PUBLISHER"] = settings.publisher_override
    log_path = settings.data_dir / "worker.log"
    args = [sys.executable, "-m", "celery", "-A", "worker", "worker", "--beat"]
    args += [f"--concurrency={concurrency}", "--loglevel=INFO", "--without-mingle"]
    click.echo(
        f"worker and dispatcher running on {settings.broker_url.split('://')[0]}"
        f" (log: {log_path}); Ctrl-C stops"
    )
    since = now - timedelta(seconds=1)
    with log_path.open("ab") as log:
        root = Path(__file__).resolve().parent.parent  # where worker.py lives
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter running celery
            args,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the worker warmly
        )

        def stop_on_term(_signum: int, _frame: Any) -> None:
            raise KeyboardInterrupt  # `kill <pid>` stops as cleanly as Ctrl-C

        signal.signal(signal.SIGTERM, stop_on_term)
        try:
            while proc.poll() is None:
                for event in events_since(engine, since):
                    click.echo(_event_line(event))
                    since = max(since, event.at)
                time.sleep(0.5)
            fail(f"the worker stopped (exit {proc.returncode}); see {log_path}")
        except KeyboardInterrupt:
            click.echo("\nstopping: finishing the posts in flight…", err=True)
            proc.send_signal(signal.SIGTERM)  # Celery's warm shutdown
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
            click.echo("stopped", err=True)
        finally:
            if proc.poll() is None:  # whatever happened to us, leave no worker behind
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def calendar_export_summary(result: Any) -> str:
    """One line about the sync `run` did before starting."""
    from scheduler.interfaces import formats as calendar_export

    text: str = calendar_export.diff_text(result.diff, done=True)
    return text.splitlines()[-1] if text.strip() else "the calendar matches the content"


# [accounts commands]


@cli.group("accounts")
def accounts_group() -> None:
    """The brand's network accounts: credentials present, accepted, not about to expire."""


@accounts_group.command("check")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--offline", is_flag=True, help="Only check that credentials are present.")
@pass_settings
def accounts_check(settings: Settings, fmt: str, offline: bool) -> None:
    """Per account in markets.yaml: credentials present, valid on the network, expiry.

    Exits 1 when an account needs attention (missing, invalid, expiring within 7 days).
    Secrets are never printed.
    """
    import json

    from scheduler.app import accounts
    from scheduler.app.secrets import load_secrets
    from scheduler.publishers.http import HttpClient

    markets = accounts.load_markets(settings)
    secrets = load_secrets(settings)
    http = HttpClient()
    try:
        reports = accounts.check_accounts(
            settings,
            markets,
            secrets=secrets,
            http=http,
            now=clock_now(settings),
            online=not offline,
        )
    finally:
        http.close()
    problems = sum(r.problem for r in reports)
    if fmt == "json":
        body = {"ok": problems == 0, "accounts": [r.to_json() for r in reports]}
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        click.echo(accounts.format_text(reports))
    if problems:
        sys.exit(EXIT_FINDINGS)


# [serve]


@cli.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8321, show_default=True)
@pass_settings
def serve_command(settings: Settings, port: int) -> None:
    """Live previews on http://127.0.0.1:PORT/, re-rendered when content or lines change."""
    from scheduler.interfaces import serve

    try:
        server = serve.make_server(settings, lambda: clock_now(settings), port)
    except OSError as exc:
        raise StorylineError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    click.echo(f"serving previews on {serve.url_of(server)} (Ctrl-C stops)", err=True)
    serve.run(server)
    click.echo("stopped", err=True)


def main() -> None:
    cli(prog_name="storyline")


if __name__ == "__main__":
    main()
