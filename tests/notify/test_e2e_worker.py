"""End to end: a real ``celery worker --beat`` tells people, through local Slack-style, Teams
and SMTP servers, about posts that went held and failed — each post in one message per
channel, never twice, and the French channel hears about France only; a fourth channel hangs
(accepts, never answers) and neither publishing nor the other channels wait for it.

The calendar is the sample's heritage story, synced after its slots (sync holds every post
"past due"); its Facebook posts are then put back as planned, two hours late, with a
60-second lateness limit: the worker claims them and fails them. The Slack-style receiver is
reached through apprise's ``mmost://`` (Mattermost's incoming webhooks take Slack's payload;
apprise's ``slack://`` has no host setting, see tests/notify/conftest.py), Teams through
``workflows://`` over HTTPS, e-mail through ``mailto://`` to aiosmtpd.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import closing, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from receivers import Hanging, HttpReceiver, SmtpReceiver

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STORY = "roadster-heritage"
POST_ID = re.compile(r"roadster-heritage/[\w-]+/\w+/\w+")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def storyline(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "storyline"), *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def posts(db: Path) -> list[sqlite3.Row]:
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        conn.row_factory = sqlite3.Row
        return list(conn.execute("SELECT * FROM post"))


def mentions(texts: list[str]) -> Counter[str]:
    return Counter(pid for text in texts for pid in POST_ID.findall(text))


def test_a_real_worker_tells_each_channel_once_about_held_and_failed_posts(
    tmp_path: Path,
) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content, ignore=shutil.ignore_patterns("stories"))
    (content / "stories").mkdir()
    shutil.copy2(ROOT / "content" / "stories" / f"{STORY}.yaml", content / "stories")
    slack, teams, smtp = HttpReceiver(), HttpReceiver(tls_dir=tmp_path), SmtpReceiver()
    stuck = Hanging()  # a channel in an outage: accepts, never answers
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    env.update(
        STORYLINE_DATA_DIR=str(tmp_path / "data"),
        STORYLINE_CONTENT_DIR=str(content),
        STORYLINE_LINES_DIR=str(ROOT / "editorial_lines"),
        STORYLINE_TICK_SECONDS="0.5",
        STORYLINE_QUEUE=f"sl-notify-{uuid.uuid4().hex[:8]}",
        STORYLINE_MAX_LATENESS_FACEBOOK="60",
        STORYLINE_DIGEST_HOUR="",
        STORYLINE_NOTIFY=(
            f"mmost://127.0.0.1:{slack.port}/sl4ckT0KEN "
            f"workflows://127.0.0.1:{teams.port}/wf0123/sigT3AMS "
            f"json://127.0.0.1:{stuck.port}/st4ckSECRET?rto=3"
        ),
        STORYLINE_NOTIFY_FR=smtp.url("cm-fr@example.com"),
        REQUESTS_CA_BUNDLE=str(teams.cert),
        PYTHONUNBUFFERED="1",
    )
    db = tmp_path / "data" / "storyline.db"
    log = tmp_path / "worker.log"
    proc = None
    try:
        storyline(env, "db", "upgrade")
        storyline({**env, "STORYLINE_NOW": "2027-03-01T12:00:00Z"}, "sync")
        # Stored as SQLAlchemy stores an instant in SQLite: UTC text, no offset.
        late = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.%f")
        with closing(sqlite3.connect(db, timeout=30)) as conn:
            conn.execute(
                "UPDATE post SET status='planned', hold_reason=NULL, status_reason=NULL, "
                "due_utc=? WHERE network='facebook'",
                (late,),
            )
            conn.commit()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "worker",
                    "worker",
                    "--beat",
                    "--loglevel=INFO",
                    "--concurrency=2",
                    f"--hostname=notify-{uuid.uuid4().hex[:6]}@%h",
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        failed = {p["post_id"] for p in posts(db) if p["network"] == "facebook"}
        deadline = time.monotonic() + 40  # a loaded machine: the usual run takes ~10 s
        while True:
            rows = posts(db)
            notable = {p["post_id"] for p in rows if p["status"] in ("held", "failed")}
            fr = {p for p in notable if p.endswith("/fr")}
            heard = (
                set(mentions([str(r.body) for r in slack.received])) >= notable
                and set(mentions([str(r.body) for r in teams.received])) >= notable
                and set(mentions([m.body for m in smtp.mails])) >= fr
                and all(p["status"] == "failed" for p in rows if p["post_id"] in failed)
            )
            if heard or time.monotonic() > deadline or proc.poll() is not None:
                break
            time.sleep(0.5)
        time.sleep(6)  # two more notifier runs: nothing may be told twice
        tail = log.read_text(errors="replace")[-3000:]
        assert heard, f"not every post was told in time; worker log:\n{tail}"
        assert failed and {p["post_id"] for p in rows if p["status"] == "failed"} == failed
        assert len(notable) > len(failed)  # held ones too
        for texts, expected in (
            ([str(r.body) for r in slack.received], notable),
            ([str(r.body) for r in teams.received], notable),
            ([m.body for m in smtp.mails], fr),
        ):
            told = mentions(texts)
            assert set(told) == expected
            assert set(told.values()) == {1}, told.most_common(3)
        accounts = {(p["network"], p["account"]) for p in rows if p["post_id"] in notable}
        assert len(accounts) <= len(slack.received) <= 2 * len(accounts)
        assert all(r.path == "/hooks/sl4ckT0KEN" for r in slack.received)
        assert any("Held (" in str(r.body) for r in slack.received)
        assert any("Failed (" in m.body for m in smtp.mails)
        assert all(m.recipients == ["cm-fr@example.com"] for m in smtp.mails)
        assert stuck.accepted.is_set()  # tried, and it held the notifier up: publishing went on
        for secret in ("sl4ckT0KEN", "sigT3AMS", "st4ckSECRET"):
            assert secret not in log.read_text(errors="replace")
    finally:
        if proc is not None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        slack.close()
        teams.close()
        smtp.close()
        stuck.close()
