"""The workflow's file writes against the local GitHub: the Contents API with its sha lock, a
folder listing, and one commit for several files."""
from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.github import pulls as github
from bot.github.auth import AppCredentials
from bot.github.client import GitHubApp, GitHubClient, RetryPolicy

APP_ID, INSTALLATION_ID, REPO = 4242, 77, "apache/cloudstack"  # what tests/conftest.py seeds
BRANCH = "records"


@pytest.fixture
async def gh(hub, rsa_key_pair) -> AsyncIterator[GitHubClient]:
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, AppCredentials(str(APP_ID), rsa_key_pair.private_pem.decode()), base_url=hub.url,
                        retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02))
        main = await github.branch_head(app.installation_client(INSTALLATION_ID), REPO, "main")
        await github.create_branch(app.installation_client(INSTALLATION_ID), REPO, BRANCH, main)
        yield app.installation_client(INSTALLATION_ID)


async def test_put_creates_then_updates_a_file_naming_the_blob_it_replaces(hub, gh: GitHubClient) -> None:
    sha, commit = await github.put_file(gh, REPO, BRANCH, "questions/pr-1/Q03.yaml", "id: Q3\n", "add", known_sha=None)
    assert hub.file(REPO, "questions/pr-1/Q03.yaml", ref=BRANCH) == "id: Q3\n"
    assert hub.head_sha(REPO, BRANCH) == commit

    new_sha, _ = await github.put_file(gh, REPO, BRANCH, "questions/pr-1/Q03.yaml", "id: Q3\nstatus: open\n", "edit", known_sha=sha)

    assert new_sha != sha
    assert (await github.read_file(gh, REPO, "questions/pr-1/Q03.yaml", BRANCH)).sha == new_sha


async def test_a_write_against_a_moved_file_is_refused_as_file_changed(hub, gh: GitHubClient) -> None:
    sha, _ = await github.put_file(gh, REPO, BRANCH, "q/Q1.yaml", "one\n", "add", known_sha=None)
    hub.push(REPO, BRANCH, {"q/Q1.yaml": "a person's edit\n"}, user="vish")

    with pytest.raises(github.FileChanged):
        await github.put_file(gh, REPO, BRANCH, "q/Q1.yaml", "the bot's\n", "edit", known_sha=sha)
    with pytest.raises(github.FileChanged):  # believed new, but someone created it meanwhile
        await github.put_file(gh, REPO, BRANCH, "q/Q1.yaml", "the bot's\n", "edit", known_sha=None)
    assert hub.file(REPO, "q/Q1.yaml", ref=BRANCH) == "a person's edit\n"


async def test_a_write_to_a_missing_branch_says_so(gh: GitHubClient) -> None:
    with pytest.raises(github.BranchMissing):
        await github.put_file(gh, REPO, "no-such-branch", "q/Q1.yaml", "x\n", "add", known_sha=None)


async def test_a_folder_lists_its_files_and_their_blob_shas(gh: GitHubClient) -> None:
    first, _ = await github.put_file(gh, REPO, BRANCH, "q/Q1.yaml", "one\n", "add", known_sha=None)
    second, _ = await github.put_file(gh, REPO, BRANCH, "q/Q2.yaml", "two\n", "add", known_sha=None)

    assert await github.list_folder(gh, REPO, "q", BRANCH) == {"Q1.yaml": first, "Q2.yaml": second}
    assert await github.list_folder(gh, REPO, "elsewhere", BRANCH) is None


async def test_several_files_go_in_one_fast_forward_commit(hub, gh: GitHubClient) -> None:
    head = hub.head_sha(REPO, BRANCH)

    commit = await github.commit_files(gh, REPO, BRANCH, {"q/Q1.yaml": "one\n", "q/Q2.yaml": "two\n"}, "both", parent_sha=head)

    assert hub.head_sha(REPO, BRANCH) == commit
    assert (hub.file(REPO, "q/Q1.yaml", ref=BRANCH), hub.file(REPO, "q/Q2.yaml", ref=BRANCH)) == ("one\n", "two\n")
    with pytest.raises(github.NotFastForward):  # written on top of a head that has moved on
        await github.commit_files(gh, REPO, BRANCH, {"q/Q1.yaml": "stale\n"}, "again", parent_sha=head)
