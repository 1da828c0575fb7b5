"""Each planned post's sign-off: approved as it is, awaiting, or changed since it was approved.

Pure: takes the plan, the markets' ``signoff`` rules, the approvals files as loaded and the
media files' digests. Runs before anything re-times the posts (``run --demo``), so a sign-off
is always checked against the content's own due instants.

What counts (docs/signoff.md): a record in ``approvals/<story>.yaml`` whose approver is in the
market's ``approvers`` list and whose hash is the hash of what the post would send today.
Anything else is no sign-off: the post is held, and a warning says why at the record's line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from scheduler.content.approvals import Approval, Approvals
from scheduler.core.diagnostics import Finding, Position, Severity, sort_findings
from scheduler.core.model import Content, Market
from scheduler.core.post import PlannedPost
from scheduler.core.signoff import Signoff, SignoffState, changes_since, planned_hash, sent
from scheduler.planning.plan import Plan

#: Finding codes (docs/signoff.md); all warnings: a sign-off problem holds its own posts only.
STALE = "signoff-stale"
NOT_APPROVER = "signoff-not-approver"
UNKNOWN_POST = "signoff-unknown-post"
UNKNOWN_STORY = "signoff-unknown-story"
MISSING = "signoff-missing"


def needs_signoff(market: Market | None) -> bool:
    return market is not None and market.signoff is not None and market.signoff.required


def evaluate(
    post: PlannedPost,
    market: Market,
    approvals: Approvals,
    digests: Mapping[str, str],
    findings: list[Finding],
    read: set[str],
    framed: dict[int, Any] | None = None,
) -> Signoff:
    """One post's sign-off against its record (if any); the warnings it deserves go to
    ``findings``. ``read``: the stories whose file was parsed completely already (its own
    findings are reported once)."""
    rule = market.signoff
    assert rule is not None
    digest = planned_hash(post, digests, framed)
    code = market.code
    head = approvals.head(post.story, post.post_id)
    if head is None:
        return Signoff(SignoffState.AWAITING, code, digest)
    by, at, recorded = head
    if recorded == digest and by in rule.approvers:  # the common case, nothing to build
        return Signoff(SignoffState.APPROVED, code, digest, by, at)
    approval: Approval | None = approvals.of(post.story)[post.post_id]
    assert approval is not None
    if approval.hash != digest:
        # Changed since, or edited by hand: only the complete parse of the file can tell.
        full, problems = approvals.full(post.story)
        if post.story not in read:
            read.add(post.story)
            findings.extend(problems)
        approval = full.posts.get(post.post_id) if full is not None else None
        if approval is None:  # its record does not count (the file's findings say why)
            return Signoff(SignoffState.AWAITING, code, digest)
    if approval.by not in rule.approvers:
        listed = ", ".join(rule.approvers) or "nobody"
        findings.append(
            Finding.warning(
                approval.pos,
                NOT_APPROVER,
                f"{post.post_id}: {approval.by} signed off but is not among {code}'s approvers "
                f"({listed}): it does not count",
            )
        )
        return Signoff(SignoffState.AWAITING, code, digest)
    if approval.hash != digest:
        assert approval.sent is not None  # the complete parse keeps what was sent
        diff = changes_since(approval.sent, sent(post, digests), f"approved by {approval.by}")
        state = Signoff(SignoffState.CHANGED, code, digest, approval.by, approval.at, diff)
        findings.append(
            Finding.warning(
                approval.pos, STALE, f"{post.post_id}: {state.reason}; held until signed off again"
            )
        )
        return state
    return Signoff(SignoffState.APPROVED, code, digest, approval.by, approval.at)


@dataclass(frozen=True, slots=True)
class _Scope:
    """Which stories the plan covers: an approvals record of another story is not ours to judge."""

    stories: frozenset[str]
    whole: bool  # the plan covers every story and every post of them


def apply_signoff(
    planned: Plan,
    content: Content,
    approvals: Approvals,
    digests: Mapping[str, str],
    *,
    whole: bool = True,
) -> Plan:
    """``planned`` with each sign-off market's posts carrying their :class:`Signoff`, plus the
    approvals files' findings. ``whole``: the plan holds every post (not a preview's
    selection), so a record no post matches is reported as unknown."""
    scope = _Scope(frozenset(p.story for p in planned.posts), whole)
    findings: list[Finding] = list(approvals.findings)
    read: set[str] = set()
    signing = {code: m for code, m in content.markets.items() if needs_signoff(m)}
    framed: dict[int, Any] = {}  # media tuple -> its framing, for planned_hash
    for post in planned.posts:
        market = signing.get(post.market)
        if market is None:
            continue
        state = evaluate(post, market, approvals, digests, findings, read, framed)
        # Planning made these posts a moment ago and nothing else holds them yet: set the
        # field in place (a dataclasses.replace per post cost as much as the hashing).
        object.__setattr__(post, "signoff", state)
    if scope.whole:
        findings.extend(_unknown(approvals, content, scope, {p.post_id for p in planned.posts}))
    if not findings:
        return planned
    return replace(planned, findings=tuple(sort_findings((*planned.findings, *findings))))


def _unknown(
    approvals: Approvals, content: Content, scope: _Scope, planned: set[str]
) -> list[Finding]:
    """Records that match no post of today's plan (a renamed beat, a removed market, a typo)."""
    out: list[Finding] = []
    for story, held in approvals.stories.items():
        if story not in content.stories:
            out.append(
                Finding.warning(
                    Position(held.path, 1, 1),
                    UNKNOWN_STORY,
                    f"sign-offs of story {story!r}, which the content does not hold",
                )
            )
            continue
        for post_id in held.posts:
            if post_id not in planned:
                approval = held.posts[post_id]
                out.append(
                    Finding.warning(
                        approval.pos,
                        UNKNOWN_POST,
                        f"{post_id}: no such post in today's plan (a beat, network or market "
                        "renamed or removed?): this sign-off counts for nothing",
                    )
                )
    return out


def missing_signoffs(planned: Plan, content: Content) -> list[Finding]:
    """``validate --require-signoff``: one error per story and market still waiting."""
    waiting: dict[tuple[str, str], list[PlannedPost]] = {}
    for post in planned.posts:
        if post.signoff is not None and post.signoff.holds and str(post.story_status) == "approved":
            waiting.setdefault((post.story, post.market), []).append(post)
    out = []
    for (story, code), posts in sorted(waiting.items()):
        held = content.stories.get(story)
        pos = held.pos() if held is not None else Position("", 0, 0)
        changed = sum(
            p.signoff is not None and p.signoff.state is SignoffState.CHANGED for p in posts
        )
        detail = f" ({changed} changed since approved)" if changed else ""
        out.append(
            Finding.at(
                pos,
                Severity.ERROR,
                MISSING,
                f"{story}: {len(posts)} post(s) await {code} sign-off{detail}: "
                f"storyline approve {story} --market {code}",
            )
        )
    return out
