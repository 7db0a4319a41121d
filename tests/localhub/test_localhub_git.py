"""Contents API and Git Data API, with GitHub's optimistic-concurrency errors (409/422)."""
from __future__ import annotations

import base64

import aiohttp
import pytest
from gidgethub import BadRequest
from gidgethub.aiohttp import GitHubAPI

from hub_world import REPO, SEED_FILES

MODEL = "security/threat-model.md"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
async def gh(hub, installation_token):
    token = await installation_token(hub)
    async with aiohttp.ClientSession() as session:
        yield GitHubAPI(session, "bot", oauth_token=token, base_url=hub.url)


async def test_contents_get_create_update_and_conflicts(hub, gh):
    current = await gh.getitem(f"/repos/{REPO}/contents/{MODEL}")
    assert base64.b64decode(current["content"]).decode() == SEED_FILES[MODEL]
    created = await gh.put(f"/repos/{REPO}/contents/questions/Q8.yaml",
                           data={"message": "Record Q8", "content": b64("id: Q8\n"), "branch": "main"})
    assert created["content"]["path"] == "questions/Q8.yaml" and created["commit"]["message"] == "Record Q8"
    with pytest.raises(BadRequest) as missing:
        await gh.put(f"/repos/{REPO}/contents/{MODEL}", data={"message": "m", "content": b64("x")})
    assert missing.value.status_code == 422 and '"sha" wasn\'t supplied' in str(missing.value)
    updated = await gh.put(f"/repos/{REPO}/contents/{MODEL}",
                           data={"message": "Edit", "content": b64("new\n"), "sha": current["sha"]})
    assert updated["content"]["sha"] != current["sha"]
    with pytest.raises(BadRequest) as stale:
        await gh.put(f"/repos/{REPO}/contents/{MODEL}",
                     data={"message": "Edit again", "content": b64("newer\n"), "sha": current["sha"]})
    assert stale.value.status_code == 409 and "does not match" in str(stale.value)
    old = await gh.getitem(f"/repos/{REPO}/contents/{MODEL}?ref={created['commit']['sha']}")
    assert base64.b64decode(old["content"]).decode() == SEED_FILES[MODEL]
    assert hub.file(REPO, MODEL) == "new\n"
    listing = await gh.getitem(f"/repos/{REPO}/contents/security")
    assert [entry["name"] for entry in listing] == ["threat-model.md"]


async def test_git_data_multi_file_commit_and_fast_forward_rule(hub, gh):
    ref = await gh.getitem(f"/repos/{REPO}/git/ref/heads/main")
    base_sha = ref["object"]["sha"]
    base_commit = await gh.getitem(f"/repos/{REPO}/git/commits/{base_sha}")
    blob = await gh.post(f"/repos/{REPO}/git/blobs", data={"content": b64("id: Q9\n"), "encoding": "base64"})
    tree = await gh.post(f"/repos/{REPO}/git/trees", data={
        "base_tree": base_commit["tree"]["sha"],
        "tree": [{"path": "questions/Q9.yaml", "mode": "100644", "type": "blob", "sha": blob["sha"]},
                 {"path": MODEL, "mode": "100644", "type": "blob", "content": "edited\n"}]})
    commit = await gh.post(f"/repos/{REPO}/git/commits",
                           data={"message": "Apply Q9", "tree": tree["sha"], "parents": [base_sha]})
    moved = await gh.patch(f"/repos/{REPO}/git/refs/heads/main", data={"sha": commit["sha"], "force": False})
    assert moved["object"]["sha"] == commit["sha"]
    assert hub.file(REPO, "README.md") == SEED_FILES["README.md"]  # base_tree kept it
    assert hub.file(REPO, "questions/Q9.yaml") == "id: Q9\n"

    sibling = await gh.post(f"/repos/{REPO}/git/commits",
                            data={"message": "Sibling", "tree": base_commit["tree"]["sha"], "parents": [base_sha]})
    with pytest.raises(BadRequest) as refused:
        await gh.patch(f"/repos/{REPO}/git/refs/heads/main", data={"sha": sibling["sha"], "force": False})
    assert refused.value.status_code == 422 and "Update is not a fast forward" in str(refused.value)
    forced = await gh.patch(f"/repos/{REPO}/git/refs/heads/main", data={"sha": sibling["sha"], "force": True})
    assert forced["object"]["sha"] == sibling["sha"]

    branch = await gh.post(f"/repos/{REPO}/git/refs", data={"ref": "refs/heads/bot/q9", "sha": commit["sha"]})
    assert branch["ref"] == "refs/heads/bot/q9"
    with pytest.raises(BadRequest) as exists:
        await gh.post(f"/repos/{REPO}/git/refs", data={"ref": "refs/heads/bot/q9", "sha": commit["sha"]})
    assert exists.value.status_code == 422


async def test_tree_without_base_tree_holds_only_its_entries(hub, gh):
    tree = await gh.post(f"/repos/{REPO}/git/trees", data={"tree": [{"path": "only.md", "mode": "100644",
                                                                      "type": "blob", "content": "x"}]})
    assert [entry["path"] for entry in tree["tree"]] == ["only.md"]


async def test_app_may_push_to_a_fork_only_when_maintainers_may_modify(hub, gh):
    hub.fork(REPO, "contributor")
    hub.push("contributor/cloudstack", "idea", {"README.md": "# fork\n"}, user="contributor")
    fork_file = await gh.getitem("/repos/contributor/cloudstack/contents/README.md?ref=idea")
    data = {"message": "bot edit", "content": b64("# bot\n"), "sha": fork_file["sha"], "branch": "idea"}
    with pytest.raises(BadRequest) as refused:
        await gh.put("/repos/contributor/cloudstack/contents/README.md", data=data)
    assert refused.value.status_code == 403
    number = hub.open_pr(REPO, "contributor:idea", user="contributor", maintainer_can_modify=True)
    pr = await gh.getitem(f"/repos/{REPO}/pulls/{number}")
    assert pr["head"]["repo"]["full_name"] == "contributor/cloudstack" and pr["maintainer_can_modify"] is True
    await gh.put("/repos/contributor/cloudstack/contents/README.md", data=data)
    assert hub.file("contributor/cloudstack", "README.md", "idea") == "# bot\n"
