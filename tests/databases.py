"""The databases the service tests run on: SQLite (the default) and a throwaway PostgreSQL.

`database` is None for SQLite or a PostgreSQL URL (a fresh database per test). A module that
sets `ON_BOTH_DATABASES = True` runs each test whose fixtures reach `database` on both (see
`parametrize_databases`, called by the conftest.py files); a single test can ask with
`@pytest.mark.parametrize("database", BOTH, indirect=True)`. Otherwise: SQLite. The PostgreSQL
server is started once per session, and so once per pytest-xdist worker (initdb and pg_ctl as the
`postgres` user when run as root), only when a test asks for it; each server has its own data
directory and unix socket, so workers share nothing. Missing binaries skip the PostgreSQL cases,
except with `CI` set, where they fail.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from localhub.pgserver import NoPostgres, ThrowawayPostgres

BOTH = ["sqlite", "postgres"]


def parametrize_databases(metafunc: pytest.Metafunc) -> None:
    if getattr(metafunc.module, "ON_BOTH_DATABASES", False) and "database" in metafunc.fixturenames:
        metafunc.parametrize("database", BOTH, indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    try:
        server = ThrowawayPostgres.start()
    except NoPostgres as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL: {error}")
        pytest.skip(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database(request: pytest.FixtureRequest) -> str | None:
    if getattr(request, "param", "sqlite") == "sqlite":
        return None
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    return server.new_database()
