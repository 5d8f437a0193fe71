"""The sandbox's shared machinery: population, tables, faults, admin routes."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import phonenumbers
import pytest

from crmsync.sandbox.clock import BASE_END_MS, Timeline, iso_ms, now_ms, parse_iso_ms
from crmsync.sandbox.population import PROVIDERS, Population
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.table import Table
from crmsync.sandbox.world import World


def test_same_seed_same_people_other_seed_other_people() -> None:
    one, two, other = Population(3, 500), Population(3, 500), Population(4, 500)
    assert [one.person(i) for i in range(500)] == [two.person(i) for i in range(500)]
    assert [one.person(i) for i in range(500)] != [other.person(i) for i in range(500)]
    for provider in PROVIDERS:
        assert list(one.members(provider)) == list(two.members(provider))


def test_every_person_is_somewhere_and_dmchamp_people_are_findable_elsewhere() -> None:
    population = Population(11, 3000)
    for index in range(3000):
        places = population.providers_of(index)
        assert places, index
        assert places != ("dmchamp",), index


def test_phones_are_valid_unique_and_lead_back_to_their_person() -> None:
    population = Population(5, 4000)
    seen: set[str] = set()
    for index in range(4000):
        person = population.person(index)
        if person.junk_phone is not None:
            assert person.phone_e164 is None and person.email is None
            continue
        assert phonenumbers.is_valid_number(phonenumbers.parse(person.phone_e164))
        national_form = phonenumbers.parse(person.trunk + person.national, person.region)
        assert phonenumbers.format_number(
            national_form, phonenumbers.PhoneNumberFormat.E164) == person.phone_e164
        assert person.phone_e164 not in seen
        seen.add(person.phone_e164)
        assert population.person_from_phone(person.phone_e164[1:]) == index
        if person.email:
            assert population.person_from_email(f" {person.email.upper()} ") == index
        if person.secondary_national:
            assert population.person_from_phone(person.calling_code + person.secondary_national) == index
    assert population.person_from_phone("2348000000000") is None
    assert any(population.is_junk(i) for i in range(4000))


def _table(n: int) -> Table:
    return Table(n, make=lambda k: {"id": f"r{k:06d}", "k": k}, id_of=lambda k: f"r{k:06d}",
                 timeline=Timeline(n, salt=1))


def _walk(table: Table, order: str, limit: int, **window: int) -> list[int]:
    seen, after = [], None
    while True:
        page, after = table.scan(order, limit, after=after, **window)
        seen += [r["k"] for r in page]
        if after is None:
            return seen


def test_table_keyset_scan_moves_updated_records_to_the_end() -> None:
    table = _table(50)
    assert _walk(table, "updated", 7) == list(range(50))
    table.put(3, {"id": "r000003", "k": 3}, now_ms())
    table.delete(10)
    created = table.create(lambda k: {"id": f"r{k:06d}", "k": k}, now_ms())
    order = _walk(table, "updated", 7)
    assert order == [k for k in range(50) if k not in (3, 10)] + [3, created]
    assert _walk(table, "created", 7) == [k for k in range(50) if k != 10] + [created]


def test_table_time_window_is_half_open() -> None:
    table = _table(40)
    start, end = table.timeline.updated_ms(5), table.timeline.updated_ms(9)
    assert _walk(table, "updated", 3, start_ms=start, end_ms=end) == [5, 6, 7, 8]
    assert _walk(table, "updated", 3, start_ms=BASE_END_MS) == []


def test_table_offset_pages_newest_first() -> None:
    table = _table(25)
    pages = [table.page(offset, 10, newest_first=True) for offset in (0, 10, 20, 30)]
    assert [[r["k"] for r in page] for page in pages] == [
        list(range(24, 14, -1)), list(range(14, 4, -1)), list(range(4, -1, -1)), []]


def test_table_counts_windows_and_reports_changed_records() -> None:
    table = _table(30)
    start, end = table.timeline.created_ms(4), table.timeline.created_ms(12)
    assert table.count("created") == 30 and table.count("created", start, end) == 8
    assert not table.is_changed(3) and len(table.changed_ks()) == 0
    table.put(3, {"id": "r000003", "k": 3}, now_ms())
    table.delete(5)
    created = table.create(lambda k: {"id": f"r{k:06d}", "k": k}, now_ms())
    assert table.count("created", start, end) == len(_walk(table, "created", 4, start_ms=start, end_ms=end)) == 7
    assert table.count("updated", BASE_END_MS) == len(_walk(table, "updated", 4, start_ms=BASE_END_MS)) == 2
    assert table.changed_ks().tolist() == [3, created]
    assert table.is_changed(3) and table.is_changed(created) and not table.is_changed(4)
    table.delete(3)
    assert table.changed_ks().tolist() == [created]


def test_table_builds_a_page_of_generated_records_in_one_batch() -> None:
    batches: list[list[int]] = []

    def make_many(ks: list[int]) -> list[dict]:
        batches.append(ks)
        return [{"id": f"r{k:06d}", "k": k} for k in ks]

    table = Table(20, make=lambda k: make_many([k])[0], id_of=lambda k: f"r{k:06d}",
                  timeline=Timeline(20, salt=1), make_many=make_many)
    table.put(2, {"id": "r000002", "k": 2, "changed": True}, now_ms())
    table.delete(4)
    assert table.records(range(6)) == [make_many([0])[0], make_many([1])[0],
                                       {"id": "r000002", "k": 2, "changed": True},
                                       make_many([3])[0], make_many([5])[0]]
    assert batches[0] == [0, 1, 3, 5]


def test_timestamps_round_trip() -> None:
    stamp = Timeline(100, 3).created_ms(42)
    assert iso_ms(stamp).endswith("Z") and parse_iso_ms(iso_ms(stamp)) == stamp


def test_faults_rate_limit_answers_429_with_retry_after(http: httpx.Client) -> None:
    assert http.post("/_sandbox/faults", json={"rate_limit": 2}).status_code == 200
    statuses = [http.get("/whautomate/v1/contacts").status_code for _ in range(8)]
    assert 429 in statuses
    limited = next(r for r in (http.get("/whautomate/v1/contacts") for _ in range(8))
                   if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    http.post("/_sandbox/faults", json={"rate_limit": None})
    assert http.get("/whautomate/v1/contacts").status_code != 429


def test_faults_error_rate_and_stats(http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"error_rate": 1.0})
    response = http.get("/chatrace/pipelines/")
    assert response.status_code in (500, 502, 503)
    http.post("/_sandbox/faults", json={"error_rate": 0.0})
    stats = http.get("/_sandbox/stats").json()
    assert sum(stats["statuses"]["chatrace"].values()) == 1
    assert http.delete("/_sandbox/stats").json() == {"requests": {}, "statuses": {}}


def test_admin_rejects_bad_input(http: httpx.Client) -> None:
    assert http.post("/_sandbox/faults", json={"latency": 5}).status_code == 400
    assert http.post("/_sandbox/churn", json={"update": 2}).status_code == 400
    assert http.post("/_sandbox/churn", json={"update": "x"}).status_code == 400


def test_latency_is_added(sandbox: SandboxServer, http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"latency_ms": 150})
    response = http.get("/whautomate/v1/contacts")
    assert response.elapsed.total_seconds() >= 0.15


def test_truth_lists_every_live_account_once() -> None:
    world = World(seed=9, contacts=300)
    truth = world.truth()
    ids = [(p, cid) for person in truth["people"] for p, cid in person["accounts"].items()]
    assert len(ids) == len(set(ids))
    assert {p["person"] for p in truth["people"]} <= set(range(len(world.population)))
    for provider, counts in truth["counts"].items():
        accounts = sum(1 for person in truth["people"] if provider in person["accounts"])
        if "contacts" in counts and provider != "waabot":
            assert counts["contacts"] == accounts, provider


@pytest.mark.parametrize("seed", [1, 2])
def test_churn_is_deterministic(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Created records' ObjectIds carry their creation second (as real ones do): the clock is
    # held still so that both churns happen in the same second.
    monkeypatch.setattr("crmsync.sandbox.clock.time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    one, two = World(seed=3, contacts=200), World(seed=3, contacts=200)
    shares = {"update": 0.05, "create": 0.02, "delete": 0.01}
    assert one.churn(seed=seed, **shares) == two.churn(seed=seed, **shares)
    assert one.truth() == two.truth()
