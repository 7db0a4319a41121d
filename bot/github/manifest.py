"""The one call of the App-manifest flow that goes to GitHub's API: exchanging the one-time
code for the new App's credentials (`POST /app-manifests/{code}/conversions`, no auth)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

ACCEPT = "application/vnd.github+json"


class ConversionError(RuntimeError):
    """GitHub refused the code (expired, used, unknown) or could not be reached."""


@dataclass(frozen=True)
class NewApp:
    app_id: int
    slug: str
    name: str
    html_url: str
    owner: str
    pem: str
    webhook_secret: str | None


async def convert_manifest_code(session: aiohttp.ClientSession, api_url: str, code: str) -> NewApp:
    url = f"{api_url.rstrip('/')}/app-manifests/{code}/conversions"
    try:
        async with session.post(url, headers={"Accept": ACCEPT}, timeout=aiohttp.ClientTimeout(total=30)) as response:
            body: Any = await response.json(content_type=None)
            if response.status != 201 or not isinstance(body, dict):
                message = body.get("message") if isinstance(body, dict) else None
                raise ConversionError(f"GitHub answered {response.status} to {url}: {message or 'no message'} "
                                      "(a code works once, within an hour: run setup again)")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise ConversionError(f"could not reach {url}: {error or type(error).__name__}") from error
    except ValueError as error:  # not JSON: not GitHub's API at that address
        raise ConversionError(f"{url} did not answer with JSON: is the API URL right?") from error
    return NewApp(app_id=int(body["id"]), slug=str(body["slug"]), name=str(body.get("name") or body["slug"]),
                  html_url=str(body["html_url"]), owner=str((body.get("owner") or {}).get("login") or ""),
                  pem=str(body["pem"]), webhook_secret=body.get("webhook_secret"))
