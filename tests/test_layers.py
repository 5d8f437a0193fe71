"""The layers look down only: each folder imports crmsync's folders below it, never one above
or beside it, and nothing imports the command line. (Lazy imports inside functions count.)"""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Bottom to top; folders on one rank must not import each other.
RANKS = (("kernel",), ("sources",), ("sandbox", "transforms"), ("pipelines",), ("flows",), ("benchmarks",),
         ("crmsync",))
RANK = {folder: rank for rank, folders in enumerate(RANKS) for folder in folders}


def imported_folders(path: Path) -> set[str]:
    """The crmsync folders a file imports: `crmsync.sources.x` -> sources; `crmsync.cli` -> crmsync."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "crmsync":
                found.add(parts[1] if len(parts) > 1 and parts[1] in RANK else "crmsync")
    return found


def test_no_module_imports_a_layer_above_or_beside_it() -> None:
    wrong = []
    for folder, rank in RANK.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for target in imported_folders(path) - {folder}:
                if RANK[target] >= rank:
                    wrong.append(f"{path.relative_to(ROOT)} imports crmsync.{target}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from crmsync.flows.job import run_job\n    import crmsync.cli\n")
    assert imported_folders(module) == {"flows", "crmsync"}


def test_installing_crmsync_adds_one_top_level_name() -> None:
    top_level = importlib.metadata.distribution("crmsync").read_text("top_level.txt") or ""
    assert top_level.split() == ["crmsync"]
