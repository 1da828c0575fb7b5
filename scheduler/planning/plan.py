"""Planning: stories x beats x networks x markets -> planned posts with their due instants.

Pure: takes the loaded content, the rendered drafts and ``now``; never reads the clock, never
touches the database. The store compares these values with the calendar (``storyline plan``).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from scheduler.core.diagnostics import Finding, Position, Severity, has_errors, sort_findings
from scheduler.core.memory import paused_gc
from scheduler.core.model import Account, Beat, Content, Market, Story, StoryStatus
from scheduler.core.post import PlannedPost
from scheduler.core.resolve import TRANSLATION_CODES, Resolved, resolve
from scheduler.core.timezones import Localized, apply_offset
from scheduler.lines.book import LineBook
from scheduler.lines.model import TEMPLATE_SUFFIX, EditorialLine, PostContext
from scheduler.planning.embargo import LEAK, check_embargo
from scheduler.text.links import UntrackableURL, track
from scheduler.text.networks import check as check_network
from scheduler.text.thread import split as split_thread
from scheduler.text.thread import thread_checks
from scheduler.text.voice import LinkPolicy, check_voice

# --- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """Every post the content asks for, in due order, and everything wrong on the way.

    ``posts`` are sorted by ``due_utc`` then ``post_id``. Posts whose render failed are
    still listed (empty text, error findings) so a preview can show why; ``ok`` is False
    then, and the CLI refuses to sync. ``findings`` holds the content's and the lines'
    findings too when the plan comes from :func:`scheduler.app.pipeline.load_plan`.
    """

    posts: tuple[PlannedPost, ...]
    findings: tuple[Finding, ...]
    stories: tuple[str, ...] = ()  # every story id the content holds, drafts included
    market_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: post id -> the server's own text limit, for accounts that set one (Mastodon).
    limit_overrides: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return blocking(self.findings)


def blocking(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The errors that stop a sync: all but those that only kept their own market's posts
    out of the plan (``translation: required`` and a translation missing there)."""
    return tuple(f for f in findings if f.is_error and f.code not in TRANSLATION_CODES)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which posts to plan; ``None`` means all. Preview plans one story, not the year."""

    stories: frozenset[str] | None = None
    networks: frozenset[str] | None = None
    markets: frozenset[str] | None = None
    beats: frozenset[str] | None = None

    def wants(self, kind: str, value: str) -> bool:
        chosen: frozenset[str] | None = getattr(self, kind)
        return chosen is None or value in chosen


ALL = Selection()
#: A plan's posts are sorted by due instant, then post id.
_DUE_ORDER = operator.attrgetter("due_utc", "post_id")
#: Templates findings are grouped in ``Plan.findings``: one per template line, not per post.
_TEMPLATE_CODE_PREFIX = "template-"
#: Informational, on the post only: the store, not planning, decides what a late post means.
PAST_DUE = "past-due"


def plan(content: Content, lines: LineBook, now: datetime, selection: Selection = ALL) -> Plan:
    """Stories x beats x networks x markets -> planned posts, rendered and checked.

    Drafts are planned too (``story_status`` says so): the store decides what a draft means.
    A market takes part on a network only if it has an account there. ``now`` only marks
    posts already due with an informational finding; the store decides what to do with them.
    The cyclic garbage collector is paused meanwhile (:func:`scheduler.core.memory.paused_gc`).
    """
    with paused_gc():
        return _plan(content, lines, now, selection)


def _plan(content: Content, lines: LineBook, now: datetime, selection: Selection) -> Plan:
    posts: list[PlannedPost] = []
    findings: list[Finding] = []
    memo = _Memo()
    for story in content.stories.values():
        if not selection.wants("stories", story.id):
            continue
        told = _plan_story(story, content, lines, now, selection, findings, memo)
        embargo = check_embargo(story, told, content.markets, lines)
        if embargo.findings:
            findings.extend(embargo.findings)  # grouped; each post carries its own copy
            told = [
                replace(p, findings=(*p.findings, *embargo.by_post[p.post_id]))
                if p.post_id in embargo.by_post
                else p
                for p in told
            ]
        posts.extend(told)
    posts.sort(key=_DUE_ORDER)
    for post in posts:
        if post.findings:
            findings.extend(f for f in post.findings if _plan_level(f))
    findings.extend(_grouped_template_findings(posts))
    if selection == ALL:
        findings.extend(_unused_template_findings(lines, memo))
    return Plan(
        posts=tuple(posts),
        findings=tuple(sort_findings(findings)),
        stories=tuple(sorted(content.stories)),
        market_names=MappingProxyType({c: m.name for c, m in content.markets.items()}),
        limit_overrides=MappingProxyType(_limit_overrides(content, posts)),
    )


def _plan_story(
    story: Story,
    content: Content,
    lines: LineBook,
    now: datetime,
    selection: Selection,
    findings: list[Finding],
    memo: _Memo,
) -> list[PlannedPost]:
    """One story's posts. What does not depend on the network (the due instant) or on the
    beat (the resolved text) is computed once and shared, which is most of planning's work."""
    posts: list[PlannedPost] = []
    targets: dict[tuple[str, str, str | None], _Target] = {}
    resolutions: dict[tuple[str, str | None, str | None], Resolved] = {}
    instants: dict[tuple[str, str], _Where] = {}
    where = story.pos("story")
    for beat in story.beats:
        if not selection.wants("beats", beat.name):
            continue
        beat_networks = beat.networks if beat.networks is not None else story.networks
        beat_markets = beat.markets if beat.markets is not None else story.markets
        here = story.pos("beats", beat.name)
        for network in beat_networks:
            if not selection.wants("networks", network):
                continue
            line = lines.by_network.get(network)
            if line is None:
                findings.append(
                    Finding.error(
                        story.pos("networks"),
                        "no-line",
                        f"{story.id} is told on {network}, but editorial_lines/{network}/ "
                        "does not exist",
                    )
                )
                continue
            for code in beat_markets:
                market = content.markets.get(code)
                if market is None or not selection.wants("markets", code):
                    continue
                account = market.accounts.get(network)
                if account is None:
                    continue
                own = beat.name if beat.has_content else None
                key = (network, code, own)
                target = targets.get(key)
                if target is None:
                    # A network without overrides of its own reads what every such network
                    # reads in this market (in this beat, when the beat has content of its
                    # own): resolved once (its findings still go per post).
                    rkey = (code, network if _own_overrides(story, network, code) else None, own)
                    fields = resolutions.get(rkey)
                    if fields is None:
                        fields = resolutions[rkey] = resolve(story, network, market, beat)
                    findings.extend(fields.findings)
                    if _withheld(fields):
                        continue  # translation: required, and this market lacks it
                    voice = (network, market.locale)
                    if voice not in memo.phrases:
                        memo.phrases[voice] = line.phrases_for(market.locale)
                    target = targets[key] = _Target(
                        fields=fields,
                        facts=tuple(str(f) for f in fields.facts),
                        hashtags=tuple(t.lstrip("#＃") for t in fields.hashtags),
                        handle=account.handle.lstrip("@") if account.handle else None,
                        limit_override=limit_override(account),
                        phrases=memo.phrases[voice],
                    )
                slot = (beat.name, code)
                due = instants.get(slot)
                if due is None:
                    when = apply_offset(story.launch, beat.offset, market.timezone)
                    due = instants[slot] = _Where(when, where, here)
                posts.append(
                    _plan_post(
                        story,
                        beat,
                        line,
                        market,
                        account,
                        target,
                        due,
                        lines,
                        now,
                        memo,
                    )
                )
    # A market that requires translations gets none of the story's posts while one of its
    # beats lacks the translation: not a teaser without its reveal, nor the reverse.
    withheld = {key[0] for key, fields in resolutions.items() if _withheld(fields)}
    return [p for p in posts if p.market not in withheld] if withheld else posts


def _own_overrides(story: Story, network: str, code: str) -> bool:
    """Whether ``network`` reads anything in ``code`` that other networks there do not."""
    return network in story.network_overrides or network in (
        story.market_network_overrides.get(code, {})
    )


def _withheld(fields: Resolved) -> bool:
    """A market that requires translations gets no post of a story it cannot read."""
    return any(f.is_error and f.code in TRANSLATION_CODES for f in fields.findings)


@dataclass(frozen=True, slots=True)
class _Target:
    """What a story's posts share on one network in one market, whatever the beat."""

    fields: Resolved
    facts: tuple[str, ...]
    hashtags: tuple[str, ...]  # without their leading "#"
    handle: str | None  # the account's, without "@"
    limit_override: int | None
    phrases: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class _Where:
    """When a post is due, and where its story and beat are written."""

    when: Localized
    story: Position
    beat: Position


@dataclass(slots=True)
class _Memo:
    """What planning learns once and reuses: merged phrases, and which templates it rendered
    (with one real context per network, to try the templates no story uses yet)."""

    phrases: dict[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    rendered: set[str] = field(default_factory=set)
    specimens: dict[str, tuple[PostContext, str | None]] = field(default_factory=dict)


def _unused_template_findings(lines: LineBook, memo: _Memo) -> list[Finding]:
    """Render every template no post used with a real context of its network, so a mistake in
    it shows now, not the day a story first needs it. Its findings are warnings: no post is
    broken yet."""
    out: list[Finding] = []
    for name, display in sorted(lines.sources.items()):
        network, _, file = name.partition("/")
        if display in memo.rendered or network not in memo.specimens:
            continue
        ctx, link = memo.specimens[network]
        beat = file.removesuffix(TEMPLATE_SUFFIX)
        if lines.template_name(network, beat) != name:
            continue
        draft = lines.render(replace(ctx, beat=beat), tracked_link=link)
        out.extend(
            replace(
                f,
                severity=Severity.WARNING,
                message=f"{f.message.split(' (rendering ', 1)[0]} (no story uses this "
                f"template yet; tried with the context of {ctx.story}/{ctx.beat}/"
                f"{ctx.network}/{ctx.market} as beat {beat!r})",
            )
            for f in draft.findings
        )
    return out


def _plan_post(
    story: Story,
    beat: Beat,
    line: EditorialLine,
    market: Market,
    account: Account,
    target: _Target,
    where: _Where,
    lines: LineBook,
    now: datetime,
    memo: _Memo,
) -> PlannedPost:
    network = line.network
    pid = f"{story.id}/{beat.name}/{network}/{market.code}"  # post_id()
    findings: list[Finding] = []
    when = where.when
    fields = target.fields
    if when.note is not None and when.message:
        findings.append(
            Finding.warning(
                story.launch.pos,
                f"time-{when.note}",
                f"{story.id}/{beat.name} in {market.code}: {when.message}",
            )
        )
    link = fields.link
    if link and line.voice_rules.utm:
        try:
            link = track(link, network=network, campaign=story.campaign, post_id=pid)
        except UntrackableURL as exc:
            findings.append(Finding.error(story.pos("link"), "link-untrackable", f"{pid}: {exc}"))
    inline = link if line.link_policy is LinkPolicy.INLINE else None
    ctx = PostContext(
        story=story.id,
        title=story.title,
        campaign=story.campaign,
        audience=str(story.audience),
        beat=beat.name,
        network=network,
        market=market.code,
        market_name=market.name,
        locale=market.locale,
        timezone=market.timezone,
        account_name=account.display,
        account_handle=target.handle,
        headline=fields.headline,
        hook=fields.hook or "",
        body=fields.body or "",
        facts=target.facts,
        hashtags=target.hashtags,
        link=inline,
        claim=fields.claim,
        media=fields.media,
        due_local=when.local,
        phrases=target.phrases,
    )
    draft = lines.render(ctx, tracked_link=link)
    thread: tuple[str, ...] = ()
    memo.rendered.add(draft.template)
    if network not in memo.specimens:
        memo.specimens[network] = (ctx, link)
    findings.extend(draft.findings)
    if draft.ok:
        checks = check_network(
            network,
            text=draft.text,
            title=draft.title,
            media=draft.media,
            pos=where.story,
            limit_override=target.limit_override,
        )
        if network == "x" and story.network_overrides.get("x", {}).get("thread", line.thread):
            checks = thread_checks(checks, text=draft.text, link=draft.link, pos=where.story)
            parts = split_thread(draft.text, link=draft.link).parts
            thread = parts if len(parts) > 1 else ()
        checks += check_voice(
            line.voice_rules,
            text=draft.text,
            locale=market.locale,
            signature=fields.claim,
            link=inline,
            pos=where.story,
        )
        if checks:
            draft_story = story.status is StoryStatus.DRAFT
            findings.extend(
                replace(
                    f,
                    severity=Severity.WARNING if draft_story and f.is_error else f.severity,
                    message=f"{pid}: {f.message} (template {draft.template})"
                    + (" [draft: an error once approved]" if draft_story and f.is_error else ""),
                )
                for f in checks
            )
    if when.utc <= now:
        findings.append(
            Finding.at(
                where.beat,
                Severity.INFO,
                PAST_DUE,
                f"{pid} was due at {when.utc:%Y-%m-%d %H:%M} UTC, before now: sync holds it",
            )
        )
    return PlannedPost(
        post_id=pid,
        story=story.id,
        beat=beat.name,
        network=network,
        market=market.code,
        account=account.key,
        account_name=account.display,
        timezone=market.timezone,
        due_utc=when.utc,
        due_local=when.local,
        text=draft.text,
        title=draft.title,
        link=draft.link,
        media=draft.media,
        first_comment=draft.first_comment,
        story_status=story.status,
        campaign=story.campaign,
        findings=tuple(findings),
        thread=thread,
    )


def _plan_level(finding: Finding) -> bool:
    """Whether a post's finding also belongs in the plan's (template ones are grouped)."""
    return finding.code not in (PAST_DUE, LEAK) and not finding.code.startswith(
        _TEMPLATE_CODE_PREFIX
    )


def _limit_overrides(content: Content, posts: list[PlannedPost]) -> dict[str, int]:
    by_account: dict[tuple[str, str], int] = {}
    for code, market in content.markets.items():
        for network, account in market.accounts.items():
            override = limit_override(account)
            if override is not None:
                by_account[(code, network)] = override
    if not by_account:
        return {}
    return {
        post.post_id: by_account[(post.market, post.network)]
        for post in posts
        if (post.market, post.network) in by_account
    }


def limit_override(account: Account) -> int | None:
    """A server's own text limit, where the account names one (Mastodon's ``max_characters``)."""
    raw = account.extra.get("max_characters")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _grouped_template_findings(posts: list[PlannedPost]) -> list[Finding]:
    """A broken template breaks every post it renders: report it once, with a count."""
    groups: dict[tuple[str, int, int, str, str], list[str]] = {}
    firsts: dict[tuple[str, int, int, str, str], Finding] = {}
    for post in posts:
        for f in post.findings:
            if not f.code.startswith(_TEMPLATE_CODE_PREFIX):
                continue
            core = f.message.split(" (rendering ", 1)[0]
            key = (f.file, f.line, f.column, f.code, core)
            groups.setdefault(key, []).append(post.post_id)
            firsts.setdefault(key, f)
    out = []
    for key, ids in groups.items():
        first = firsts[key]
        more = f" and {len(ids) - 1} other post(s)" if len(ids) > 1 else ""
        out.append(replace(first, message=f"{key[4]} (rendering {ids[0]}{more})"))
    return out
