"""GitHub App endpoints (JWT-authenticated) and the rate-limit endpoint."""
from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from localhub.access import caller_of, hub_of
from localhub.auth import issue_installation_token
from localhub.clock import github_time
from localhub.errors import GitHubError, not_found
from localhub.responses import json_response, paginate, read_json
from localhub.webhooks import Delivery

routes = web.RouteTableDef()
MANIFEST_CODE_LIFETIME = 3600  # GitHub: the whole manifest flow must finish within an hour


@routes.get("/app")
async def get_app(request: web.Request) -> web.Response:
    hub = hub_of(request)
    return json_response(hub.payloads.app(hub.state.apps[caller_of(request).app_id or 0]))


@routes.get("/app/installations")
async def list_installations(request: web.Request) -> web.Response:
    hub = hub_of(request)
    app_id = caller_of(request).app_id
    found = [hub.payloads.installation(i) for i in hub.state.installations.values() if i.app_id == app_id]
    return paginate(request, found)


@routes.get("/app/installations/{installation_id:\\d+}")
async def get_installation(request: web.Request) -> web.Response:
    hub = hub_of(request)
    installation = hub.state.installations.get(int(request.match_info["installation_id"]))
    if installation is None or installation.app_id != caller_of(request).app_id:
        raise not_found()
    return json_response(hub.payloads.installation(installation))


@routes.post("/app/installations/{installation_id:\\d+}/access_tokens")
async def create_access_token(request: web.Request) -> web.Response:
    """An installation token, valid for `hub.token_ttl` seconds (an hour by default)."""
    hub = hub_of(request)
    await read_json(request)
    installation = hub.state.installations.get(int(request.match_info["installation_id"]))
    if installation is None or installation.app_id != caller_of(request).app_id:
        raise not_found()
    token = issue_installation_token(hub.state, installation.id, hub.token_ttl)
    assert token.expires_at is not None
    expires = github_time(datetime.fromtimestamp(token.expires_at, UTC))
    body = hub.payloads.installation(installation)
    repositories = [hub.payloads.repository(r) for r in hub.state.repos.values()
                    if hub.state.installation_for(r) is installation]
    return json_response({"token": token.value, "expires_at": expires, "permissions": body["permissions"],
                          "repository_selection": body["repository_selection"], "repositories": repositories},
                         status=201)


@routes.get("/repos/{owner}/{repo}/installation")
async def get_repo_installation(request: web.Request) -> web.Response:
    hub = hub_of(request)
    repo = hub.state.repo(request.match_info["owner"], request.match_info["repo"])
    installation = hub.state.installation_for(repo) if repo else None
    if installation is None or installation.app_id != caller_of(request).app_id:
        raise not_found()
    return json_response(hub.payloads.installation(installation))


def _delivery_json(delivery: Delivery, now: float) -> dict[str, object]:
    d = delivery
    status_code = getattr(d, "status_code", None) or 0
    delivered = getattr(d, "delivered_at", None) or now
    payload = d.payload
    return {
        "id": d.id, "guid": d.guid,
        "delivered_at": github_time(datetime.fromtimestamp(delivered, UTC)),
        "redelivery": d.redelivery, "duration": d.duration or 0.0,
        "status": "OK" if 200 <= status_code < 300 else ("Dropped" if d.dropped else "Invalid HTTP Response"),
        "status_code": status_code, "event": d.event, "action": d.action,
        "installation_id": (payload.get("installation") or {}).get("id"),
        "repository_id": (payload.get("repository") or {}).get("id"), "throttled_at": None,
    }


@routes.get("/app/hook/deliveries")
async def list_deliveries(request: web.Request) -> web.Response:
    """Newest first, like GitHub; `status=failure` keeps the ones the receiver did not take."""
    hub = hub_of(request)
    now = hub.state.now_epoch()
    items = [_delivery_json(d, now) for d in reversed(hub.webhooks.deliveries)]
    wanted = request.query.get("status")
    if wanted == "success":
        items = [i for i in items if i["status"] == "OK"]
    elif wanted == "failure":
        items = [i for i in items if i["status"] != "OK"]
    return paginate(request, items)


@routes.post("/app/hook/deliveries/{delivery_id:\\d+}/attempts")
async def redeliver(request: web.Request) -> web.Response:
    hub = hub_of(request)
    delivery_id = int(request.match_info["delivery_id"])
    if not any(d.id == delivery_id for d in hub.webhooks.deliveries):
        raise GitHubError(422, "Validation Failed")
    await hub.webhooks.redeliver(delivery_id)
    return json_response({}, status=202)


@routes.get("/rate_limit")
async def rate_limit(request: web.Request) -> web.Response:
    hub = hub_of(request)
    core = hub.limits.snapshot(caller_of(request).bucket, "core")
    graphql = hub.limits.snapshot(caller_of(request).bucket, "graphql")
    return json_response({"resources": {"core": core, "graphql": graphql}, "rate": core})


@routes.post("/app-manifests/{code}/conversions")
async def convert_manifest(request: web.Request) -> web.Response:
    """Exchange a manifest's one-time code for a new App: its id, private key (PEM) and webhook
    secret, shaped as GitHub's `apps/create-from-manifest`. No authentication, as on GitHub."""
    hub = hub_of(request)
    pending = hub.state.manifest_codes.pop(request.match_info["code"], None)
    if pending is None or hub.state.now_epoch() - pending.created_at > MANIFEST_CODE_LIFETIME:
        raise not_found()
    manifest = pending.manifest
    slug = re.sub(r"[^a-z0-9]+", "-", str(manifest["name"]).lower()).strip("-") or "app"
    if any(app.slug == slug for app in hub.state.apps.values()):
        # this operation's 422 lists its errors as plain strings (validation-error-simple)
        raise GitHubError(422, "Validation Failed", ["Name is already in use"])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    app = hub.register_app(hub.state.next_id(), public, slug=slug, name=str(manifest["name"]), owner=pending.owner)
    hook = manifest.get("hook_attributes") or {}
    secret = secrets.token_hex(20)
    if isinstance(hook, dict) and hook.get("url") and hook.get("active", True):
        hub.set_webhook(str(hook["url"]), secret)
    body = hub.payloads.app(app)
    body.update({"description": manifest.get("description"), "external_url": manifest.get("url"),
                 "client_id": f"Iv1.{secrets.token_hex(8)}", "client_secret": secrets.token_hex(20),
                 "webhook_secret": secret, "pem": pem})
    return json_response(body, status=201)
