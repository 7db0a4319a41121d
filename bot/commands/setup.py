"""`python -m bot setup`: register the GitHub App from its manifest (`app.yml`) in one step.

The manifest flow, as GitHub describes it: a page on loopback posts the manifest to GitHub's
"new App" page (a person's or an organization's); the person confirms there; GitHub sends the
browser back to this page with a one-time code; the code is exchanged for the new App's id,
private key and webhook secret (`POST /app-manifests/{code}/conversions`), which go to a `.env`
file readable by its owner only. `serve` reads that file.
"""
from __future__ import annotations

import argparse
import asyncio
import errno
import html
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.envfile import DEFAULT_ENV_FILE, env_file_values, write_env_file
from bot.store.app_manifest_file import ManifestError, load_manifest

if TYPE_CHECKING:  # aiohttp loads only when the flow runs, so `--help` and argument errors stay instant
    from aiohttp import web

    from bot.github.manifest import NewApp

PUBLIC_WEB_URL = "https://github.com"
PUBLIC_API_URL = "https://api.github.com"
PLACEHOLDER_HOSTS = ("example.invalid", "example.com", "example.org")
CODE_LIFETIME_SECONDS = 3600  # GitHub's limit for the whole flow


@dataclass(frozen=True)
class SetupPlan:
    manifest: dict[str, Any]
    org: str | None
    web_url: str
    api_url: str
    env_file: Path
    host: str
    port: int
    timeout: float

    def new_app_url(self, state: str) -> str:
        where = f"/organizations/{self.org}" if self.org else ""
        return f"{self.web_url}{where}/settings/apps/new?state={state}"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "setup",
        help="register the GitHub App from app.yml and write its credentials to .env",
        description="Register the GitHub App from its manifest in one step: open the page this "
        "command serves on loopback, press the button, confirm on GitHub. The App's id, private key "
        "and webhook secret are written to a .env file readable by you only; `serve` reads it.",
    )
    parser.add_argument("--webhook-url", metavar="URL",
                        help="where GitHub delivers the App's webhooks: the deployed service's https URL + /webhook "
                        "(required unless the manifest already names one)")
    parser.add_argument("--org", metavar="ORG", help="register the App for this organization (default: your own account)")
    parser.add_argument("--manifest", type=Path, default=Path("app.yml"), help="the App manifest (default: ./app.yml)")
    parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV_FILE, help="where to write the credentials (default: ./.env)")
    parser.add_argument("--github-url", default=PUBLIC_WEB_URL, metavar="URL",
                        help="GitHub's web address (default: https://github.com; a GitHub Enterprise host or the local GitHub)")
    parser.add_argument("--api-url", default=None, metavar="URL",
                        help="GitHub's API (default: https://api.github.com for github.com, else the --github-url)")
    parser.add_argument("--port", type=int, default=0, help="port of the loopback page (default: any free port)")
    parser.add_argument("--force", action="store_true", help="replace the App credentials already in the .env file")
    parser.add_argument("--timeout", type=float, default=CODE_LIFETIME_SECONDS, metavar="SECONDS",
                        help="give up after this long without GitHub's redirect (default: an hour)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        plan = make_plan(args)
    except (ManifestError, ValueError) as error:
        print(f"setup: {error}", file=sys.stderr)
        return 2
    try:
        app = asyncio.run(register_app(plan))
    except SetupFailed as error:
        print(f"setup: {error}", file=sys.stderr)
        return error.exit_code
    print(f"Registered the GitHub App {app.name!r} (id {app.app_id}) and wrote its credentials to {plan.env_file} (mode 0600).")
    print(f"Install it on the repository: {install_url(app.html_url)}")
    print("Then start the service where GitHub can reach the webhook URL: python -m bot serve (it reads .env)")
    return 0


class SetupFailed(RuntimeError):
    """The flow could not finish; the message says what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # 2 when the setup of this run is wrong (a port in use), as in serve


def make_plan(args: argparse.Namespace) -> SetupPlan:
    existing = env_file_values(args.env_file) if args.env_file.exists() else {}
    if existing.get("GITHUB_APP_ID") and not args.force:
        raise ValueError(f"{args.env_file} already holds App {existing['GITHUB_APP_ID']}'s credentials; "
                         "move it away or pass --force to replace them")
    manifest = dict(load_manifest(args.manifest))
    hook = dict(manifest.get("hook_attributes") or {})
    webhook_url = args.webhook_url or str(hook.get("url") or "")
    parts = urlsplit(webhook_url)
    if not webhook_url or (parts.hostname or "") in PLACEHOLDER_HOSTS:
        raise ValueError(f"pass --webhook-url with the deployed service's address, e.g. "
                         f"https://bot.example.net/webhook ({args.manifest} has no real one)")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"--webhook-url must be an http(s) URL, not {webhook_url!r}")
    hook.update({"url": webhook_url, "active": True})
    manifest["hook_attributes"] = hook
    web_url = args.github_url.rstrip("/")
    api_url = (args.api_url or (PUBLIC_API_URL if web_url == PUBLIC_WEB_URL else web_url)).rstrip("/")
    return SetupPlan(manifest, args.org, web_url, api_url, args.env_file, "127.0.0.1", args.port, args.timeout)


def install_url(app_html_url: str) -> str:
    return f"{app_html_url.rstrip('/')}/installations/new"


async def register_app(plan: SetupPlan) -> NewApp:
    """Serve the page until GitHub's redirect has been handled; returns the new App."""
    import aiohttp
    from aiohttp import web

    from bot.github.manifest import ConversionError, convert_manifest_code

    state = secrets.token_urlsafe(16)
    finished: asyncio.Future[NewApp] = asyncio.get_running_loop().create_future()
    manifest: dict[str, Any] = {}

    async def page(_: web.Request) -> web.Response:
        return _html(_form(plan, state, manifest))

    async def callback(request: web.Request) -> web.Response:
        if request.query.get("state") != state:
            return _html("<p>This answer is not for this setup run: start from its own page.</p>", status=400)
        if finished.done():
            return _html("<p>The App is already registered; this page can be closed.</p>")
        try:
            async with aiohttp.ClientSession() as session:
                app = await convert_manifest_code(session, plan.api_url, request.query.get("code", ""))
            save_credentials(plan, app)
        except (ConversionError, OSError) as error:
            finished.set_exception(SetupFailed(str(error)))
            return _html(f"<p>Setup failed: {html.escape(str(error))}</p>", status=502)
        finished.set_result(app)
        link = html.escape(install_url(app.html_url))
        return _html(f"<p>Registered <b>{html.escape(app.name)}</b> (App id {app.app_id}). Its credentials are in "
                     f"{html.escape(str(plan.env_file))}.</p><p>Next: <a href=\"{link}\">install it on the repository</a>.</p>")

    application = web.Application()
    application.router.add_get("/", page)
    application.router.add_get("/callback", callback)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, plan.host, plan.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        if error.errno == errno.EADDRINUSE:
            raise SetupFailed(f"port {plan.port} is already in use on {plan.host}; choose another with --port", 2) from None
        raise SetupFailed(f"cannot listen on {plan.host}:{plan.port}: {error.strerror}", 2) from None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]  # a started TCPSite has a listening server
    page_url = f"http://{plan.host}:{port}"
    manifest.update(plan.manifest, redirect_url=f"{page_url}/callback")
    owner = f"the organization {plan.org}" if plan.org else "your account"
    print(f"Open {page_url}/ in a browser and press the button: {plan.web_url} asks you to confirm the App "
          f"for {owner}, then sends you back here. Waiting (Ctrl-C to stop)…", flush=True)
    try:
        return await asyncio.wait_for(finished, plan.timeout)
    except TimeoutError:
        raise SetupFailed(f"no answer from GitHub within {plan.timeout:g}s; nothing was registered") from None
    finally:
        await runner.cleanup()


def save_credentials(plan: SetupPlan, app: NewApp) -> None:
    """The App's credentials into the .env file, keeping any other settings already there."""
    values = env_file_values(plan.env_file) if plan.env_file.exists() else {}
    values.update({"GITHUB_APP_ID": str(app.app_id), "GITHUB_PRIVATE_KEY": app.pem,
                   "GITHUB_WEBHOOK_SECRET": app.webhook_secret or ""})
    if plan.api_url != PUBLIC_API_URL:
        values["GITHUB_API_URL"] = plan.api_url
    values.pop("GITHUB_PRIVATE_KEY_PATH", None)  # it would name the previous App's key
    write_env_file(plan.env_file, values)


def _form(plan: SetupPlan, state: str, manifest: dict[str, Any]) -> str:
    action = html.escape(plan.new_app_url(state))
    value = html.escape(json.dumps(manifest), quote=True)
    return (f'<form action="{action}" method="post"><input type="hidden" name="manifest" value="{value}">'
            f'<button type="submit">Create the GitHub App {html.escape(str(manifest.get("name")))}</button></form>')


def _html(body: str, status: int = 200) -> web.Response:
    from aiohttp import web

    return web.Response(text=f"<!doctype html><meta charset=utf-8><title>threat-model-bot setup</title>{body}",
                        status=status, content_type="text/html")
