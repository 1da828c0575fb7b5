"""Commands for writers: ``validate``, ``preview``, ``schema``, ``new story``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from scheduler.app.settings import Settings
from scheduler.core.diagnostics import format_text
from scheduler.interfaces.cli.common import EXIT_FINDINGS, clock_now, content_now, pass_settings


@click.command("schema")
@click.argument("kind", type=click.Choice(["story", "markets", "line", "brand"]), default="story")
def schema_command(kind: str) -> None:
    """Print the JSON Schema (draft 2020-12) of a story, markets.yaml, a line.yaml or
    _brand.yaml."""
    from scheduler.content.schema import schema_text

    click.echo(schema_text(kind))


@click.group("new")
def new_group() -> None:
    """Scaffold content files to start from."""


@new_group.command("story")
@click.argument("name")
@pass_settings
def new_story_command(settings: Settings, name: str) -> None:
    """Write content/stories/NAME.yaml: a valid draft using the markets and lines that exist."""
    from scheduler.app.scaffold import plan_scaffold, write_scaffold, write_schema

    scaffold = plan_scaffold(settings, name, clock_now(settings).date())
    path = write_scaffold(scaffold)
    schema = write_schema(settings.data_dir)
    click.echo(
        f"wrote {path} (draft; {len(scaffold.markets)} markets, "
        f"{len(scaffold.networks)} networks) and its schema {schema}: "
        "edit it, then `storyline validate`"
    )


@click.command("validate")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Compiler-style lines, or JSON (docs/architecture.md, contracts).",
)
@click.option(
    "--require-signoff",
    is_flag=True,
    help="Fail while an approved story's posts await their market's sign-off (for CI).",
)
@pass_settings
def validate_command(settings: Settings, fmt: str, require_signoff: bool) -> None:
    """Check the content and the editorial lines: exit 0 clean (warnings allowed), 1 errors."""
    from scheduler.app.pipeline import load_plan
    from scheduler.core.diagnostics import Severity, format_json, has_errors

    result = load_plan(settings, content_now())
    findings = [f for f in result.findings if f.severity is not Severity.INFO]
    if require_signoff:
        from scheduler.app.signoff import require_signoff as required

        findings = required(settings, result, findings)
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
    """One post in the fixed shape of ``preview --format json`` (docs/architecture.md)."""
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
        "signoff": _signoff_json(post.signoff),
        "thread": list(post.thread),
    }


def _signoff_json(signoff: Any) -> dict[str, Any] | None:
    """A post's sign-off in ``preview --format json`` (None: its market needs none)."""
    if signoff is None:
        return None
    return {
        "state": str(signoff.state),
        "reason": signoff.reason,
        "by": signoff.by,
        "at": _iso_utc(signoff.at) if signoff.at else None,
        "hash": signoff.hash,
        "diff": signoff.diff or None,
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
    if post.thread:  # an X thread: each post as it goes out, with its own length
        from scheduler.text import networks

        for number, part in enumerate(post.thread, 1):
            size = networks.measure(post.network, part)
            out.append(
                click.style(f"thread {number}/{len(post.thread)} · {size}/{limit}", bold=True)
            )
            out += [f"  {ln}" if ln else "" for ln in part.splitlines()]
    else:
        out += [f"  {ln}" if ln else "" for ln in post.text.splitlines()]
    if post.first_comment:
        out.append(f"first comment: {post.first_comment}")
    if post.media:
        out.append("media: " + ", ".join(m.file for m in post.media))
    if post.thread:
        colour = "green"  # each post of the thread fits; the whole is not one post
        length_line = f"length {length} in a thread of {len(post.thread)} posts"
    else:
        length_line = f"length {length}/{limit}"
    out.append(click.style(length_line, fg=colour))
    for f in post.findings:
        tint = "red" if f.is_error else "yellow" if f.severity == "warning" else "cyan"
        out.append(click.style(f"{f.severity}[{f.code}]: {f.message}", fg=tint))
    if post.signoff is not None:
        signed = post.signoff
        out.append(
            click.style(f"sign-off: {signed.reason}", fg="yellow" if signed.holds else "green")
        )
        out += [f"  {row}" for row in signed.diff.splitlines()]
    return "\n".join(out) + "\n"


@click.command("preview")
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
    now = content_now()
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
