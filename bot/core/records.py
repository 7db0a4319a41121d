"""Question records: the schema, pure validation and the typed view of a record.

The store (bot/store/) reads and writes these as YAML in round-trip mode; this module never
touches files. A record's mapping is the source of truth so that unknown keys and comments a
maintainer added survive; `Record` is a typed, validated snapshot of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

SCHEMA_VERSION = 1


class Status(str, Enum):
    OPEN = "open"
    ANSWERED = "answered"  # someone answered; not yet binding, or awaiting more people
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    STRUCK = "struck"
    FOLDED = "folded"  # the promotion is committed into the document
    RETIRED = "retired"  # removed from §14 / no longer tracked


class ProposalState(str, Enum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    APPLIED = "applied"


class FollowUpState(str, Enum):
    PROPOSED = "proposed"
    OPEN = "open"
    CLOSED = "closed"


# Fields the document owns: `import` overwrites them. Every other field is workflow-owned
# and import never touches it.
DOCUMENT_OWNED = ("document", "wave", "question", "proposed_answer", "maps_to", "document_state", "lines")
