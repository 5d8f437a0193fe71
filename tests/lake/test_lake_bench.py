"""`crmsync bench --only lake` at a tiny size: its figures are there and computed from the runs."""

from __future__ import annotations

import pytest
from crmsync.benchmarks.run import run_bench

from tests.benchmarks.test_bench import TINY, by_name


@pytest.mark.slow  # ~1-2 min: a PostgreSQL, five syncs into lakes and one into a file
def test_the_lake_item_compares_lake_and_file_and_side_by_side_with_one_after_another() -> None:
    figures = by_name(run_bench(TINY, ("lake",)))

    assert set(figures) == {"lake.chatman.file_seconds", "lake.chatman.lake_seconds", "lake.chatman.lake_ratio",
                            "lake.three.after_seconds", "lake.three.together_seconds", "lake.three.wall_ratio"}
    assert all(f["value"] > 0 for f in figures.values())
    assert figures["lake.chatman.lake_ratio"]["value"] == pytest.approx(
        figures["lake.chatman.lake_seconds"]["value"] / figures["lake.chatman.file_seconds"]["value"], rel=0.01)
    assert figures["lake.three.wall_ratio"]["value"] == pytest.approx(
        figures["lake.three.together_seconds"]["value"] / figures["lake.three.after_seconds"]["value"], rel=0.01)
