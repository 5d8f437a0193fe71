"""`crmsync docs`: the site of a looped warehouse opened in a real headless Chromium: no console
error, the lineage graph and the size plots drawn, a segment's link to its model followed, and
(served) a person looked up with their records, segments and pushes."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from crmsync.docs.render import write_site
from crmsync.docs.serve import site_server
from crmsync.docs.site import gather
from crmsync.docs.svg import size_plot
from crmsync.transforms.runner import DEFAULT_ROOT
from crmsync.transforms.segments import load_segments
from tests.reading.browser import chromium_path
from tests.reading.conftest import Ran


@pytest.fixture(scope="module")
def site_url(looped: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    out = tmp_path_factory.mktemp("site")
    write_site(gather(looped, DEFAULT_ROOT), out)
    with site_server(out, looped) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
        server.shutdown()


def test_the_docs_page_loads_draws_and_links_in_chromium(site_url: str, looped: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    executable = chromium_path()
    segments = [s.name for s in load_segments(DEFAULT_ROOT / "segments")]
    with duckdb.connect(str(looped), read_only=True) as con:
        person_id, email, segment_of_person = con.execute(
            "SELECT person_id, email, segment FROM crm.segment_members JOIN crm.people USING (person_id) "
            "WHERE email IS NOT NULL AND len(providers) >= 3 ORDER BY person_id LIMIT 1").fetchone()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        page.goto(site_url, wait_until="load")

        graph = page.locator("svg#lineage").bounding_box()
        assert graph and graph["width"] > 100 and graph["height"] > 100
        assert page.locator("svg#lineage .node").count() > 20
        assert page.locator("svg#lineage .edge").count() > 20
        for name in segments:  # every segment has its plot, drawn, with a mark per run
            plot = page.locator(f'svg.plot[data-segment="{name}"]')
            box = plot.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, name
            assert plot.locator("circle.dot").count() >= 1
        assert page.locator("#freshness tbody tr").count() > 5

        segment = page.locator(f"article#segment-{segments[0]}")
        segment.locator('a[href="#model-crm.orders"]').click()
        page.wait_for_function("window.location.hash === '#model-crm.orders'")
        model = page.locator('article[id="model-crm.orders"]')
        # The page marks it on hashchange, an event that may come after the hash is read back.
        expect(model).to_have_class(re.compile(r"\bcurrent\b"))
        assert model.is_visible() and model.locator("td", has_text="total").first.is_visible()
        header = page.locator("header").bounding_box()
        assert header["height"] <= model.bounding_box()["y"] < page.viewport_size["height"]  # in view, not under the header

        # A person looked up from the served page: their records, segments and pushes, and a
        # link from one of their segments back to the segment's section.
        page.locator("#person input").fill(email)
        page.locator("#person input").press("Enter")
        page.wait_for_url("**/person?q=*")
        person = page.locator(f'article[id="person-{person_id}"]')
        assert person.is_visible() and person.locator("tbody tr").count() >= 3 + 1 + 1
        person.locator(f'a[href="index.html#segment-{segment_of_person}"]').first.click()
        page.wait_for_function(f"window.location.hash === '#segment-{segment_of_person}'")
        assert "current" in (page.locator(f"article#segment-{segment_of_person}").get_attribute("class") or "")
        browser.close()
    assert problems == []


def test_crmsync_docs_writes_the_site_of_the_warehouse(looped: Path, tmp_path: Path, cli: Callable[..., Ran]) -> None:
    done = cli("docs", "--warehouse", str(looped), "--out", str(tmp_path / "site"))
    assert done.code == 0, done.stderr
    index = (tmp_path / "site" / "index.html").read_text()
    assert {p.name for p in (tmp_path / "site").iterdir()} == {"index.html", "docs.css", "docs.js"}
    assert 'id="model-crm.people"' in index and 'id="segment-multi_provider"' in index
    assert "The person: stable while" in index  # a column's description, from the warehouse's comment
    assert "Latest push run: ok" in index
    assert "http" not in index.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from elsewhere


def test_a_size_plot_draws_each_run_at_its_time_and_size() -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    svg = size_plot("s", [(day, 10), (day + timedelta(days=1), 40), (day + timedelta(days=3), 20)])
    [points] = re.findall(r'<polyline class="line" points="([^"]+)"', svg)
    xs, ys = zip(*[map(float, p.split(",")) for p in points.split()])
    assert xs[0] < xs[1] < xs[2] and (xs[1] - xs[0]) * 2 == pytest.approx(xs[2] - xs[1], abs=0.2)  # time to scale
    assert ys[1] < ys[2] < ys[0]  # 40 highest, 10 lowest
    assert svg.count("<circle") == 3 and ">40<" in svg
