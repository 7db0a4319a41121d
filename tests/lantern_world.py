"""The batch jobs' own corner of the shared local GitHub (tests/conftest.py seeds the App they
reuse, and its `lantern_hub` fixture this org): org `lantern`, its people, the document, the
weeks the jobs run in. The LANTERN_ names are for modules that also use hub_world's."""
from __future__ import annotations

from pathlib import Path

LANTERN_ORG = ORG = "lantern"
LANTERN_REPO = REPO = "lantern/lantern"
LANTERN_MAINTAINER = MAINTAINER = "lantern-pmc"  # an org admin: author association MEMBER
LANTERN_MEMBER = MEMBER = "lantern-dev"

DOCUMENT_PATH = "draft-THREAT-MODEL.md"
DOCUMENT = (Path(__file__).parent / "fixtures" / "batch" / DOCUMENT_PATH).read_text(encoding="utf-8")
CREDENTIAL_VARIABLES = ("GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH")
WEEK_47 = "2026-11-17T09:00:00Z"  # a Tuesday of ISO week 2026-W47
WEEK_48 = "2026-11-24T09:00:00Z"


def app_id_of(threaded_hub) -> int:
    (app_id,) = threaded_hub.hub.state.apps
    return app_id
