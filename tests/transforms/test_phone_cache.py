"""phone_e164 with its answers kept in the warehouse (ops.phone_e164): a number is parsed once
per warehouse, and what the cache answers is exactly what phonenumbers answers (to_e164) on
numbers of many countries in every shape providers send, and on junk."""

from __future__ import annotations

import duckdb
import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

import crmsync.transforms.functions as functions
from crmsync.kernel.phones import to_e164
from crmsync.transforms.functions import register_functions

REGIONS = ("NG", "KE", "GB", "US", "IN", "IT", "DE", "BR", "ZA", "GH")
JUNK = ["N/A", "status", "120363045767536459", "120363045767536459@g.us", "{Hi|Hello} [name] no keyword",
        "12", "+", "+++", "0", "00000000000", "+234 803 123 4567 ext 12", "+1 800 FLOWERS", "  ", "080-CALL-NOW",
        "+2348031234567+2348031234567", "２３４８０３１２３４５６７"]


def shapes(region: str, n: int) -> list[tuple[str, str | None]]:
    """A valid (or, when n moves it out of range, invalid) mobile of `region` as providers write it."""
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    number = phonenumbers.parse(f"+{example.country_code}{example.national_number + n}")
    code = str(number.country_code)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    digits = "".join(ch for ch in national if ch.isdigit())
    return [(e164, None), (e164[1:], None), (international, None), (national, code), (national, "+" + code),
            (digits, code), (digits, None), (f"({code}) {digits}", None), (e164, "999")]


SAMPLE = [shape for region in REGIONS for n in (0, 7, 10**9) for shape in shapes(region, n)] \
    + [(junk, code) for junk in JUNK for code in (None, "234")] + [(None, "234"), ("", None)]


def answers(con: duckdb.DuckDBPyConnection) -> list[str | None]:
    return [row[0] for row in con.execute("SELECT phone_e164(raw, code) FROM p ORDER BY rowid").fetchall()]


@pytest.mark.parametrize("region", [None, "NG"])
def test_cached_answers_equal_phonenumbers(region: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if region:
        monkeypatch.setenv("TRANSFORM__DEFAULT_REGION", region)
    expected = [to_e164(raw, code, region) if raw else None for raw, code in SAMPLE]
    assert any(expected) and None in expected
    with duckdb.connect() as con:
        con.execute("CREATE TABLE p (raw VARCHAR, code VARCHAR)")
        con.executemany("INSERT INTO p VALUES (?, ?)", SAMPLE)
        phones = register_functions(con)
        assert answers(con) == expected  # parsed
        distinct = {(raw, code or "") for raw, code in SAMPLE if raw}
        assert phones.save(con) == len(distinct)

        def no_parsing(*args: object) -> None:
            raise AssertionError(f"parsed {args} again: it is in ops.phone_e164")

        monkeypatch.setattr(functions, "parse_phone", no_parsing)
        register_functions(con)
        assert answers(con) == expected  # every answer from the warehouse, none parsed


def test_answers_are_kept_per_default_region_and_library(monkeypatch: pytest.MonkeyPatch) -> None:
    with duckdb.connect() as con:
        con.execute("CREATE TABLE p (raw VARCHAR, code VARCHAR)")
        con.execute("INSERT INTO p VALUES ('08031234567', NULL)")
        register_functions(con).save(con)
        assert answers(con) == [None]  # national, and no default region to read it in
        monkeypatch.setenv("TRANSFORM__DEFAULT_REGION", "NG")
        phones = register_functions(con)
        assert phones.known == {}  # the answer without a region is not reused for NG
        assert answers(con) == ["+2348031234567"]
        phones.save(con)
        assert len(register_functions(con).known) == 1
        con.execute("UPDATE ops.phone_e164 SET library = '0.0'")
        assert register_functions(con).known == {}  # another phonenumbers version: parse again


def test_a_warehouse_from_before_phone_quality_parses_its_numbers_again() -> None:
    """Its answers lack the quality, and gave possible numbers no E.164: none is reused."""
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA ops")
        con.execute("CREATE TABLE ops.phone_e164 (raw VARCHAR NOT NULL, calling_code VARCHAR NOT NULL, "
                    "default_region VARCHAR NOT NULL, library VARCHAR NOT NULL, e164 VARCHAR)")
        con.execute("INSERT INTO ops.phone_e164 VALUES ('+447911670123', '', '', ?, NULL)", [phonenumbers.__version__])
        con.execute("CREATE TABLE p (raw VARCHAR, code VARCHAR)")
        con.execute("INSERT INTO p VALUES ('+447911670123', NULL)")
        assert register_functions(con).known == {}
        assert answers(con) == ["+447911670123"]
        assert con.execute("SELECT phone_quality(raw, code) FROM p").fetchall() == [("possible",)]
