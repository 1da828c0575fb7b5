"""Live mode end to end, with a real worker: an account without credentials is held (never
written to the outbox), then published once its credentials are added to the secrets file and
``storyline release`` is run — without restarting the worker.

As an operator would: a secrets file holding one X token (HoldoutFR's), ``db upgrade``,
``sync``, ``publish --now`` for both posts, ``celery -A worker worker --beat``. The post of
HoldoutUK goes ``held`` ("no credentials for x:HoldoutUK"); the operator adds its token to the
file and runs ``storyline release --account x:HoldoutUK``; the running worker publishes it to
the local X.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import yaml
from e2e_fakenets import XFake
from e2e_harness import ROOT, Run, worker, worker_env

from scheduler.app.publishing import dispatcher_for
from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: en
    accounts:
      x: {handle: HoldoutFR, name: Holdout France}
  gb:
    name: United Kingdom
    timezone: Europe/London
    locale: en
    accounts:
      x: {handle: HoldoutUK, name: Holdout UK}
"""
STORY = """\
title: Vela arrives
campaign: vela-launch
audience: public
status: approved
language: en
launch: 2027-03-01 09:00
networks: [x]
markets: [fr, gb]
beats:
  reveal: {offset: 0}
story:
  headline: Meet Vela
  hook: The quiet estate car.
  body: Vela is here.
link: https://holdout.example/vela
hashtags: [HoldoutVela]
"""
FR = "vela-launch/reveal/x/fr"
GB = "vela-launch/reveal/x/gb"
DEADLINE = 45.0


def wait_for(run: Run, proc, wanted: dict[str, str]) -> dict[str, dict]:
    """Poll the calendar until each post is in its wanted state; fail with the worker's log."""
    deadline = time.monotonic() + DEADLINE
    while True:
        posts = {p["post_id"]: p for p in run.read("post")}
        if all(posts[k]["status"] == v for k, v in wanted.items()):
            return posts
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = "\n".join(run.log.read_text(errors="replace").splitlines()[-30:])
            now = {k: (p["status"], p["status_reason"]) for k, p in posts.items()}
            raise AssertionError(f"wanted {wanted}, have {now}\nworker log:\n{tail}")
        time.sleep(0.3)


def test_an_account_without_credentials_is_held_then_published_after_release(
    tmp_path: Path,
) -> None:
    content = tmp_path / "content"
    (content / "stories").mkdir(parents=True)
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    (content / "stories" / "vela-launch.yaml").write_text(STORY, encoding="utf-8")
    fr_token, uk_token = f"fr-{uuid.uuid4().hex}", f"uk-{uuid.uuid4().hex}"
    x = XFake({"HoldoutFR": fr_token, "HoldoutUK": uk_token})
    secrets_file = tmp_path / "secrets.yaml"
    secrets_file.write_text(yaml.safe_dump({"x": {"HoldoutFR": {"access_token": fr_token}}}))
    try:
        env = worker_env(tmp_path, content, secrets_file, {"x": x}, media=_NoMedia())
        env.pop("STORYLINE_MEDIA_BASE_URL")
        run = Run(
            home=tmp_path,
            content=content,
            data_dir=tmp_path / "data",
            log=tmp_path / "worker.log",
            env=env,
            accounts={"x": ["HoldoutFR", "HoldoutUK"]},
            secrets=[fr_token, uk_token],
            fakes={"x": x},
            media=_NoMedia(),  # type: ignore[arg-type]
        )
        run.storyline("sync", now="2027-02-01T00:00:00Z")  # creates the calendar
        _publish_now(run, FR, GB)  # `storyline publish POST_ID --now`, in-process for speed
        with worker(run) as proc:
            posts = wait_for(run, proc, {FR: "published", GB: "held"})
            assert posts[GB]["hold_reason"] == "no_credentials"
            assert posts[GB]["status_reason"] == "no credentials for x:HoldoutUK"
            assert posts[FR]["destination"] == "x"
            assert not (run.data_dir / "outbox").exists(), "live mode wrote to the outbox"
            banner = _wait_for_log(run, "live mode: 1 account(s) have no credentials")
            assert "x:HoldoutUK" in banner and "(posts for them are held)" in banner

            # The operator adds the token to the file and releases the account's posts.
            secrets_file.write_text(
                yaml.safe_dump(
                    {
                        "x": {
                            "HoldoutFR": {"access_token": fr_token},
                            "HoldoutUK": {"access_token": uk_token},
                        }
                    }
                )
            )
            released = run.storyline("release", "--account", "x:HoldoutUK")
            assert "released 1 post(s)" in released and GB in released
            posts = wait_for(run, proc, {GB: "published"})
        assert posts[GB]["destination"] == "x"
        assert {c.account for c in x.created} == {"HoldoutFR", "HoldoutUK"}
        assert not (run.data_dir / "outbox").exists()
        status = run.storyline("status", GB)
        assert "published" in status and "(outbox)" not in status
    finally:
        x.close()


def _publish_now(run: Run, *post_ids: str) -> None:
    settings = Settings.from_env(run.env)
    engine = make_engine(f"sqlite:///{run.database}")
    try:
        dispatcher = dispatcher_for(settings, engine=engine, publishers=False)
        for post_id in post_ids:
            dispatcher.publish_now(post_id)
    finally:
        engine.dispose()


def _wait_for_log(run: Run, text: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in run.log.read_text(errors="replace").splitlines():
            if text in line:
                return line
        time.sleep(0.2)
    raise AssertionError(f"the worker never said {text!r}:\n{run.log.read_text()[-3000:]}")


class _NoMedia:
    """The story has no media: nothing to serve."""

    url = "http://127.0.0.1:9"

    def close(self) -> None:
        return None


assert ROOT.is_dir()
