"""Segment and model headers are checked like configuration keys: a misspelt key is one line
naming the file, the line and the closest known key, never a segment built with no target."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.kernel.errors import UserError
from crmsync.transforms.models import discover_models
from crmsync.transforms.segments import load_segment

SELECT = "SELECT person_id FROM crm.people\n"


@pytest.mark.parametrize(("header", "expected"), [
    ('-- description: x\n-- psuh: chatman segment "X"\n', r"x\.sql:2: unknown header key 'psuh'; did you mean push\?"),
    ('-- descripton: x\n-- push: chatman segment "X"\n', r"x\.sql:1: unknown header key 'descripton'; did you mean description\?"),
    ('-- owner: marketing\n', r"x\.sql:1: unknown header key 'owner'; known: description, push"),
    ('-- description: x\n-- People who bought twice.\n-- push: chatman segment "X"\n',
     r"x\.sql:3: -- push: comes after the header's prose"),
])
def test_a_segment_header_with_an_unknown_or_misplaced_key_is_refused(tmp_path: Path, header: str,
                                                                      expected: str) -> None:
    path = tmp_path / "x.sql"
    path.write_text(header + SELECT)
    with pytest.raises(UserError, match=expected):
        load_segment(path)


def test_prose_after_the_header_may_use_colons(tmp_path: Path) -> None:
    path = tmp_path / "x.sql"
    path.write_text('-- description: x\n-- push: chatman segment "X"\n-- Bought twice.\n-- Why: see below.\n' + SELECT)
    segment = load_segment(path)
    assert segment.description == "x" and str(segment.push["chatman"]) == 'chatman segment "X"'


def test_a_misspelt_model_header_key_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "marts" / "m.sql"
    model.parent.mkdir()
    model.write_text("-- materialised: table\nSELECT 1 AS id\n")
    with pytest.raises(UserError, match=r"m\.sql:1: unknown header key 'materialised'; did you mean materialized\?"):
        discover_models(tmp_path)
