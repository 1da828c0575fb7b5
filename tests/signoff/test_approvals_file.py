"""Reading ``approvals/<story>.yaml``: the quick scan agrees with the complete parse."""

from __future__ import annotations

from pathlib import Path

import yaml

from scheduler.content.approvals import _load_file, _scan, load_approvals

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = sorted((ROOT / "content" / "approvals").glob("*.yaml"))


def _records(loaded: object) -> dict[str, tuple[object, ...]]:
    posts = loaded.posts  # type: ignore[attr-defined]
    return {k: (a.by, a.at, a.hash, a.pos) for k, a in posts.items()}


def test_the_quick_scan_reads_what_the_complete_parse_reads() -> None:
    assert SAMPLE
    for path in SAMPLE:
        quick = _scan(path)
        assert quick is not None, f"{path.name}: not in the layout `approve` writes"
        findings: list[object] = []
        assert _records(quick) == _records(_load_file(path, findings))  # type: ignore[arg-type]
        assert findings == []


def test_a_file_in_another_layout_is_parsed_completely_and_still_counts(tmp_path: Path) -> None:
    source = SAMPLE[0]
    folder = tmp_path / "approvals"
    folder.mkdir()
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    # The same records, re-dumped by hand in flow style: not the layout the scan knows.
    (folder / source.name).write_text(yaml.safe_dump(data, default_flow_style=True, width=10_000))
    assert _scan(folder / source.name) is None
    loaded = load_approvals(tmp_path)
    assert loaded.findings == ()
    story = loaded.stories[source.stem]
    assert {k: a.hash for k, a in story.posts.items()} == {
        k: v["hash"] for k, v in data["posts"].items()
    }


def test_an_approvals_file_linking_out_of_the_content_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("story: aurora-launch\nposts: {}\n", encoding="utf-8")
    folder = tmp_path / "content" / "approvals"
    folder.mkdir(parents=True)
    (folder / "aurora-launch.yaml").symlink_to(outside)
    loaded = load_approvals(tmp_path / "content")
    assert loaded.stories == {}
    (finding,) = loaded.findings
    assert (finding.code, finding.line) == ("path-escape", 1)
