"""Score the reply reader against hand labels: the corpus replies and replies of our own.

Run: `python bench/reader.py [--shared PATH]`. Reads ../shared/corpus/threads/*.json (next to
the repository) with tests/fixtures/reader_labels.yaml, and tests/fixtures/reader_cases_own.yaml
(replies written in the ways maintainers write, bodies inline), reads each labelled reply the
way the bot would (the thread's question as anchor, the author's role from the label), and
prints, for each set, stance, question, awaited and follow-up accuracy, the dangerous
readings, and each miss.

A dangerous reading is a confirmation where the reply does not confirm, or anything binding
from free text or from a non-maintainer. The tests hold these numbers to floors.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ruamel.yaml import YAML  # noqa: E402

from bot.core.commands_parser import ANY_QUESTION  # noqa: E402
from bot.core.reader import read_reply  # noqa: E402
from bot.core.reader_output import Reading, Stance  # noqa: E402

LABELS = ROOT / "tests" / "fixtures" / "reader_labels.yaml"
OWN_CASES = ROOT / "tests" / "fixtures" / "reader_cases_own.yaml"
DEFAULT_SHARED = ROOT / ".." / "shared"


@dataclass(frozen=True)
class Case:
    key: str  # "cloudstack-13293#9"
    author: str
    body: str
    anchor: str | None
    maintainer: bool
    stances: frozenset[str]
    questions: tuple[str, ...]
    awaiting: frozenset[str]
    followup: bool


@dataclass
class Score:
    total: int = 0
    stance: int = 0
    question: int = 0
    awaited: int = 0
    followup: int = 0
    dangerous: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def rate(self, hits: int) -> float:
        return hits / self.total if self.total else 0.0


def load_cases(shared: Path, labels_path: Path = LABELS) -> list[Case]:
    """Every labelled reply, with its body from the corpus."""
    labels = YAML(typ="safe").load(labels_path.read_text(encoding="utf-8"))
    cases: list[Case] = []
    for thread, entries in labels.items():
        replies = json.loads((shared / "corpus" / "threads" / f"{thread}.json").read_text(encoding="utf-8"))
        for index, label in entries.items():
            reply = replies[int(index)]
            cases.append(
                Case(
                    key=f"{thread}#{index}",
                    author=reply["author"],
                    body=reply["body"],
                    anchor=label.get("anchor"),
                    maintainer=label.get("maintainer", True),
                    stances=frozenset(label.get("stances") or ()),
                    questions=tuple(sorted(label.get("questions") or ())),
                    awaiting=frozenset(label.get("awaiting") or ()),
                    followup=bool(label.get("followup", False)),
                )
            )
    return cases


def load_own_cases(path: Path = OWN_CASES) -> list[Case]:
    """Replies of our own words: a list of labelled cases, each with its body."""
    entries = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return [
        Case(
            key=f"own:{entry['id']}",
            author=entry.get("author", "maint"),
            body=entry["body"],
            anchor=entry.get("anchor"),
            maintainer=entry.get("maintainer", True),
            stances=frozenset(entry.get("stances") or ()),
            questions=tuple(sorted(entry.get("questions") or ())),
            awaiting=frozenset(entry.get("awaiting") or ()),
            followup=bool(entry.get("followup", False)),
        )
        for entry in entries
    ]


def read_case(case: Case) -> Reading:
    return read_reply(
        case.body,
        author=case.author,
        association="MEMBER" if case.maintainer else "NONE",
        is_maintainer=case.maintainer,
        anchored_question=case.anchor,
        known_questions=ANY_QUESTION,
    )


def questions_of(reading: Reading) -> tuple[str, ...]:
    """The questions a reading is about: its answers' questions, else the reply's question."""
    named = {answer.question for answer in reading.answers if answer.question}
    if not named and reading.question:
        named = {reading.question}
    return tuple(sorted(named))


def dangers(case: Case, reading: Reading) -> list[str]:
    found: list[str] = []
    if Stance.CONFIRM in reading.stances and "confirm" not in case.stances:
        found.append("a confirmation where the reply does not confirm")
    if reading.binding and (reading.heuristic or not case.maintainer):
        found.append("binding from free text or from a non-maintainer")
    return found


def evaluate(shared: Path = DEFAULT_SHARED) -> Score:
    """The corpus replies against reader_labels.yaml."""
    return score_cases(load_cases(shared))


def evaluate_own(path: Path = OWN_CASES) -> Score:
    """Our own replies against their labels (no corpus needed)."""
    return score_cases(load_own_cases(path))


def score_cases(cases: list[Case]) -> Score:
    score = Score()
    for case in cases:
        reading = read_case(case)
        score.total += 1
        stances = frozenset(stance.value for stance in reading.stances)
        checks = {
            "stance": (stances == case.stances, sorted(stances), sorted(case.stances)),
            "question": (questions_of(reading) == case.questions, list(questions_of(reading)), list(case.questions)),
            "awaited": (frozenset(reading.awaiting) == case.awaiting, sorted(reading.awaiting), sorted(case.awaiting)),
            "followup": (bool(reading.followups) == case.followup, bool(reading.followups), case.followup),
        }
        for name, (hit, got, wanted) in checks.items():
            if hit:
                setattr(score, name, getattr(score, name) + 1)
            else:
                score.misses.append(f"{case.key} {name}: read {got}, labelled {wanted}")
        score.dangerous += [f"{case.key}: {danger}" for danger in dangers(case, reading)]
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder holding corpus/threads")
    args = parser.parse_args(argv)
    if not (args.shared / "corpus" / "threads").is_dir():
        print(f"bench/reader.py: no corpus threads under {args.shared}", file=sys.stderr)
        return 2
    _print_score("Corpus replies (reader_labels.yaml)", evaluate(args.shared))
    _print_score("Replies of our own (reader_cases_own.yaml)", evaluate_own())
    return 0


def _print_score(title: str, score: Score) -> None:
    print(f"{title}: {score.total}")
    for name in ("stance", "question", "awaited", "followup"):
        hits = getattr(score, name)
        print(f"  {name:<9} {hits:>3}/{score.total}  {score.rate(hits):6.1%}")
    print(f"  dangerous readings: {len(score.dangerous)}")
    for danger in score.dangerous:
        print(f"  ! {danger}")
    print(f"  misses: {len(score.misses)}")
    for miss in score.misses:
        print(f"  - {miss}")


if __name__ == "__main__":
    raise SystemExit(main())
