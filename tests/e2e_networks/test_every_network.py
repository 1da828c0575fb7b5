"""End to end: a real ``celery -A worker worker --beat`` publishes the sample brand's calendar
to nine local networks at once, each through its real publisher (credentials for every
account), on the embedded default (SQLite calendar, SQLite broker).

The run happens once (the module's ``run`` fixture); each test states one thing it proves.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from e2e_fakenets import XFake
from e2e_harness import Run

from scheduler.publishers.bluesky import record_key
from scheduler.publishers.mastodon import idempotency_key

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NETWORKS = [
    "facebook",
    "instagram",
    "threads",
    "x",
    "linkedin",
    "youtube",
    "weibo",
    "mastodon",
    "bluesky",
]
#: The worker's pool size (``--concurrency``): caches (sessions, instance limits) are per process.
PROCESSES = 3


def media_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    return list(json.loads(post["media_json"] or "[]"))


def words(text: str) -> str:
    return " ".join(text.split())


def sent_text(run: Run, network: str, remote_id: str) -> str:
    """The text the network shows for a post (an X thread read back as one text)."""
    fake = run.fakes[network]
    if isinstance(fake, XFake):
        return " ".join(fake.thread_of(remote_id))
    (created,) = [c for c in fake.created if c.remote_id == remote_id]
    return created.text


def test_the_stories_reach_every_network_the_sample_brand_has_accounts_on(run: Run) -> None:
    assert sorted({p["network"] for p in run.posts}) == sorted(run.accounts) == sorted(NETWORKS)


def test_every_post_is_published_with_its_remote_id_and_url(run: Run) -> None:
    unfinished = [
        (p["post_id"], p["status"], p["remote_id"], p["url"])
        for p in run.posts
        if p["status"] != "published" or not p["remote_id"] or not p["url"]
    ]
    assert unfinished == []
    assert all(p["url"].startswith("https://") for p in run.posts)


def test_every_post_went_out_on_its_first_attempt_through_a_real_publisher(run: Run) -> None:
    """(The posts whose answer was lost have their own test below.)"""
    lost = {c.remote_id for f in run.fakes.values() for c in f.lost}
    posts = [p["post_id"] for p in run.posts if p["remote_id"] not in lost]
    outcomes = {p: [a["outcome"] for a in run.attempts if a["post_id"] == p] for p in posts}
    assert outcomes == {p: ["published"] for p in posts}
    assert not any(p["remote_id"].startswith("outbox/") for p in run.posts)
    outbox = run.data_dir / "outbox"
    assert not outbox.exists() or not any(f.is_file() for f in outbox.rglob("*"))


@pytest.mark.parametrize("network", NETWORKS)
def test_the_network_refused_no_request(run: Run, network: str) -> None:
    assert run.fakes[network].violations == []


@pytest.mark.parametrize("network", NETWORKS)
def test_the_network_shows_each_post_exactly_once_under_its_recorded_id(
    run: Run, network: str
) -> None:
    fake = run.fakes[network]
    created = Counter(c.remote_id for c in fake.created)
    recorded = Counter(p["remote_id"] for p in run.posts_of(network))
    assert created == recorded
    assert set(created.values()) == {1}
    owners = {c.remote_id: c.account for c in fake.created}
    assert {p["post_id"]: owners[p["remote_id"]] for p in run.posts_of(network)} == {
        p["post_id"]: p["account"] for p in run.posts_of(network)
    }


@pytest.mark.parametrize("network", NETWORKS)
def test_the_network_holds_no_upload_or_container_that_no_post_uses(run: Run, network: str) -> None:
    assert run.fakes[network].orphans() == []


@pytest.mark.parametrize("network", NETWORKS)
def test_the_network_shows_each_post_s_own_text(run: Run, network: str) -> None:
    """The text as written, give or take the link a media post carries in its text."""
    wrong = {}
    for post in run.posts_of(network):
        shown = words(sent_text(run, network, post["remote_id"]))
        allowed = {words(post["text"]), words(f"{post['text']} {post['link']}")}
        if shown not in allowed:
            wrong[post["post_id"]] = shown
    assert wrong == {}


@pytest.mark.parametrize("network", NETWORKS)
def test_a_post_whose_answer_was_lost_is_found_by_find_and_not_sent_again(
    run: Run, network: str
) -> None:
    fake = run.fakes[network]
    (lost,) = fake.lost
    (post,) = [p for p in run.posts_of(network) if p["remote_id"] == lost.remote_id]
    outcomes = [a["outcome"] for a in run.attempts if a["post_id"] == post["post_id"]]
    assert (post["status"], outcomes) == ("published", ["published"])
    same = [c.remote_id for c in fake.created if (c.account, c.key) == (lost.account, lost.key)]
    assert same == [lost.remote_id]


def test_mastodon_statuses_carry_an_idempotency_key_derived_from_their_post_id(run: Run) -> None:
    keys = {c.remote_id: c.key for c in run.fakes["mastodon"].created}
    posts = run.posts_of("mastodon")
    assert {keys[p["remote_id"]] for p in posts} == {idempotency_key(p["post_id"]) for p in posts}
    assert run.fakes["mastodon"].replays == 0  # type: ignore[attr-defined]


def test_bluesky_records_sit_at_the_record_key_derived_from_their_post_id(run: Run) -> None:
    keys = {c.remote_id: c.key for c in run.fakes["bluesky"].created}
    posts = run.posts_of("bluesky")
    assert {p["post_id"]: keys[p["remote_id"]] for p in posts} == {
        p["post_id"]: record_key(p["post_id"], utc(p["due_utc"])) for p in posts
    }


def utc(value: str) -> datetime:
    """A calendar instant as SQLite holds it (naive UTC text), made aware."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


# --- the documented requests, counted per network -------------------------------------------


def _calls(run: Run, network: str, method: str, path: str) -> int:
    return len(run.fakes[network].calls(method, path))


def _sizes(run: Run, network: str) -> list[int]:
    """How many media files each of the network's posts carries."""
    return [len(media_of(p)) for p in run.posts_of(network)]


def facebook_requests(run: Run) -> dict[str, tuple[object, object]]:
    sizes = _sizes(run, "facebook")
    pages = {p["account"] for p in run.posts_of("facebook")}
    fake = run.fakes["facebook"]
    feed = sum(len(fake.calls("POST", f"/v26.0/{page}/feed")) for page in pages)
    uploads = sum(len(fake.calls("POST", f"/v26.0/{page}/photos")) for page in pages)
    return {
        "POST /{page}/photos (one per picture)": (uploads, sum(sizes)),
        "POST /{page}/feed (a text post, or one for several pictures)": (
            feed,
            sum(1 for n in sizes if n != 1),
        ),
    }


def _container_requests(
    run: Run, network: str, edge: str, publish: str, quota: str
) -> dict[str, tuple[object, object]]:
    sizes = _sizes(run, network)
    fake = run.fakes[network]
    prefix = fake.prefix

    def count(method: str, suffix: str) -> int:
        return sum(
            1
            for r in fake.requests
            if r.method == method and r.path.startswith(prefix) and r.path.endswith("/" + suffix)
        )

    return {
        f"GET /{{user}}/{quota} (once per post)": (count("GET", quota), len(sizes)),
        f"POST /{{user}}/{edge} (a container per picture, + the carousel)": (
            count("POST", edge),
            sum(1 if n <= 1 else n + 1 for n in sizes),
        ),
        f"POST /{{user}}/{publish} (once per post)": (count("POST", publish), len(sizes)),
        "pictures downloaded from STORYLINE_MEDIA_BASE_URL": (
            len(fake.downloads),  # type: ignore[attr-defined]
            sum(sizes),
        ),
    }


def instagram_requests(run: Run) -> dict[str, tuple[object, object]]:
    return _container_requests(
        run, "instagram", "media", "media_publish", "content_publishing_limit"
    )


def threads_requests(run: Run) -> dict[str, tuple[object, object]]:
    return _container_requests(
        run, "threads", "threads", "threads_publish", "threads_publishing_limit"
    )


def x_requests(run: Run) -> dict[str, tuple[object, object]]:
    fake = run.fakes["x"]
    assert isinstance(fake, XFake)
    pictures = [m for p in run.posts_of("x") for m in media_of(p)]
    thread_posts = sum(len(fake.thread_of(c.remote_id)) for c in fake.created)
    return {
        "POST /2/media/upload (one per picture)": (
            _calls(run, "x", "POST", "/2/media/upload"),
            len(pictures),
        ),
        "POST /2/media/metadata (one per alt text)": (
            _calls(run, "x", "POST", "/2/media/metadata"),
            sum(1 for m in pictures if m.get("alt")),
        ),
        "POST /2/tweets (one per post of each thread)": (
            _calls(run, "x", "POST", "/2/tweets"),
            thread_posts,
        ),
        "threads started (one per post)": (len(fake.created), len(run.posts_of("x"))),
    }


def linkedin_requests(run: Run) -> dict[str, tuple[object, object]]:
    pictures = sum(_sizes(run, "linkedin"))
    uploads = sum(1 for r in run.fakes["linkedin"].requests if r.method == "PUT")
    return {
        "POST /rest/images?action=initializeUpload (one per picture)": (
            _calls(run, "linkedin", "POST", "/rest/images"),
            pictures,
        ),
        "PUT of the picture's bytes to its uploadUrl": (uploads, pictures),
        "POST /rest/posts (once per post)": (
            _calls(run, "linkedin", "POST", "/rest/posts"),
            len(run.posts_of("linkedin")),
        ),
    }


def youtube_requests(run: Run) -> dict[str, tuple[object, object]]:
    n = len(run.posts_of("youtube"))
    path = "/upload/youtube/v3/videos"
    puts = run.fakes["youtube"].calls("PUT", path)
    asks = [r for r in puts if not r.body and r.header("content-range").startswith("bytes */")]
    return {
        "POST resumable session (once per post)": (_calls(run, "youtube", "POST", path), n),
        "PUT of the video's bytes (once per post)": (sum(1 for r in puts if r.body), n),
        "PUT Content-Range: bytes */size (asks the session after the lost answer)": (
            len(asks),
            len(run.fakes["youtube"].lost),
        ),
    }


def weibo_requests(run: Run) -> dict[str, tuple[object, object]]:
    return {
        "POST /2/statuses/share.json (once per post)": (
            _calls(run, "weibo", "POST", "/2/statuses/share.json"),
            len(run.posts_of("weibo")),
        )
    }


def mastodon_requests(run: Run) -> dict[str, tuple[object, object]]:
    reads = _calls(run, "mastodon", "GET", "/api/v2/instance")
    return {
        f"GET /api/v2/instance, read {reads} times: once per worker process at most": (
            1 <= reads <= PROCESSES,
            True,
        ),
        "POST /api/v2/media (one per picture)": (
            _calls(run, "mastodon", "POST", "/api/v2/media"),
            sum(_sizes(run, "mastodon")),
        ),
        "POST /api/v1/statuses (once per post)": (
            _calls(run, "mastodon", "POST", "/api/v1/statuses"),
            len(run.posts_of("mastodon")),
        ),
    }


def bluesky_requests(run: Run) -> dict[str, tuple[object, object]]:
    accounts = {p["account"] for p in run.posts_of("bluesky")}
    sessions = _calls(run, "bluesky", "POST", "/xrpc/com.atproto.server.createSession")
    return {
        f"createSession, {sessions} times: once per account and worker process at most": (
            len(accounts) <= sessions <= len(accounts) * PROCESSES,
            True,
        ),
        "uploadBlob (one per picture)": (
            _calls(run, "bluesky", "POST", "/xrpc/com.atproto.repo.uploadBlob"),
            sum(_sizes(run, "bluesky")),
        ),
        "createRecord (once per post)": (
            _calls(run, "bluesky", "POST", "/xrpc/com.atproto.repo.createRecord"),
            len(run.posts_of("bluesky")),
        ),
    }


DOCUMENTED: dict[str, Callable[[Run], dict[str, tuple[object, object]]]] = {
    "facebook": facebook_requests,
    "instagram": instagram_requests,
    "threads": threads_requests,
    "x": x_requests,
    "linkedin": linkedin_requests,
    "youtube": youtube_requests,
    "weibo": weibo_requests,
    "mastodon": mastodon_requests,
    "bluesky": bluesky_requests,
}


@pytest.mark.parametrize("network", NETWORKS)
def test_the_network_received_the_documented_requests_once_per_post(run: Run, network: str) -> None:
    """Each step of the network's documented flow, counted: seen == expected."""
    counts = DOCUMENTED[network](run)
    assert {k: seen for k, (seen, _) in counts.items()} == {
        k: expected for k, (_, expected) in counts.items()
    }


# --- secrets ---------------------------------------------------------------------------------


def test_no_secret_appears_in_the_database_the_data_dir_the_logs_or_the_output(run: Run) -> None:
    secrets = [*run.secrets, *(s for f in run.fakes.values() for s in f.secrets_issued())]
    assert len(secrets) > len(NETWORKS)
    places = {str(f): f.read_bytes() for f in run.data_dir.rglob("*") if f.is_file()}
    places[str(run.log)] = run.log.read_bytes()
    places["storyline CLI output"] = "\n".join(run.cli_output).encode()
    leaks = {
        where: [s[:20] + "..." for s in secrets if s.encode() in data]
        for where, data in places.items()
    }
    assert {k: v for k, v in leaks.items() if v} == {}
    assert str(run.database) in places


def test_every_account_s_secret_reached_its_own_network_only(run: Run) -> None:
    """The scan above looks for strings that really travelled: each network saw its own."""
    for network, fake in run.fakes.items():
        others = [s for n, f in run.fakes.items() if n != network for s in f.tokens.values()]
        traffic = b"\n".join(
            r.body + json.dumps(r.query).encode() + r.header("authorization").encode()
            for r in fake.requests
        )
        used = {account for account, secret in fake.tokens.items() if secret.encode() in traffic}
        assert used == {p["account"] for p in run.posts_of(network)}, network
        assert not any(s.encode() in traffic for s in others), network


def test_the_worker_log_holds_no_traceback(run: Run) -> None:
    log = run.log.read_text(errors="replace")
    assert "Traceback" not in log
    assert "storyline.publish" in log
