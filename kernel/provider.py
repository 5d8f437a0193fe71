"""What a provider says about itself, once: the descriptor every layer asks.

Each provider package exports one `Provider` (built-in ones in `sources/<name>/__init__.py`,
third-party ones wherever their entry point in the `crmsync.providers` group points); the
registry (`crmsync.sources.registry`) lists them. Nothing outside a provider's own folders
names a provider: the sync order, the push engine, segment header parsing, configuration
checks, `--sandbox`, status and the benchmarks read these fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One key of `sources.<provider>`: `.dlt/config.toml` (or secrets.toml when `secret`),
    or the environment variable SOURCES__<PROVIDER>__<KEY>. No default: required."""

    key: str
    secret: bool = False
    default: Any = None

    def env_name(self, provider: str) -> str:
        return f"SOURCES__{provider.upper()}__{self.key.upper()}"


def exact(name: str) -> str:
    return name


@dataclass(frozen=True)
class PushRule:
    """Where a segment goes in this provider and how its header line names it there."""

    kind: str  # the word of the header line: segment, list, tag, group
    # Named by a bare id (DM Champ list ids: `-- push: dmchamp list list_x`) rather than a
    # quoted name; a bare id is taken as written (no white-space folding or length cap).
    bare_id: bool = False
    # What the provider tells two targets apart by (Chatrace tag names ignore case): two
    # segments whose names are one target there are refused.
    identity: Callable[[str], str] = exact
    # Whether a push can put a person the provider does not hold yet in the target, because
    # it creates what holds the membership (a DM Champ contact, a Waabot group record).
    creates_contacts: bool = False


@dataclass(frozen=True)
class Provider:
    name: str  # lower case; the config section sources.<name>, the dataset raw_<name>
    settings: tuple[Setting, ...]
    # (resolved settings, the run) -> the dlt source of one sync run
    build_source: Callable[[dict[str, Any], Any], Any]
    # Its resources that cannot be switched off (`sources.<name>.skip_resources`): the
    # contacts, and what they are found through. A failure of one fails the whole sync.
    required: tuple[str, ...] = ("contacts",)
    # (resolved settings, the run) -> a PushClient (crmsync.kernel.push); None: no push
    push_client: Callable[[dict[str, Any], Any], Any] | None = None
    push: PushRule | None = None
    # Reached by looking up the people the listable providers brought in (it cannot be
    # listed): it syncs after every listable provider, alone, and after the look-up
    # providers named in `after` (whose people it looks up too).
    lookup: bool = False
    after: tuple[str, ...] = ()
    # Every sync lists every record it holds (Waabot): a record a push made that the next
    # sync did not see was deleted there.
    lists_everything: bool = False
    # Setting values that make a run scan everything (deletions, edits that move no cursor).
    full_scan: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # `module:Class` of its sandbox emulator (a crmsync.sandbox.provider.Provider); None: none.
    emulator: str | None = None
    # Its staging models, `<name>.sql` (+ `<name>.toml`) building `staging.<provider>_<name>`.
    staging: Path | None = None
    # Its SELECT of (phone, calling code, email[, changed_at]) per live contact, for the look-up
    # providers (changed_at: when the row last changed; budgets refresh those people first).
    known_people: Path | None = None
    # Its SELECT of (membership, present) for the push target $target_id as its latest sync
    # read it: every contact or record it knows (membership: what the push client's outcomes
    # name, the record when there is one) and whether the target holds it. The push compares
    # it with what crmsync added to find drift and hand-made members. None: it cannot be read.
    push_seen: Path | None = None
    # Its `raw.toml`: what crmsync knows of the provider's fields, the raw_<provider> tables'
    # and columns' comments in the warehouse (pipelines/raw_dictionary.py). None: undescribed.
    dictionary: Path | None = None
