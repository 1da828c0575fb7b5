"""The run behind the every-network test: the sample brand, its secrets, its networks, a worker.

Steps, as an operator would take them: copy the sample brand (a few stories), write a secrets
file for every account, ``storyline db upgrade`` and ``storyline sync`` on the embedded default
(SQLite calendar, ``sqla+sqlite`` broker in the data dir), make every post due now (the
operator's ``storyline publish POST_ID --now``), start ``celery -A worker worker --beat`` and
wait until every post is published. Each network drops its answer to the first post it
creates (the post exists, the worker hears nothing): the worker must find it with the
publisher's ``find``, never send it twice. The worker is killed in ``finally`` whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from e2e_fakenets import FAKES, FakeNetwork, MediaServer

from scheduler.app.publishing import dispatcher_for
from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

#: Two stories of the sample brand that, together, reach every network it has accounts on
#: (the test checks that they still do): about a hundred posts.
STORIES = ("aurora-launch", "roadster-heritage")
#: The clock of the sync: before the sample's first post, so every post is ``planned``.
SYNC_NOW = "2026-11-28T12:00:00Z"
#: Secret fields per network (Bluesky's ``identifier`` is the public handle, not a secret).
SECRET_FIELDS = {"bluesky": ("app_password",)}
PUBLISH_TIMEOUT = 90.0
TERMINAL = {"failed", "held", "needs_review", "cancelled"}


def copy_brand(dest: Path) -> Path:
    """The sample brand's markets and media with only :data:`STORIES`."""
    content = dest / "content"
    shutil.copytree(ROOT / "content", content, ignore=shutil.ignore_patterns("stories"))
    (content / "stories").mkdir()
    for story in STORIES:
        shutil.copy2(ROOT / "content" / "stories" / f"{story}.yaml", content / "stories")
    return content


def accounts_of(content: Path) -> dict[str, list[str]]:
    """Every account key (``id`` or ``handle``) of ``markets.yaml``, by network."""
    markets = yaml.safe_load((content / "markets.yaml").read_text(encoding="utf-8"))["markets"]
    out: dict[str, list[str]] = {}
    for market in markets.values():
        for network, account in (market.get("accounts") or {}).items():
            out.setdefault(network, []).append(str(account.get("id") or account["handle"]))
    return out


def plant_secrets(accounts: Mapping[str, list[str]]) -> dict[str, dict[str, dict[str, str]]]:
    """A distinct, recognisable secret for every account on every network."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for network, keys in accounts.items():
        for key in keys:
            secret = f"sl-planted-{network}-{uuid.uuid4().hex}"
            fields = (
                {"identifier": key, "app_password": secret}
                if network == "bluesky"
                else {"access_token": secret}
            )
            out.setdefault(network, {})[key] = fields
    return out


def secret_values(secrets: Mapping[str, Mapping[str, Mapping[str, str]]]) -> list[str]:
    return [
        value
        for network, accounts in secrets.items()
        for fields in accounts.values()
        for name, value in fields.items()
        if name in SECRET_FIELDS.get(network, ("access_token",))
    ]


def tokens_for(
    network: str, secrets: Mapping[str, Mapping[str, Mapping[str, str]]]
) -> dict[str, str]:
    """What the fake network accepts from each account (its token or app password)."""
    field_name = SECRET_FIELDS.get(network, ("access_token",))[0]
    return {key: fields[field_name] for key, fields in secrets.get(network, {}).items()}


@dataclass
class Run:
    """Everything the assertions look at once the worker has published the calendar."""

    home: Path
    content: Path
    data_dir: Path
    log: Path
    env: dict[str, str]
    accounts: dict[str, list[str]]
    secrets: list[str]
    fakes: dict[str, FakeNetwork]
    media: MediaServer
    cli_output: list[str] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def database(self) -> Path:
        return self.data_dir / "storyline.db"

    def posts_of(self, network: str) -> list[dict[str, Any]]:
        return [p for p in self.posts if p["network"] == network]

    def storyline(self, *args: str, now: str | None = None) -> str:
        """Run the ``storyline`` CLI as an operator would; its output is kept for the scan."""
        env = dict(self.env)
        if now:
            env["STORYLINE_NOW"] = now
        done = subprocess.run(
            [str(BIN / "storyline"), *args],
            cwd=self.home,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.cli_output += [done.stdout, done.stderr]
        assert done.returncode == 0, f"storyline {' '.join(args)}: {done.stderr}"
        return done.stdout

    def read(self, table: str) -> list[dict[str, Any]]:
        with closing(sqlite3.connect(self.database, timeout=30)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]


def worker_env(
    home: Path,
    content: Path,
    secrets_file: Path,
    fakes: Mapping[str, FakeNetwork],
    media: MediaServer,
) -> dict[str, str]:
    """Only the data dir, the content and the network settings: the rest is the default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    env.update(
        STORYLINE_DATA_DIR=str(home / "data"),
        STORYLINE_CONTENT_DIR=str(content),
        STORYLINE_LINES_DIR=str(ROOT / "editorial_lines"),
        STORYLINE_SECRETS_FILE=str(secrets_file),
        STORYLINE_MEDIA_BASE_URL=media.url,
        STORYLINE_TICK_SECONDS="0.5",
        STORYLINE_BACKOFF_SECONDS="2",  # a retry, if any, comes back within the run
        STORYLINE_QUEUE=f"sl-e2e-networks-{uuid.uuid4().hex[:8]}",
        PYTHONUNBUFFERED="1",
    )
    for network, fake in fakes.items():
        env[f"STORYLINE_API_BASE_{network.upper()}"] = fake.base_url
    return env


def make_all_due_now(run: Run) -> None:
    """``storyline publish POST_ID --now`` for every post: the first through the CLI itself,
    the others through the same dispatcher method in-process (a CLI process per post would
    cost a second each)."""
    ids = sorted(p["post_id"] for p in run.read("post"))
    run.storyline("publish", ids[0], "--now")
    settings = Settings.from_env(run.env)
    engine = make_engine(f"sqlite:///{run.database}")
    try:
        dispatcher = dispatcher_for(settings, engine=engine, publishers=False)
        for post_id in ids[1:]:
            dispatcher.publish_now(post_id)
    finally:
        engine.dispose()


@contextmanager
def worker(run: Run) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A worker worker --beat`` from the repository root, killed on the way out."""
    args = [
        str(BIN / "celery"),
        "-A",
        "worker",
        "worker",
        "--beat",
        "--loglevel=INFO",
        "--concurrency=3",
        f"--hostname=e2e-networks-{uuid.uuid4().hex[:6]}@%h",
        "--without-mingle",
        "--without-gossip",
    ]
    with run.log.open("wb") as out:
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=run.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool children die with it
        )
    try:
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def wait_until_published(run: Run, proc: subprocess.Popen[bytes]) -> None:
    """Poll the calendar until every post is ``published``; fail early on a terminal state."""
    deadline = time.monotonic() + PUBLISH_TIMEOUT
    while True:
        posts = run.read("post")
        pending = {p["post_id"]: p["status"] for p in posts if p["status"] != "published"}
        stuck = {
            p["post_id"]: f"{p['status']}: {p['status_reason']}"
            for p in posts
            if p["status"] in TERMINAL
        }
        if not pending:
            return
        if stuck or proc.poll() is not None or time.monotonic() > deadline:
            tail = "\n".join(run.log.read_text(errors="replace").splitlines()[-40:])
            violations = {n: f.violations for n, f in run.fakes.items() if f.violations}
            raise AssertionError(
                f"not every post was published: {json.dumps(stuck or pending, indent=1)}\n"
                f"requests the networks refused: {json.dumps(violations, indent=1)}\n"
                f"worker log:\n{tail}"
            )
        time.sleep(0.5)


@contextmanager
def publish_the_sample(home: Path) -> Iterator[Run]:
    """The whole run; yields it once every post is published. Servers close afterwards."""
    content = copy_brand(home)
    accounts = accounts_of(content)
    secrets = plant_secrets(accounts)
    secrets_file = home / "secrets.yaml"
    secrets_file.write_text(yaml.safe_dump(secrets), encoding="utf-8")
    media = MediaServer(content)
    fakes: dict[str, FakeNetwork] = {}
    try:
        for network in accounts:
            tokens = tokens_for(network, secrets)
            make = FAKES[network]
            fakes[network] = (
                make(tokens, media.url) if network in ("instagram", "threads") else make(tokens)
            )
            fakes[network].lose_first_answer = True
        run = Run(
            home=home,
            content=content,
            data_dir=home / "data",
            log=home / "worker.log",
            env=worker_env(home, content, secrets_file, fakes, media),
            accounts=accounts,
            secrets=secret_values(secrets),
            fakes=fakes,
            media=media,
        )
        run.storyline("db", "upgrade")
        run.storyline("sync", now=SYNC_NOW)
        make_all_due_now(run)
        started = time.monotonic()
        with worker(run) as proc:
            wait_until_published(run, proc)
        run.posts = run.read("post")
        run.attempts = run.read("attempt")
        run.cli_output.append(f"published in {time.monotonic() - started:.1f}s")
        yield run
    finally:
        for fake in fakes.values():
            fake.close()
        media.close()
