"""The site's two drawings as inline SVG, computed here so the page needs no library or network:
the lineage graph (layers left to right, each node after everything it reads) and a segment's
size over time."""

from __future__ import annotations

from datetime import datetime
from html import escape

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 190, 26, 60, 10, 10
PLOT_W, PLOT_H, MARGIN = 560, 180, 44


def layers(edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's column: 0 for what reads nothing, else one past the furthest it reads."""
    reads: dict[str, set[str]] = {}
    for source, reader in edges:
        reads.setdefault(reader, set()).add(source)
        reads.setdefault(source, set())
    column: dict[str, int] = {}

    def depth(node: str) -> int:
        if node not in column:
            column[node] = 1 + max((depth(source) for source in reads[node]), default=-1)
        return column[node]

    for node in sorted(reads):
        depth(node)
    return column


def lineage_svg(edges: list[tuple[str, str]], href: dict[str, str]) -> str:
    """The graph: a box per node (a link where `href` has one), a curve per edge."""
    column = layers(edges)
    stacks: dict[int, list[str]] = {}
    for node in sorted(column, key=lambda n: (column[n], n)):
        stacks.setdefault(column[node], []).append(node)
    at = {node: (PAD + c * (NODE_W + GAP_X), PAD + row * (NODE_H + GAP_Y))
          for c, nodes in stacks.items() for row, node in enumerate(nodes)}
    width = PAD * 2 + len(stacks) * (NODE_W + GAP_X) - GAP_X if stacks else 2 * PAD
    height = PAD * 2 + max((len(n) for n in stacks.values()), default=0) * (NODE_H + GAP_Y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="lineage" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="lineage graph">']
    for source, reader in edges:
        (x1, y1), (x2, y2) = at[source], at[reader]
        x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
        middle = (x1 + x2) / 2
        parts.append(f'<path class="edge" data-from="{escape(source)}" data-to="{escape(reader)}" '
                     f'd="M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"/>')
    for node, (x, y) in at.items():
        kind = node.split(":")[0] if ":" in node else node.split(".")[0].split("_")[0]
        box = (f'<g class="node {escape(kind)}" data-node="{escape(node)}"><rect x="{x}" y="{y}" width="{NODE_W}" '
               f'height="{NODE_H}" rx="4"/><text x="{x + 8}" y="{y + 17}">{escape(node)}</text></g>')
        parts.append(f'<a href="{escape(href[node])}">{box}</a>' if node in href else box)
    parts.append("</svg>")
    return "\n".join(parts)


def size_plot(name: str, sizes: list[tuple[datetime, int]]) -> str:
    """Size after each run, as a line (a dot alone for one run), with its first and last date
    and the largest size on the axes."""
    if not sizes:
        return '<p class="empty">not built yet</p>'
    times = [t.timestamp() for t, _ in sizes]
    top = max(size for _, size in sizes) or 1
    span = (times[-1] - times[0]) or 1

    def point(t: float, size: int) -> tuple[float, float]:
        x = MARGIN + (PLOT_W - 2 * MARGIN) * ((t - times[0]) / span if len(times) > 1 else 0.5)
        return round(x, 1), round(PLOT_H - MARGIN - (PLOT_H - 2 * MARGIN) * size / top, 1)

    points = [point(t, size) for t, (_, size) in zip(times, sizes)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-segment="{escape(name)}" '
             f'width="{PLOT_W}" height="{PLOT_H}" viewBox="0 0 {PLOT_W} {PLOT_H}" role="img" '
             f'aria-label="size of {escape(name)} over time">',
             f'<line class="axis" x1="{MARGIN}" y1="{PLOT_H - MARGIN}" x2="{PLOT_W - MARGIN}" y2="{PLOT_H - MARGIN}"/>',
             f'<line class="axis" x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{PLOT_H - MARGIN}"/>',
             f'<text x="{MARGIN - 4}" y="{MARGIN + 4}" text-anchor="end">{top:,}</text>',
             f'<text x="{MARGIN - 4}" y="{PLOT_H - MARGIN + 4}" text-anchor="end">0</text>',
             *(f'<text x="{x}" y="{PLOT_H - MARGIN + 18}" text-anchor="{anchor}">{t:%Y-%m-%d %H:%M}</text>'
               for (x, _), (t, _), anchor in dates(points, sizes))]
    if len(points) > 1:
        parts.append('<polyline class="line" points="' + " ".join(f"{x},{y}" for x, y in points) + '"/>')
    parts += [f'<circle class="dot" cx="{x}" cy="{y}" r="3"><title>{t:%Y-%m-%d %H:%M}: {size:,}</title></circle>'
              for (x, y), (t, size) in zip(points, sizes)]
    parts.append("</svg>")
    return "\n".join(parts)


def dates(points: list[tuple[float, float]], sizes: list[tuple[datetime, int]]) -> list[tuple]:
    """The x axis's labels: the first and last run's dates, or the one run's under its dot."""
    if len(sizes) == 1:
        return [(points[0], sizes[0], "middle")]
    return [(points[0], sizes[0], "start"), (points[-1], sizes[-1], "end")]
