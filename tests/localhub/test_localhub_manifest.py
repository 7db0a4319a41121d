"""The local GitHub's App-manifest flow: the "new App" page hands out a one-time code, and
`POST /app-manifests/{code}/conversions` answers as GitHub's OpenAPI description says."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from jsonschema import Draft4Validator

OPENAPI = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "openapi" / "api.github.com.json.gz"
MANIFEST = {"name": "threat-model-bot", "url": "https://example.net/bot", "redirect_url": "http://127.0.0.1:9/callback",
            "hook_attributes": {"url": "http://127.0.0.1:9/webhook"}, "default_permissions": {"issues": "write"}}


def conversion_schema() -> dict[str, Any]:
    """The 201 body schema of apps/create-from-manifest, refs inlined, OpenAPI 3.0 `nullable` as JSON Schema."""
    if not OPENAPI.exists():
        if os.environ.get("CI"):
            pytest.fail(f"the GitHub OpenAPI description is missing: {OPENAPI}")
        pytest.skip("../shared/reference/openapi is absent")
    spec = json.loads(gzip.decompress(OPENAPI.read_bytes()))

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
            node = {key: inline(value) for key, value in node.items()}
            if node.pop("nullable", False):
                node = {"anyOf": [node, {"type": "null"}]}
            return node
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    operation = spec["paths"]["/app-manifests/{code}/conversions"]["post"]
    return inline(operation["responses"]["201"]["content"]["application/json"]["schema"])


async def submit(client: ClientSession, url: str, manifest: object, state: str = "s1") -> str:
    async with client.post(f"{url}/organizations/apache/settings/apps/new?state={state}",
                           data={"manifest": json.dumps(manifest)}, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        return response.headers["Location"]


async def test_the_code_is_exchanged_once_for_an_app_shaped_as_github_answers(hub) -> None:
    async with ClientSession() as client:
        location = await submit(client, hub.url, {**MANIFEST, "name": "Threat Model Bot Two"})
        assert location.startswith("http://127.0.0.1:9/callback?code=") and location.endswith("&state=s1")
        code = location.split("code=")[1].split("&")[0]
        async with client.post(f"{hub.url}/app-manifests/{code}/conversions") as response:
            assert response.status == 201
            body = await response.json()
        async with client.post(f"{hub.url}/app-manifests/{code}/conversions") as again:
            assert again.status == 404  # a code works once
    Draft4Validator(conversion_schema()).validate(body)
    assert body["slug"] == "threat-model-bot-two" and body["owner"]["login"] == "apache"
    assert body["pem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert hub.webhooks.url == "http://127.0.0.1:9/webhook" and hub.webhooks.secret == body["webhook_secret"]


async def test_a_manifest_github_would_refuse_is_refused_and_gets_no_code(hub) -> None:
    async with ClientSession() as client:
        async with client.post(f"{hub.url}/settings/apps/new", data={"manifest": "{not json"}) as response:
            assert response.status == 422
        async with client.post(f"{hub.url}/settings/apps/new",
                               data={"manifest": json.dumps({"name": "x", "url": "https://e.net"})}) as response:
            assert response.status == 422 and "redirect_url" in await response.text()
        async with client.post(f"{hub.url}/organizations/nobody/settings/apps/new",
                               data={"manifest": json.dumps(MANIFEST)}) as response:
            assert response.status == 404
        async with client.post(f"{hub.url}/app-manifests/made-up/conversions") as response:
            assert response.status == 404
    assert hub.state.manifest_codes == {}


async def test_a_taken_name_is_refused_at_the_exchange(hub) -> None:
    async with ClientSession() as client:
        location = await submit(client, hub.url, MANIFEST)  # the fixture's App is already "threat-model-bot"
        code = location.split("code=")[1].split("&")[0]
        async with client.post(f"{hub.url}/app-manifests/{code}/conversions") as response:
            assert response.status == 422
