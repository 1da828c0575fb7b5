"""The social wall's memory after an hour of updates, in headless Chromium, fast-forwarded.

An hour on a motor-show stand, as the page lives it: the page polls its feed every 2 s
(1,800 polls) while a post goes out every 10 s (360 posts, each with its own photo) and the
metric pulls update the counts of recent posts. Fast-forwarded: the page polls every 50 ms and
the bench publishes a post every 5 of its polls into a real SQLite calendar behind a real
``storyline wall`` server (``scheduler.interfaces.wall.make_server``), so the page does the
same work (polls, new cards, count updates, cards and photos dropped past the cap of 30) in
a fraction of the time. The DevTools client of ``tests/preview`` drives Debian's Chromium.

Measured after a forced garbage collection, at the start (first posts shown) and at the end:
the page's JavaScript heap, its DOM nodes and event listeners (``Performance.getMetrics``),
and the proportional set size (PSS) of the page's renderer process, which holds the heap, the
DOM, the layout and the decoded photos: the "browser memory" of the page. The browser's own
process (GPU, network) is shared by every tab and is not the page's. Target: renderer
< 50 MB at the end, and the DOM bounded (as many nodes at the end as with 30 cards).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.calendar.tables import MetricSnapshot, Post
from scheduler.interfaces import wall

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "preview"))

import preview_cdp  # noqa: E402

FLAGS = list(preview_cdp.FLAGS)

POST = Post.__table__  # type: ignore[attr-defined]
SNAPSHOT = MetricSnapshot.__table__  # type: ignore[attr-defined]
NETWORKS = ("x", "facebook", "instagram", "linkedin", "threads", "mastodon", "bluesky")
MARKETS = {"fr": "Europe/Paris", "de": "Europe/Berlin", "br": "America/Sao_Paulo"}
REAL_POLL_S = 2.0
REAL_POST_EVERY_S = 10.0
FAST_POLL_S = 0.05
MAX_POSTS = wall.WallOptions().max_posts
TARGET_MB = 50.0
TRACE = "--trace" in sys.argv


def _row(i: int, at: datetime) -> dict[str, Any]:
    network = NETWORKS[i % len(NETWORKS)]
    market = list(MARKETS)[i % len(MARKETS)]
    post_id = f"show{i:04d}/live/{network}/{market}"
    return {
        "post_id": post_id,
        "story": f"show{i:04d}",
        "beat": "live",
        "network": network,
        "market": market,
        "account": "1",
        "account_name": "Holdout",
        "campaign": "motor-show",
        "text": f"Live from the stand, moment {i}: the Aurora under the lights. " * 3,
        "media_json": f'[{{"file": "media/photo-{i:04d}.jpg", "alt": "Photo {i}", '
        '"kind": "image"}]',
        "content_hash": "0" * 64,
        "due_utc": at,
        "timezone": MARKETS[market],
        "status": "published",
        "attempts": 1,
        "created_at": at,
        "updated_at": at,
        "published_at": at,
        "destination": "outbox",
    }


def _counts(i: int) -> dict[str, int]:
    return {"likes": 10 * i, "reach": 100 * i, "comments": i}


def _renderer_memory_mb(browser: preview_cdp.Browser) -> tuple[float, float]:
    """(PSS, private) of the renderer processes under this browser (one: the wall's tab).

    PSS shares the pages a process shares (Chromium's code, the compositor's shared memory)
    among the processes mapping them, so other Chromiums on the machine move it a little;
    private memory (USS) is the process's alone, whatever else runs.
    """
    process = browser._process  # the bench owns this browser
    assert process is not None
    pss_kb = private_kb = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            status = (proc / "status").read_text()
        except OSError:
            continue
        # Chromium rewrites its argv as one string: the flags are words of cmdline[0].
        flags = b" ".join(cmdline).split()
        if b"--type=renderer" not in flags or b"--top-chrome-webui" in flags:
            continue
        ppid = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("PPid:"))
        if not _descends(ppid, process.pid):
            continue
        for line in (proc / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss_kb += int(line.split()[1])
            elif line.startswith(("Private_Clean:", "Private_Dirty:")):
                private_kb += int(line.split()[1])
    return pss_kb / 1024, private_kb / 1024


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        pid = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("PPid:"))
    return False


def _metrics(browser: preview_cdp.Browser) -> dict[str, float]:
    browser.call("HeapProfiler.enable", session=True)
    browser.call("HeapProfiler.collectGarbage", session=True)
    browser.call("Performance.enable", session=True)
    found = browser.call("Performance.getMetrics", session=True)["metrics"]
    values = {m["name"]: float(m["value"]) for m in found}
    pss, private = _renderer_memory_mb(browser)
    return {
        "heap_mb": values["JSHeapUsedSize"] / 2**20,
        "nodes": values["Nodes"],
        "listeners": values["JSEventListeners"],
        "pss_mb": pss,
        "private_mb": private,
        "cards": float(browser.evaluate("document.querySelectorAll('.wall-post').length")),
        "elements": float(browser.evaluate("document.getElementsByTagName('*').length")),
    }


def _close_other_tabs(browser: preview_cdp.Browser) -> None:
    """Chromium starts with an about:blank tab of its own: closed, so one renderer remains."""
    for target in browser.call("Target.getTargets")["targetInfos"]:
        if target["type"] == "page" and not target["attached"]:
            browser.call("Target.closeTarget", targetId=target["targetId"])


def measure(minutes: float) -> dict[str, Any]:
    polls = int(minutes * 60 / REAL_POLL_S)
    posts = int(minutes * 60 / REAL_POST_EVERY_S)
    polls_per_post = REAL_POST_EVERY_S / REAL_POLL_S
    with tempfile.TemporaryDirectory(prefix="storyline-bench-wall-") as tmp:
        content = Path(tmp) / "content"
        (content / "media").mkdir(parents=True)
        photos = sorted((ROOT / "content" / "media").glob("*.jpg"))
        for i in range(posts + MAX_POSTS):  # a photo of its own per post, as on a stand
            shutil.copyfile(photos[i % len(photos)], content / "media" / f"photo-{i:04d}.jpg")
        settings = Settings(content_dir=content, data_dir=Path(tmp) / "data")
        engine = make_engine(settings.database_url)
        upgrade(engine)
        start = datetime.now(UTC) - timedelta(hours=2)
        # The wall opens on a stand that already published: a full page from the start.
        first_rows = [
            _row(i, start + timedelta(seconds=REAL_POST_EVERY_S * i)) for i in range(MAX_POSTS)
        ]
        with engine.begin() as conn:
            conn.execute(insert(POST), first_rows)
            conn.execute(
                insert(SNAPSHOT),
                [
                    {"post_id": r["post_id"], "window": "manual", "taken_at": start, **_counts(1)}
                    for r in first_rows
                ],
            )
        options = wall.WallOptions(poll_seconds=FAST_POLL_S, max_posts=MAX_POSTS)
        server = wall.make_server(settings, options, port=0)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        published = [MAX_POSTS]
        trace: list[tuple[int, dict[str, float]]] = []

        def publish_one() -> None:
            """The next post, and the 1 h and 24 h counts of two older ones."""
            i = published[0]
            at = start + timedelta(seconds=REAL_POST_EVERY_S * i)
            with engine.begin() as conn:
                conn.execute(insert(POST), [_row(i, at)])
                for back, window in ((3, "1h"), (12, "24h")):
                    row = {"post_id": _row(i - back, at)["post_id"], "window": window}
                    conn.execute(insert(SNAPSHOT), [{**row, "taken_at": at, **_counts(i)}])
            published[0] = i + 1

        try:
            # One renderer for every tab: the wall's is then the only one to measure.
            preview_cdp.FLAGS = [*FLAGS, "--renderer-process-limit=1"]
            with preview_cdp.Browser(width=1920, height=1080) as browser:
                _close_other_tabs(browser)
                browser.open("about:blank")
                time.sleep(1)
                blank = _metrics(browser)
                browser.open(wall.wall_url(server))
                # The DevTools client records the network for the tests; an inspector that keeps
                # every response would be measured as the page's memory: off for the hour.
                browser.call("Network.disable", session=True)
                deadline = time.monotonic() + 30
                while browser.evaluate("window.storylineWall.added") < MAX_POSTS:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the wall did not show its first posts")
                    time.sleep(0.1)
                time.sleep(1)  # the photos decode
                first = _metrics(browser)
                started = time.perf_counter()
                done = 0
                while done < polls:
                    done = int(browser.evaluate("window.storylineWall.polls"))
                    # One post every ``polls_per_post`` polls of the page, as on the stand.
                    while published[0] - MAX_POSTS < min(posts, done / polls_per_post):
                        publish_one()
                    time.sleep(FAST_POLL_S)
                    if TRACE and done // 150 > len(trace):
                        trace.append((done, _metrics(browser)))
                elapsed = time.perf_counter() - started
                time.sleep(1)
                last = _metrics(browser)
                state = browser.evaluate("window.storylineWall")
                errors = list(browser.console_errors)
        finally:
            preview_cdp.FLAGS = FLAGS
            server.shutdown()
            server.server_close()
            thread.join()
            feed_engine = server.wall._engine  # type: ignore[attr-defined]
            if feed_engine is not None:
                feed_engine.dispose()
            engine.dispose()
    return {
        "minutes": minutes,
        "polls": int(state["polls"]),
        "posts": published[0] - MAX_POSTS,
        "added": int(state["added"]),
        "removed": int(state["removed"]),
        "failures": int(state["failures"]),
        "elapsed": elapsed,
        "blank": blank,
        "first": first,
        "last": last,
        "errors": errors,
        "trace": trace,
    }


def run(quick: bool = False) -> str:
    minutes = 10.0 if quick else 60.0
    m = measure(minutes)
    blank, first, last = m["blank"], m["first"], m["last"]
    share = last["pss_mb"] - blank["pss_mb"]
    grown = last["pss_mb"] - first["pss_mb"]
    share_ok = share < TARGET_MB
    dom_ok = last["cards"] == MAX_POSTS and last["nodes"] <= first["nodes"] * 1.1
    clean = not m["errors"] and m["failures"] == 0
    label = "an hour" if minutes == 60 else f"{minutes:g} minutes"
    return "\n".join(
        [
            "## The social wall's memory after an hour of updates (`bench/wall.py`)",
            "",
            f"`python -m bench wall{' --quick' if quick else ''}`: {label} of a motor-show "
            f"stand, fast-forwarded in headless Chromium: the page's {m['polls']:,} polls "
            f"(every {REAL_POLL_S:g} s for real, every {FAST_POLL_S * 1000:g} ms here), "
            f"{m['posts']:,} posts published meanwhile (one every {REAL_POST_EVERY_S:g} s, each "
            "with its own 480x270 photo) and their counts updated, into a real SQLite calendar "
            f"behind `storyline wall`; done in {m['elapsed']:.0f} s. The page keeps "
            f"{MAX_POSTS} cards: {m['added']:,} added, {m['removed']:,} dropped with their "
            "photos. Memory is the PSS of the page's renderer process (heap, DOM, layout, "
            "decoded photos, and the renderer's own code and data), after a forced garbage "
            "collection; the page's share is that minus the same renderer on `about:blank`. "
            "The full hour is `python -m bench wall` (about 3 minutes).",
            "",
            f"| measure | about:blank | start ({MAX_POSTS} posts) | end | target | |",
            "|---|---:|---:|---:|---:|---|",
            f"| renderer memory (PSS) | {blank['pss_mb']:.1f} MB | {first['pss_mb']:.1f} MB "
            f"| {last['pss_mb']:.1f} MB | | |",
            f"| the wall page's share (end - about:blank) | | | {share:.1f} MB "
            f"| < {TARGET_MB:g} MB | {'pass' if share_ok else 'FAIL'} |",
            f"| renderer private memory (USS) | {blank['private_mb']:.1f} MB "
            f"| {first['private_mb']:.1f} MB | {last['private_mb']:.1f} MB | | |",
            f"| growth over the run (end - start) | | | {grown:+.1f} MB | | |",
            f"| JavaScript heap used | | {first['heap_mb']:.2f} MB | {last['heap_mb']:.2f} MB "
            "| | |",
            f"| DOM nodes | | {first['nodes']:,.0f} | {last['nodes']:,.0f} | bounded "
            f"| {'pass' if dom_ok else 'FAIL'} |",
            f"| cards on the page | | {first['cards']:.0f} | {last['cards']:.0f} | {MAX_POSTS} | |",
            f"| event listeners | | {first['listeners']:.0f} | {last['listeners']:.0f} | | |",
            f"| failed polls, console errors | | | {m['failures']}, {len(m['errors'])} "
            f"| 0, 0 | {'pass' if clean else 'FAIL'} |",
        ]
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
    if TRACE:
        for polls, m in measure(60.0)["trace"]:
            print(polls, {k: round(v, 1) for k, v in m.items()})
