"""``storyline approve`` and ``storyline approvals``: record and report per-market sign-offs.

Approving plans the story exactly as sync would (same pipeline, same due instants), hashes
what each post of a sign-off market would send, and writes ``approvals/<story>.yaml``
(docs/signoff.md). It refuses, naming them, while the story has errors: nobody signs off a
post that cannot go out as shown.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from scheduler.app.pipeline import load_plan
from scheduler.app.settings import Settings
from scheduler.content.approvals import (
    APPROVALS_DIR_NAME,
    UnreadableApprovals,
    approvals_path,
    approvals_text,
    existing_records,
    media_digests,
    record_of,
)
from scheduler.content.files import MARKETS_FILE_NAME
from scheduler.content.markets import load_markets
from scheduler.core.diagnostics import Finding, sort_findings
from scheduler.core.errors import ConfigError, ContentError
from scheduler.core.model import Market
from scheduler.core.post import PlannedPost
from scheduler.core.signoff import SignoffState, approver_problem, sent, utc_text
from scheduler.planning.plan import Plan, Selection
from scheduler.text.networks import NETWORKS


@dataclass(frozen=True, slots=True)
class Approved:
    """What ``approve`` wrote."""

    path: Path
    by: str
    posts: tuple[str, ...]
    markets: tuple[str, ...]
    draft: bool = False


def git_user(cwd: Path) -> str | None:
    """``git config user.email`` where the content lives, or None (no git, or not set)."""
    try:
        found = subprocess.run(
            ["git", "config", "user.email"],  # noqa: S607 - the user's own git
            cwd=cwd if cwd.is_dir() else None,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    email = found.stdout.strip()
    return email or None


def _markets(settings: Settings) -> dict[str, Market]:
    findings: list[Finding] = []
    markets, _ = load_markets(settings.content_dir / MARKETS_FILE_NAME, NETWORKS, findings)
    return markets


def _story_errors(planned: Plan, story: str) -> list[Finding]:
    """Errors that stop the story's posts: in its own file, or on one of its posts."""
    own = [f for f in planned.findings if f.is_error and PurePath(f.file).stem == story]
    own += [f for p in planned.posts for f in p.findings if f.is_error]
    return sort_findings(own)


def approve(
    settings: Settings,
    story: str,
    *,
    markets: Sequence[str] = (),
    networks: Sequence[str] = (),
    by: str | None = None,
    now: datetime,
) -> Approved:
    """Sign off the posts of ``story`` in its sign-off markets (all of them, or ``markets``;
    all networks, or ``networks``) as ``by`` (default: ``git config user.email``)."""
    approver = by or git_user(settings.content_dir)
    if not approver:
        raise ConfigError("who approves? pass --as NAME, or set `git config user.email`")
    problem = approver_problem(approver)
    if problem is not None:
        raise ConfigError(f"--as: {problem}")
    selection = Selection(
        stories=frozenset([story]),
        markets=frozenset(markets) or None,
        networks=frozenset(networks) or None,
    )
    planned = load_plan(settings, now, selection)
    errors = _story_errors(planned, story)
    if errors:
        raise ContentError(errors, f"{story} has {len(errors)} error(s): fix them, then approve")
    rules = _markets(settings)
    for code in markets:
        rule = rules[code].signoff if code in rules else None
        if rule is None or not rule.required:
            raise ConfigError(
                f"market {code} requires no sign-off (markets.yaml has no signoff for it)"
            )
    chosen = [p for p in planned.posts if p.signoff is not None]
    if not chosen:
        raise ConfigError(
            f"{story} has no post in a market that requires sign-off"
            + (" among the chosen markets and networks" if markets or networks else "")
        )
    for code in sorted({p.market for p in chosen}):
        rule = rules[code].signoff
        assert rule is not None
        if approver not in rule.approvers:
            listed = ", ".join(rule.approvers) or "nobody"
            raise ConfigError(
                f"{approver} is not among {code}'s approvers ({listed}): the sign-off would "
                f"not count. Approve --as one of them, or add {approver} to markets.yaml"
            )
    digests = media_digests(settings.content_dir, {m.file for p in chosen for m in p.media})
    path = approvals_path(settings.content_dir, story)
    try:
        records: dict[str, Any] = existing_records(path)
    except UnreadableApprovals as exc:
        raise ConfigError(str(exc)) from exc
    if not markets and not networks:  # the whole story was planned: forget posts it lost
        planned_ids = {p.post_id for p in planned.posts}
        records = {pid: r for pid, r in records.items() if pid in planned_ids}
    at = now.astimezone(UTC).replace(microsecond=0)
    for post in chosen:
        records[post.post_id] = record_of(approver, at, sent(post, digests))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(approvals_text(story, records), encoding="utf-8")
    temporary.replace(path)
    return Approved(
        path=path,
        by=approver,
        posts=tuple(p.post_id for p in chosen),
        markets=tuple(sorted({p.market for p in chosen})),
        draft=any(str(p.story_status) == "draft" for p in chosen),
    )


# --- storyline approvals ----------------------------------------------------------------------


@dataclass(slots=True)
class MarketSignoffs:
    """One story's posts in one sign-off market, by state."""

    story: str
    market: str
    approvers: tuple[str, ...]
    posts: list[PlannedPost] = field(default_factory=list)

    def count(self, state: SignoffState) -> int:
        return sum(1 for p in self.posts if p.signoff is not None and p.signoff.state is state)

    @property
    def pending(self) -> int:
        return sum(1 for p in self.posts if p.signoff is not None and p.signoff.holds)


@dataclass(frozen=True, slots=True)
class Report:
    groups: tuple[MarketSignoffs, ...]
    findings: tuple[Finding, ...]
    files: dict[str, str]  # story -> its approvals file


def report(settings: Settings, story: str | None, now: datetime) -> Report:
    """Who approved what, and what is pending, per story and market."""
    selection = Selection(stories=frozenset([story])) if story else Selection()
    planned = load_plan(settings, now, selection)
    rules = _markets(settings)
    groups: dict[tuple[str, str], MarketSignoffs] = {}
    for post in planned.posts:
        if post.signoff is None:
            continue
        rule = rules[post.market].signoff if post.market in rules else None
        key = (post.story, post.market)
        if key not in groups:
            groups[key] = MarketSignoffs(
                post.story, post.market, rule.approvers if rule is not None else ()
            )
        groups[key].posts.append(post)
    signoff_codes = ("signoff-", "bad-approv")
    findings = tuple(
        f
        for f in planned.findings
        if f.code.startswith(signoff_codes) and (story is None or PurePath(f.file).stem == story)
    )
    files = {
        s: str(approvals_path(settings.content_dir, s))
        for s in {g.story for g in groups.values()}
        if approvals_path(settings.content_dir, s).exists()
    }
    return Report(tuple(groups[k] for k in sorted(groups)), findings, files)


def report_json(r: Report) -> dict[str, Any]:
    """``storyline approvals --format json`` (docs/signoff.md)."""
    out = []
    for g in r.groups:
        posts = []
        for p in sorted(g.posts, key=lambda p: p.post_id):
            s = p.signoff
            assert s is not None
            posts.append(
                {
                    "post_id": p.post_id,
                    "state": str(s.state),
                    "by": s.by,
                    "at": utc_text(s.at) if s.at else None,
                    "hash": s.hash,
                    "due_utc": utc_text(p.due_utc),
                    "reason": s.reason,
                    "diff": s.diff or None,
                }
            )
        out.append(
            {
                "story": g.story,
                "market": g.market,
                "approvers": list(g.approvers),
                "file": r.files.get(g.story),
                "approved": g.count(SignoffState.APPROVED),
                "pending": g.pending,
                "posts": posts,
            }
        )
    return {"markets": out, "findings": [f.as_dict() for f in r.findings]}


def require_signoff(settings: Settings, planned: Plan, findings: list[Finding]) -> list[Finding]:
    """``validate --require-signoff``: every sign-off warning becomes an error, and each story
    and market still waiting for a sign-off is one more error."""
    from dataclasses import replace

    from scheduler.content.loader import load_content
    from scheduler.core.diagnostics import Severity
    from scheduler.planning.signoff import missing_signoffs

    folder = str(settings.content_dir / APPROVALS_DIR_NAME)
    escalated = [
        replace(f, severity=Severity.ERROR)
        if not f.is_error
        and (f.code.startswith(("signoff-", "bad-approv")) or f.file.startswith(folder))
        else f
        for f in findings
    ]
    content = load_content(settings.content_dir, networks=NETWORKS)
    return sort_findings([*escalated, *missing_signoffs(planned, content)])
