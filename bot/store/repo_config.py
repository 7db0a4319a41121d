"""Read `.github/threat-model-bot.yml` text into `RepoSettings`.

The YAML is parsed with ruamel's safe loader (YAML 1.2: `09:00` stays a string, `yes` is not a
boolean); syntax errors are reported with their line, and shape errors with their key path,
all inside one `RepoConfigError` so the bot can post a single, complete comment.
"""
from __future__ import annotations

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent

from bot.core.limits import CONFIG_MAX_BYTES, CONFIG_MAX_DEPTH, CONFIG_MAX_PROBLEMS, PROBLEM_MAX_CHARS
from bot.core.markdown import marker_text
from bot.core.settings import CONFIG_PATH, RepoSettings, SettingsError, SettingsProblem, parse_settings


class RepoConfigError(ValueError):
    """The repository's settings file cannot be used; `problems` says everything that is wrong."""

    def __init__(self, path: str, problems: tuple[str, ...]) -> None:
        self.path = path
        # Short whatever the input: a value quoted back, or a thousand bad keys, stays one screen.
        kept = [marker_text(problem, PROBLEM_MAX_CHARS) for problem in problems[:CONFIG_MAX_PROBLEMS]]
        if len(problems) > CONFIG_MAX_PROBLEMS:
            kept.append(f"… and {len(problems) - CONFIG_MAX_PROBLEMS} more problems")
        self.problems = tuple(kept)
        super().__init__(f"{path}: " + "; ".join(self.problems))

    def as_markdown(self) -> str:
        """The body of the one comment the bot posts instead of acting on a bad file."""
        lines = [f"The threat-model bot cannot use `{self.path}`, so it is taking no action until it is fixed:", ""]
        lines += [f"- {problem}" for problem in self.problems]
        return "\n".join(lines)


def load_repo_settings(text: str | None, path: str = CONFIG_PATH) -> RepoSettings:
    """Settings from the file's text; None (no file) or an empty file gives the defaults."""
    if text is None or not text.strip():
        return RepoSettings()
    size = len(text.encode("utf-8"))
    if size > CONFIG_MAX_BYTES:
        raise RepoConfigError(path, (f"the file is {size:,} bytes; the bot reads at most {CONFIG_MAX_BYTES:,}",))
    try:
        _check_shape(text, path)
        mapping = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as error:
        raise RepoConfigError(path, (_describe_yaml_error(error),)) from error
    except YAMLError as error:  # unmarked errors are rare (e.g. an invalid stream); still say so
        raise RepoConfigError(path, (f"not valid YAML: {error}",)) from error
    try:
        return parse_settings(mapping)
    except SettingsError as error:
        raise RepoConfigError(path, tuple(_describe_problem(problem) for problem in error.problems)) from error


def _check_shape(text: str, path: str) -> None:
    """Refuse anchors, aliases and deep nesting from the event stream, before anything is built.

    An alias repeats a node without its text: nested a few times (a "billion laughs" of 305
    bytes) it expands to gigabytes. The settings never need one, so none is allowed. Reading
    events costs time in proportion to the text and builds nothing.
    """
    if _bracket_depth(text) > CONFIG_MAX_DEPTH:  # the scanner's cost grows with the square of flow nesting
        raise RepoConfigError(path, (f"nested more than {CONFIG_MAX_DEPTH} levels deep (`[` or `{{`)",))
    depth = 0
    for event in YAML(typ="safe", pure=True).parse(text):
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
            where = f" at line {event.start_mark.line + 1}" if event.start_mark is not None else ""
            raise RepoConfigError(path, (f"YAML anchors and aliases (`&name`, `*name`) are not allowed{where}",))
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > CONFIG_MAX_DEPTH:
                raise RepoConfigError(path, (f"nested more than {CONFIG_MAX_DEPTH} levels deep at line {event.start_mark.line + 1}",))
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _bracket_depth(text: str) -> int:
    """The deepest run of open `[`/`{` (an upper bound on flow nesting; quotes are not skipped,
    which only makes it stricter on brackets inside strings, rare in this file)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _describe_yaml_error(error: MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = " ".join(part for part in (error.context, error.problem) if part)
    return f"not valid YAML at {where}{what}".rstrip(": ")


def _describe_problem(problem: SettingsProblem) -> str:
    return f"`{problem.path}`: {problem.message}" if problem.path else problem.message
