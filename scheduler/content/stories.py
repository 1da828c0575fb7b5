"""Loads one story file into a :class:`~scheduler.core.model.Story`, collecting every problem."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, TypeVar

from scheduler.content.files import (
    ID_PATTERN,
    MAX_OFFSET_DAYS,
    MAX_YEAR,
    MIN_YEAR,
    NAME_PATTERN,
    OFFSET_PATTERN,
    STORY_SHAPE,
)
from scheduler.content.references import network_problem, zone_problem
from scheduler.content.shapes import check_shape
from scheduler.content.yamlpos import Node, load_yaml, scalar_text
from scheduler.core import timezones
from scheduler.core.diagnostics import Finding, Position
from scheduler.core.model import (
    Audience,
    Beat,
    Embargo,
    Launch,
    Market,
    Media,
    Offset,
    Story,
    StoryStatus,
)
from scheduler.core.resolve import required, translation_findings
from scheduler.core.suggest import did_you_mean

_E = TypeVar("_E", bound=StrEnum)


_OFFSET_RE = re.compile(r"([+-]?)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


_LAUNCH_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?: +(\S+)|(Z))?", re.ASCII
)


def parse_offset(text: str) -> Offset | None:
    """``-7d`` -> Offset(days=-7); ``+1d2h`` -> days=1, hours=2; ``0``; None when invalid."""
    t = text.strip()
    if not re.fullmatch(OFFSET_PATTERN, t):
        return None
    m = _OFFSET_RE.fullmatch(t)
    if m is None:
        return Offset(text=t)  # "0", "+0", "-0"
    sign = -1 if m.group(1) == "-" else 1
    days, hours, minutes = (int(g) if g else 0 for g in m.groups()[1:])
    if days + hours / 24 + minutes / 1440 > MAX_OFFSET_DAYS:
        return None
    return Offset(sign * days, sign * hours, sign * minutes, t)


def positions_of(root: Node, file: str) -> dict[tuple[str | int, ...], Position]:
    """Path -> position: a collection at its key (where a reader looks), a scalar at its value."""
    out: dict[tuple[str | int, ...], Position] = {(): Position(file, 1, 1)}

    def walk(node: Node, path: tuple[str | int, ...]) -> None:
        if node.is_map:
            for key, kpos, child in node.entries():
                sub = (*path, key)
                out[sub] = child.pos if child.is_scalar else kpos
                walk(child, sub)
        elif node.is_seq:
            for i, child in enumerate(node.items):
                out[(*path, i)] = child.pos
                walk(child, (*path, i))

    walk(root, ())
    return out


class StoryLoader:
    """Reads one story file into a :class:`Story`, collecting every problem on the way."""

    def __init__(
        self,
        path: Path,
        content_dir: Path,
        markets: Mapping[str, Market],
        codes: list[str],
        networks: tuple[str, ...],
    ) -> None:
        self.path = path
        self.file = str(path)
        self.content_dir = content_dir
        self.markets = markets
        self.codes = codes
        self.networks = networks
        self.findings: list[Finding] = []
        self.positions: dict[tuple[str | int, ...], Position] = {}

    @property
    def failed(self) -> bool:
        return any(f.is_error for f in self.findings)

    def error(self, pos: Position, code: str, message: str) -> None:
        self.findings.append(Finding.error(pos, code, message))

    def pos(self, *path: str | int) -> Position:
        while path:
            found = self.positions.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return Position(self.file, 1, 1)

    def load(self) -> Story | None:
        loaded = load_yaml(self.path)
        self.findings.extend(loaded.findings)
        root = loaded.root
        if root is None:
            if not loaded.findings:
                self.error(Position(self.file, 1, 1), "empty-file", "the story file is empty")
            return None
        if not root.is_map:
            self.error(root.pos, "wrong-type", "a story file must be a mapping of fields")
            return None
        self.positions = positions_of(root, self.file)
        self.findings.extend(check_shape(root, STORY_SHAPE))

        story_id = self._story_id(root)
        text_node = root.get("story")
        text = self._text(text_node)
        headline = text.get("headline") or ""
        language = scalar_text(root.get("language")) or "en"
        audience = _enum(Audience, scalar_text(root.get("audience")), Audience.PUBLIC)
        status = _enum(StoryStatus, scalar_text(root.get("status")), StoryStatus.DRAFT)
        launch = self._launch(root.get("launch"))
        networks = self._networks(root.get("networks"), ("networks",), self.networks)
        markets = self._markets(root.get("markets"), ("markets",), tuple(self.markets))
        beats = self._beats(root.get("beats"), networks, markets)
        locales = self._keyed_layers(root.get("locales"), ("locales",), kind="locale")
        overrides = root.get("overrides")
        net_over = self._keyed_layers(
            overrides.get("network") if overrides is not None and overrides.is_map else None,
            ("overrides", "network"),
            kind="network",
        )
        mkt_over = self._keyed_layers(
            overrides.get("market") if overrides is not None and overrides.is_map else None,
            ("overrides", "market"),
            kind="market",
        )
        mkt_net_over = self._market_network_layers(
            overrides.get("market") if overrides is not None and overrides.is_map else None,
            networks,
        )
        embargo = self._embargo(root.get("embargo"))
        base = self._layer(root, ())
        if launch is None or story_id is None:
            return None
        story = Story(
            id=story_id,
            path=self.file,
            title=scalar_text(root.get("title")) or headline,
            campaign=scalar_text(root.get("campaign")) or story_id,
            audience=audience,
            status=status,
            launch=launch,
            networks=networks,
            markets=markets,
            beats=beats,
            text=MappingProxyType(text),
            link=base.get("link"),
            hashtags=base.get("hashtags", ()),
            media=base.get("media", ()),
            locales=MappingProxyType(locales),
            network_overrides=MappingProxyType(net_over),
            market_overrides=MappingProxyType(mkt_over),
            positions=MappingProxyType(self.positions),
            language=language,
            market_network_overrides=MappingProxyType(mkt_net_over),
            embargo=embargo,
        )
        for code in markets:
            if not required(story, self.markets[code]):  # else an error of planning, per market
                self.findings.extend(translation_findings(story, self.markets[code]))
        self._unused_overrides(net_over, networks, "network")
        self._unused_overrides(mkt_over, markets, "market")
        return story

    def _unused_overrides(
        self, overrides: Mapping[str, Any], used: tuple[str, ...], kind: str, prefix: str = ""
    ) -> None:
        """An override for a network or market the story does not publish on does nothing."""
        for key in overrides:
            if key not in used:
                where = (
                    ("overrides", *prefix.strip(".").split("."), kind, key)
                    if prefix
                    else (
                        "overrides",
                        kind,
                        key,
                    )
                )
                self.findings.append(
                    Finding.warning(
                        self.pos(*where),
                        "unused-override",
                        f"overrides.{prefix}{kind}.{key} has no effect: {key} is not one of the "
                        f"story's {kind}s ({', '.join(used)})",
                    )
                )

    # -- pieces ------------------------------------------------------------------------

    def _story_id(self, root: Node) -> str | None:
        node = root.get("id")
        written = scalar_text(node)
        story_id = written if written is not None else self.path.stem
        pos = node.pos if node is not None else Position(self.file, 1, 1)
        escape = (
            "/" in story_id
            or "\\" in story_id
            or ".." in story_id
            or story_id.startswith("~")
            or PurePosixPath(story_id).is_absolute()
        )
        if escape:
            # The shape check saw a malformed id; the real story is that it escapes.
            self.findings = [
                f
                for f in self.findings
                if not (f.code == "bad-id" and f.line == pos.line and f.column == pos.column)
            ]
            self.error(
                pos,
                "path-escape",
                f"story id {story_id!r} would leave the stories folder; "
                "use letters, digits, . _ - only",
            )
            return None
        if written is None and not re.fullmatch(ID_PATTERN, story_id):
            self.error(
                pos,
                "bad-id",
                f"file name {self.path.name!r} is not a usable story id; "
                "rename it with letters, digits, . _ - only",
            )
            return None
        return story_id if re.fullmatch(ID_PATTERN, story_id) else None

    def _text(self, node: Node | None) -> dict[str, Any]:
        layer = self._layer(node, ("story",)) if node is not None else {}
        return {
            "headline": layer.get("headline"),
            "hook": layer.get("hook"),
            "body": layer.get("body"),
            "facts": layer.get("facts", ()),
        }

    def _launch(self, node: Node | None) -> Launch | None:
        raw = scalar_text(node, dates=True)
        if node is None or raw is None:
            return None
        m = _LAUNCH_RE.fullmatch(raw.strip())
        if m is None:
            return None  # check_shape already reported the pattern
        year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
        second = int(m.group(6) or 0)
        try:
            naive = datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            self.error(node.pos, "bad-date", f"launch {raw!r} is not a real date and time ({exc})")
            return None
        if not MIN_YEAR <= year <= MAX_YEAR:
            self.error(node.pos, "bad-date", f"launch year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
            return None
        zone = "UTC" if m.group(8) else m.group(7)
        if zone is None:
            return Launch(local=naive, pos=node.pos)
        problem = zone_problem(zone, node.pos)
        if problem is not None:
            self.findings.append(problem)
            return None
        localized = timezones.localize(naive, zone)
        if localized.note is not None and localized.message is not None:
            self.findings.append(
                Finding.warning(node.pos, f"{localized.note}-time", localized.message)
            )
        return Launch(instant=localized.utc, zone=zone, pos=node.pos)

    def _networks(
        self, node: Node | None, path: tuple[str | int, ...], allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        if node is None or not node.is_seq:
            return allowed
        out: list[str] = []
        for i, item in enumerate(node.items):
            name = scalar_text(item)
            if name is None:
                continue
            pos = self.pos(*path, i)
            problem = network_problem(name, pos, self.networks)
            if problem is not None:
                self.findings.append(problem)
            elif name not in allowed:
                self.error(
                    pos,
                    "unknown-network",
                    f"{name!r} is not one of the story's networks ({', '.join(allowed)})",
                )
            elif name in out:
                self.error(pos, "duplicate-value", f"{name!r} is listed twice")
            else:
                out.append(name)
        return tuple(out)

    def _markets(
        self, node: Node | None, path: tuple[str | int, ...], allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        if node is None or not node.is_seq:
            return allowed
        out: list[str] = []
        for i, item in enumerate(node.items):
            code = scalar_text(item)
            if code is None:
                continue
            pos = self.pos(*path, i)
            if code not in self.codes:
                self.error(
                    pos,
                    "unknown-market",
                    f"unknown market {code!r}{did_you_mean(code, self.codes)}; "
                    f"markets.yaml defines: {', '.join(self.codes) or 'none'}",
                )
            elif code not in self.markets:
                continue  # the market itself is broken; its own findings say why
            elif code not in allowed:
                self.error(
                    pos,
                    "unknown-market",
                    f"{code!r} is not one of the story's markets ({', '.join(allowed)})",
                )
            elif code in out:
                self.error(pos, "duplicate-value", f"{code!r} is listed twice")
            else:
                out.append(code)
        return tuple(out)

    def _beats(
        self, node: Node | None, networks: tuple[str, ...], markets: tuple[str, ...]
    ) -> tuple[Beat, ...]:
        if node is None:
            return (Beat("reveal", Offset(), pos=self.pos()),)
        if not node.is_map:
            return ()
        beats: list[Beat] = []
        for name, kpos, bnode in node.entries():
            if not re.fullmatch(NAME_PATTERN, name):
                continue  # reported as bad-key by the shape check
            offset_node = bnode if bnode.is_scalar else bnode.get("offset")
            if bnode.is_scalar:
                self.positions[("beats", name, "offset")] = bnode.pos
            offset = Offset()
            if offset_node is not None:
                text = "0" if offset_node.value == 0 else scalar_text(offset_node)
                parsed = parse_offset(text) if text is not None else None
                if parsed is None:
                    if text is not None and re.fullmatch(OFFSET_PATTERN, text.strip()):
                        self.error(
                            offset_node.pos,
                            "bad-offset",
                            f"offset {text!r} is more than {MAX_OFFSET_DAYS} days from the launch",
                        )
                    continue
                offset = parsed
            only_networks: tuple[str, ...] | None = None
            only_markets: tuple[str, ...] | None = None
            if bnode.is_map:
                if bnode.get("networks") is not None:
                    only_networks = self._networks(
                        bnode.get("networks"), ("beats", name, "networks"), networks
                    )
                if bnode.get("markets") is not None:
                    only_markets = self._markets(
                        bnode.get("markets"), ("beats", name, "markets"), markets
                    )
            elif not bnode.is_scalar:
                continue
            content: dict[str, Any] = {}
            locales: dict[str, Mapping[str, Any]] = {}
            if bnode.is_map:
                content = self._layer(bnode, ("beats", name))
                content.update(self._layer(bnode.get("story"), ("beats", name, "story")))
                locales = self._keyed_layers(
                    bnode.get("locales"), ("beats", name, "locales"), kind="locale"
                )
            beats.append(
                Beat(
                    name,
                    offset,
                    only_networks,
                    only_markets,
                    pos=kpos,
                    content=MappingProxyType(content),
                    locales=MappingProxyType(locales),
                )
            )
        return tuple(beats)

    def _market_network_layers(
        self, node: Node | None, networks: tuple[str, ...]
    ) -> dict[str, Mapping[str, Mapping[str, Any]]]:
        """``overrides.market.<m>.network.<n>``: one network in one market."""
        out: dict[str, Mapping[str, Mapping[str, Any]]] = {}
        if node is None or not node.is_map:
            return out
        for code, _kpos, mnode in node.entries():
            if code not in self.codes or not mnode.is_map:
                continue  # the market itself was reported
            path = ("overrides", "market", code, "network")
            layers = self._keyed_layers(mnode.get("network"), path, kind="network")
            if layers:
                out[code] = MappingProxyType(layers)
            self._unused_overrides(layers, networks, "network", prefix=f"market.{code}.")
        return out

    def _embargo(self, node: Node | None) -> Embargo | None:
        if node is None or not node.is_map:
            return None
        terms: list[str] = []
        positions: list[Position] = []
        seq = node.get("terms")
        if seq is not None and seq.is_seq:
            for item in seq.items:
                term = scalar_text(item)
                if term is not None and not term.strip():
                    self.error(item.pos, "bad-value", "an empty embargo term would match nothing")
                elif term is not None:
                    terms.append(term.strip())
                    positions.append(item.pos)
        media = scalar_text(node.get("media")) or "reveal"
        return Embargo(tuple(terms), tuple(positions), media, pos=self.pos("embargo"))

    def _media(self, node: Node | None, path: tuple[str | int, ...]) -> tuple[Media, ...]:
        if node is None or not node.is_seq:
            return ()
        out: list[Media] = []
        for i, item in enumerate(node.items):
            if not item.is_map:
                continue
            file = scalar_text(item.get("file"))
            alt = scalar_text(item.get("alt"))
            kind = scalar_text(item.get("kind")) or "image"
            if not file or not self._media_file_ok(file, self.pos(*path, i, "file")):
                continue
            if not alt or not alt.strip():
                continue  # missing-alt, reported by the shape check
            out.append(Media(file, alt, kind, pos=self.pos(*path, i)))
        return tuple(out)

    def _media_file_ok(self, file: str, pos: Position) -> bool:
        """A media path must stay inside the content folder and name an existing file."""
        posix = PurePosixPath(file.replace("\\", "/"))
        if posix.is_absolute() or file.startswith("~") or re.match(r"^[A-Za-z]:", file):
            self.error(
                pos,
                "path-escape",
                f"media path {file!r} is absolute; write it relative to the content folder, "
                "e.g. media/photo.jpg",
            )
            return False
        if ".." in posix.parts:
            self.error(
                pos,
                "path-escape",
                f"media path {file!r} leaves the content folder ('..' is not allowed)",
            )
            return False
        root = self.content_dir.resolve()
        target = (self.content_dir / posix).resolve()
        if not target.is_relative_to(root):
            self.error(pos, "path-escape", f"media path {file!r} points outside the content folder")
            return False
        if not target.is_file():
            self.error(
                pos,
                "missing-media",
                f"media file {file!r} not found under {self.content_dir}",
            )
            return False
        return True

    def _layer(self, node: Node | None, path: tuple[str | int, ...]) -> dict[str, Any]:
        """The overridable fields of a mapping, typed: str, tuple[str], tuple[Media]."""
        out: dict[str, Any] = {}
        if node is None or not node.is_map:
            return out
        for key in ("headline", "hook", "body", "claim"):
            value = scalar_text(node.get(key))
            if value is not None:
                out[key] = value
        link = node.get("link")
        if link is not None and link.is_scalar and isinstance(link.value, str):
            out["link"] = link.value
        for key in ("facts", "hashtags"):
            seq = node.get(key)
            if seq is not None and seq.is_seq:
                items = (scalar_text(i) for i in seq.items)
                values = tuple(v for v in items if v is not None)
                out[key] = tuple(v.lstrip("#") for v in values) if key == "hashtags" else values
        if node.get("media") is not None:
            out["media"] = self._media(node.get("media"), (*path, "media"))
        return out

    def _keyed_layers(
        self, node: Node | None, path: tuple[str | int, ...], *, kind: str
    ) -> dict[str, Mapping[str, Any]]:
        out: dict[str, Mapping[str, Any]] = {}
        if node is None or not node.is_map:
            return out
        for key, kpos, lnode in node.entries():
            if kind == "network":
                problem = network_problem(key, kpos, self.networks)
                if problem is not None:
                    self.findings.append(problem)
                    continue
            elif kind == "market" and key not in self.codes:
                self.error(
                    kpos,
                    "unknown-market",
                    f"unknown market {key!r}{did_you_mean(key, self.codes)}; "
                    f"markets.yaml defines: {', '.join(self.codes) or 'none'}",
                )
                continue
            layer = self._layer(lnode, (*path, key))
            if kind == "network":
                self._thread_switch(lnode, (*path, key), key, layer)
            out[key] = MappingProxyType(layer)
        return out

    def _thread_switch(
        self, node: Node | None, path: tuple[str | int, ...], network: str, layer: dict[str, Any]
    ) -> None:
        """``thread: true`` under ``overrides.network.x`` (its shape is checked elsewhere)."""
        switch = node.get("thread") if node is not None and node.is_map else None
        if switch is None or not switch.is_scalar or not isinstance(switch.value, bool):
            return
        if network != "x":
            self.error(
                self.pos(*path, "thread"),
                "thread-not-x",
                f"overrides.network.{network}.thread: only X posts can be threads; "
                "remove it, or move it under overrides.network.x",
            )
            return
        layer["thread"] = switch.value


def _enum(cls: type[_E], value: str | None, default: _E) -> _E:
    if value is None:
        return default
    try:
        return cls(value)
    except ValueError:
        return default
