"""`serve`'s checks at start and /health's verdict, on the real service: bad credentials are
refused with the variable named; GitHub unreachable or rejecting the App, it starts and /health
says degraded; deliveries that keep failing make it degraded until one succeeds."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from serve_process import clean_environment, health, line_starting, serving

from bot.envfile import write_env_file
from bot.sandbox import new_app_key
from bot.service.runtime.app import create_app
from bot.service.runtime.service_config import ServiceConfig
from bot.service.runtime.startup_checks import GitHubStatus, check_github, watch_github
from localhub.server import LocalHub
from ports import free_port


async def run_serve(folder: Path, **env: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--port", str(free_port()), cwd=folder,
        env=clean_environment(BOT_STATE_DIR=str(folder / "state"), **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, errors = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, errors.decode()


async def test_an_app_id_that_is_not_a_number_is_refused_naming_the_variable(tmp_path: Path) -> None:
    private_key, _ = new_app_key()
    code, errors = await run_serve(tmp_path, GITHUB_APP_ID="threat-model-bot", GITHUB_PRIVATE_KEY=private_key,
                                   GITHUB_WEBHOOK_SECRET="s")
    assert code == 2
    assert errors.strip().splitlines() == ["serve: GITHUB_APP_ID must be the App's number (\"App ID\" on its "
                                           "settings page), not 'threat-model-bot'"]


async def test_a_key_file_that_is_not_a_key_is_refused_naming_the_variable_and_file(tmp_path: Path) -> None:
    (tmp_path / "app.pem").write_text("ssh-rsa AAAAB3NzaC1yc2E this is a public key\n")
    code, errors = await run_serve(tmp_path, GITHUB_APP_ID="4242", GITHUB_PRIVATE_KEY_PATH="app.pem",
                                   GITHUB_WEBHOOK_SECRET="s")
    assert code == 2
    [line] = errors.strip().splitlines()
    assert line.startswith("serve: GITHUB_PRIVATE_KEY_PATH (app.pem) is not a PEM private key")


async def test_key_text_that_is_not_a_key_is_refused_from_the_env_file(tmp_path: Path) -> None:
    write_env_file(tmp_path / ".env", {"GITHUB_APP_ID": "4242", "GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nnope\n"
                                       "-----END RSA PRIVATE KEY-----", "GITHUB_WEBHOOK_SECRET": "s"})
    code, errors = await run_serve(tmp_path)
    assert code == 2
    [line] = errors.strip().splitlines()
    assert line.startswith("serve: GITHUB_PRIVATE_KEY is not a PEM private key")


async def test_github_unreachable_it_starts_and_health_says_so(tmp_path: Path) -> None:
    private_key, _ = new_app_key()
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    port = free_port()
    async with serving(tmp_path, port, GITHUB_APP_ID="4242", GITHUB_PRIVATE_KEY=private_key, GITHUB_WEBHOOK_SECRET="s",
                       GITHUB_API_URL=nobody_listens) as serve:
        body = await health(port, lambda body: body["github"]["state"] != "unchecked")
        first_line = await line_starting(serve, "serve: GitHub")
    assert body["status"] == "degraded" and body["github"]["state"] == "unreachable"
    assert body["problems"][0].startswith(f"GitHub at {nobody_listens} cannot be reached")
    assert first_line.startswith(f"serve: GitHub at {nobody_listens} cannot be reached") and "starting anyway" in first_line


async def test_github_rejecting_the_app_makes_health_degraded(tmp_path: Path) -> None:
    _, public_key = new_app_key()
    other_key, _ = new_app_key()  # not the key GitHub knows for this App
    port = free_port()
    async with LocalHub.start() as hub:
        hub.register_app(4242, public_key)
        async with serving(tmp_path, port, GITHUB_APP_ID="4242", GITHUB_PRIVATE_KEY=other_key, GITHUB_WEBHOOK_SECRET="s",
                           GITHUB_API_URL=hub.url) as serve:
            body = await health(port, lambda body: body["github"]["state"] != "unchecked")
            first_line = await line_starting(serve, "serve: GitHub")
    assert body["status"] == "degraded" and body["github"]["state"] == "rejected"
    assert "401" in body["problems"][0]
    assert "rejects the App's credentials" in first_line and "check GITHUB_APP_ID and the private key" in first_line


async def test_deliveries_that_keep_failing_make_health_degraded_until_one_succeeds(tmp_path: Path) -> None:
    private_key, public_key = new_app_key()
    async with LocalHub.start() as hub:
        hub.register_app(4242, public_key)
        hub.add_org("apache", {"daan": "admin"})
        hub.create_repo("apache/cloudstack")
        hub.install_app(4242, "apache")
        config = ServiceConfig(app_id="4242", private_key=private_key, webhook_secret="s", api_url=hub.url,
                               state_dir=tmp_path / "state", retry_base_seconds=0.02, retry_max_seconds=0.05,
                               scheduler_enabled=False)
        app = create_app(config)
        status = await check_github(config, GitHubStatus(config.api_url))
        watch_github(app, config, status)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        hub.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/webhook", "s")
        try:
            async with ClientSession() as client:
                async def health_now() -> dict:
                    async with client.get(f"http://127.0.0.1:{runner.addresses[0][1]}/health") as response:
                        return await response.json()

                assert (await health_now())["status"] == "ok"
                # GitHub loses the repository's files: every attempt at the PR fails.
                hub.faults.error("/repos/apache/cloudstack/*", status=404, times=None)
                hub.push("apache/cloudstack", "tm", {"THREAT-MODEL.md": "# Threat model\n"}, user="daan")
                hub.open_pr("apache/cloudstack", "tm", user="daan")
                await hub.deliveries_settled()
                body = await _until(health_now, lambda body: body["deliveries"].get("failed", 0) >= 1)
                assert body["status"] == "degraded"
                assert body["problems"] == ["deliveries keep failing: one failed after all its attempts and none has succeeded since"]
                done_before = body["deliveries"].get("done", 0)  # the push, which needs no call to GitHub
                hub.faults.clear()
                hub.comment("apache/cloudstack", 1, "a later comment", user="daan")
                await hub.deliveries_settled()
                body = await _until(health_now, lambda body: body["deliveries"].get("done", 0) > done_before)
                assert body["status"] == "ok" and body["problems"] == [], body
        finally:
            await runner.cleanup()


async def _until(read, wanted, timeout: float = 30.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = await read()
        if wanted(body) or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.1)


async def test_an_answer_not_shaped_as_githubs_is_reported_and_checked_again(tmp_path: Path) -> None:
    async def not_github(_: web.Request) -> web.Response:
        return web.Response(text="<html>a captive portal</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/app", not_github)
    private_key, _ = new_app_key()
    async with TestServer(app, host="127.0.0.1") as server:
        config = ServiceConfig(app_id="4242", private_key=private_key, webhook_secret="s",
                               api_url=str(server.make_url("")).rstrip("/"), state_dir=tmp_path)
        status = await check_github(config, GitHubStatus(config.api_url))
    assert status.state == "unreachable" and status.detail.startswith("an unexpected answer")
    assert status.report({})["status"] == "degraded"
