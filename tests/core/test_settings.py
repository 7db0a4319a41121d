"""parse_settings: defaults, every field honoured, and every problem reported with its key path."""
from __future__ import annotations

import pytest

from bot.core.settings import (
    DigestSettings,
    MaintainerSettings,
    RecordsSettings,
    RepoSettings,
    SatelliteRef,
    SettingsError,
    TrackSettings,
    parse_settings,
)


def test_no_mapping_and_empty_mapping_give_the_documented_defaults() -> None:
    for empty in (None, {}):
        settings = parse_settings(empty)
        assert settings.document == "**/*THREAT*MODEL*.md"
        assert settings.track == TrackSettings(prs="touching-document", labels=(), base_branches=())
        assert settings.maintainers == MaintainerSettings(("OWNER", "MEMBER", "COLLABORATOR"), None, ())
        assert (settings.tag_style, settings.retire, settings.dry_run) == ("auto", "strike", False)
        assert settings.followup_labels == ("security", "threat-model")
        assert settings.digest == DigestSettings(enabled=True, day="monday", time="09:00", timezone="UTC")
        assert settings.records == RecordsSettings(location="state", branch="threat-model-records")


def test_every_field_is_read() -> None:
    settings = parse_settings({
        "document": "docs/security/THREAT-MODEL.md",
        "track": {"prs": "labelled", "labels": ["threat-model"], "base_branches": ["main", "4.20"]},
        "maintainers": {"associations": ["owner", "MEMBER"], "permission": "write", "logins": ["@DaanHoogland", "weizhouapache"]},
        "tag_style": "dated",
        "retire": "mark",
        "followup_labels": "security",
        "digest": {"enabled": False, "day": "Friday", "time": "17:30", "timezone": "Europe/Amsterdam"},
        "dry_run": True,
        "records": {"location": "state", "branch": "tm/records"},
    })
    assert settings == RepoSettings(
        document="docs/security/THREAT-MODEL.md",
        track=TrackSettings("labelled", ("threat-model",), ("main", "4.20")),
        maintainers=MaintainerSettings(("OWNER", "MEMBER"), "write", ("DaanHoogland", "weizhouapache")),
        tag_style="dated",
        retire="mark",
        followup_labels=("security",),
        digest=DigestSettings(False, "friday", "17:30", "Europe/Amsterdam"),
        dry_run=True,
        records=RecordsSettings("state", "tm/records"),
    )


def test_unknown_choices_are_refused_rather_than_ignored() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"retire": "shred", "records": {"location": "wiki"}})
    assert {problem.path for problem in caught.value.problems} == {"retire", "records.location"}
    assert parse_settings({"records": {"location": "branch"}}).records == RecordsSettings("branch", "threat-model-records")


@pytest.mark.parametrize("retire", ["strike", "mark", "remove"])
def test_every_retire_style_is_accepted(retire: str) -> None:
    assert parse_settings({"retire": retire}).retire == retire


def test_an_unknown_retire_style_names_the_choices() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"retire": "delete"})
    assert [str(problem) for problem in caught.value.problems] == [
        "retire: expected one of strike, mark, remove, got 'delete'"
    ]


def test_all_problems_are_reported_at_once_with_their_key_paths() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({
            "documnet": "x.md",
            "track": {"prs": "some"},
            "maintainers": {"associations": ["OWNER", "BOSS"], "permission": "root", "logins": ["not a login"]},
            "tag_style": 3,
            "digest": {"day": "someday", "time": "9am", "timezone": "Mars/Olympus"},
            "dry_run": "yes",
            "records": {"location": "cloud", "branch": "bad..branch"},
            "followup_labels": {"a": 1},
        })
    paths = {problem.path for problem in caught.value.problems}
    assert paths == {
        "documnet", "track.prs", "maintainers.associations[1]", "maintainers.permission",
        "maintainers.logins[0]", "tag_style", "digest.day", "digest.time", "digest.timezone",
        "dry_run", "records.location", "records.branch", "followup_labels",
    }
    assert "unknown key" in str(caught.value)


def test_labelled_tracking_needs_labels_and_somebody_must_be_a_maintainer() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"track": {"prs": "labelled"}, "maintainers": {"associations": []}})
    assert {problem.path for problem in caught.value.problems} == {"track.labels", "maintainers"}


@pytest.mark.parametrize("document", ["/etc/passwd", "../outside.md", "docs/../../x.md"])
def test_document_must_stay_inside_the_repository(document: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"document": document})
    assert caught.value.problems[0].path == "document"


def test_a_section_that_is_not_a_mapping_is_reported() -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({"digest": "monday"})
    assert str(caught.value.problems[0]).startswith("digest: expected a mapping")


def test_a_top_level_that_is_not_a_mapping_is_reported() -> None:
    with pytest.raises(SettingsError, match="top level"):
        parse_settings(["document"])  # type: ignore[arg-type]


def test_a_family_names_its_satellites_and_where_the_digest_goes() -> None:
    settings = parse_settings({"family": {
        "satellites": ["apache/cloudstack-go", "apache/cloudstack-cloudmonkey#12"], "post_to": "#9001",
    }})

    assert settings.family.enabled
    assert settings.family.satellites == (
        SatelliteRef("apache/cloudstack-go"), SatelliteRef("apache/cloudstack-cloudmonkey", 12),
    )
    assert settings.family.post_to == 9001
    assert parse_settings({"family": {"satellites": "apache/cloudstack-go", "post_to": "pr"}}).family.post_to is None
    assert not parse_settings({}).family.enabled


def test_a_broken_family_is_reported_key_by_key() -> None:
    with pytest.raises(SettingsError) as raised:
        parse_settings({"family": {"satellites": ["cloudstack-go", "apache/x", "Apache/X#3", "a/b#0"], "post_to": "later"}})

    assert [str(problem) for problem in raised.value.problems] == [
        "family.satellites[0]: expected OWNER/NAME or OWNER/NAME#PR, got 'cloudstack-go'",
        "family.satellites[3]: expected OWNER/NAME or OWNER/NAME#PR, got 'a/b#0'",
        "family.satellites: Apache/X is listed twice",
        "family.post_to: expected pr or an issue number such as 1234, got 'later'",
    ]
    for family in ({"post_to": 12}, {"satellites": [], "post_to": 12}):
        with pytest.raises(SettingsError, match="at least one satellite"):
            parse_settings({"family": family})
