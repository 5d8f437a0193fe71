"""Pages are generated in batches (numpy over a page's ks, one reseeded random stream); each
record must be exactly what building it alone, the plain way, gives: a person drawn from
`random.Random(seed * 1_000_003 + index)` with the Random methods, a record from
`random.Random(mix(k, salt))`, scalar hashes, ids and timestamps."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
import pytest

from crmsync.sandbox import phones
from crmsync.sandbox.clock import iso_ms, mix
from crmsync.sandbox.ids import object_id_for, uuid_for
from crmsync.sandbox.population import (
    CITIES, COUNTRIES, EMAIL_DOMAINS, EMAIL_SHARE, FIRST_NAMES, GENDERS, JUNK_PHONES, LAST_NAMES,
    SECONDARY_OFFSET, SECONDARY_PHONE_SHARE, SUBSCRIBER_SPACE, Person, Population,
)
from crmsync.sandbox.providers.chatman import contacts as chatman_contacts
from crmsync.sandbox.providers.chatman import events as chatman_events
from crmsync.sandbox.providers.waabot import contacts as waabot_contacts
from crmsync.sandbox.providers.whautomate import records as whautomate_records
from crmsync.sandbox.providers.whautomate import state as whautomate_state
from crmsync.sandbox.streams import Streams
from crmsync.sandbox.table import Table
from crmsync.sandbox.world import World


def plain_person(seed: int, index: int, junk: bool) -> Person:
    """A person built the plain way: its own Random and the Random methods."""
    rng = random.Random(seed * 1_000_003 + index)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    roll = rng.random()
    for calling_code, region, prefixes, trunk, share in COUNTRIES:
        roll -= share
        if roll < 0:
            break

    def national(offset: int) -> str:
        subscriber = f"{((index + offset) * 7_654_321 + 1_234_567) % SUBSCRIBER_SPACE:07d}"
        if len(prefixes) == 10:
            return prefixes[int(subscriber[0])] + subscriber[1:]
        return rng.choice(prefixes) + subscriber

    primary = national(0)
    email = None
    if not junk and rng.random() < EMAIL_SHARE:
        local = f"{first}.{last}".translate(str.maketrans({"ë": "e", "é": "e", "í": "i", "ü": "u", "'": ""}))
        email = f"{local.lower()}{index}@{rng.choice(EMAIL_DOMAINS)}"
    secondary = None
    if email and rng.random() < SECONDARY_PHONE_SHARE and index < SECONDARY_OFFSET:
        secondary = national(SECONDARY_OFFSET)
    year = rng.randint(1960, 2005)
    gender, city = rng.choice(GENDERS), rng.choice(CITIES)
    birth_date = f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    opted_in = rng.random() < 0.8
    return Person(index, first, last, calling_code, region, primary, trunk, email, secondary, gender,
                  city, birth_date, opted_in, rng.choice(JUNK_PHONES) if junk else None)


@pytest.mark.parametrize("seed", [7, 2**40 + 3])
def test_people_in_a_batch_are_the_plainly_drawn_people(seed: int) -> None:
    population = Population(seed, 6000)
    indexes = np.arange(6000)
    expected = [plain_person(seed, i, population.is_junk(i)) for i in range(6000)]
    assert population.people(indexes) == expected
    assert population.people(indexes[::-7]) == expected[::-7]
    assert [population.person(i) for i in range(0, 6000, 13)] == expected[::13]
    # every branch was drawn: junk, no email, a second phone
    assert {p.junk_phone is not None for p in expected} == {True, False}
    assert {p.email is None for p in expected} == {True, False}
    assert {p.secondary_national is None for p in expected} == {True, False}


def test_people_around_the_second_phone_limit_and_created_people() -> None:
    population = Population(7, SECONDARY_OFFSET + 1000)
    indexes = np.arange(SECONDARY_OFFSET - 1000, SECONDARY_OFFSET + 1000)
    assert population.people(indexes) == [
        plain_person(7, int(i), population.is_junk(int(i))) for i in indexes]
    created = population.create(random.Random(1))
    mixed = np.array([5, created.index, 6])
    assert population.people(mixed) == [population.person(5), created, population.person(6)]


def test_a_reseeded_stream_draws_what_a_new_random_draws() -> None:
    streams = Streams()
    for x in (0, 1, 2**32 + 5, mix(99, 3)):
        fresh = random.Random(x)
        streams.seed(x)
        assert [streams.below(n) for n in (1, 2, 30, 46, 1000)] == [fresh._randbelow(n) for n in (1, 2, 30, 46, 1000)]
        assert [streams.random() for _ in range(3)] == [fresh.random() for _ in range(3)]
        assert [streams.choice("abcdefg") for _ in range(5)] == [fresh.choice("abcdefg") for _ in range(5)]
        assert [streams.sample(range(21), k) for k in (0, 3, 21)] == [fresh.sample(range(21), k) for k in (0, 3, 21)]


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=7, contacts=3000)


def assert_pages_are_plain(table: Table, plain: Callable[[int], dict]) -> None:
    """Every k once, in pages of uneven sizes, and one page out of order."""
    ks = list(range(table.n_base))
    for page in [ks[i:i + 337] for i in range(0, len(ks), 337)] + [ks[::-5]]:
        assert table.records(page) == [plain(k) for k in page]


def test_chatman_contact_pages_are_the_plainly_built_records(world: World) -> None:
    contacts = world.providers["chatman"].contacts
    timeline = contacts.timeline

    def plain(k: int) -> dict:
        person = plain_person(7, int(contacts.members[k]), False)
        rng = random.Random(mix(k, contacts.salt + 1))
        shape = rng.random()
        phone = (person.national if shape < 0.5 else person.trunk + person.national if shape < 0.8
                 else phones.spaced(person.calling_code, person.national))
        system = {"first_name": person.first_name, "last_name": person.last_name or None,
                  "email": phones.email_variant(person.email, rng), "date_of_birth": person.birth_date,
                  "gender": person.gender, "city": person.city,
                  "state": chatman_contacts.CITY_STATES[person.city], "whatsapp_opted": person.opted_in}
        custom = {}
        for name, values in (("loyalty_tier", chatman_contacts.LOYALTY_TIERS),
                             ("source", chatman_contacts.SOURCES), ("lifetime_value", None),
                             ("preferred_language", chatman_contacts.LANGUAGES)):
            if rng.random() < {"loyalty_tier": 0.7, "source": 0.8, "lifetime_value": 0.4}.get(name, 0.3):
                custom[name] = rng.choice(values) if values else round(rng.uniform(0, 2000), 2)
        tags = rng.sample(chatman_contacts.TAGS, rng.choice((0, 0, 1, 1, 1, 2, 3)))
        external = f"ext-{k}" if rng.random() < 0.6 else None
        return {"user_id": uuid_for(k, contacts.salt), "wa_id": person.calling_code + person.national,
                "country_code": f"+{person.calling_code}", "phone_number": phone,
                "system_attributes": system, "custom_attributes": custom, "user_tags": tags,
                "external_customer_id": external, "created_at": iso_ms(timeline.created_ms(k)),
                "modified_at": iso_ms(timeline.updated_ms(k))}

    assert_pages_are_plain(contacts.table, plain)


def test_chatman_triggered_event_pages_are_the_plainly_built_records(world: World) -> None:
    events = world.providers["chatman"].events

    def plain(j: int) -> dict:
        rng = random.Random(mix(j, events.salt + 2))
        name = rng.choice(chatman_events.EVENT_NAMES)
        ms = events.timeline.created_ms(j)
        attributes = chatman_events._attributes(chatman_events.EVENT_TYPES[name], rng, ms)
        owner = int(events.owners(np.array([j]))[0])
        return {"event_id": uuid_for(j, events.salt), "event_name": name,
                "user_id": uuid_for(owner, events.contacts.salt), "attributes": attributes,
                "triggered_at": iso_ms(ms)}

    assert_pages_are_plain(events.table, plain)


def test_whautomate_contact_pages_are_the_plainly_built_records(world: World) -> None:
    state = world.providers["whautomate"].state
    timeline = state.contacts.timeline

    def plain(k: int) -> dict:
        person = plain_person(7, int(state.members[k]), world.population.is_junk(int(state.members[k])))
        created = timeline.created_ms(k)
        stamps = (iso_ms(created), iso_ms(timeline.updated_ms(k)),
                  iso_ms(created + mix(k, state.salt + whautomate_state._LAST_ACTIVITY) % (
                      whautomate_state.BASE_END_MS - created)))
        tags = whautomate_records.tags_of(k, state.salt + whautomate_state._CONTACT_TAGS,
                                          whautomate_records.CONTACT_TAGS)
        rng = random.Random(mix(k, state.salt + whautomate_state._CONTACT_RNG))
        location = whautomate_records.pick_location(rng, state.locations)
        contact_id = object_id_for(k, state.salt + whautomate_state._CONTACT_ID, created)
        return whautomate_records.contact(contact_id, person, rng, stamps, tags, location["id"])

    assert_pages_are_plain(state.contacts, plain)


def test_waabot_contact_pages_are_the_plainly_built_records(world: World) -> None:
    book = world.providers["waabot"].contacts
    timeline = book.table.timeline

    def plain(k: int) -> dict:
        owner = int(book.owner[k])
        person = plain_person(7, owner, world.population.is_junk(owner))
        h = mix(k, waabot_contacts.CONTACT_SALT)
        roll = [(h >> (16 * i) & 0xFFFF) / 65536 for i in range(3)]
        created = timeline.created_ms(k)
        updated = timeline.updated_ms(k) if roll[0] < waabot_contacts.UPDATED_SHARE else created
        slot = book.groups.slots[book.slot[k]]
        return waabot_contacts.record(
            object_id_for(k, waabot_contacts.CONTACT_SALT, created),
            waabot_contacts.name_of(person, roll[1]), waabot_contacts.number_of(person, roll[2]),
            slot.group_id, slot.client_id, iso_ms(created), iso_ms(updated))

    assert_pages_are_plain(book.table, plain)
