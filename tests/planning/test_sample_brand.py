"""The sample brand planned end to end through the pipeline, as the CLI sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.app.pipeline import load_plan
from scheduler.app.settings import Settings
from scheduler.core.errors import NotFound
from scheduler.planning.plan import Plan, Selection

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    settings = Settings(
        content_dir=ROOT / "content",
        lines_dir=ROOT / "editorial_lines",
        data_dir=tmp_path_factory.mktemp("data"),
    )
    return load_plan(settings, NOW)


def test_the_sample_brand_plans_without_errors(sample: Plan) -> None:
    assert [f.format() for f in sample.findings if f.is_error] == []
    assert len(sample.posts) > 100


def test_the_world_premiere_reveal_is_one_instant_in_every_market(sample: Plan) -> None:
    reveal = [p for p in sample.posts if p.story == "nova-world-premiere" and p.beat == "reveal"]
    assert len({p.market for p in reveal}) >= 5
    assert {p.due_utc for p in reveal} == {datetime(2027, 2, 10, 17, 0, tzinfo=UTC)}


def test_the_dst_crossing_teaser_is_at_the_reveal_local_hour(sample: Plan) -> None:
    story = [p for p in sample.posts if p.story == "ev-charging-dst" and p.market == "us"]
    assert {p.due_local.strftime("%H:%M") for p in story} == {"09:00"}
    assert len({p.due_local.utcoffset() for p in story}) == 2


def test_every_post_text_is_in_its_network_voice_not_empty(sample: Plan) -> None:
    assert all(p.text.strip() for p in sample.posts)


def test_weibo_posts_use_the_double_hash_topic_style(sample: Plan) -> None:
    weibo = [p for p in sample.posts if p.network == "weibo"]
    assert weibo and all(p.text.startswith("#") and "#" in p.text[1:] for p in weibo)


def test_youtube_posts_have_a_title(sample: Plan) -> None:
    youtube = [p for p in sample.posts if p.network == "youtube"]
    assert youtube and all(p.title and len(p.title) <= 100 for p in youtube)


def test_an_unknown_story_is_not_found_with_close_matches(tmp_path: Path) -> None:
    settings = Settings(
        content_dir=ROOT / "content", lines_dir=ROOT / "editorial_lines", data_dir=tmp_path
    )
    with pytest.raises(NotFound, match="did you mean: aurora-launch"):
        load_plan(settings, NOW, Selection(stories=frozenset({"aurora-lanch"})))


def test_the_pipeline_keeps_the_database_broker_and_http_out_of_its_imports(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from pathlib import Path\n"
        "from scheduler.app.settings import Settings\n"
        "from scheduler.app.pipeline import load_plan\n"
        f"load_plan(Settings(content_dir=Path({str(ROOT / 'content')!r}), "
        f"lines_dir=Path({str(ROOT / 'editorial_lines')!r}), data_dir=Path({str(tmp_path)!r})),"
        " datetime.now(UTC))\n"
        "heavy = {'sqlalchemy', 'sqlmodel', 'celery', 'kombu', 'httpx'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
