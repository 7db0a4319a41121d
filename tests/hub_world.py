"""The local GitHub's default test world: names, the App key pair type, and helpers.

Kept out of conftest.py so test modules import it by a name no other folder shares
(`from hub_world import ...`): several folders have a conftest.py.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from localhub.server import LocalHub

APP_ID = 4242
INSTALLATION_ID = 77
ORG = "apache"
REPO = "apache/cloudstack"
MAINTAINER = "maintainer"
MEMBER = "member"
WEBHOOK_SECRET = "localhub-test-secret"
SEED_FILES = {
    "README.md": "# cloudstack\n",
    "security/threat-model.md": "".join(f"Line {n} of the threat model.\n" for n in range(1, 41)),
}


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_pem: bytes


def seed_world(hub: LocalHub, keys: KeyPair) -> None:
    """The default world every hub fixture starts from (see the module docstring)."""
    hub.register_app(APP_ID, keys.public_pem)
    hub.add_org(ORG, {MAINTAINER: "admin", MEMBER: "member"})
    hub.create_repo(REPO, SEED_FILES)
    hub.install_app(APP_ID, ORG, installation_id=INSTALLATION_ID)


def app_jwt(keys: KeyPair, app_id: int = APP_ID, lifetime: int = 540) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now - 60, "exp": now + lifetime, "iss": str(app_id)}, keys.private_pem, algorithm="RS256")


@dataclass
class Inbox:
    url: str = ""
    status: int = 200
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    bad_signatures: int = 0

    def named(self, event: str, action: str | None = None) -> list[dict[str, Any]]:
        return [p for e, _, p in self.events if e == event and (action is None or p.get("action") == action)]
