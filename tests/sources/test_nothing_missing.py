"""Nothing silently missing: a record the listing returns loads whatever its timestamps.

A complete listing loads every record the warehouse lacks or holds as deleted, even when its
update time is behind the cursor (a listing that shifted under a deletion skipped it once, or
it came back with its old stamp); Chatman's incremental runs also read `mode=new`, so a new
contact whose modified_at is older than the modified window comes too."""

from __future__ import annotations

from pathlib import Path

import duckdb
import httpx
import numpy as np
import pyarrow as pa
import pytest

from crmsync.sandbox.clock import BASE_END_MS, iso_ms
from crmsync.sandbox.link import sandbox_environment
from crmsync.sandbox.server import SandboxServer
from crmsync.sources.common.scans import HeldIds
from tests.sources.conftest import SyncOnce, query

# provider, table, key, update time: the listings read whole that a cursor judges.
LISTINGS = [
    pytest.param("chatman", "contacts", "user_id", "modified_at", id="chatman-contacts"),
    pytest.param("whautomate", "contacts", "id", "updated_at", id="whautomate-contacts"),
    pytest.param("chatrace", "opportunities", "id", "updated_at", id="chatrace-opportunities"),
    pytest.param("waabot", "contacts", "id", "updated_at", id="waabot-contacts"),
]


@pytest.mark.parametrize(("provider", "table", "key", "stamp"), LISTINGS)
def test_a_complete_scan_loads_what_the_warehouse_lacks_whatever_its_time(
        provider: str, table: str, key: str, stamp: str, warehouse: Path, sync_once: SyncOnce,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CHATMAN__FULL_SCAN_HOURS", "0")  # Chatman's scan is mode=all
    sync_once(provider)
    relation = f"raw_{provider}.{table}"
    # The two oldest records, far behind the cursor: one the warehouse lacks, one it holds
    # as deleted, with an older version of it.
    (lacked, _), (held, stamped) = query(warehouse, f"SELECT {key}, {stamp} FROM {relation} ORDER BY {stamp} LIMIT 2")
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"DELETE FROM {relation} WHERE {key} = ?", [lacked])
        con.execute(f"UPDATE {relation} SET deleted_at = now(), {stamp} = {stamp} - INTERVAL 1 DAY "
                    f"WHERE {key} = ?", [held])
    again = sync_once(provider)
    live = dict(query(warehouse, f"SELECT {key}, {stamp} FROM {relation} WHERE deleted_at IS NULL "
                                 f"AND CAST({key} AS VARCHAR) IN ('{lacked}', '{held}')"))
    assert lacked in live, f"{relation}: {lacked}, listed but missing from the warehouse, was not loaded"
    assert live.get(held) == stamped, f"{relation}: {held}, held as deleted, was not loaded again"
    assert again.rows.get(table) == 2, again.rows  # those two, nothing else


def test_chatman_reads_new_contacts_whose_modified_at_is_behind_the_cursor(
        sandbox: SandboxServer, warehouse: Path, sync_once: SyncOnce) -> None:
    env = sandbox_environment(sandbox.url)
    auth = {"Authorization": f"Bearer {env['SOURCES__CHATMAN__API_KEY']}"}
    api = httpx.Client(base_url=env["SOURCES__CHATMAN__BASE_URL"], timeout=10, headers=auth)
    sync_once("chatman")
    (phone, code), = query(warehouse, "SELECT phone_number, country_code FROM raw_chatman.contacts LIMIT 1")
    api.post("/contacts/update/", json={"phone_number": phone, "country_code": code,
                                        "system_attributes": {"city": "Lagos"}}).raise_for_status()
    sync_once("chatman")  # the modified_at cursor is now at that update
    imported = httpx.post(f"{sandbox.url}/_sandbox/chatman/contacts/import/", headers=auth, timeout=10, json={
        "phone_number": "8031234999", "country_code": "+234", "modified_at": iso_ms(BASE_END_MS + 86_400_000),
        "system_attributes": {"first_name": "Ada", "email": "ada.import@example.ng"}})
    imported.raise_for_status()
    user_id = imported.json()["user_id"]
    incremental = sync_once("chatman")
    assert query(warehouse, f"SELECT count(*) FROM raw_chatman.contacts WHERE user_id = '{user_id}'") == [(1,)]
    assert incremental.rows == {"contacts": 1}, incremental.rows
    assert sync_once("chatman").rows == {}  # and a run with no change loads nothing


def test_held_ids_tell_exactly_which_ids_are_lacked() -> None:
    held = HeldIds(np.array([b"ab", b"1000000", b"zz"]))
    asked = pa.array(["ab", "abc", "a", "zz", "1000000", "b"])
    assert held.lacks(asked).to_pylist() == [False, True, True, False, False, True]
    assert held.lacks(pa.array([1000000, 20], pa.int64())).to_pylist() == [False, True]  # Chatrace's ids
    assert HeldIds(np.array([], dtype="S1")).lacks(asked).to_pylist() == [True] * 6  # no table yet
