"""The people behind the providers' contacts, generated from a seed.

A person is one human with one valid phone number (unique to them) and usually one email.
Which providers a person is in is drawn for the whole population at once with numpy; the
person's details are computed on demand from (seed, person), so a population of millions
costs a few bytes per person until its records are read.

Phones and emails are built so that the person can be found from them again
(`person_from_phone`, `person_from_email`): providers that look contacts up by phone or
email do not need an index over the whole population.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from crmsync.sandbox.streams import Streams

PROVIDERS = ("chatman", "dmchamp", "whautomate", "waabot", "chatrace")

# Share of people present in each provider (before at-least-one is enforced).
PRESENCE = {"chatman": 0.6, "dmchamp": 0.35, "whautomate": 0.5, "waabot": 0.4, "chatrace": 0.4}

# Countries: calling code, ISO region, mobile prefixes (national, without trunk 0), trunk
# prefix, share of people. A person's 7-digit subscriber number follows a 3-digit prefix;
# where the country's numbers are one digit shorter, there are ten prefixes and the first
# subscriber digit picks one. Every number is a valid mobile for the phonenumbers library
# (checked by the sandbox tests).
COUNTRIES = (
    ("234", "NG", ("803", "806", "813", "816", "703", "706", "810", "814"), "0", 0.55),
    ("1", "US", ("4152", "4153", "4154", "2122", "2123", "6462", "6463", "3122", "3052", "2132"),
     "", 0.15),
    ("44", "GB", ("7400", "7500", "7960", "7710", "7720", "7800", "7810", "7900", "7930", "7950"),
     "0", 0.10),
    ("91", "IN", ("981", "982", "987", "991"), "0", 0.10),
    ("254", "KE", ("700", "701", "710", "711", "712", "720", "722", "733", "740", "791"),
     "0", 0.10),
)
SUBSCRIBER_SPACE = 10_000_000  # 7 digits
_PERMUTE_A = 7_654_321  # odd and not a multiple of 5: a bijection of the subscriber space
_PERMUTE_B = 1_234_567
_PERMUTE_A_INV = pow(_PERMUTE_A, -1, SUBSCRIBER_SPACE)
SECONDARY_OFFSET = SUBSCRIBER_SPACE // 2  # subscriber numbers of second phones

FIRST_NAMES = (
    "Adaeze", "Chinedu", "Emeka", "Funmilayo", "Ngozi", "Tunde", "Aisha", "Bola", "Kemi", "Ifeoma",
    "John", "Mary", "Michael", "Sarah", "David", "Emily", "James", "Olivia", "Robert", "Sophia",
    "Priya", "Rahul", "Ananya", "Arjun", "Wanjiru", "Otieno", "Akinyi", "Kamau", "Zoë", "José",
)
LAST_NAMES = (
    "Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Nwosu", "Bello", "Ibrahim", "Afolabi", "Obi",
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "García", "Taylor", "Clark",
    "Sharma", "Patel", "Iyer", "Singh", "Mwangi", "Odhiambo", "Kariuki", "Njoroge", "O'Brien", "Müller",
)
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "example.ng", "mail.co.ke")
CITIES = ("Lagos", "Abuja", "Port Harcourt", "New York", "Chicago", "London", "Mumbai", "Nairobi")
GENDERS = ("male", "female", "other")

# Junk seen in the Waabot docs' sample: a status keyword, a group id, a message template.
JUNK_PHONES = (
    "status",
    "120363045767536459",
    "{Hi|Hello} [name] your message has no keyword here.",
    "N/A",
    "call me",
    "0000",
)
JUNK_SHARE = 0.01
JUNK_PROVIDERS = ("waabot", "whautomate")
EMAIL_SHARE = 0.85
SECONDARY_PHONE_SHARE = 0.05


class Person(NamedTuple):
    index: int
    first_name: str
    last_name: str
    calling_code: str  # "234"
    region: str  # "NG"
    national: str  # "8031234567": national significant number, no trunk prefix
    trunk: str  # "0" or ""
    email: str | None  # canonical, lower case
    secondary_national: str | None  # a second phone, used in one provider with the email
    gender: str
    city: str
    birth_date: str
    opted_in: bool
    junk_phone: str | None  # set for people whose only record carries a junk phone

    @property
    def phone_e164(self) -> str | None:
        if self.junk_phone is not None:
            return None
        return f"+{self.calling_code}{self.national}"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Population:
    """`size` generated people plus the people created later (churn, API writes)."""

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self.size = size
        rng = np.random.default_rng(seed)
        masks = np.zeros(size, dtype=np.uint8)
        for bit, provider in enumerate(PROVIDERS):
            masks |= (rng.random(size) < PRESENCE[provider]).astype(np.uint8) << bit
        # Nobody is in no provider; DM Champ cannot be listed, so its people are also elsewhere.
        fallback = rng.integers(0, len(PROVIDERS), size)
        fallback = np.where(fallback == PROVIDERS.index("dmchamp"), 0, fallback)
        dm_bit = 1 << PROVIDERS.index("dmchamp")
        lonely = (masks == 0) | (masks == dm_bit)
        masks[lonely] |= (1 << fallback[lonely]).astype(np.uint8)
        # Junk people: one record, in Waabot or Whautomate, with a junk phone and no email.
        junk = rng.random(size) < JUNK_SHARE
        junk_provider = np.where(
            rng.random(size) < 0.7,
            PROVIDERS.index("waabot"),
            PROVIDERS.index("whautomate"),
        )
        masks[junk] = (1 << junk_provider[junk]).astype(np.uint8)
        self._junk = junk
        self._masks = masks
        self._created: dict[int, Person] = {}

    # -- membership ---------------------------------------------------------------------
    def members(self, provider: str) -> np.ndarray:
        """Indexes of the generated people present in `provider`, ascending."""
        bit = np.uint8(1 << PROVIDERS.index(provider))
        return np.flatnonzero(self._masks & bit)

    def providers_of(self, index: int) -> tuple[str, ...]:
        """The providers a generated person was placed in (created people: none)."""
        if index >= self.size:
            return ()
        mask = int(self._masks[index])
        return tuple(p for bit, p in enumerate(PROVIDERS) if mask >> bit & 1)

    def is_junk(self, index: int) -> bool:
        return index < self.size and bool(self._junk[index])

    # -- people -------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.size + len(self._created)

    def person(self, index: int) -> Person:
        if index >= self.size:
            return self._created[index]
        return _generate_one(self.seed, index, bool(self._junk[index]))

    def people(self, indexes: Sequence[int] | np.ndarray) -> list[Person]:
        """`person` of many indexes at once: what a page of records needs, at a fraction of
        the cost per person (no cache: a page is read once)."""
        indexes = np.asarray(indexes, dtype=np.int64)
        generated = indexes < self.size
        if generated.all():
            return _generate(self.seed, indexes, self._junk[indexes])
        out = [self._created.get(int(i)) for i in indexes]
        made = iter(_generate(self.seed, indexes[generated], self._junk[indexes[generated]]))
        return [next(made) if person is None else person for person in out]

    def create(self, rng: random.Random) -> Person:
        """A new person (churn or an API write), never colliding with an existing one."""
        index = len(self)
        person = _generate_one(self.seed ^ rng.getrandbits(32), index, False)
        self._created[index] = person
        return person

    def adopt(self, e164: str, first_name: str = "", email: str | None = None) -> Person:
        """A person first seen through an API write with a phone nobody has."""
        index = len(self)
        calling_code, national, region, trunk = _split(e164)
        person = Person(
            index, first_name or "Unknown", "", calling_code, region, national, trunk,
            email.strip().lower() if email else None, None, "other", "", "", False, None,
        )
        self._created[index] = person
        return person

    # -- reverse lookups ----------------------------------------------------------------
    def person_from_phone(self, digits: str) -> int | None:
        """The person whose primary or secondary phone has these digits (country code first)."""
        for calling_code, _region, prefixes, _trunk, _share in COUNTRIES:
            if not digits.startswith(calling_code):
                continue
            national = digits[len(calling_code):]
            for position, prefix in enumerate(prefixes):
                rest = national[len(prefix):]
                if not national.startswith(prefix) or len(rest) != 7 - _picks_prefix(prefixes):
                    continue
                subscriber = int(f"{position}{rest}" if _picks_prefix(prefixes) else rest)
                index = ((subscriber - _PERMUTE_B) * _PERMUTE_A_INV) % SUBSCRIBER_SPACE
                for candidate in (index, index + SECONDARY_OFFSET, index - SECONDARY_OFFSET):
                    if 0 <= candidate < len(self):
                        person = self.person(candidate)
                        if digits in (
                            person.calling_code + person.national,
                            person.calling_code + (person.secondary_national or ""),
                        ):
                            return candidate
        for index, person in self._created.items():
            if digits == person.calling_code + person.national:
                return index
        return None

    def person_from_email(self, email: str) -> int | None:
        wanted = email.strip().lower()
        local = wanted.split("@", 1)[0]
        digits = ""
        while local and local[-1].isdigit():
            digits = local[-1] + digits
            local = local[:-1]
        if digits:
            index = int(digits)
            if index < len(self) and self.person(index).email == wanted:
                return index
        for index, person in self._created.items():
            if person.email == wanted:
                return index
        return None


def _subscriber(index: int) -> str:
    return f"{(index * _PERMUTE_A + _PERMUTE_B) % SUBSCRIBER_SPACE:07d}"


def _picks_prefix(prefixes: tuple[str, ...]) -> bool:
    """Ten prefixes: the first subscriber digit chooses one and the number is 6 digits after."""
    return len(prefixes) == 10


def _national(prefixes: tuple[str, ...], subscriber: str, below: Callable[[int], int]) -> str:
    if _picks_prefix(prefixes):
        return prefixes[int(subscriber[0])] + subscriber[1:]
    return prefixes[below(len(prefixes))] + subscriber


def _split(e164: str) -> tuple[str, str, str, str]:
    digits = e164.lstrip("+")
    for calling_code, region, _prefixes, trunk, _share in COUNTRIES:
        if digits.startswith(calling_code):
            return calling_code, digits[len(calling_code):], region, trunk
    return digits[:3], digits[3:], "ZZ", ""


@lru_cache(maxsize=65536)
def _generate_one(seed: int, index: int, junk: bool) -> Person:
    return _generate(seed, np.array([index]), np.array([junk]))[0]


def _generate(seed: int, indexes: np.ndarray, junk: np.ndarray) -> list[Person]:
    """The people `indexes`, each drawn from `random.Random(seed * 1_000_003 + index)`.

    The draws are spelled out (`below` is `Random.choice`'s and `randint`'s own draw), so a
    person is exactly what those methods would give, at about half the cost; seeding the
    stream, half of what is left, is the floor.
    """
    streams = Streams()
    below, random_ = streams.below, streams.random
    subscribers = ((indexes * _PERMUTE_A + _PERMUTE_B) % SUBSCRIBER_SPACE).tolist()
    out = []
    for index, is_junk, subscriber in zip(indexes.tolist(), junk.tolist(), subscribers):
        streams.seed(seed * 1_000_003 + index)
        first = FIRST_NAMES[below(30)]
        last = LAST_NAMES[below(30)]
        roll = random_()
        for calling_code, region, prefixes, trunk, share in COUNTRIES:
            roll -= share
            if roll < 0:
                break
        national = _national(prefixes, f"{subscriber:07d}", below)
        email = None
        if not is_junk and random_() < EMAIL_SHARE:
            email = f"{_email_local(first, last)}{index}@{EMAIL_DOMAINS[below(6)]}"
        secondary = None
        if email and random_() < SECONDARY_PHONE_SHARE and index < SECONDARY_OFFSET:
            secondary = _national(prefixes, _subscriber(index + SECONDARY_OFFSET), below)
        year = 1960 + below(46)
        gender = GENDERS[below(3)]
        city = CITIES[below(8)]
        birth_date = f"{year:04d}-{1 + below(12):02d}-{1 + below(28):02d}"
        opted_in = random_() < 0.8
        out.append(Person(index, first, last, calling_code, region, national, trunk, email,
                          secondary, gender, city, birth_date, opted_in,
                          JUNK_PHONES[below(6)] if is_junk else None))
    return out


@lru_cache(maxsize=len(FIRST_NAMES) * len(LAST_NAMES))
def _email_local(first: str, last: str) -> str:
    return _ascii(f"{first}.{last}").lower()


def _ascii(text: str) -> str:
    table = str.maketrans({"ë": "e", "é": "e", "í": "i", "ü": "u", "'": ""})
    return text.translate(table)
