"""``content/approvals/<story>.yaml``: who signed off which post, bound to what it sends.

One file per story, tracked in git, so CODEOWNERS can give each market its own reviewers and a
sign-off is reviewed like code. ``storyline approve`` writes them (:func:`approvals_text`);
every content command reads them (:func:`load_approvals`). Each record keeps the snapshot of
what was approved beside its hash, so a hand-edited hash is caught (the snapshot no longer
hashes to it) and a later change can be shown as a diff.

Every problem in these files is a *warning* at its file:line: a broken or stale sign-off counts
as no sign-off for its own posts (they stay held) and blocks no other story.
``validate --require-signoff`` turns them into errors for CI.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from scheduler.content.files import ID_PATTERN, STORY_SUFFIXES
from scheduler.content.yamlpos import Node, load_yaml, scalar_text
from scheduler.core.diagnostics import Finding, Position
from scheduler.core.signoff import Sent, SentMedia, approver_problem, signoff_hash, utc_text

APPROVALS_DIR_NAME = "approvals"


@dataclass(slots=True)
class Approval:
    """One post's sign-off as the file records it (not frozen: a year of them is built on
    every run, and a frozen dataclass's ``__init__`` costs twice as much)."""

    post_id: str
    by: str
    at: datetime  # aware UTC
    hash: str
    pos: Position
    #: What was approved; None when read by the quick scan (:func:`_scan`): planning asks
    #: :meth:`Approvals.full` for it only when the hash no longer matches the post.
    sent: Sent | None = None


#: What the quick scan keeps of a record: approver, time and hash.
Head = tuple[str, datetime, str]


class Records(Mapping[str, Approval]):
    """A scanned file's records: kept as :data:`Head` tuples, an :class:`Approval` (with the
    line of its post id, looked up then) built only for the few a finding or a diff needs: a
    year of them is read on every run."""

    __slots__ = ("_built", "_data", "_path", "_raw")

    def __init__(self, raw: dict[str, Head], path: str, data: bytes) -> None:
        self._raw = raw
        self._path = path
        self._data = data  # the file's bytes
        self._built: dict[str, Approval] = {}

    def head(self, post_id: str) -> Head | None:
        return self._raw.get(post_id)

    def __getitem__(self, post_id: str) -> Approval:
        built = self._built.get(post_id)
        if built is None:
            by, at, digest = self._raw[post_id]
            start = self._data.find(b"\n  " + post_id.encode() + b":\n")  # never the first line
            pos = Position(self._path, self._data.count(b"\n", 0, start + 1) + 1, 3)
            built = self._built[post_id] = Approval(post_id, by, at, digest, pos)
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


@dataclass(frozen=True, slots=True)
class StoryApprovals:
    """One story's approvals file."""

    story: str
    path: str
    posts: Mapping[str, Approval]


@dataclass(frozen=True, slots=True)
class Approvals:
    """Every approvals file of the content folder, and what was wrong with them.

    Files in the layout ``storyline approve`` writes are read by a quick line scan: who, when
    and the hash of each post, not the snapshot of what was sent (parsing a year of snapshots
    would cost more than planning it). :meth:`full` parses one file completely — snapshots
    checked against their hashes — when a hash no longer matches its post.
    """

    stories: Mapping[str, StoryApprovals] = field(default_factory=lambda: MappingProxyType({}))
    findings: tuple[Finding, ...] = ()
    _full: dict[str, tuple[StoryApprovals | None, tuple[Finding, ...]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def of(self, story: str) -> Mapping[str, Approval]:
        found = self.stories.get(story)
        return found.posts if found is not None else MappingProxyType({})

    def head(self, story: str, post_id: str) -> tuple[str, datetime, str] | None:
        """A post's approver, time and hash, without building its :class:`Approval`."""
        found = self.stories.get(story)
        if found is None:
            return None
        posts = found.posts
        if isinstance(posts, Records):
            return posts.head(post_id)
        approval = posts.get(post_id)
        return None if approval is None else (approval.by, approval.at, approval.hash)

    def full(self, story: str) -> tuple[StoryApprovals | None, tuple[Finding, ...]]:
        """The story's file parsed completely (once), with its findings: a record whose
        snapshot does not hash to its hash (edited by hand) is left out and reported."""
        if story not in self._full:
            quick = self.stories.get(story)
            if quick is None:
                self._full[story] = (None, ())
            elif not isinstance(quick.posts, Records):
                self._full[story] = (quick, ())  # parsed completely already
            else:
                found: list[Finding] = []
                self._full[story] = (_load_file(Path(quick.path), found), tuple(found))
        return self._full[story]


def approvals_path(content_dir: Path, story: str) -> Path:
    return content_dir / APPROVALS_DIR_NAME / f"{story}.yaml"


# --- media bytes ------------------------------------------------------------------------------

#: (path, size, mtime_ns) -> sha256: a year of posts shares a few dozen files.
_DIGESTS: dict[tuple[str, int, int], str] = {}


def media_digests(content_dir: Path, files: Iterable[str]) -> dict[str, str]:
    """Each media file -> the sha256 of its bytes ("" when it cannot be read: the story's own
    findings already say so). Cached per file size and modification time."""
    out: dict[str, str] = {}
    for name in set(files):
        path = content_dir / name
        try:
            st = path.stat()
        except OSError:
            out[name] = ""
            continue
        key = (str(path), st.st_size, st.st_mtime_ns)
        digest = _DIGESTS.get(key)
        if digest is None:
            h = hashlib.sha256()
            try:
                with path.open("rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
            except OSError:
                out[name] = ""
                continue
            digest = _DIGESTS[key] = "sha256:" + h.hexdigest()
        out[name] = digest
    return out


# --- reading ----------------------------------------------------------------------------------


def load_approvals(content_dir: Path) -> Approvals:
    """Read ``content/approvals/*.yaml``; never raises. A missing folder is no approval yet."""
    folder = content_dir / APPROVALS_DIR_NAME
    if not folder.is_dir():
        return Approvals()
    findings: list[Finding] = []
    stories: dict[str, StoryApprovals] = {}
    root = content_dir.resolve()
    for path in sorted(folder.iterdir()):
        if path.suffix not in STORY_SUFFIXES or path.name.startswith(".") or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):  # a symlink out of the content folder
            why = f"{path.name} links to a file outside the content folder; refused"
            _warn(findings, Position(str(path), 1, 1), "path-escape", why)
            continue
        loaded = _scan(path)
        if loaded is None:  # not the layout `approve` writes: parse it, with positions
            loaded = _load_file(path, findings)
        if loaded is not None:
            stories[loaded.story] = loaded
    return Approvals(MappingProxyType(stories), tuple(findings))


def _warn(findings: list[Finding], pos: Position, code: str, message: str) -> None:
    findings.append(Finding.warning(pos, code, message))


#: Largest approvals file read: a story of a few thousand posts, each with its snapshot.
MAX_APPROVALS_BYTES = 16 * 1024 * 1024


def _load_file(path: Path, findings: list[Finding]) -> StoryApprovals | None:
    loaded = load_yaml(path, max_bytes=MAX_APPROVALS_BYTES, max_nodes=MAX_APPROVALS_BYTES // 16)
    # A broken approvals file must not stop other stories: its findings become warnings.
    findings.extend(
        Finding.warning(Position(f.file, f.line, f.column), f.code, f.message)
        for f in loaded.findings
    )
    root = loaded.root
    if root is None:
        return None
    whole = Position(str(path), 1, 1)
    if not root.is_map:
        _warn(findings, root.pos, "bad-approvals", "an approvals file is a mapping: story, posts")
        return None
    story = path.stem
    for key, kpos, _ in root.entries():
        if key not in ("story", "posts"):
            _warn(findings, kpos, "unknown-field", f"unknown field {key!r} (story, posts)")
    named = scalar_text(root.get("story"))
    if named is not None and named != story:
        _warn(
            findings,
            root.fields["story"].pos,
            "bad-approvals",
            f"this file holds the sign-offs of story {story!r} (its name), not {named!r}",
        )
    if not re.fullmatch(ID_PATTERN, story):
        _warn(findings, whole, "bad-approvals", f"{path.name}: not a story id")
        return None
    posts: dict[str, Approval] = {}
    node = root.get("posts")
    if node is None or not node.is_map:
        if node is not None and not (node.is_scalar and node.value is None):
            _warn(findings, node.pos, "bad-approvals", "posts: a mapping of post id -> sign-off")
        return StoryApprovals(story, str(path), MappingProxyType(posts))
    for post_id, kpos, record in node.entries():
        approval = _approval(post_id, kpos, record, story, findings)
        if approval is not None:
            posts[post_id] = approval
    return StoryApprovals(story, str(path), MappingProxyType(posts))


#: One pass over a file: the head of each record as :func:`approvals_text` writes it (its
#: snapshot below is skipped), or any other line indented less than a snapshot's that is neither
#: blank nor a comment (an empty match: the file is not in the written layout). Bytes: a year
#: of approvals is megabytes, and only these few fields need decoding.
_LINES = re.compile(
    rb"\n(?:"
    rb"  ([A-Za-z0-9][^\s:'\"]*):\n"
    rb"    by: ([^\n]*)\n"
    rb"    at: ([^\n]*)\n"
    rb"    hash: ([^\n]*)\n"
    rb"    sent:(?=\n)"
    rb"|(?! {5}|#|\n))"
)
_HEAD = re.compile(rb"(?:#[^\n]*\n)*story: ([^\n]*)\nposts:(?=\n)")


_QUOTES = ("'", '"')
_UNSEEN: Any = object()


def _signer(raw_by: bytes, raw_at: bytes) -> tuple[str, datetime] | None:
    """An approver and an aware time as the quick scan reads them; None if either is wrong."""
    by, at = _unquote(raw_by.decode()), _unquote(raw_at.decode())
    if approver_problem(by) is not None:
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    return None if when.tzinfo is None else (by, when.astimezone(UTC))


def _unquote(raw: str) -> str:
    if raw[:1] not in _QUOTES and raw[-1:] not in (" ", "\t"):
        return raw  # the common case: a plain scalar
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw


def _scan(path: Path) -> StoryApprovals | None:
    """The quick read of a file in the layout :func:`approvals_text` writes: each post's key
    line, approver, time and hash, found by one regex in C. None when the file looks any
    different (edited by hand, another layout): the complete parse then reads it and reports
    what is wrong."""
    try:
        if path.stat().st_size > MAX_APPROVALS_BYTES:
            return None  # the complete parse says it is too large
        data = path.read_bytes()
    except OSError:
        return None
    story = path.stem
    head = _HEAD.match(data)
    if head is None or _unquote(head.group(1).decode("utf-8", "replace")) != story:
        return None
    # After the head, every line follows a newline; the last newline may end the file.
    found = _LINES.findall(data, head.end())
    if data.endswith(b"\n"):
        found.pop()  # the file's last newline, followed by nothing
    records = [r for r in found if r[0]]
    if len(records) != len(found):
        return None  # some line is not where `approve` writes it
    posts: dict[str, Head] = {}
    signers: dict[tuple[bytes, bytes], tuple[str, datetime] | None] = {}
    prefix = f"{story}/"
    name = str(path)
    try:
        for raw_id, raw_by, raw_at, raw_hash in records:
            signer = signers.get((raw_by, raw_at), _UNSEEN)
            if signer is _UNSEEN:  # one `approve` writes one approver and time for many posts
                signer = signers[(raw_by, raw_at)] = _signer(raw_by, raw_at)
            post_id, digest = raw_id.decode(), _unquote(raw_hash.decode())
            if signer is None or not post_id.startswith(prefix) or post_id.count("/") != 3:
                return None
            posts[post_id] = (signer[0], signer[1], digest)
    except UnicodeDecodeError:
        return None
    if len(posts) != len(records):
        return None  # a post recorded twice: the complete parse says which
    return StoryApprovals(story, name, Records(posts, name, data))


def _when(node: Node | None) -> datetime | None:
    if node is None or not node.is_scalar:
        return None
    value = node.value
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(node.raw or value).strip("'\""))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _text(node: Node | None) -> str | None:
    if node is None or not node.is_scalar or node.value is None:
        return None
    return node.value if isinstance(node.value, str) else node.raw


def _approval(
    post_id: str, kpos: Position, record: Node, story: str, findings: list[Finding]
) -> Approval | None:
    """One record, or None (with a finding) when it cannot count."""
    if not post_id.startswith(f"{story}/") or post_id.count("/") != 3:
        _warn(findings, kpos, "bad-approvals", f"{post_id!r} is not a post of story {story!r}")
        return None
    if not record.is_map:
        _warn(findings, record.pos, "bad-approvals", f"{post_id}: a mapping of by, at, hash, sent")
        return None
    by = scalar_text(record.get("by"))
    at = _when(record.get("at"))
    digest = scalar_text(record.get("hash"))
    sent_node = record.get("sent")
    missing = [
        name
        for name, value in (("by", by), ("at", at), ("hash", digest), ("sent", sent_node))
        if value is None
    ]
    if missing:
        what = ", ".join(missing)
        _warn(findings, kpos, "bad-approvals", f"{post_id}: missing or invalid {what}")
        return None
    assert by is not None and at is not None and digest is not None and sent_node is not None
    problem = approver_problem(by)
    if problem is not None:
        _warn(findings, record.fields["by"].pos, "bad-approver", f"{post_id}: {problem}")
        return None
    snapshot = _sent(sent_node)
    if snapshot is None:
        _warn(findings, sent_node.pos, "bad-approvals", f"{post_id}: sent needs account, due, text")
        return None
    if signoff_hash(snapshot) != digest:
        _warn(
            findings,
            record.fields["hash"].pos,
            "signoff-tampered",
            f"{post_id}: this hash is not the hash of the post it records (edited by hand?): "
            "the sign-off does not count; run `storyline approve` again",
        )
        return None
    return Approval(post_id, by, at.astimezone(UTC), digest, kpos, snapshot)


def _sent(node: Node) -> Sent | None:
    if not node.is_map:
        return None
    account = _text(node.get("account"))
    due = _when(node.get("due"))
    text = _text(node.get("text"))
    if account is None or due is None or text is None:
        return None
    media: list[SentMedia] = []
    listed = node.get("media")
    for item in listed.items if listed is not None and listed.is_seq else ():
        if not item.is_map:
            return None
        media.append(
            SentMedia(
                file=_text(item.get("file")) or "",
                alt=_text(item.get("alt")) or "",
                kind=_text(item.get("kind")) or "image",
                digest=_text(item.get("sha256")) or "",
            )
        )
    return Sent(
        account=account,
        due_utc=due.astimezone(UTC),
        text=text,
        title=_text(node.get("title")),
        first_comment=_text(node.get("first_comment")),
        link=_text(node.get("link")),
        media=tuple(media),
    )


# --- writing ----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Multi-line texts as ``|`` blocks, so a reviewer reads the post as it will look."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def record_of(by: str, at: datetime, snapshot: Sent) -> dict[str, Any]:
    """One post's sign-off as the file writes it."""
    sent: dict[str, Any] = {"account": snapshot.account, "due": utc_text(snapshot.due_utc)}
    if snapshot.title is not None:
        sent["title"] = snapshot.title
    sent["text"] = snapshot.text
    if snapshot.first_comment is not None:
        sent["first_comment"] = snapshot.first_comment
    if snapshot.link is not None:
        sent["link"] = snapshot.link
    if snapshot.media:
        sent["media"] = [
            {"file": m.file, "alt": m.alt, "kind": m.kind, "sha256": m.digest}
            for m in snapshot.media
        ]
    return {"by": by, "at": utc_text(at), "hash": signoff_hash(snapshot), "sent": sent}


def approvals_text(story: str, records: Mapping[str, Mapping[str, Any]]) -> str:
    """The whole file, posts in id order (stable diffs in review)."""
    head = (
        f"# Sign-offs of {story}: written by `storyline approve` (docs/signoff.md).\n"
        "# Each post's hash binds the sign-off to what it sends; any change voids it.\n"
    )
    body = {"story": story, "posts": {pid: dict(records[pid]) for pid in sorted(records)}}
    dumped = yaml.dump(
        body,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return head + dumped


class UnreadableApprovals(ValueError):
    """An approvals file ``approve`` would have to overwrite without reading it."""


def existing_records(path: Path) -> dict[str, dict[str, Any]]:
    """The records already in ``path`` (plain values), kept when approving other posts.

    A file that exists but cannot be read raises :class:`UnreadableApprovals`: approving must
    not silently drop the sign-offs of other posts."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UnreadableApprovals(f"{path} cannot be read ({exc}); fix or remove it") from exc
    posts = data.get("posts") if isinstance(data, dict) else None
    if data is not None and not isinstance(posts, dict | None):
        raise UnreadableApprovals(f"{path}: `posts` is not a mapping; fix or remove it")
    return {str(k): v for k, v in (posts or {}).items() if isinstance(v, dict)}
