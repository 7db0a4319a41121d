"""A one-off remark on a PR is said once: by one delivery, and by that delivery run again."""
from __future__ import annotations

from bot.service.features.one_off_remarks import post_once, remark_marker

# The world tests/conftest.py's `hub` fixture seeds (see tests/service/conftest.py).
REPO, MAINTAINER = "apache/cloudstack", "maintainer"


def remarks_on(hub, number: int, key: str) -> list:
    return [c for c in hub.state.issue_comments.values() if c.issue_number == number and remark_marker(key) in c.body]


async def test_a_remark_is_posted_once_even_when_its_delivery_runs_again(hub, context_for) -> None:
    hub.push(REPO, "feature", {"README.md": "changed\n"}, user=MAINTAINER)
    number = hub.open_pr(REPO, "feature", user=MAINTAINER, title="A change")
    assert await post_once(context_for("d-1"), number, "config-error:x", "The settings file is invalid.") is True
    # The same delivery again (a retry, or a rerun after a crash before it was marked done):
    # the inbox's key lets it through, the marker on the PR stops it.
    assert await post_once(context_for("d-1"), number, "config-error:x", "The settings file is invalid.") is False
    # Another delivery: the inbox's key stops it before it even looks.
    before = len(hub.requests)
    assert await post_once(context_for("d-2"), number, "config-error:x", "The settings file is invalid.") is False
    assert len(hub.requests) == before
    remarks = remarks_on(hub, number, "config-error:x")
    assert len(remarks) == 1 and remarks[0].body.endswith("The settings file is invalid.")
    # A person quoting the marker does not count as the bot having said it.
    hub.comment(REPO, number, remark_marker("other") + " (quoted)", user=MAINTAINER)
    assert await post_once(context_for("d-3"), number, "other", "Something else.") is True
