"""Where the shared corpus is: `../shared` next to the repository root, never an absolute path.

    from corpus import THREAT_MODELS, EXPECTED_COUNTS, require_corpus

`require_corpus()` skips the calling module when the corpus is absent, except with the `CI`
environment variable set: there a missing corpus fails the run, so CI cannot pass by skipping.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED = REPOSITORY.parent / "shared"
CORPUS = SHARED / "corpus"
THREAT_MODELS = CORPUS / "threat-models"
EXPECTED_COUNTS_FILE = CORPUS / "expected-counts.json"
CLOUDSTACK_DOCUMENT = THREAT_MODELS / "cloudstack--draft-THREAT-MODEL@0a0e38aa.md"


def corpus_present() -> bool:
    return THREAT_MODELS.is_dir() and EXPECTED_COUNTS_FILE.is_file()


def require_corpus() -> None:
    """Skip the calling test module without the corpus; fail instead when `CI` is set."""
    if corpus_present():
        return
    message = f"the shared corpus is not at {SHARED} (expected next to the repository)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)


def expected_counts() -> dict[str, dict[str, Any]]:
    """The hand counts per document: ids in document order, answered, open, notes."""
    return json.loads(EXPECTED_COUNTS_FILE.read_text(encoding="utf-8"))


def corpus_file(path: Path) -> Path:
    """`path` inside the corpus, for one test: skipped when absent, a failure with `CI` set."""
    if path.is_file():
        return path
    message = f"{path.name} is not in the shared corpus at {SHARED}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
