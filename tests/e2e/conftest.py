"""The sandbox for end-to-end tests: local GitHub + the real service, a threat-model PR open."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from e2e_world import AUTHOR, BRANCH, DOC, FIXTURE, MAINTAINERS, PASSERBY, Review

from bot.sandbox import REPO, sandbox
from databases import parametrize_databases


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_databases(metafunc)  # ON_BOTH_DATABASES modules: SQLite and PostgreSQL


@pytest.fixture
def document_text() -> str:
    return FIXTURE.read_text(encoding="utf-8")


@pytest.fixture
async def review(tmp_path: Path, document_text: str, database: str | None) -> AsyncIterator[Review]:
    """On SQLite, or on PostgreSQL in modules parametrised with `database` (tests/databases.py)."""
    async with _review(tmp_path, document_text, database) as opened:
        yield opened


@asynccontextmanager
async def _review(tmp_path: Path, document_text: str, database_url: str | None) -> AsyncIterator[Review]:
    async with sandbox(tmp_path / "state", maintainers=MAINTAINERS, database_url=database_url) as box:
        box.hub.add_user(PASSERBY)
        box.hub.push(REPO, BRANCH, {DOC: document_text}, user=AUTHOR, message="Add a draft threat model")
        number = box.hub.open_pr(REPO, BRANCH, user=AUTHOR, title="Add a draft threat model")
        await box.settle()
        yield Review(box, number, tmp_path / "state")
