"""Which file of a pull request is the threat model: the `document` setting against its paths (pure).

The service (tracking a PR) and the CLI (`sync`, the family digest) both call `document_among`,
so a PR is followed by one and read by the other under the same rule.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable


class AmbiguousDocument(ValueError):
    """The `document` setting matches several files of a PR: the bot never guesses which."""

    def __init__(self, pattern: str, matches: list[str]) -> None:
        self.pattern = pattern
        self.matches = matches
        shown = ", ".join(f"`{path}`" for path in matches[:10]) + (f" and {len(matches) - 10} more" if len(matches) > 10 else "")
        super().__init__(f"`document: {pattern}` matches {len(matches)} files in this PR ({shown}); name one path or a narrower glob")


def matches_document(path: str, pattern: str) -> bool:
    """Glob match where a leading `**/` also matches files at the repository root (fnmatch's
    `*` already crosses `/`, so the pattern is also tried without that prefix)."""
    patterns = [pattern]
    while patterns[-1].startswith("**/"):
        patterns.append(patterns[-1][3:])
    return any(fnmatch.fnmatchcase(path, candidate) for candidate in patterns)


def document_among(paths: Iterable[str], pattern: str) -> str | None:
    """The one file `pattern` names among `paths`; None when none; AmbiguousDocument when several."""
    found = [path for path in dict.fromkeys(paths) if matches_document(path, pattern)]
    if len(found) > 1:
        raise AmbiguousDocument(pattern, found)
    return found[0] if found else None
