"""Transform tests reuse the sync tests' fixtures: a sandbox-backed temporary warehouse."""

from tests.sources.conftest import churn, query, truth, warehouse  # noqa: F401  (fixtures and helpers)
