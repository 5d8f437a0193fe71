"""A DuckLake warehouse: table data as Parquet files under a data path (a folder or an s3://
URL), metadata in a PostgreSQL catalog; many writers and readers at once, from any machine.

The location is `ducklake:postgres:<connection>`, the connection a libpq keyword string
(`dbname=crm host=db user=crm`) or a URI (`postgresql://crm@db/crm`). The data path is the
configuration key `warehouse.data_path` (env WAREHOUSE__DATA_PATH); an s3:// path's endpoint
and keys are dlt's filesystem credentials under `warehouse.credentials` (aws_access_key_id,
aws_secret_access_key, endpoint_url, region_name). Every connection, crmsync's own and dlt's
loader, is built from the same `DuckLakeCredentials` and the same ATTACH statement (dlt's), so
the lake is attached one way.

DuckDB's extension repository is not reached: the ducklake, postgres and httpfs extensions
come from PyPI wheels (duckdb-ext-*) built for the DuckDB version pinned in pyproject.toml, and
every connection loads them from that folder with autoinstall off.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import duckdb
import duckdb_ext
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs.connection_string_credentials import ConnectionStringCredentials
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient
from dlt.destinations.impl.ducklake.configuration import DuckLakeCredentials
from dlt.destinations.impl.ducklake.sql_client import DuckLakeSqlClient

from crmsync.kernel.errors import UserError
from crmsync.kernel.overlap import run_lock

PREFIX = "ducklake:"
ATTACH_AS = "lake"  # the attached catalog's name, and the catalog's metadata schema in PostgreSQL
DATA_PATH_SETTING = "warehouse.data_path"
# Inserts of up to this many rows are kept in the catalog, not as a Parquet file each: the push
# and the segment history commit small batches, and with a file per commit every read and
# commit slowed in proportion to the files (50 commits: 0.08 s each at first, 0.32 s after
# 150; inlined: 0.07 s flat). A lake's option, stored in its catalog, so dlt's loader has it too.
INLINING_ROWS = 100  # above a push batch; a sync's pages still land as Parquet files
EXTENSIONS = {
    "extension_directory": str(Path(next(iter(duckdb_ext.__path__))) / "extensions"),
    "autoinstall_known_extensions": "false",
}
# libpq keyword -> the connection-string field dlt renders into the catalog URI
_FIELDS = {"dbname": "database", "user": "username", "password": "password", "host": "host", "port": "port"}


@dataclass(frozen=True, eq=False)
class Lake:
    """A DuckLake warehouse. `parent` and `name` say where this machine keeps the lake's local
    state (dlt's working folders, run locks), as a DuckDB file's folder and name do."""

    location: str  # as given: ducklake:postgres:...
    catalog: ConnectionStringCredentials
    storage: FilesystemConfiguration
    parent: Path
    scope: str = ""  # a part of the lake a run lock covers (a provider's sync), "" for all

    @property
    def name(self) -> str:
        base = f"lake-{self.catalog.database or 'catalog'}"
        return f"{base}.{self.scope}" if self.scope else base

    def scoped(self, scope: str) -> Lake:
        """The same lake, its run lock covering only `scope`."""
        return Lake(self.location, self.catalog, self.storage, self.parent, scope)

    def exists(self) -> bool:
        return True  # a lake is created by its first ATTACH: there is no missing lake to refuse

    def resolve(self) -> Lake:
        return self

    def absolute(self) -> Lake:
        return self

    def __str__(self) -> str:
        return self.location

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lake) and (other.location, other.scope) == (self.location, self.scope)

    def __hash__(self) -> int:
        return hash((self.location, self.scope))

    def credentials(self, global_config: dict[str, Any] | None = None) -> DuckLakeCredentials:
        """dlt's credentials of this lake, resolved, with the extensions' folder."""
        credentials = DuckLakeCredentials(ATTACH_AS, catalog=self.catalog, storage=self.storage)
        credentials.global_config = {**EXTENSIONS, **(global_config or {})}
        return resolve_configuration(credentials, accept_partial=False)


@contextmanager
def provider_lock(warehouse: Path | Lake, provider: str) -> Iterator[None]:
    """A lake's syncs run side by side, but one provider's sync at a time on this machine (its
    dlt working folder is one); a DuckDB file's one writer holds the whole file already."""
    if not isinstance(warehouse, Lake):
        yield
        return
    with run_lock(warehouse.scoped(f"sync-{provider}"), f"crmsync sync {provider}"):
        yield


def lake_destination(lake: Lake, global_config: dict[str, Any]) -> dlt.destinations.ducklake:
    """dlt's ducklake destination on this lake, made first by crmsync's own attach (see
    connect_lake: syncs starting together race to make it)."""
    connect_lake(lake).close()
    return dlt.destinations.ducklake(lake.credentials(global_config))


def parse_lake(location: str, home: Path) -> Lake:
    """A `ducklake:postgres:...` location, its data path read from the configuration."""
    kind, _, connection = location[len(PREFIX):].partition(":")
    if kind not in ("postgres", "postgresql") or not connection.strip():
        raise UserError(f"warehouse {location}: a lake is ducklake:postgres:<connection>, "
                        "e.g. ducklake:postgres:dbname=crm host=db user=crm")
    data_path = dlt.config.get(DATA_PATH_SETTING, str)
    if not data_path:
        raise UserError(f"warehouse {location}: set {DATA_PATH_SETTING} (a folder or an s3:// URL) "
                        "for the lake's data files")
    return Lake(location, catalog_credentials(connection.strip()), storage_of(data_path), home.absolute())


def catalog_credentials(connection: str) -> ConnectionStringCredentials:
    """The PostgreSQL catalog as dlt's connection string, from a URI or libpq keywords."""
    if connection.startswith(("postgres://", "postgresql://")):
        credentials = ConnectionStringCredentials(connection)
        credentials.drivername = "postgres"
        return credentials
    try:
        pairs = dict(word.split("=", 1) for word in shlex.split(connection))
    except ValueError:
        raise UserError(f"catalog {connection!r}: expected key=value words (dbname=crm host=db ...)") from None
    fields: dict[str, Any] = {"drivername": "postgres", "query": {}}
    for key, value in pairs.items():
        # a socket folder is a query parameter: a host with slashes is no URI host
        if key in _FIELDS and not (key == "host" and value.startswith("/")):
            fields[_FIELDS[key]] = int(value) if key == "port" else value
        else:
            fields["query"][key] = value
    return ConnectionStringCredentials(fields)


def storage_of(data_path: str) -> FilesystemConfiguration:
    """The data path with its credentials resolved the dlt way (section `warehouse`)."""
    try:
        return resolve_configuration(FilesystemConfiguration(bucket_url=data_path), sections=("warehouse",))
    except Exception as error:  # noqa: BLE001 - dlt's configuration errors: one line for the user
        raise UserError(f"{DATA_PATH_SETTING} {data_path}: {str(error).splitlines()[0]}") from None


def connect_lake(lake: Lake, read_only: bool = False, confined: bool = False,
                 config: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with the lake attached and in use: the SQL files' `raw_x.t`,
    `crm.people`, `ops.*` name the lake's schemas. Read-only attaches the lake read-only.
    Confined: after the ATTACH, no file but the lake's data path can be reached (see
    warehouse.CONFINED)."""
    con = duckdb.connect(config={**EXTENSIONS, **(config or {})})
    try:
        statements = attach_statements(lake, read_only)
        for statement in statements[:-2]:
            con.execute(statement)
        attach(con, statements[-2])
        con.execute(statements[-1])
        if not read_only:
            inline_small_writes(con)
        if confined:
            con.execute("SET allowed_directories = $1", [[lake.credentials().storage_url]])
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
    except duckdb.Error as error:
        con.close()
        if read_only and "does not exist" in str(error):  # a reader never creates the lake
            raise UserError(f"no lake at {lake} yet; run crmsync sync first") from None
        raise UserError(f"{lake}: cannot attach the lake ({str(error).strip().splitlines()[0][:200]})") from None
    return con


def attach(con: duckdb.DuckDBPyConnection, statement: str, attempts: int = 8) -> None:
    """ATTACH the lake. The first ATTACH makes the lake's tables in the catalog; writers that
    start together both try (PostgreSQL: "duplicate key value violates unique constraint"),
    and the one that lost finds the lake made when it tries again."""
    for attempt in range(attempts):
        try:
            con.execute(statement)
            return
        except duckdb.Error as error:
            if "duplicate key" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def attach_statements(lake: Lake, read_only: bool) -> list[str]:
    """The SQL that makes a fresh DuckDB (Python's or the `duckdb` shell) use the lake: the
    extensions' folder, the data path's secret, dlt's ATTACH, USE."""
    credentials = lake.credentials()
    attach = DuckLakeSqlClient.build_attach_statement(
        ducklake_name=ATTACH_AS, metadata_schema=ATTACH_AS, catalog=credentials.catalog,
        storage_url=credentials.storage_url)
    return [*(f"SET {key} = {value!r}" for key, value in EXTENSIONS.items()),
            *secret_statements(credentials),
            attach[:-1] + (", READ_ONLY)" if read_only else ")"),
            f"USE {ATTACH_AS}"]


def inline_small_writes(con: duckdb.DuckDBPyConnection) -> None:
    """Set the lake's data inlining (INLINING_ROWS) once, the first time a writer attaches it."""
    current = con.execute(f"SELECT value FROM {ATTACH_AS}.options() "
                          "WHERE option_name = 'data_inlining_row_limit'").fetchone()
    if current is None:
        con.execute(f"CALL {ATTACH_AS}.set_option('data_inlining_row_limit', {INLINING_ROWS})")


def secret_statements(credentials: DuckLakeCredentials) -> list[str]:
    """dlt's CREATE SECRET for an object-storage data path (none for a folder)."""
    storage = credentials.storage
    if storage.is_local_filesystem:
        return []
    return DuckDbSqlClient._build_secret_statements(storage.bucket_url, storage.credentials,
                                                    f"{ATTACH_AS}_storage", "", False)
