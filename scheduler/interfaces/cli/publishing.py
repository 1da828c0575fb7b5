"""Commands for operators: ``run``, ``retry``, ``cancel``, ``publish``, ``release``."""

from __future__ import annotations

import sys
from typing import Any

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import (
    EXIT_USAGE,
    calendar_engine,
    clock_now,
    fail,
    load_planned,
    pass_settings,
)
from scheduler.interfaces.cli.operating import (
    one_or_many,
    operator_dispatcher,
    operator_options,
    pause_news,
    report_bulk,
    report_post,
    selector_of,
    selector_options,
    who,
)
from scheduler.interfaces.formats import sync_report

_dispatcher = operator_dispatcher


@click.command("retry")
@click.argument("post_id")
@operator_options
@pass_settings
def retry_command(settings: Settings, post_id: str, fmt: str, as_who: str | None) -> None:
    """Send a failed or needs_review post again, now. For needs_review, check the network
    first: the earlier attempt may have gone out."""
    d = _dispatcher(settings)
    report_post(d, "retry", d.retry(post_id), who(as_who), fmt)


@click.command("cancel")
@click.argument("post_id", required=False)
@selector_options
@operator_options
@pass_settings
def cancel_command(
    settings: Settings, /, post_id: str | None, fmt: str, as_who: str | None, **selectors: Any
) -> None:
    """Never send these posts (planned, held, queued, retry_wait, failed or needs_review): one
    POST_ID, or every post the selectors name. `storyline restore` undoes it."""
    from scheduler.dispatch import bulk

    selector = selector_of(**selectors)
    one_or_many(post_id, selector, "cancel")
    d = _dispatcher(settings)
    by = who(as_who)
    if post_id is not None:
        report_post(d, "cancel", d.cancel(post_id), by, fmt)
        return
    report_bulk(d, "cancel", "cancelled", selector, bulk.cancel_many(d, selector), by, fmt)


@click.command("publish")
@click.argument("post_id")
@click.option("--now", "now_flag", is_flag=True, help="Make the post due now (required).")
@operator_options
@pass_settings
def publish_command(
    settings: Settings, post_id: str, now_flag: bool, fmt: str, as_who: str | None
) -> None:
    """Publish a planned, held or retry_wait post now; the running dispatcher sends it."""
    if not now_flag:
        fail("say when: `storyline publish POST_ID --now`", EXIT_USAGE)
    d = _dispatcher(settings)
    report_post(d, "publish", d.publish_now(post_id), who(as_who), fmt)


@click.command("release")
@click.argument("post_id", required=False)
@selector_options
@operator_options
@pass_settings
def release_command(
    settings: Settings, /, post_id: str | None, fmt: str, as_who: str | None, **selectors: Any
) -> None:
    """Held -> planned: one post (sent now if its time has passed), or every post the
    selectors name that is held by an operator or for its credentials (`--account x:BrandFR`
    once its credentials are fixed)."""
    from scheduler.dispatch import bulk

    selector = selector_of(**selectors)
    one_or_many(post_id, selector, "release")
    d = _dispatcher(settings)
    by = who(as_who)
    if post_id is not None:
        report_post(d, "release", d.release(post_id), by, fmt)
        return
    report_bulk(d, "release", "released", selector, bulk.release_many(d, selector), by, fmt)


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


@click.command("run")
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

    from scheduler.app.tokens import startup_checks
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
    engine = calendar_engine(settings)
    upgrade(engine)
    _require_broker(settings)
    if not demo:  # the demo sends to the outbox only, from a calendar of its own
        startup_checks(settings, engine=engine)  # secrets file, the key of the stored tokens
    now = clock_now(settings)
    planned = load_planned(settings, now, "synced")
    if demo:
        planned = demo_shift(planned, now)
    result = sync(engine, planned, now)
    click.echo(sync_summary(result))
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
    if demo:  # the demo's posts are not the brand's: its channels hear nothing of them
        env = {k: v for k, v in env.items() if not k.startswith("STORYLINE_NOTIFY")}
    log_path = settings.data_dir / "worker.log"
    args = [sys.executable, "-m", "celery", "-A", "scheduler.interfaces.worker", "worker", "--beat"]
    args += [f"--concurrency={concurrency}", "--loglevel=INFO", "--without-mingle"]
    click.echo(
        f"worker and dispatcher running on {settings.broker_url.split('://')[0]}"
        f" (log: {log_path}); Ctrl-C stops"
    )
    since = now - timedelta(seconds=1)
    paused: set[tuple[str, str]] = set()
    with log_path.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter running celery
            args,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the worker warmly
        )

        def stop_on_term(_signum: int, _frame: Any) -> None:
            raise KeyboardInterrupt  # `kill <pid>` stops as cleanly as Ctrl-C

        signal.signal(signal.SIGTERM, stop_on_term)
        try:
            while proc.poll() is None:
                news, paused = pause_news(engine, paused)
                for line in news:
                    click.echo(click.style(line, fg="yellow"))
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


def _require_broker(settings: Settings) -> None:
    """A worker would retry an unreachable broker for minutes in its log: say it here."""
    from scheduler.interfaces.broker import broker_problem

    problem = broker_problem(settings.broker_url)
    if problem is not None:
        fail(problem)


def sync_summary(result: Any) -> str:
    """One line about the sync `run` did before starting."""

    text: str = sync_report.diff_text(result.diff, done=True)
    return text.splitlines()[-1] if text.strip() else "the calendar matches the content"
