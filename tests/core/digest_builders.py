"""Records, documents and Hypothesis strategies the digest tests build on (our own invented PR)."""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from bot.core.model import Document, Question, QuestionState, Span, Tally
from bot.core.records import Answer, FollowUp, FollowUpState, Proposal, Record, Status, Thread

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday in ISO week 48
PR = "https://github.com/example/widget/pull/77"
WAVE_ONE = "Wave 1 — what the project promises"
WAVE_TWO = "Wave 2 — defaults that bite"
MENTION = re.compile(r"@([A-Za-z0-9][A-Za-z0-9-]*)")


def ago(days: int, hours: int = 0) -> str:
    return (NOW - timedelta(days=days, hours=hours)).isoformat().replace("+00:00", "Z")


def record(
    number: int,
    status: Status = Status.OPEN,
    *,
    wave: str | None = WAVE_ONE,
    title: str | None = None,
    awaiting: tuple[str, ...] = (),
    answers: tuple[Answer, ...] = (),
    proposals: tuple[Proposal, ...] = (),
    followups: tuple[FollowUp, ...] = (),
    updated_at: str | None = None,
    thread: Thread | None = None,
) -> Record:
    return Record(
        id=f"Q{number}",
        document="draft-THREAT-MODEL.md",
        wave=wave,
        title=title if title is not None else f"Topic number {number}",
        question=f"Does component {number} trust its caller?",
        proposed_answer=None,
        maps_to=("§3",),
        document_state="open",
        lines=(100 + number, 104 + number),
        status=status,
        awaiting=awaiting,
        answers=answers,
        proposals=proposals,
        followups=followups,
        thread=thread,
        updated_at=updated_at if updated_at is not None else ago(1),
    )


def answer(author: str, *, days_ago: int = 2, binding: bool = True, stance: str = "confirm") -> Answer:
    return Answer(
        author=author,
        association="MEMBER",
        stance=stance,
        excerpt="that matches how we run it",
        at=ago(days_ago),
        binding=binding,
    )


def document(counted: dict[str, int], *, question_ids: tuple[str, ...] = (), disagreements: tuple[str, ...] = ()) -> Document:
    questions = tuple(
        Question(
            id=qid,
            wave=WAVE_ONE,
            span=Span(10 + index, 11 + index),
            text="A question in our own words?",
            proposed_answer=None,
            maps_to=(),
            state=QuestionState.OPEN,
        )
        for index, qid in enumerate(question_ids)
    )
    return Document(
        path="draft-THREAT-MODEL.md",
        title="Widget threat model",
        sections=(),
        tags=(),
        questions=questions,
        tally=Tally(counted=counted, stated=None, stated_line=None, disagreements=disagreements),
        has_open_questions_section=True,
    )


def mention_counts(markdown: str) -> Counter[str]:
    return Counter(login.lower() for login in MENTION.findall(markdown))


def section(markdown: str, title: str) -> str:
    """The body of one `### title` section."""
    match = re.search(rf"^### {re.escape(title)}\n(.*?)(?=^### |^<sub>)", markdown, re.S | re.M)
    assert match, f"no section {title!r} in:\n{markdown}"
    return match.group(1)


LOGINS = ["DaanHoogland", "daanhoogland", "vishesh92", "ada-l", "Outsider", "weizhouapache", "x"]
titles = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["cc @ada-l", "@Outsider says no", "mail me at a@b.org", "@@x", "`@vishesh92`"]),
)
answers_strategy = st.builds(
    Answer,
    author=st.sampled_from(LOGINS),
    association=st.just("MEMBER"),
    stance=st.sampled_from(["confirm", "correct", "strike", "question"]),
    excerpt=st.text(max_size=20),
    at=st.one_of(st.none(), st.integers(0, 60).map(ago)),
    binding=st.booleans(),
)
followups_strategy = st.builds(
    FollowUp,
    title=titles,
    kind=st.sampled_from(["test", "docs", "issue"]),
    state=st.sampled_from(list(FollowUpState)),
    url=st.one_of(st.none(), st.just("https://github.com/example/widget/issues/5")),
    number=st.one_of(st.none(), st.just(5)),
)


@st.composite
def record_sets(draw: st.DrawFn) -> list[Record]:
    numbers = draw(st.lists(st.integers(1, 60), unique=True, max_size=12))
    return [
        Record(
            id=f"Q{number}",
            document="draft-THREAT-MODEL.md",
            wave=draw(st.one_of(st.none(), st.sampled_from([WAVE_ONE, WAVE_TWO, "Wave 3 — ask @ada-l"]))),
            title=draw(titles),
            question="?",
            proposed_answer=None,
            maps_to=(),
            document_state="open",
            lines=None,
            status=draw(st.sampled_from(list(Status))),
            awaiting=tuple(draw(st.lists(st.sampled_from(LOGINS), max_size=3))),
            answers=tuple(draw(st.lists(answers_strategy, max_size=3))),
            followups=tuple(draw(st.lists(followups_strategy, max_size=2))),
            updated_at=draw(st.one_of(st.none(), st.integers(0, 60).map(ago))),
        )
        for number in numbers
    ]
