"""The sandbox for end-to-end tests: local GitHub + the real service, a threat-model PR open."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from e2e_world import AUTHOR, BRANCH, DOC, FIXTURE, MAINTAINERS, PASSERBY, Review

from bot.sandbox import REPO, sandbox


@pytest.fixture
def document_text() -> str:
    return FIXTURE.read_text(encoding="utf-8")


@pytest.fixture
async def review(tmp_path: Path, document_text: str) -> AsyncIterator[Review]:
    async with _review(tmp_path, document_text) as opened:
        yield opened


@asynccontextmanager
async def _review(tmp_path: Path, document_text: str) -> AsyncIterator[Review]:
    async with sandbox(tmp_path / "state", maintainers=MAINTAINERS) as box:
        box.hub.add_user(PASSERBY)
        box.hub.push(REPO, BRANCH, {DOC: document_text}, user=AUTHOR, message="Add a draft threat model")
        number = box.hub.open_pr(REPO, BRANCH, user=AUTHOR, title="Add a draft threat model")
        await box.settle()
        yield Review(box, number, tmp_path / "state")
