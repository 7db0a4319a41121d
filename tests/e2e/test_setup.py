"""From zero to installed, against the local GitHub: `python -m bot setup` registers the App from
app.yml through the manifest flow (this test plays the browser: it loads the setup page, posts
its form to GitHub and follows the redirect back), writes .env, and `python -m bot serve`, started
in that folder with no GitHub variables of its own, handles a signed delivery with it."""
from __future__ import annotations

import asyncio
import html
import re
import stat
import sys
from pathlib import Path

from aiohttp import ClientSession
from dotenv import dotenv_values
from serve_process import clean_environment, health, serving

from localhub.server import LocalHub
from ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = (ROOT / "bot" / "demo_data" / "draft-THREAT-MODEL.md").read_text(encoding="utf-8")
MAINTAINER = "daan"


async def play_the_browser(page_url: str) -> str:
    """Load the setup page, post its form to GitHub, follow GitHub's redirect; the last page's text."""
    async with ClientSession() as browser:
        async with browser.get(page_url) as page:
            text = await page.text()
        action = html.unescape(re.search(r'action="([^"]+)"', text).group(1))
        manifest = html.unescape(re.search(r'name="manifest" value="([^"]*)"', text).group(1))
        async with browser.post(action, data={"manifest": manifest}, allow_redirects=False) as posted:
            assert posted.status == 302, await posted.text()
            back_to = posted.headers["Location"]
        assert back_to.startswith(page_url.rstrip("/") + "/callback?code=")
        async with browser.get(back_to) as done:
            assert done.status == 200, await done.text()
            return await done.text()


async def run_setup(hub: LocalHub, folder: Path, webhook_url: str) -> tuple[int, str, str]:
    setup = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "setup", "--github-url", hub.url, "--org", "apache", "--webhook-url", webhook_url,
        "--manifest", str(ROOT / "app.yml"), cwd=folder, env=clean_environment(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    first_line = (await asyncio.wait_for(setup.stdout.readline(), 60)).decode()
    page_url = re.search(r"Open (http://127\.0\.0\.1:\d+/) in a browser", first_line).group(1)
    final_page = await play_the_browser(page_url)
    assert "installations/new" in final_page
    rest, errors = await asyncio.wait_for(setup.communicate(), 60)
    return setup.returncode, first_line + rest.decode(), errors.decode()


async def test_setup_writes_an_env_with_which_serve_handles_a_signed_delivery(tmp_path: Path) -> None:
    async with LocalHub.start() as hub:
        hub.add_org("apache", {MAINTAINER: "admin"})
        hub.create_repo("apache/cloudstack")
        port = free_port()

        code, out, errors = await run_setup(hub, tmp_path, f"http://127.0.0.1:{port}/webhook")
        assert code == 0, errors
        env_file = tmp_path / ".env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        values = dotenv_values(env_file)
        app = hub.state.apps[int(values["GITHUB_APP_ID"])]
        assert app.owner == "apache" and app.slug == "threat-model-bot"
        assert values["GITHUB_API_URL"] == hub.url and values["GITHUB_WEBHOOK_SECRET"]
        assert f"{hub.url}/apps/threat-model-bot/installations/new" in out

        async with ClientSession() as browser:  # the person installs the App on the organization
            async with browser.post(f"{hub.url}/apps/{app.slug}/installations/new", data={"account": "apache"}) as installed:
                assert installed.status == 201

        async with serving(tmp_path, port) as serve:
            await health(port, lambda body: "deliveries" in body)
            hub.push("apache/cloudstack", "threat-model", {"draft-THREAT-MODEL.md": DOCUMENT}, user=MAINTAINER)
            hub.open_pr("apache/cloudstack", "threat-model", user=MAINTAINER, title="Add a draft threat model")
            deliveries = await hub.deliveries_settled(30)
            assert {d.event for d in deliveries} >= {"pull_request"}
            assert all(d.status_code == 202 for d in deliveries), [(d.event, d.status_code) for d in deliveries]
            body = await health(port, lambda body: body["deliveries"].get("done", 0) >= len(deliveries))
            assert "failed" not in body["deliveries"]
            # The work used the App's credentials from .env: an installation token, then its calls.
            assert hub.count_requests("POST", "/app/installations/*/access_tokens", status=201) >= 1
            assert any(r.caller == "threat-model-bot[bot]" and r.path.startswith("/repos/apache/cloudstack")
                       for r in hub.requests)
        said = (await serve.stdout.read()).decode()
        assert f"serve: GitHub App 'threat-model-bot' (id {app.id}, owned by apache) at {hub.url}" in said
        assert "Traceback" not in said
