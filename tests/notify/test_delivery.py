"""Notifications delivered for real, through apprise, to local Slack, Teams and SMTP servers:
each event once, batched per account, routed per market, retried when a channel is down."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from receivers import HttpReceiver, SmtpReceiver, free_port
from sqlalchemy import select
from sqlalchemy.engine import Engine

from scheduler.app.notify import MAX_ATTEMPTS, Notifier
from scheduler.app.notify_channels import channel_id
from scheduler.app.notify_store import DELIVERY, EVENT, unsent
from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine

from .conftest import NOW, ZONES, Clock, add_posts

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"


def teams_url(receiver: HttpReceiver) -> str:
    return f"workflows://127.0.0.1:{receiver.port}/wf0123456789/sigTEAMSSECRET"


def notifier(engine: Engine, clock: Clock, *urls: str, **by_market: str) -> Notifier:
    env = {"STORYLINE_NOTIFY": " ".join(urls), "STORYLINE_DIGEST_HOUR": ""}
    env |= {f"STORYLINE_NOTIFY_{m.upper()}": url for m, url in by_market.items()}
    return Notifier(engine, Settings.from_env(env), clock=clock, zones=ZONES)


def slack_texts(receiver: HttpReceiver) -> list[str]:
    return [f"{a['title']}\n{a['text']}" for r in receiver.received for a in r.body["attachments"]]


def teams_texts(receiver: HttpReceiver) -> list[str]:
    return [str(r.body["attachments"][0]["content"]["body"]) for r in receiver.received]


def test_held_posts_reach_slack_teams_and_email_once_each(
    engine: Engine,
    clock: Clock,
    slack: HttpReceiver,
    teams: HttpReceiver,
    smtp: SmtpReceiver,
) -> None:
    held = add_posts(engine, 3)
    notify = notifier(engine, clock, SLACK, teams_url(teams), smtp.url())
    report = notify.run()
    assert (report.recorded, report.messages, report.sent) == (3, 3, 3)
    assert len(slack.received) == len(teams.received) == len(smtp.mails) == 1
    [text] = slack_texts(slack)
    assert "x:BrandFR [fr]: 3 held" in text
    assert all(pid in text for pid in held)
    assert "no credentials for x:BrandFR" in text
    assert "3 held" in teams_texts(teams)[0]
    assert all(pid in teams_texts(teams)[0] for pid in held)
    [mail] = smtp.mails
    assert mail.recipients == ["cm-fr@example.com"]
    assert "x:BrandFR [fr]: 3 held" in mail.subject
    assert all(pid in mail.body for pid in held)
    # Nothing new: a later run tells nobody anything.
    clock.advance(60)
    assert notify.run().messages == 0
    assert len(slack.received) == len(teams.received) == len(smtp.mails) == 1


def test_failed_and_needs_review_posts_are_told_with_what_to_do(
    engine: Engine, clock: Clock, slack: HttpReceiver
) -> None:
    add_posts(engine, 1, status="failed", story="a", reason="HTTP 400: duplicate status")
    add_posts(engine, 1, status="needs_review", story="b", reason="sent, no answer")
    notifier(engine, clock, SLACK).run()
    [text] = slack_texts(slack)
    assert "1 failed, 1 needs review" in text
    assert "HTTP 400: duplicate status" in text
    assert "storyline resolve POST_ID --published URL" in text


def test_a_market_channel_hears_its_own_market_only(
    engine: Engine, clock: Clock, slack: HttpReceiver, smtp: SmtpReceiver
) -> None:
    add_posts(engine, 2, market="fr", account="BrandFR")
    add_posts(engine, 2, market="us", account="BrandUS")
    notifier(engine, clock, SLACK, fr=smtp.url("cm-fr@example.com")).run()
    assert sorted(t.split("\n")[0] for t in slack_texts(slack)) == [
        "Storyline · x:BrandFR [fr]: 2 held",
        "Storyline · x:BrandUS [us]: 2 held",
    ]
    assert [m.subject for m in smtp.mails] == ["Storyline · x:BrandFR [fr]: 2 held"]


def test_a_channel_that_is_down_is_retried_with_backoff_then_delivered_once(
    engine: Engine, clock: Clock, slack: HttpReceiver
) -> None:
    add_posts(engine, 2)
    slack.down = 1
    notify = notifier(engine, clock, SLACK)
    first = notify.run()
    assert (first.sent, first.failed, slack.refused) == (0, 1, 1)
    [row, _] = unsent_rows(engine)
    assert row.attempts == 1
    assert row.next_attempt_at == NOW + timedelta(seconds=30)
    assert row.last_error and "503" in row.last_error
    clock.advance(10)  # not yet due: nothing is tried
    assert notify.run().messages == 0
    assert slack.refused == 1 and slack.received == []
    clock.advance(25)
    assert notify.run().sent == 1
    assert len(slack.received) == 1
    assert unsent_rows(engine) == []
    clock.advance(600)
    assert notify.run().messages == 0
    assert len(slack.received) == 1


def unsent_rows(engine: Engine) -> list:
    with engine.connect() as conn:
        return unsent(conn)


def test_an_unreachable_channel_keeps_its_error_without_the_secrets_of_its_url(
    engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    add_posts(engine, 1)
    url = f"json://ops:hunter2secret@127.0.0.1:{free_port()}/hooks/tok3nSECRETvalue"
    with caplog.at_level(logging.DEBUG):
        report = notifier(engine, clock, url).run()
    assert report.failed == 1
    [row] = unsent_rows(engine)
    assert row.last_error
    assert row.channel == channel_id(url)
    everything = row.last_error + row.channel + caplog.text + " ".join(report.errors)
    for secret in ("hunter2secret", "tok3nSECRETvalue"):
        assert secret not in everything


def test_a_delivery_is_given_up_after_its_last_attempt(
    engine: Engine, clock: Clock, slack: HttpReceiver
) -> None:
    add_posts(engine, 1)
    slack.down = MAX_ATTEMPTS + 5
    notify = notifier(engine, clock, SLACK)
    for _ in range(MAX_ATTEMPTS + 2):
        notify.run()
        clock.advance(3600)
    [row] = unsent_rows(engine)
    assert (row.attempts, row.next_attempt_at) == (MAX_ATTEMPTS, None)
    assert slack.refused == MAX_ATTEMPTS


def test_two_notifiers_at_once_record_and_send_each_message_once(
    database_url: str, engine: Engine, clock: Clock, slack: HttpReceiver
) -> None:
    add_posts(engine, 40)
    add_posts(engine, 30, account="BrandFR2", network="facebook")
    engines = [make_engine(database_url) for _ in range(2)]
    notifiers = [notifier(e, clock, SLACK) for e in engines]
    barrier = threading.Barrier(2)

    def run(n: Notifier) -> None:
        barrier.wait()
        n.run()

    threads = [threading.Thread(target=run, args=(n,)) for n in notifiers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    notifiers[0].run()  # whatever the race left due
    for e in engines:
        e.dispose()
    titles = sorted(t.split("\n")[0] for t in slack_texts(slack))
    assert titles == [
        "Storyline · facebook:BrandFR2 [fr]: 30 held",
        "Storyline · x:BrandFR [fr]: 40 held",
    ]
    with engine.connect() as conn:
        assert conn.execute(select(EVENT.c.id)).all().__len__() == 70
        assert len(conn.execute(select(DELIVERY.c.event_id)).all()) == 70


def test_the_daily_digest_goes_out_once_in_the_markets_local_hour(
    engine: Engine, clock: Clock, smtp: SmtpReceiver
) -> None:
    add_posts(engine, 2, status="planned", story="soon", due=NOW + timedelta(hours=3))
    add_posts(engine, 1, status="planned", story="later", due=NOW + timedelta(hours=30))
    add_posts(engine, 1, status="held", story="stuck")
    env = {"STORYLINE_NOTIFY_FR": smtp.url(), "STORYLINE_DIGEST_HOUR": "8"}
    notify = Notifier(engine, Settings.from_env(env), clock=clock, zones=ZONES)
    clock.now = NOW - timedelta(hours=1)  # 07:30 in Paris: not yet
    notify.run()
    assert [m.subject for m in smtp.mails] == ["Storyline · x:BrandFR [fr]: 1 held"]
    clock.now = NOW  # 08:30 in Paris
    notify.run()
    clock.advance(20 * 60)
    notify.run()
    digests = [m for m in smtp.mails if "digest" in m.subject]
    assert [m.subject for m in digests] == ["Storyline · daily digest fr (2026-12-01)"]
    body = digests[0].body
    assert "Going out in the next 24 h (2):" in body
    assert "2026-12-01 11:30 CET soon/b0/x/fr" in body
    assert "later/" not in body
    assert "Held (1):" in body and "stuck/b0/x/fr" in body


def test_a_refused_token_and_a_token_about_to_die_are_told_and_a_renewed_one_is_not(
    engine: Engine, clock: Clock, slack: HttpReceiver
) -> None:
    from sqlmodel import Session

    from scheduler.calendar.tables import AccountToken

    add_posts(engine, 1, status="published", account="BrandFR")
    with Session(engine) as session:
        session.add_all(
            [
                AccountToken(
                    network="x",
                    account="BrandFR",
                    sealed="(sealed)",
                    status="refused",
                    last_error="invalid_grant",
                    updated_at=NOW,
                ),
                AccountToken(  # Weibo's tokens cannot be renewed: 3 days left is news
                    network="weibo",
                    account="5000000001",
                    sealed="(sealed)",
                    expires_at=NOW + timedelta(days=3),
                    updated_at=NOW - timedelta(days=27),
                ),
                AccountToken(  # X renews its 2-hour tokens itself: nothing to tell
                    network="x",
                    account="BrandDE",
                    sealed="(sealed)",
                    expires_at=NOW + timedelta(hours=2),
                    updated_at=NOW,
                ),
            ]
        )
        session.commit()
    notify = notifier(engine, clock, SLACK)
    notify.run()
    texts = sorted(slack_texts(slack))
    assert [t.split("\n")[0] for t in texts] == [
        "Storyline · weibo:5000000001: token expiring",
        "Storyline · x:BrandFR [fr]: needs re-auth",
    ]
    assert "it stops working on 2026-12-04T07:30:00+00:00" in texts[0]
    assert "Needs re-auth: invalid_grant" in texts[1]
    assert "storyline accounts connect x BrandFR" in texts[1]
    clock.advance(60)
    assert notify.run().messages == 0


def test_an_account_the_metrics_pull_found_without_insights_is_told_once(
    engine: Engine, clock: Clock, slack: HttpReceiver
) -> None:
    from sqlmodel import Session

    from scheduler.calendar.tables import MetricState

    add_posts(engine, 1, status="published", account="BrandFR")
    with Session(engine) as session:
        session.add(
            MetricState(  # what MetricsPuller records on the network's permission error
                network="x",
                account="BrandFR",
                post_id="",
                state="no_permission",
                detail="x: 403 the app lacks tweet.read",
                since=NOW,
            )
        )
        session.commit()
    notify = notifier(engine, clock, SLACK)
    notify.run()
    [text] = slack_texts(slack)
    assert text.startswith("Storyline · x:BrandFR [fr]: no insights permission\n")
    assert "No insights permission: x: 403 the app lacks tweet.read" in text
    clock.advance(60)
    assert notify.run().messages == 0


def test_a_hanging_channel_costs_one_run_its_budget_and_never_two_runs_at_once(
    engine: Engine, clock: Clock, slack: HttpReceiver
) -> None:
    from receivers import Hanging

    hang = Hanging()
    try:
        add_posts(engine, 1)
        env = {
            "STORYLINE_NOTIFY": f"json://127.0.0.1:{hang.port}/hook?rto=2&cto=1 {SLACK}",
            "STORYLINE_DIGEST_HOUR": "",
        }
        notify = Notifier(engine, Settings.from_env(env), clock=clock, zones=ZONES, budget_s=0.5)
        first: list = []
        runner = threading.Thread(target=lambda: first.append(notify.run()))
        runner.start()
        assert hang.accepted.wait(10)
        # Meanwhile the next beat's run returns at once: one run at a time per process.
        assert notify.run().messages == 0
        runner.join(15)
        # The hung channel used the budget: Slack's message waits for the next run, untried.
        assert (first[0].failed, first[0].sent) == (1, 0)
        assert slack.received == []
        slack_row = next(r for r in unsent_rows(engine) if r.channel.startswith("slack"))
        assert (slack_row.attempts, slack_row.next_attempt_at) == (0, None)
        clock.advance(1)
        assert notify.run().sent == 1  # the hung channel is not due again before its backoff
        assert len(slack.received) == 1
    finally:
        hang.close()


def test_apprise_and_urllib3_debug_lines_never_show_a_channel_secret(
    engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = HttpReceiver()
    try:
        add_posts(engine, 1)
        url = f"json://ops:pa55SECRETword@127.0.0.1:{receiver.port}/hooks/t0kenSECRETpath"
        with caplog.at_level(logging.DEBUG):
            assert notifier(engine, clock, url).run().sent == 1
        assert receiver.received[0].path == "/hooks/t0kenSECRETpath"
        assert "POST /hooks/" in caplog.text or "JSON POST URL" in caplog.text
        for secret in ("pa55SECRETword", "t0kenSECRETpath"):
            assert secret not in caplog.text
    finally:
        receiver.close()
