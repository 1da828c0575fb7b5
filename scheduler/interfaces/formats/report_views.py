"""``storyline report`` as text, JSON, CSV and one self-contained HTML page.

The HTML page carries its style and its charts inline (SVG drawn here, no script, no font, no
CDN): it opens from a USB stick at a motor show with no network. A missing figure (no snapshot
said) is ``null`` in JSON, empty in CSV and "–" on screen, never 0.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.calendar.report import Figures, PostFigures, Report

MISSING = "–"
FIGURE_KEYS = (
    "posts",
    "reach",
    "engagement",
    "engagement_rate",
    "clicks",
    "sessions",
    "conversions",
    "revenue",
)


def figures_json(f: Figures) -> dict[str, Any]:
    rate = f.engagement_rate
    return {
        "posts": f.posts,
        "reach": f.reach,
        "engagement": f.engagement,
        "engagement_rate": None if rate is None else round(rate, 6),
        "clicks": f.clicks,
        "sessions": f.sessions,
        "conversions": f.conversions,
        "revenue": None if f.revenue is None else round(f.revenue, 2),
    }


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")


def report_json(r: Report) -> dict[str, Any]:
    fl = r.filters
    return {
        "filters": {
            "story": list(fl.stories),
            "campaign": list(fl.campaigns),
            "market": list(fl.markets),
            "network": list(fl.networks),
            "from": fl.from_day.isoformat() if fl.from_day else None,
            "to": fl.to_day.isoformat() if fl.to_day else None,
        },
        "total": figures_json(r.total),
        "cross_channel": {
            "campaign": r.campaign,
            "cells": [
                {"network": n, "market": m, **figures_json(f)}
                for n, row in r.cross.items()
                for m, f in row.items()
            ],
        },
        "arc": [{"story": a.story, "beat": a.beat, **figures_json(a.figures)} for a in r.arc],
        "posts": [_post_json(p) for p in r.posts],
    }


def report_json_text(r: Report) -> str:
    """:func:`report_json` as text: indented, but one post per line, each written by json's C
    encoder (an indented dump goes through its Python encoder: seconds for 100,000 posts)."""
    data = report_json(r)
    posts = data.pop("posts")
    head = json.dumps(data, indent=2, ensure_ascii=False)
    if not posts:
        return head[:-2] + ',\n  "posts": []\n}'
    body = ",\n".join("    " + json.dumps(p, ensure_ascii=False) for p in posts)
    return head[:-2] + ',\n  "posts": [\n' + body + "\n  ]\n}"


def _post_json(p: PostFigures) -> dict[str, Any]:
    """A post's figures straight from its tuple (no :class:`Figures`: 100,000 of them)."""
    reach, engagement = p.reach, p.engagement
    rate = None if not reach or engagement is None else round(engagement / reach, 6)
    return {
        "post_id": p.post_id,
        "story": p.story,
        "beat": p.beat,
        "network": p.network,
        "market": p.market,
        "campaign": p.campaign,
        "published_at": _iso(p.published_utc),
        "posts": 1,
        "reach": reach,
        "engagement": engagement,
        "engagement_rate": rate,
        "clicks": p.clicks,
        "sessions": p.sessions,
        "conversions": p.conversions,
        "revenue": None if p.revenue is None else round(float(p.revenue), 2),
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def report_csv(r: Report) -> str:
    """One flat table: a ``level`` column says whether a row is a post or a roll-up."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    head = ["level", "post_id", "story", "beat", "network", "market", "campaign", "published_at"]
    writer.writerow([*head, *FIGURE_KEYS])

    def emit(level: str, ids: Sequence[Any], f: Figures) -> None:
        figures = figures_json(f)
        writer.writerow([level, *map(_cell, ids), *(_cell(figures[k]) for k in FIGURE_KEYS)])

    for p in r.posts:
        ids = [p.post_id, p.story, p.beat, p.network, p.market, p.campaign, _iso(p.published_utc)]
        emit("post", ids, p.figures)
    for a in r.arc:
        emit("beat", ["", a.story, a.beat, "", "", "", ""], a.figures)
    for n, row in r.cross.items():
        for m, f in row.items():
            emit("network_market", ["", "", "", n, m, r.campaign or "", ""], f)
    emit("total", [""] * 7, r.total)
    return out.getvalue()


def _n(value: int | float | None, digits: int = 0) -> str:
    if value is None:
        return MISSING
    return f"{value:,.{digits}f}"


def _rate(f: Figures) -> str:
    rate = f.engagement_rate
    return MISSING if rate is None else f"{rate * 100:.2f}%"


def _row(f: Figures) -> list[str]:
    return [
        _n(f.posts),
        _n(f.reach),
        _n(f.engagement),
        _rate(f),
        _n(f.clicks),
        _n(f.sessions),
        _n(f.conversions),
        _n(f.revenue, 2),
    ]


FIGURE_HEAD = ["posts", "reach", "engagement", "rate", "clicks", "sessions", "conv.", "revenue"]


def _table(header: Sequence[str], body: Sequence[Sequence[str]], left: int = 1) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *body, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body)])


def report_text(r: Report) -> str:
    if not r.posts:
        return "no published post matches these filters"
    parts = [
        "total",
        _table(["", *FIGURE_HEAD], [["all", *_row(r.total)]]),
        "",
        "arc (beats in the order they went out)",
        _table(
            ["story", "beat", *FIGURE_HEAD], [[a.story, a.beat, *_row(a.figures)] for a in r.arc], 2
        ),
        "",
        f"cross-channel, campaign {r.campaign or '(several)'}: network x market",
        _table(
            ["network", "market", *FIGURE_HEAD],
            [[n, m, *_row(f)] for n, row in r.cross.items() for m, f in row.items()],
            2,
        ),
        "",
        "posts",
        _table(["post", *FIGURE_HEAD], [[p.post_id, *_row(p.figures)] for p in r.posts]),
    ]
    return "\n".join(parts)


# --- HTML ---------------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d232b}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:2rem 0 .6rem}
.kpis{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.kpi{border:1px solid #d5dbe3;border-radius:8px;padding:.6rem 1rem;min-width:8rem}
.kpi b{display:block;font-size:1.4rem}.kpi span{color:#5b6775;font-size:.85rem}
table{border-collapse:collapse;margin:.4rem 0}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e8ee;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
svg text{font:12px system-ui,sans-serif;fill:#1d232b}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
"""


def _bar_chart(chart_id: str, title: str, items: Sequence[tuple[str, float | None]]) -> str:
    """Horizontal bars, one per item, drawn in SVG; a missing value draws no bar and says so."""
    width, label_w, bar_h, gap = 520, 190, 22, 8
    top = 28
    height = top + len(items) * (bar_h + gap) + 4
    peak = max((v for _, v in items if v), default=0) or 1
    out = [
        f'<svg id="{chart_id}" class="chart" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_h + gap)
        out.append(f'<text x="0" y="{y + 15}">{escape(label[:28])}</text>')
        length = 0.0 if not value else (width - label_w - 80) * value / peak
        out.append(
            f'<rect class="bar" x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h}" '
            f'fill="#2f6fb3" data-value="{"" if value is None else value}"></rect>'
        )
        shown = MISSING if value is None else f"{value:,.0f}"
        out.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 15}">{shown}</text>')
    out.append("</svg>")
    return "".join(out)


def _html_table(header: Sequence[str], body: Sequence[Sequence[str]], left: int) -> str:
    def cells(tag: str, row: Sequence[str]) -> str:
        return "".join(
            f"<{tag}{'' if i < left else ' class=num'}>{escape(c)}</{tag}>"
            for i, c in enumerate(row)
        )

    rows = "".join(f"<tr>{cells('td', r)}</tr>" for r in body)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{rows}</tbody></table>"


def report_html(r: Report, generated_at: datetime) -> str:
    t = r.total
    kpis = "".join(
        f'<div class="kpi"><b>{escape(v)}</b><span>{k}</span></div>'
        for k, v in zip(FIGURE_HEAD, _row(t), strict=True)
    )
    arc_items = [(f"{a.story} · {a.beat}", a.figures.reach) for a in r.arc]
    arc_conv = [(f"{a.story} · {a.beat}", float(a.figures.conversions)) for a in r.arc]
    by_network: dict[str, float] = {}
    for n, row in r.cross.items():
        by_network[n] = float(sum(f.conversions for f in row.values()))
    charts = "".join(
        [
            _bar_chart("chart-arc-reach", "Reach per beat", [(k, v) for k, v in arc_items]),
            _bar_chart("chart-arc-conversions", "Conversions per beat", arc_conv),
            _bar_chart(
                "chart-network-conversions", "Conversions per network", list(by_network.items())
            ),
        ]
    )
    cross_rows = [[n, m, *_row(f)] for n, row in r.cross.items() for m, f in row.items()]
    arc_rows = [[a.story, a.beat, *_row(a.figures)] for a in r.arc]
    post_rows = [[p.post_id, *_row(p.figures)] for p in r.posts]
    campaign = r.campaign or "several campaigns"
    body = (
        f"<h1>What it earned</h1><p>{len(r.posts):,} published post(s), {escape(campaign)}; "
        f"generated {generated_at:%Y-%m-%d %H:%M} UTC.</p>"
        f'<section class="kpis" id="total">{kpis}</section>'
        f'<h2>Charts</h2><div class="charts">{charts}</div>'
        f'<h2>The arc: beats in the order they went out</h2><div id="arc">'
        f"{_html_table(['story', 'beat', *FIGURE_HEAD], arc_rows, 2)}</div>"
        f'<h2>Cross-channel: network × market, {escape(campaign)}</h2><div id="cross">'
        f"{_html_table(['network', 'market', *FIGURE_HEAD], cross_rows, 2)}</div>"
        f'<h2>Posts</h2><div id="posts">{_html_table(["post", *FIGURE_HEAD], post_rows, 1)}</div>'
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Storyline report: {escape(campaign)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
