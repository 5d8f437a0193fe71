"""The docs site as files: one index.html (freshness, lineage, segments, models), docs.css and
docs.js beside it. Plain HTML, inline SVG, no CDN: it opens from disk with no network."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path

from crmsync.docs.site import ModelPage, SegmentPage, Site
from crmsync.person import Person
from crmsync.docs.svg import lineage_svg, size_plot

STATIC = Path(__file__).parent / "static"


def write_site(site: Site, out: Path) -> Path:
    """Write the site into `out` (made if missing); returns its index.html."""
    out.mkdir(parents=True, exist_ok=True)
    for asset in ("docs.css", "docs.js"):
        (out / asset).write_text((STATIC / asset).read_text())
    index = out / "index.html"
    index.write_text(page(site))
    return index


def model_anchor(name: str) -> str:
    return f"model-{name}"


def segment_anchor(name: str) -> str:
    return f"segment-{name}"


def page(site: Site) -> str:
    models = {m.model.name for m in site.models}
    href = {name: f"#{model_anchor(name)}" for name in models}
    href |= {f"segment:{s.segment.name}": f"#{segment_anchor(s.segment.name)}" for s in site.segments}
    readers: dict[str, list[str]] = {}
    for source, reader in site.edges:
        readers.setdefault(source, []).append(reader)
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    state = "" if site.built else " (not built yet: the project alone)"
    return "\n".join([
        *head("crmsync: models and segments"),
        f'<p>Warehouse <code>{escape(str(site.warehouse))}</code>{state}; made {made}.</p>',
        '<input id="filter" type="search" placeholder="filter models and segments" aria-label="filter">',
        '<form id="person" action="person" hidden><input name="q" type="search" aria-label="person" '
        'placeholder="person: id, phone or email"></form>',
        '<nav><a href="#freshness">freshness</a> <a href="#lineage">lineage</a> '
        '<a href="#segments">segments</a> <a href="#models">models</a></nav></header>',
        '<main>',
        freshness(site),
        '<section id="lineage"><h2>Lineage</h2><p>What each model and segment reads, as the transform '
        'builds them (raw schemas on the left). Click a box to see it.</p>',
        f'<div class="scroll">{lineage_svg(site.edges, href)}</div></section>',
        '<section id="segments"><h2>Segments</h2>', last_push(site),
        *(segment_article(s, models) for s in site.segments),
        '</section>', '<section id="models"><h2>Models</h2>',
        *(model_article(m, models, readers.get(m.model.name, [])) for m in site.models),
        '</section>', '</main>', '</body>', '</html>', ''])


def head(title: str) -> list[str]:
    """The start of a page, to the open header."""
    return ['<!doctype html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<title>{escape(title)}</title>', '<link rel="icon" href="data:,">',
            '<link rel="stylesheet" href="docs.css">', '<script src="docs.js" defer></script>', '</head>', '<body>',
            '<header><h1><a href="index.html">crmsync</a></h1>']


def person_page(wanted: str, people: list[Person], error: str | None = None) -> str:
    """`/person?q=...` of `docs --serve`: each person found, or why nobody was."""
    body = [f'<p class="empty">{escape(error)}</p>'] if error else []
    for found in people:
        about = found.person
        facts = " · ".join(escape(str(v)) for v in (about.get("full_name"), about.get("phone_e164"),
                                                      about.get("email")) if v)
        body += [f'<article class="person" id="person-{escape(found.person_id)}">',
                 f'<h3>{escape(found.person_id)} <small>{facts}</small></h3>',
                 '<h4>Records in every provider</h4>',
                 rows_table(found.contacts, ["provider", "contact_id", "full_name", "phone_raw", "phone_e164", "email",
                                             "opted_in", "created_at", "deleted_at"]),
                 '<h4>Segments</h4>',
                 rows_table([{**s, "segment": link_segment(s["segment"])} for s in found.segments],
                            ["segment", "entered_at", "left_at"], raw=frozenset({"segment"})),
                 '<h4>Pushes made for them</h4>',
                 rows_table([{**p, "segment": link_segment(p["segment"])} for p in found.pushes],
                            ["at", "provider", "segment", "operation", "status", "error"], raw=frozenset({"segment"})),
                 '</article>']
    return "\n".join([
        *head(f"crmsync: person {wanted}"),
        '<form id="person" action="person"><input name="q" type="search" aria-label="person" '
        f'placeholder="person: id, phone or email" value="{escape(wanted)}"></form></header>',
        '<main><section id="people"><h2>People</h2>', *body, '</section></main>', '</body>', '</html>', ''])


def link_segment(name: str) -> str:
    return f'<a href="index.html#{segment_anchor(name)}">{escape(name)}</a>'


def rows_table(rows: list[dict], columns: list[str], raw: frozenset[str] = frozenset()) -> str:
    """A table of `rows`; the `raw` columns hold HTML already."""
    if not rows:
        return '<p class="empty">none</p>'
    cells = "".join("<tr>" + "".join(f"<td>{row[c] if c in raw else text(row.get(c))}</td>" for c in columns) + "</tr>"
                    for row in rows)
    return (f'<table><thead><tr>{"".join(f"<th>{c}</th>" for c in columns)}</tr></thead>'
            f'<tbody>{cells}</tbody></table>')


def text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return when(value)
    return escape(", ".join(map(str, value)) if isinstance(value, list) else str(value))


def last_push(site: Site) -> str:
    push = site.last_push
    if not push:
        return '<p class="empty">nothing pushed yet</p>'
    return (f'<p id="last-push">Latest push run: {escape(str(push["status"]))}, finished '
            f'{when(push["finished_at"])}: +{push["added"] or 0:,} −{push["removed"] or 0:,}, '
            f'{push["rejected"] or 0:,} rejected, {push["held"] or 0:,} held.</p>')


def freshness(site: Site) -> str:
    if not site.freshness:
        return '<section id="freshness"><h2>Provider freshness</h2><p class="empty">no sync recorded yet</p></section>'
    rows = "".join(f'<tr class="{escape(str(r["last_status"]))}"><td>{escape(r["provider"])}</td>'
                   f'<td>{escape(r["table"])}</td><td>{when(r["fresh_at"])}</td>'
                   f'<td>{escape(str(r["last_status"]))}</td><td class="n">{number(r["last_loaded"])}</td></tr>'
                   for r in site.freshness)
    return ('<section id="freshness"><h2>Provider freshness</h2><table><thead><tr><th>provider</th><th>table</th>'
            '<th>last loaded ok</th><th>last status</th><th>rows last loaded</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></section>')


def segment_article(page: SegmentPage, models: set[str]) -> str:
    segment = page.segment
    size = f"{page.sizes[-1][1]:,} members" if page.sizes else "not built yet"
    rows = []
    for provider, target in segment.push.items():
        push = page.pushes.get(provider)
        result = (f'{when(push["pushed_at"])}: +{push["added"]:,} −{push["removed"]:,}, '
                  f'{push["rejected"]:,} rejected, {push["held"]:,} held' if push else "not pushed yet")
        error = f'<br><small>{escape(push["example_error"])}</small>' if push and push["example_error"] else ""
        drift = f'{push["drift"]:,}' if push else ""
        rows.append(f'<tr><td>{escape(provider)}</td><td>{escape(str(target).partition(" ")[2])}</td>'
                    f'<td>{result}{error}</td><td class="n">{drift}</td></tr>')
    return "\n".join([
        f'<article class="segment" id="{segment_anchor(segment.name)}" data-name="{escape(segment.name)}">',
        f'<h3>{escape(segment.name)} <small>{size}</small></h3>',
        f'<p>{escape(segment.description) or "<em>no description</em>"}</p>',
        f'<p>Reads {links(page.reads, models)}. File <code>{escape(str(segment.path))}</code>.</p>',
        '<h4>Size over time</h4>', size_plot(segment.name, page.sizes),
        '<h4>Push targets and the latest push</h4>',
        '<table><thead><tr><th>provider</th><th>target</th><th>latest push that changed it</th><th>drift</th></tr></thead>'
        f'<tbody>{"".join(rows) or "<tr><td colspan=4>pushed nowhere</td></tr>"}</tbody></table>',
        f'<details><summary>SQL</summary><pre><code>{escape(segment.sql)}</code></pre></details>',
        '</article>'])


def model_article(page: ModelPage, models: set[str], readers: list[str]) -> str:
    model = page.model
    columns = "".join(f'<tr><td><code>{escape(c.name)}</code></td><td>{escape(c.type)}</td>'
                      f'<td>{escape(c.description)}</td></tr>' for c in page.columns)
    tests = "".join(f"<li><code>{escape(t)}</code></li>" for t in page.tests) or "<li>none declared</li>"
    reads = sorted({*model.depends_on, *model.sources})
    return "\n".join([
        f'<article class="model" id="{model_anchor(model.name)}" data-name="{escape(model.name)}">',
        f'<h3>{escape(model.name)} <small>{model.materialized}</small></h3>',
        f'<p>{escape(model.description) or "<em>no description</em>"}</p>',
        f'<p>Reads {links(reads, models)}; read by {links(sorted(readers), models)}. '
        f'File <code>{escape(str(model.path))}</code>.</p>',
        '<table><thead><tr><th>column</th><th>type</th><th>description</th></tr></thead>'
        f'<tbody>{columns}</tbody></table>',
        f'<h4>Tests</h4><ul>{tests}</ul>',
        f'<details><summary>SQL</summary><pre><code>{escape(model.sql)}</code></pre></details>',
        '</article>'])


def links(names: list[str], models: set[str]) -> str:
    """Each name, a link to its model or segment when the site has one."""
    def link(name: str) -> str:
        if name in models:
            return f'<a href="#{model_anchor(name)}">{escape(name)}</a>'
        if name.startswith("segment:"):
            return f'<a href="#{segment_anchor(name[8:])}">{escape(name)}</a>'
        return f"<code>{escape(name)}</code>"
    return ", ".join(link(n) for n in names) or "nothing"


def when(value: object) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else "never"


def number(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else ""
