"""The two web pages of GitHub that a person uses to set an App up, reduced to what a browser
(or a test playing one) needs:

- `POST /settings/apps/new` and `POST /organizations/{org}/settings/apps/new` take a manifest
  (form field `manifest`, JSON; `state` in the query) and redirect to the manifest's
  `redirect_url` with a one-time `code`, as GitHub does once the person clicks "Create". The code
  is exchanged at `POST /app-manifests/{code}/conversions` (routes_apps.py).
- `GET /apps/{slug}/installations/new` shows an "install on" form; posting it installs the App
  on that account (all its repositories, or those named in `repositories`, comma-separated).

GitHub would ask who is signed in; the local GitHub has no sessions, so the account is a field.
"""
from __future__ import annotations

import html
import json
import secrets
from urllib.parse import urlencode

from aiohttp import web

from localhub.access import hub_of
from localhub.state import App, ManifestCode

routes = web.RouteTableDef()


@routes.post("/settings/apps/new")
async def new_app_for_user(request: web.Request) -> web.Response:
    return await _take_manifest(request, owner="localhub")


@routes.post("/organizations/{org}/settings/apps/new")
async def new_app_for_org(request: web.Request) -> web.Response:
    org = request.match_info["org"]
    if org not in hub_of(request).state.orgs:
        return _page(404, "No such organization", f"There is no organization {org!r} here.")
    return await _take_manifest(request, owner=org)


async def _take_manifest(request: web.Request, owner: str) -> web.Response:
    form = await request.post()
    try:
        manifest = json.loads(str(form.get("manifest", "")))
    except json.JSONDecodeError:
        return _page(422, "Invalid manifest", "The manifest field is not JSON.")
    problem = _manifest_problem(manifest)
    if problem:
        return _page(422, "Invalid manifest", problem)
    code = secrets.token_hex(10)
    hub_of(request).state.manifest_codes[code] = ManifestCode(manifest, owner, hub_of(request).state.now_epoch())
    query = {"code": code}
    if "state" in request.query:
        query["state"] = request.query["state"]
    separator = "&" if "?" in manifest["redirect_url"] else "?"
    return web.Response(status=302, headers={"Location": f"{manifest['redirect_url']}{separator}{urlencode(query)}"})


def _manifest_problem(manifest: object) -> str | None:
    """What GitHub's "new App" page would refuse the manifest for, or None."""
    if not isinstance(manifest, dict):
        return "The manifest must be a JSON object."
    for key in ("name", "url", "redirect_url"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            return f"The manifest needs {key!r}."
    hook = manifest.get("hook_attributes")
    if hook is not None and (not isinstance(hook, dict) or not isinstance(hook.get("url"), str)):
        return "hook_attributes needs a url."
    return None


@routes.get("/apps/{slug}/installations/new")
async def install_page(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    if _app_by_slug(request, slug) is None:
        return _page(404, "No such App", f"There is no App {slug!r} here.")
    form = (f'<form method="post"><label>Install {html.escape(slug)} on account <input name="account"></label> '
            '<label>only these repositories (comma-separated, empty for all) <input name="repositories"></label> '
            '<button type="submit">Install</button></form>')
    return web.Response(text=f"<!doctype html><title>Install {html.escape(slug)}</title>{form}", content_type="text/html")


@routes.post("/apps/{slug}/installations/new")
async def install(request: web.Request) -> web.Response:
    hub = hub_of(request)
    app = _app_by_slug(request, request.match_info["slug"])
    if app is None:
        return _page(404, "No such App", "There is no such App here.")
    form = await request.post()
    account = str(form.get("account", "")).strip()
    if account not in hub.state.users:
        return _page(422, "No such account", f"There is no user or organization {account!r} here.")
    names = [name.strip().split("/")[-1] for name in str(form.get("repositories", "")).split(",") if name.strip()]
    installation = hub.install_app(app.id, account, names or None)
    which = f"the repositories {', '.join(names)}" if names else "every repository"
    return _page(201, "Installed", f"{app.slug} is installed on {account}, {which} (installation {installation.id}).")


def _app_by_slug(request: web.Request, slug: str) -> App | None:
    return next((app for app in hub_of(request).state.apps.values() if app.slug == slug), None)


def _page(status: int, title: str, text: str) -> web.Response:
    body = f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    return web.Response(status=status, text=body, content_type="text/html")
