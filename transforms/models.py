"""The models of a transforms project folder: what each .sql file builds, how, and from what.

A project folder holds `intermediate/<name>.sql` and `marts/<name>.sql`, both building
`crm.<name>` (intermediate: the plumbing marts are built from; marts: what analysts query),
its segments in `segments/`, and may hold `staging/<provider>/<name>.sql`, building
`staging.<provider>_<name>`. Which staging models a project gets:

- a project with a `staging/` folder (a user's, or a test's) uses its own, and only those;
- a project without one (the shipped `transforms/project/`) gets each registered provider's
  (`crmsync.sources.registry`): the `<name>.sql` files of its descriptor's `staging` folder
  build `staging.<provider>_<name>`.

Any other folder of .sql files (such as the old `core/`) is refused, naming the layer folders.

A model's leading `--` lines are its header (`-- materialized: table|view`, default view);
its data tests and, for staging models, its columns are declared in the `<name>.toml` beside
it. Dependencies are read from the SQL with sqlglot: a table reference that names another
model's relation is a dependency; a table of a `raw_*` schema (what the syncs load) or of
`ops` (crmsync's own records, such as what its push created) is a source, which a model can
be built empty without when its [columns] say the shape.

Relation patterns. A quoted table name holding `*`, such as `staging."*_contacts"`, stands
for the UNION ALL BY NAME of every model of that schema whose table name matches the glob
(`*` any characters; `|` separates alternatives: `staging."*_events|*_messages"`), in
relation name order; each of them is a dependency. A pattern that matches no model is a
UserError naming the schema's models: there is no shape to build an empty relation from.
The model's own relation never matches its pattern.

Accepted values. `accepted_values = { provider = "registered providers" }` accepts the names
of the registered providers (`registry.names()`); a list of values accepts those values.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from itertools import chain
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from crmsync.kernel.errors import UserError
from crmsync.sources import registry

MATERIALIZATIONS = ("view", "table")
MODEL_HEADER = ("materialized",)  # the keys a model file's header may set
LAYERS = {"staging": "staging", "intermediate": "crm", "marts": "crm"}  # folder -> DuckDB schema
LAYOUT = "staging/<provider>/<name>.sql, intermediate/<name>.sql or marts/<name>.sql"
SEGMENTS = "segments"  # the project's other folder of .sql files (crmsync.transforms.segments)
REGISTERED = "registered providers"  # accepted_values: the registered providers' names
TEST_SHAPES = {
    "unique": 'unique = ["id", ["provider", "contact_id"]]',
    "not_null": 'not_null = ["provider", "contact_id"]',
    "accepted_values": f'accepted_values = {{ provider = ["chatman", "waabot"] }} or {{ provider = "{REGISTERED}" }}',
    "relationships": 'relationships = { person_id = "crm.people.person_id" }',
}
TEST_KINDS = tuple(TEST_SHAPES)
DECLARATION_KEYS = ("description", "descriptions", "columns", "tests")  # a model's <name>.toml
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
    sources: frozenset[str] = frozenset()  # raw_* and ops.* tables read
    description: str = ""  # the relation's comment in the warehouse
    descriptions: dict[str, str] = field(default_factory=dict)  # column -> its comment

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]


def read_header(path: Path, sql: str, known: tuple[str, ...]) -> list[tuple[str, str]]:
    """The `-- key: value` pairs of a file's header, in order (keys repeat): its leading comment
    lines up to the first one that is prose. A key there that is not `known`, or a known key
    (or one close to it) further down the leading comments, where it would not be read, is a
    UserError naming the file, the line and the closest known key: `-- psuh:` must not build
    a segment with no target."""
    pairs: list[tuple[str, str]] = []
    in_header = True
    for number, line in enumerate(sql.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = HEADER_LINE.match(stripped)
        key = match.group(1).lower() if match else None
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75) if key else []
        if in_header and key is not None:
            if key not in known:
                hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
                raise UserError(f"{path}:{number}: unknown header key {key!r}; {hint}")
            pairs.append((key, match.group(2)))
            continue
        in_header = False
        if key in known or close:
            raise UserError(f"{path}:{number}: -- {key}: comes after the header's prose, where it is not "
                            f"read; put the `-- key: value` lines first")
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
    """Every model of the project folder `root` (see the module docstring), by relation name."""
    found: dict[str, Path] = {}
    for name, path in model_files(root):
        if name in found:
            raise UserError(f"{path}: builds {name}, like {found[name]}")
        found[name] = path
    return {name: load_model(name, path, set(found)) for name, path in sorted(found.items())}


def model_files(root: Path) -> list[tuple[str, Path]]:
    """(relation, file) of each model: the project's layer folders, and the registered
    providers' staging models when the project has no staging/ folder of its own."""
    refuse_unknown_folders(root)
    project = [(relation_name(root, p), p) for layer in LAYERS for p in sorted((root / layer).rglob("*.sql"))]
    return project if (root / "staging").is_dir() else [*provider_staging(), *project]


def refuse_unknown_folders(root: Path) -> None:
    """A folder of .sql files that is no layer would be skipped without a word (an old
    `core/`, a typo): say where models live instead."""
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        if folder.name not in (*LAYERS, SEGMENTS) and any(folder.rglob("*.sql")):
            raise UserError(f"{folder}: not a layer folder; models live in {LAYOUT} "
                            f"(layer folders: {', '.join(LAYERS)}), segments in {SEGMENTS}/")


def provider_staging() -> list[tuple[str, Path]]:
    """Each registered provider's staging models: `<staging>/<name>.sql` builds
    `staging.<provider>_<name>`."""
    return [(f"staging.{provider.name}_{path.stem}".lower(), path)
            for provider in registry.providers() if provider.staging
            for path in sorted(provider.staging.glob("*.sql"))]


def relation_name(root: Path, path: Path) -> str:
    """`staging/<provider>/<name>.sql` -> `staging.<provider>_<name>`; `intermediate/<name>.sql`
    and `marts/<name>.sql` -> `crm.<name>`."""
    parts = path.relative_to(root).parts
    if parts[0] == "staging" and len(parts) == 3:
        return f"staging.{parts[1]}_{path.stem}".lower()
    if parts[0] != "staging" and len(parts) == 2:
        return f"{LAYERS[parts[0]]}.{path.stem}".lower()
    raise UserError(f"{path}: models live in {LAYOUT}")


def load_model(name: str, path: Path, model_names: set[str]) -> Model:
    text = path.read_text()
    statement, sql = parse_select(path, text)
    tables = referenced_tables(statement)
    sql, matched = expand_patterns(path, name, sql, relation_patterns(statement), model_names)
    declaration = read_declaration(path.with_suffix(".toml"))
    description, descriptions = parse_descriptions(path.with_suffix(".toml"), declaration)
    return Model(
        name=name, path=path, sql=sql,
        materialized=materialization(path, text),
        tests=parse_tests(path.with_suffix(".toml"), declaration.get("tests", {})),
        columns=parse_columns(path.with_suffix(".toml"), declaration.get("columns", {})),
        depends_on=frozenset(t for t in {*tables, *matched} if t in model_names and t != name),
        sources=frozenset(t for t in tables if is_source(t)),
        description=description, descriptions=descriptions,
    )


def is_source(table: str) -> bool:
    """A table the project reads but never builds: raw_* (the syncs') or ops.* (crmsync's)."""
    return table.startswith("raw_") or table.startswith("ops.")


def relation_patterns(statement: exp.Expression) -> set[tuple[str, str]]:
    """(schema, glob) of each relation pattern the statement reads, e.g. ("staging", "*_contacts")."""
    return {(table.db.lower(), table.name.lower()) for table in statement.find_all(exp.Table)
            if table.db and "*" in table.name}


def matching_models(schema: str, pattern: str, model_names: set[str], own: str) -> list[str]:
    """The models of `schema` (but `own`) whose table name matches one of the pattern's globs."""
    globs = pattern.split("|")
    return sorted(name for name in model_names
                  if name != own and name.startswith(f"{schema}.")
                  and any(fnmatchcase(name.split(".", 1)[1], glob) for glob in globs))


def expand_patterns(path: Path, own: str, sql: str, patterns: set[tuple[str, str]],
                    model_names: set[str]) -> tuple[str, set[str]]:
    """`sql` with each relation pattern replaced by the UNION ALL BY NAME of the models it
    matches (as a subquery, so an alias after it still applies), and those models.

    The text is rewritten token by token, not by a search: a pattern written in a comment
    or a string stays as it is."""
    if not patterns:
        return sql, set()
    matches = {(schema, glob): matching_models(schema, glob, model_names, own) for schema, glob in patterns}
    for (schema, glob), found in sorted(matches.items()):
        if not found:
            known = ", ".join(sorted(n for n in model_names if n.startswith(f"{schema}."))) or "none"
            raise UserError(f'{path}: {schema}."{glob}" matches no model; {schema} models: {known}')
    tokens = sqlglot.tokenize(sql, read="duckdb")
    pieces: list[str] = []
    copied = 0  # sql[:copied] is in pieces already
    for first, dot, table in zip(tokens, tokens[1:], tokens[2:]):
        found = matches.get((first.text.lower(), table.text.lower()))
        if found and dot.token_type == sqlglot.TokenType.DOT and table.token_type == sqlglot.TokenType.IDENTIFIER:
            pieces += [sql[copied:first.start], union_of(found)]
            copied = table.end + 1
    return "".join(pieces) + sql[copied:], set(chain.from_iterable(matches.values()))


def union_of(names: list[str]) -> str:
    return "(" + " UNION ALL BY NAME ".join(f"SELECT * FROM {relation(name)}" for name in names) + ")"


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def relation(name: str) -> str:
    """`schema.table` -> `"schema"."table"`."""
    return ".".join(quote(part) for part in name.split("."))


def materialization(path: Path, sql: str) -> str:
    values = [value.lower() for key, value in read_header(path, sql, MODEL_HEADER) if key == "materialized"]
    chosen = values[-1] if values else "view"
    if chosen not in MATERIALIZATIONS:
        raise UserError(f"{path}: materialized must be view or table, not {chosen!r}")
    return chosen


def read_declaration(path: Path) -> dict[str, Any]:
    """A model's TOML; a key it does not know is a UserError naming the closest one."""
    if not path.exists():
        return {}
    try:
        declaration = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: not valid TOML: {error}") from None
    for key in declaration:
        if key not in DECLARATION_KEYS:
            close = difflib.get_close_matches(key, DECLARATION_KEYS, n=1)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(DECLARATION_KEYS)}"
            raise UserError(f"{path}: unknown key {key!r}; {hint}")
    return declaration


def parse_descriptions(path: Path, declaration: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """`description` (the relation's) and `[descriptions]` (column -> text): its comments in
    the warehouse (kernel/comments.py)."""
    description, columns = declaration.get("description", ""), declaration.get("descriptions", {})
    if not isinstance(description, str) or not isinstance(columns, dict) \
            or not all(isinstance(text, str) and text.strip() for text in columns.values()):
        raise UserError(f'{path}: description = "<text>" and [descriptions] <column> = "<text>"')
    return description, dict(columns)


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
        return [DataTest(kind, (column,), _values(values)) for column, values in value.items()]
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


def _values(value: Any) -> tuple[Any, ...]:
    """The accepted values: the list as written, or the registered providers' names for
    REGISTERED (a test that names them all would need an edit for every new provider)."""
    if value == REGISTERED:
        return registry.names()
    if not isinstance(value, list) or not value:
        raise ValueError(value)
    return tuple(value)


def parse_columns(path: Path, columns: dict[str, Any]) -> dict[str, str]:
    if not all(isinstance(t, str) for t in columns.values()):
        raise UserError(f"{path}: [columns] maps each column to a DuckDB type name, as text")
    return dict(columns)
