"""The family digest: one comment for a canonical model and its satellites."""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from digest_builders import (
    LOGINS,
    NOW,
    document,
    mention_counts,
    record,
    record_sets,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.digest_marker import family_digest_marker, parse_digest_marker, parse_family_digest_marker
from bot.core.family_digest_wording import FamilyMember, FamilyRole, render_family_digest
from bot.core.records import Record, Status, Thread

# --- the family digest ----------------------------------------------------------------


def family() -> list[FamilyMember]:
    canonical = FamilyMember(
        repo="apache/cloudstack",
        role=FamilyRole.CANONICAL,
        records=[
            record(8, Status.CONFIRMED),
            record(9, awaiting=("DaanHoogland",), thread=Thread(comment_id=909)),
            record(10, Status.ANSWERED, awaiting=("DaanHoogland", "passer-by"), thread=Thread(comment_id=910)),
        ],
        document=document({"documented": 30, "inferred": 4, "maintainer": 10}),
        pr_url="https://github.com/apache/cloudstack/pull/13293",
    )
    go = FamilyMember(
        repo="apache/cloudstack-go",
        role=FamilyRole.SATELLITE,
        records=[record(1, awaiting=("DaanHoogland",), thread=Thread(comment_id=101)), record(2, Status.FOLDED)],
        document=document({"documented": 5, "inferred": 1, "maintainer": 2}),
        pr_url="https://github.com/apache/cloudstack-go/pull/149",
    )
    monkey = FamilyMember(
        repo="apache/cloudstack-cloudmonkey",
        role=FamilyRole.SATELLITE,
        records=[record(1, Status.CONFIRMED)],
        document=None,
    )
    return [go, monkey, canonical]  # given out of order on purpose


def test_family_digest_has_one_row_per_repository_canonical_first() -> None:
    digest = render_family_digest(family(), NOW, maintainers={"DaanHoogland"}, previous=None)
    rows = [line for line in digest.markdown.splitlines() if line.startswith("| [`") or line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["apache/cloudstack", "apache/cloudstack-cloudmonkey", "apache/cloudstack-go"]
    assert "| canonical | 2 of 3 |" in rows[0]
    assert "| satellite | 1 of 1 |" in rows[1] and rows[1].endswith("| nothing |")
    assert "| satellite | 1 of 2 |" in rows[2]
    assert "**4 of 6 questions answered across 3 repositories**" in digest.markdown
    assert "(`apache/cloudstack` and 2 satellites)" in digest.markdown
    for repo in ("apache/cloudstack", "apache/cloudstack-go", "apache/cloudstack-cloudmonkey"):
        assert re.search(rf"^### {re.escape(repo)} \((canonical|satellite)\)$", digest.markdown, re.M)


def test_family_digest_says_what_each_repository_owes_and_mentions_once() -> None:
    digest = render_family_digest(family(), NOW, maintainers={"DaanHoogland"}, previous=None)
    rows = {line.split("`")[1]: line for line in digest.markdown.splitlines() if line.startswith("| [`")}
    canonical_pr = "https://github.com/apache/cloudstack/pull/13293"
    # The canonical row comes first, so that is where the one mention lands.
    assert rows["apache/cloudstack"].endswith(
        f"| @DaanHoogland: [Q9]({canonical_pr}#discussion_r909), [Q10]({canonical_pr}#discussion_r910);"
        f" `passer-by`: [Q10]({canonical_pr}#discussion_r910) |"
    )
    assert rows["apache/cloudstack-go"].endswith(
        "| `DaanHoogland`: [Q1](https://github.com/apache/cloudstack-go/pull/149#discussion_r101) |"
    )
    assert mention_counts(digest.markdown) == Counter({"daanhoogland": 1})
    assert digest.mentioned == ("DaanHoogland",)


def test_family_figures_round_trip_through_the_marker_and_feed_next_week() -> None:
    members = family()
    first = render_family_digest(members, NOW, maintainers=(), previous=None)
    assert set(first.member_figures) == {"apache/cloudstack", "apache/cloudstack-go", "apache/cloudstack-cloudmonkey"}
    assert first.figures.total == 6 and "apache/cloudstack-go:Q2" in first.figures.folded
    recovered = parse_family_digest_marker(first.markdown)
    assert recovered == ("2026-W48", first.member_figures)
    assert parse_digest_marker(first.markdown) is None  # a family digest is not a single one
    assert family_digest_marker("2026-W48", first.member_figures) == first.markdown.splitlines()[0]

    canonical = members[2]
    progressed = FamilyMember(
        repo=canonical.repo,
        role=canonical.role,
        records=[record(8, Status.CONFIRMED), record(9, Status.CONFIRMED), record(10, Status.ANSWERED, awaiting=("passer-by",))],
        document=canonical.document,
        pr_url=canonical.pr_url,
    )
    later = render_family_digest([members[0], members[1], progressed], NOW + timedelta(days=7), maintainers=(), previous=recovered[1])
    assert "**Since 2026-W48:** Answered: 2 of 3 → 3 of 3; Newly confirmed: Q9" in later.markdown
    assert "**Since 2026-W48:** No change since 2026-W48." in later.markdown  # the untouched satellites


def test_family_digest_is_deterministic() -> None:
    members = family()
    first = render_family_digest(members, NOW, maintainers={"DaanHoogland"}, previous=None)
    second = render_family_digest(list(reversed(members)), NOW, maintainers=["DaanHoogland"], previous=None)
    assert first.markdown == second.markdown


# --- property: mentions ---------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(record_sets(), min_size=1, max_size=3),
    maintainers=st.sets(st.sampled_from(LOGINS)),
)
def test_family_mentions_obey_the_same_rule(parts: list[list[Record]], maintainers: set[str]) -> None:
    members = [
        FamilyMember(
            repo=f"apache/widget-{index}",
            role=FamilyRole.CANONICAL if index == 0 else FamilyRole.SATELLITE,
            records=records,
            document=None,
        )
        for index, records in enumerate(parts)
    ]
    digest = render_family_digest(members, NOW, maintainers=maintainers, previous=None)
    counts = mention_counts(digest.markdown)
    assert set(counts) <= {login.lower() for login in maintainers}
    assert all(count == 1 for count in counts.values())
