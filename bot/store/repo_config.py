"""Read `.github/threat-model-bot.yml` text into `RepoSettings`.

The YAML is parsed with ruamel's safe loader (YAML 1.2: `09:00` stays a string, `yes` is not a
boolean); syntax errors are reported with their line, and shape errors with their key path,
all inside one `RepoConfigError` so the bot can post a single, complete comment.
"""
from __future__ import annotations

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from bot.core.settings import CONFIG_PATH, RepoSettings, SettingsError, SettingsProblem, parse_settings


class RepoConfigError(ValueError):
    """The repository's settings file cannot be used; `problems` says everything that is wrong."""

    def __init__(self, path: str, problems: tuple[str, ...]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def as_markdown(self) -> str:
        """The body of the one comment the bot posts instead of acting on a bad file."""
        lines = [f"The threat-model bot cannot use `{self.path}`, so it is taking no action until it is fixed:", ""]
        lines += [f"- {problem}" for problem in self.problems]
        return "\n".join(lines)


def load_repo_settings(text: str | None, path: str = CONFIG_PATH) -> RepoSettings:
    """Settings from the file's text; None (no file) or an empty file gives the defaults."""
    if text is None or not text.strip():
        return RepoSettings()
    try:
        mapping = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as error:
        raise RepoConfigError(path, (_describe_yaml_error(error),)) from error
    except YAMLError as error:  # unmarked errors are rare (e.g. an invalid stream); still say so
        raise RepoConfigError(path, (f"not valid YAML: {error}",)) from error
    try:
        return parse_settings(mapping)
    except SettingsError as error:
        raise RepoConfigError(path, tuple(_describe_problem(problem) for problem in error.problems)) from error


def _describe_yaml_error(error: MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = " ".join(part for part in (error.context, error.problem) if part)
    return f"not valid YAML at {where}{what}".rstrip(": ")


def _describe_problem(problem: SettingsProblem) -> str:
    return f"`{problem.path}`: {problem.message}" if problem.path else problem.message
