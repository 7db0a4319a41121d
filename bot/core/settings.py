"""Per-repository settings (`.github/threat-model-bot.yml`): the typed shape and its validation.

Pure: the store reads the YAML text into plain mappings, `parse_settings` turns a mapping into a
frozen `RepoSettings` or raises one `SettingsError` that lists *every* problem with its key path,
so a maintainer fixes the file in one go instead of one error per push.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import (  # stdlib time-zone table; no network, no app state
    ZoneInfo,
    ZoneInfoNotFoundError,
)

from bot.core.permissions import REQUIRABLE_PERMISSIONS

CONFIG_PATH = ".github/threat-model-bot.yml"

TRACK_MODES = ("touching-document", "labelled", "all")
ASSOCIATIONS = (
    "OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR",
    "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN", "NONE",
)
TAG_STYLES = ("auto", "dated", "undated")  # auto: follow the spelling the document already uses
# How a folded question leaves §14. strike: `~~Q~~ **RESOLVED**`; mark: the RESOLVED note only;
# remove: its whole entry is deleted, so §14 lists only what is still open.
RETIRE_STYLES = ("strike", "mark", "remove")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RECORD_LOCATIONS = ("state", "branch")  # the service's state directory, or a branch of the repository

_REPOSITORY = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})(?:#([1-9][0-9]{0,9}))?$")
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")
_BRANCH = re.compile(r"^(?!/)(?!.*\.\.)(?!.*//)[^\s~^:?*\[\\]+(?<!/)(?<!\.lock)$")


@dataclass(frozen=True)
class TrackSettings:
    """Which pull requests the bot follows."""

    prs: str = "touching-document"  # one of TRACK_MODES
    labels: tuple[str, ...] = ()  # required (non-empty) when prs == "labelled"
    base_branches: tuple[str, ...] = ()  # empty: any base branch


@dataclass(frozen=True)
class MaintainerSettings:
    """Who counts as a maintainer: any one of the three criteria is enough."""

    associations: tuple[str, ...] = ("OWNER", "MEMBER", "COLLABORATOR")
    permission: str | None = None  # minimum repository permission, e.g. "write"; None: not consulted
    logins: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestSettings:
    enabled: bool = True
    day: str = "monday"
    time: str = "09:00"  # HH:MM, 24-hour
    timezone: str = "UTC"


@dataclass(frozen=True)
class RecordsSettings:
    location: str = "state"  # "state": the service's state directory; "branch": questions/pr-<N>/ on `branch`
    branch: str = "threat-model-records"


@dataclass(frozen=True)
class SatelliteRef:
    """A satellite repository of a family, and optionally the PR carrying its delta model."""

    repo: str  # "owner/name"
    pr: int | None = None  # None: whichever of its PRs the bot tracks

    def __str__(self) -> str:
        return self.repo if self.pr is None else f"{self.repo}#{self.pr}"


@dataclass(frozen=True)
class FamilySettings:
    """Set in the *canonical* repository: one weekly digest for it and its satellite models."""

    satellites: tuple[SatelliteRef, ...] = ()
    post_to: int | None = None  # an issue or PR number here; None: this repository's tracked PR

    @property
    def enabled(self) -> bool:
        return bool(self.satellites)

    def satellites_besides(self, canonical: str) -> list[SatelliteRef]:
        """The satellites, less the canonical repository if it names itself (it is there already)."""
        return [satellite for satellite in self.satellites if satellite.repo.lower() != canonical.lower()]


@dataclass(frozen=True)
class RepoSettings:
    document: str = "**/*THREAT*MODEL*.md"  # a path or a glob, relative to the repository root
    track: TrackSettings = field(default_factory=TrackSettings)
    maintainers: MaintainerSettings = field(default_factory=MaintainerSettings)
    tag_style: str = "auto"
    retire: str = "strike"
    followup_labels: tuple[str, ...] = ("security", "threat-model")
    digest: DigestSettings = field(default_factory=DigestSettings)
    dry_run: bool = False
    records: RecordsSettings = field(default_factory=RecordsSettings)
    family: FamilySettings = field(default_factory=FamilySettings)


@dataclass(frozen=True)
class SettingsProblem:
    path: str  # dotted key path, e.g. "maintainers.associations[1]"; "" for the document itself
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SettingsError(ValueError):
    """The settings file is unusable; `problems` lists everything wrong with it."""

    def __init__(self, problems: list[SettingsProblem] | tuple[SettingsProblem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


T = TypeVar("T")


class _Collector:
    """Gathers problems while reading, so one pass reports all of them."""

    def __init__(self) -> None:
        self.problems: list[SettingsProblem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(SettingsProblem(path, message))

    def problems_under(self, path: str) -> bool:
        return any(problem.path == path or problem.path.startswith(f"{path}[") for problem in self.problems)

    def section(self, mapping: Mapping[str, Any], key: str, known: tuple[str, ...]) -> Mapping[str, Any]:
        value = mapping.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(key, f"expected a mapping with keys {', '.join(known)}, got {_kind(value)}")
            return {}
        self.unknown_keys(value, known, prefix=f"{key}.")
        return value

    def unknown_keys(self, mapping: Mapping[str, Any], known: tuple[str, ...], prefix: str = "") -> None:
        for key in mapping:
            if key not in known:
                self.add(f"{prefix}{key}", f"unknown key (known: {', '.join(known)})")

    def choice(self, mapping: Mapping[str, Any], key: str, path: str, choices: tuple[str, ...], default: T) -> T | str:
        if key not in mapping or mapping[key] is None:
            return default
        value = mapping[key]
        if not isinstance(value, str) or value not in choices:
            self.add(path, f"expected one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def boolean(self, mapping: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        if key not in mapping or mapping[key] is None:
            return default
        value = mapping[key]
        if not isinstance(value, bool):
            self.add(path, f"expected true or false, got {value!r}")
            return default
        return value

    def text(self, mapping: Mapping[str, Any], key: str, path: str, default: str,
             check: Callable[[str], str | None] | None = None) -> str:
        if key not in mapping or mapping[key] is None:
            return default
        value = mapping[key]
        if not isinstance(value, str) or not value.strip():
            self.add(path, f"expected a non-empty string, got {value!r}")
            return default
        if check is not None and (message := check(value)) is not None:
            self.add(path, message)
            return default
        return value.strip()

    def strings(self, mapping: Mapping[str, Any], key: str, path: str, default: tuple[str, ...],
                check: Callable[[str], str | None] | None = None) -> tuple[str, ...]:
        if key not in mapping or mapping[key] is None:
            return default
        value = mapping[key]
        if isinstance(value, str):  # a lone string is the obvious shorthand for a one-item list
            value = [value]
        if not isinstance(value, list):
            self.add(path, f"expected a list of strings, got {_kind(value)}")
            return default
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.add(f"{path}[{index}]", f"expected a non-empty string, got {item!r}")
            elif check is not None and (message := check(item)) is not None:
                self.add(f"{path}[{index}]", message)
            else:
                items.append(item.strip())
        return tuple(items)


def _kind(value: object) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _check_association(value: str) -> str | None:
    return None if value.upper() in ASSOCIATIONS else f"unknown author association {value!r} (known: {', '.join(ASSOCIATIONS)})"


def _check_login(value: str) -> str | None:
    return None if _LOGIN.match(value.lstrip("@")) else f"{value!r} is not a GitHub login"


def _check_time(value: str) -> str | None:
    return None if _TIME_OF_DAY.match(value) else f"expected HH:MM (24-hour), got {value!r}"


def _check_timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (use an IANA name such as UTC or Europe/Amsterdam)"
    return None


def _check_branch(value: str) -> str | None:
    return None if _BRANCH.match(value) else f"{value!r} is not a valid branch name"


def _check_document(value: str) -> str | None:
    if value.startswith("/") or ".." in value.split("/"):
        return f"expected a path relative to the repository root, got {value!r}"
    return None


_TOP_KEYS = (
    "document", "track", "maintainers", "tag_style", "retire", "followup_labels", "digest", "dry_run", "records", "family",
)


def _check_repository(value: str) -> str | None:
    if _REPOSITORY.match(value.strip()):
        return None
    return f"expected OWNER/NAME or OWNER/NAME#PR, got {value!r}"


def _read_family(read: _Collector, mapping: Mapping[str, Any]) -> FamilySettings:
    family_map = read.section(mapping, "family", ("satellites", "post_to"))
    satellites: list[SatelliteRef] = []
    for item in read.strings(family_map, "satellites", "family.satellites", (), _check_repository):
        match = _REPOSITORY.match(item)
        assert match is not None  # checked by _check_repository
        satellite = SatelliteRef(f"{match.group(1)}/{match.group(2)}", int(match.group(3)) if match.group(3) else None)
        if any(existing.repo.lower() == satellite.repo.lower() for existing in satellites):
            read.add("family.satellites", f"{satellite.repo} is listed twice")
            continue
        satellites.append(satellite)
    if family_map and not satellites and not read.problems_under("family.satellites"):
        read.add("family.satellites", "a family needs at least one satellite repository")
    return FamilySettings(satellites=tuple(satellites), post_to=_read_post_to(read, family_map))


def _read_post_to(read: _Collector, family_map: Mapping[str, Any]) -> int | None:
    """`pr` (the default: this repository's tracked threat-model PR), or an issue or PR number."""
    value = family_map.get("post_to")
    if value is None or value == "pr":
        return None
    number = value.lstrip("#") if isinstance(value, str) else value
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        read.add("family.post_to", f"expected pr or an issue number such as 1234, got {value!r}")
        return None
    return number


def parse_settings(mapping: Mapping[str, Any] | None) -> RepoSettings:
    """Validate a settings mapping (None or empty: every default) into `RepoSettings`."""
    if mapping is None:
        return RepoSettings()
    if not isinstance(mapping, Mapping):
        raise SettingsError([SettingsProblem("", f"expected a mapping at the top level, got {_kind(mapping)}")])
    defaults = RepoSettings()
    read = _Collector()
    read.unknown_keys(mapping, _TOP_KEYS)

    track_map = read.section(mapping, "track", ("prs", "labels", "base_branches"))
    track = TrackSettings(
        prs=read.choice(track_map, "prs", "track.prs", TRACK_MODES, defaults.track.prs),
        labels=read.strings(track_map, "labels", "track.labels", ()),
        base_branches=read.strings(track_map, "base_branches", "track.base_branches", (), _check_branch),
    )
    if track.prs == "labelled" and not track.labels:
        read.add("track.labels", "track.prs is 'labelled' but no labels are listed")

    maintainers_map = read.section(mapping, "maintainers", ("associations", "permission", "logins"))
    maintainers = MaintainerSettings(
        associations=tuple(
            association.upper()
            for association in read.strings(maintainers_map, "associations", "maintainers.associations",
                                            defaults.maintainers.associations, _check_association)
        ),
        permission=read.choice(maintainers_map, "permission", "maintainers.permission", REQUIRABLE_PERMISSIONS, None),
        logins=tuple(
            login.lstrip("@") for login in read.strings(maintainers_map, "logins", "maintainers.logins", (), _check_login)
        ),
    )
    if not (maintainers.associations or maintainers.permission or maintainers.logins) and "maintainers" in mapping:
        read.add("maintainers", "nobody would count as a maintainer: give associations, a permission or logins")

    digest_map = read.section(mapping, "digest", ("enabled", "day", "time", "timezone"))
    day = digest_map.get("day")
    if isinstance(day, str):  # "Monday" and "monday" are the same day
        digest_map = {**digest_map, "day": day.strip().lower()}
    digest = DigestSettings(
        enabled=read.boolean(digest_map, "enabled", "digest.enabled", True),
        day=read.choice(digest_map, "day", "digest.day", WEEKDAYS, defaults.digest.day),
        time=read.text(digest_map, "time", "digest.time", defaults.digest.time, _check_time),
        timezone=read.text(digest_map, "timezone", "digest.timezone", defaults.digest.timezone, _check_timezone),
    )

    records_map = read.section(mapping, "records", ("location", "branch"))
    records = RecordsSettings(
        location=read.choice(records_map, "location", "records.location", RECORD_LOCATIONS, defaults.records.location),
        branch=read.text(records_map, "branch", "records.branch", defaults.records.branch, _check_branch),
    )

    settings = RepoSettings(
        document=read.text(mapping, "document", "document", defaults.document, _check_document),
        family=_read_family(read, mapping),
        track=track,
        maintainers=maintainers,
        tag_style=read.choice(mapping, "tag_style", "tag_style", TAG_STYLES, defaults.tag_style),
        retire=read.choice(mapping, "retire", "retire", RETIRE_STYLES, defaults.retire),
        followup_labels=read.strings(mapping, "followup_labels", "followup_labels", defaults.followup_labels),
        digest=digest,
        dry_run=read.boolean(mapping, "dry_run", "dry_run", False),
        records=records,
    )
    if read.problems:
        raise SettingsError(read.problems)
    return settings
