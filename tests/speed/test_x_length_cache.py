"""X lengths are kept between runs, so a repeat preview of unchanged posts never loads
twitter-text's URL extractor (compiling its expressions costs a preview a tenth of a second)
— and a stale or broken cache is never trusted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from scheduler.app import pipeline
from scheduler.text import networks, xlength

ROOT = Path(__file__).resolve().parents[2]

_PREVIEW = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from scheduler.app.settings import Settings
from scheduler.app.pipeline import load_plan
from scheduler.planning.plan import Selection

root = Path(sys.argv[2])
settings = Settings(
    content_dir=root / "content", lines_dir=root / "editorial_lines", data_dir=Path(sys.argv[1])
)
planned = load_plan(
    settings, datetime(2026, 11, 28, tzinfo=UTC), Selection(stories=frozenset({"aurora-launch"}))
)
problems = [f.message for p in planned.posts for f in p.findings if f.code.startswith("x-")]
print(json.dumps({"twitter_text": "scheduler.text.twitter_text.urls" in sys.modules,
                  "problems": problems,
                  "x_posts": sum(p.network == "x" for p in planned.posts)}))
"""


def _preview(data_dir: Path, root: Path = ROOT) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-c", _PREVIEW, str(data_dir), str(root)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def _brand_linking_to_a_known_domain(folder: Path) -> Path:
    """The sample brand, its story's links on ``.com``: a top-level domain twitter-text knows,
    so its URL extractor must run on them."""
    for name in ("content", "editorial_lines"):
        shutil.copytree(ROOT / name, folder / name)
    story = folder / "content" / "stories" / "aurora-launch.yaml"
    story.write_text(
        story.read_text("utf-8").replace("holdout.example", "holdout.com"), encoding="utf-8"
    )
    return folder


def test_a_repeat_preview_of_unchanged_posts_does_not_import_twitter_text(
    tmp_path: Path,
) -> None:
    root = _brand_linking_to_a_known_domain(tmp_path / "brand")
    first = _preview(tmp_path / "data", root)
    second = _preview(tmp_path / "data", root)
    assert first["twitter_text"] is True
    assert isinstance(first["x_posts"], int)
    assert first["x_posts"] > 0
    assert second["twitter_text"] is False
    assert second == {**first, "twitter_text": False}


def test_links_on_a_domain_twitter_text_does_not_know_never_import_it(tmp_path: Path) -> None:
    """The sample's links are on ``.example``: no word of an X post holds one of twitter-text's
    top-level domains, so even a first preview counts them without its extractor."""
    first = _preview(tmp_path)
    assert first["twitter_text"] is False
    assert first["problems"] == []


def test_the_cache_holds_text_hashes_and_lengths_under_the_data_dir(tmp_path: Path) -> None:
    _preview(tmp_path)
    data = json.loads((tmp_path / "cache" / pipeline.X_LENGTHS_FILE).read_text("utf-8"))
    text = "Seven seats. https://brand.example/suv 👀"
    assert data["version"] == pipeline._x_cache_version()
    assert all(len(key) == 64 and isinstance(n, int) for key, n in data["lengths"].items())
    assert xlength.x_text_key(text) == hashlib.sha256(text.encode()).hexdigest()
    assert text not in json.dumps(data)


def test_a_cache_of_another_version_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "x-lengths.json"
    key = xlength.x_text_key("hello")
    path.write_text(json.dumps({"version": "older", "lengths": {key: 999}}), encoding="utf-8")
    assert pipeline._read_x_lengths(path) == {}


def test_a_broken_cache_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "x-lengths.json"
    for broken in ("{not json", "[]", '{"version": null}'):
        path.write_text(broken, encoding="utf-8")
        assert pipeline._read_x_lengths(path) == {}


def test_entries_of_the_wrong_type_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "x-lengths.json"
    lengths = {"a": 3, "b": "3", "c": True, "d": 4.5}
    payload = {"version": pipeline._x_cache_version(), "lengths": lengths}
    path.write_text(json.dumps(payload), encoding="utf-8")
    assert pipeline._read_x_lengths(path) == {"a": 3}


def test_a_known_length_is_not_counted_again() -> None:
    text = "a text seeded as 7 characters long, whatever it really weighs"
    xlength.remember_x_lengths({xlength.x_text_key(text): 7})
    assert networks.measure("x", text) == 7
