"""The models of a transforms folder: what each .sql file builds, how, and from what.

`staging/<provider>/<name>.sql` builds `staging.<provider>_<name>`; `core/<name>.sql` builds
`crm.<name>`. A model's leading `--` lines are its header (`-- materialized: table|view`,
default view); its data tests and, for staging models, its columns are declared in the
`<name>.toml` beside it. Dependencies are read from the SQL with sqlglot: a table reference
that names another model's relation is a dependency, a `raw_*` one is a source.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from crmsync.kernel.errors import UserError

MATERIALIZATIONS = ("view", "table")
LAYERS = {"staging": "staging", "core": "crm"}  # folder -> DuckDB schema
TEST_SHAPES = {
    "unique": 'unique = ["id", ["provider", "contact_id"]]',
    "not_null": 'not_null = ["provider", "contact_id"]',
    "accepted_values": 'accepted_values = { provider = ["chatman", "waabot"] }',
    "relationships": 'relationships = { person_id = "crm.people.person_id" }',
}
TEST_KINDS = tuple(TEST_SHAPES)
HEADER_LINE = re.compile(r"--\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class DataTest:
    """One declared data test: `kind` over `columns`; `argument` is the accepted values
    (accepted_values) or the referenced `schema.table.column` (relationships)."""

    kind: str
    columns: tuple[str, ...]
    argument: Any = None

    @property
    def label(self) -> str:
        """How results and messages name the test, e.g. `unique(provider, contact_id)`."""
        if self.kind == "columns":  # the implicit [columns] check: the list would be long
            return "columns"
        text = ", ".join(self.columns)
        if self.kind == "relationships":
            text += f" -> {self.argument}"
        return f"{self.kind}({text})"

    def references(self) -> str | None:
        """The relation a relationships test reads besides its model."""
        return self.argument.rsplit(".", 1)[0].lower() if self.kind == "relationships" else None


@dataclass(frozen=True)
class Model:
    name: str  # the relation it builds, `schema.table`, lower case
    path: Path
    sql: str  # the SELECT, without a trailing semicolon
    materialized: str
    tests: tuple[DataTest, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)  # staging: column -> DuckDB type
    depends_on: frozenset[str] = frozenset()  # other models' relations
    sources: frozenset[str] = frozenset()  # raw_* tables read

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]


def read_header(sql: str) -> list[tuple[str, str]]:
    """The `-- key: value` pairs of a file's leading comment lines, in order (keys repeat)."""
    pairs = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = HEADER_LINE.match(stripped)
        if match:
            pairs.append((match.group(1).lower(), match.group(2)))
    return pairs


def parse_select(path: Path, sql: str) -> tuple[exp.Expression, str]:
    """The one statement of a model or segment file, and its text without a trailing `;`.

    The original text is what DuckDB runs (sqlglot only reads it), so DuckDB syntax sqlglot
    would rewrite stays as the analyst wrote it."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
        tokens = sqlglot.tokenize(sql, read="duckdb")
    except sqlglot.errors.SqlglotError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"{path}: SQL does not parse: {first}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise UserError(f"{path}: must hold exactly one SELECT statement, found {len(statements)} statement(s)")
    if tokens and tokens[-1].token_type == sqlglot.TokenType.SEMICOLON:
        sql = sql[: tokens[-1].start]
    return statements[0], sql.rstrip()


def referenced_tables(statement: exp.Expression) -> set[str]:
    """`schema.table` of every table the statement reads, lower case, CTE names left out."""
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    tables = set()
    for table in statement.find_all(exp.Table):
        if not table.name:  # table functions such as range(10)
            continue
        if not table.db and table.name.lower() in ctes:
            continue
        tables.add(f"{table.db}.{table.name}".lower() if table.db else table.name.lower())
    return tables


def discover_models(root: Path) -> dict[str, Model]:
    """Every model under `root/staging` and `root/core`, by relation name."""
    found: dict[str, Path] = {}
    for path in model_files(root):
        name = relation_name(root, path)
        if name in found:
            raise UserError(f"{path}: builds {name}, like {found[name]}")
        found[name] = path
    return {name: load_model(name, path, set(found)) for name, path in sorted(found.items())}


def model_files(root: Path) -> list[Path]:
    return sorted(p for layer in LAYERS for p in (root / layer).rglob("*.sql"))


def relation_name(root: Path, path: Path) -> str:
    """`staging/<provider>/<name>.sql` -> `staging.<provider>_<name>`; `core/<name>.sql` -> `crm.<name>`."""
    parts = path.relative_to(root).parts
    if parts[0] == "staging" and len(parts) == 3:
        return f"staging.{parts[1]}_{path.stem}".lower()
    if parts[0] == "core" and len(parts) == 2:
        return f"crm.{path.stem}".lower()
    raise UserError(f"{path}: models live in staging/<provider>/<name>.sql or core/<name>.sql")


def load_model(name: str, path: Path, model_names: set[str]) -> Model:
    text = path.read_text()
    statement, sql = parse_select(path, text)
    tables = referenced_tables(statement)
    declaration = read_declaration(path.with_suffix(".toml"))
    return Model(
        name=name, path=path, sql=sql,
        materialized=materialization(path, text),
        tests=parse_tests(path.with_suffix(".toml"), declaration.get("tests", {})),
        columns=parse_columns(path.with_suffix(".toml"), declaration.get("columns", {})),
        depends_on=frozenset(t for t in tables if t in model_names and t != name),
        sources=frozenset(t for t in tables if t.startswith("raw_")),
    )


def materialization(path: Path, sql: str) -> str:
    values = [value.lower() for key, value in read_header(sql) if key == "materialized"]
    chosen = values[-1] if values else "view"
    if chosen not in MATERIALIZATIONS:
        raise UserError(f"{path}: materialized must be view or table, not {chosen!r}")
    return chosen


def read_declaration(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: not valid TOML: {error}") from None


def parse_tests(path: Path, tests: dict[str, Any]) -> tuple[DataTest, ...]:
    """The [tests] table as DataTests, in the order declared; a wrong shape is a UserError."""
    parsed: list[DataTest] = []
    for kind, value in tests.items():
        if kind not in TEST_KINDS:
            raise UserError(f"{path}: unknown test {kind!r}; known: {', '.join(TEST_KINDS)}")
        try:
            parsed.extend(_tests_of_kind(kind, value))
        except (TypeError, ValueError, AttributeError):
            raise UserError(f"{path}: [tests] {kind} must look like {TEST_SHAPES[kind]}") from None
    return tuple(parsed)


def _tests_of_kind(kind: str, value: Any) -> list[DataTest]:
    if kind == "unique":  # a list of keys, each a column or a list of columns
        return [DataTest(kind, (key,) if isinstance(key, str) else tuple(_names(key))) for key in value]
    if kind == "not_null":
        return [DataTest(kind, (column,)) for column in _names(value)]
    if kind == "accepted_values":
        return [DataTest(kind, (column,), tuple(_values(values))) for column, values in value.items()]
    tests = []
    for column, target in value.items():  # relationships: column -> "schema.table.column"
        if not isinstance(target, str) or target.count(".") != 2:
            raise ValueError(target)
        tests.append(DataTest(kind, (column,), target))
    return tests


def _names(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(value)
    return value


def _values(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise ValueError(value)
    return value


def parse_columns(path: Path, columns: dict[str, Any]) -> dict[str, str]:
    if not all(isinstance(t, str) for t in columns.values()):
        raise UserError(f"{path}: [columns] maps each column to a DuckDB type name, as text")
    return dict(columns)
