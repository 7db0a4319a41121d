"""`python -m bot demo`: a scripted threat-model review played against the real service.

The local GitHub and the service run on loopback (bot.sandbox); people act through the hub's
person API, so every act reaches the bot as a signed webhook, as on GitHub. The script is
data: each `Step` says who does what, and which `Expectation`s must hold once everything
(including the bot's own writes) has settled. The demo prints one line per step, then what
happened: answers, the fold's diff, the issues opened, the status table, the API calls each
maintainer reply cost, and the weekly digest. It exits 0 only if every expectation held.
"""
from __future__ import annotations

import asyncio
import difflib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import ClassVar, TextIO

from bot.commands.digest import thread_url
from bot.commands.status import render_tables, status_row
from bot.core.digest_wording import render_digest
from bot.core.document import parse_document
from bot.core.records import Record
from bot.sandbox import BOT_LOGIN, REPO, Sandbox, sandbox
from bot.store.folder import FolderStore
from bot.store.pull_state import PullState, load_pull_state, pull_directory

DOCUMENT_PATH = "draft-THREAT-MODEL.md"
BRANCH = "threat-model"
AUTHOR = "asf-sec"  # drafts the model and opens the PR; not an org member
MAINTAINER_A = "daan"  # invented logins, modelled on the roles in the cloudstack review
MAINTAINER_B = "vish"
PASSERBY = "passerby"  # a GitHub user with no role in the project
MAINTAINERS = {MAINTAINER_A: "member", MAINTAINER_B: "member"}
OK, FAILED = "✔", "✘"


def demo_document() -> str:
    return resources.files("bot").joinpath("demo_data", DOCUMENT_PATH).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------
# The world a step acts on and checks against
# ---------------------------------------------------------------------------------------


@dataclass
class World:
    box: Sandbox
    state_dir: Path
    number: int = 0
    roots: dict[str, int] = field(default_factory=dict)  # question -> its review thread's first comment
    before: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # status, awaiting before the step
    fold: tuple[str, str] | None = None  # PR head before and after the /accept step
    api_calls: list[tuple[str, str, int]] = field(default_factory=list)  # (who, what, bot API calls)

    @property
    def hub(self):
        return self.box.hub

    def records(self) -> dict:
        return FolderStore(self.questions_dir()).load()

    def typed_records(self) -> list[Record]:
        return FolderStore(self.questions_dir()).records()

    def questions_dir(self) -> Path:
        return pull_directory(self.state_dir, REPO, self.number) / "questions"

    def pull_state(self) -> PullState:
        return load_pull_state(self.state_dir, REPO, self.number)

    def document(self, ref: str = BRANCH) -> str:
        return self.hub.file(REPO, DOCUMENT_PATH, ref=ref) or ""

    def line_of(self, question: str) -> int:
        return self.pull_state().spans[question][0]

    def bot_issues(self) -> list:
        return [issue for issue in self.hub.state.issues.values() if not issue.is_pull and issue.user == BOT_LOGIN]

    def snapshot(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {qid: (str(m["status"]), tuple(m.get("awaiting") or ())) for qid, m in self.records().items()}


# ---------------------------------------------------------------------------------------
# Acts: what a person does (synchronous hub calls; the runner settles afterwards)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenPullRequest:
    files: Callable[[], dict[str, str]] = lambda: {DOCUMENT_PATH: demo_document()}

    def __call__(self, world: World, who: str) -> None:
        world.hub.push(REPO, BRANCH, self.files(), user=who, message="Add a draft threat model")
        world.number = world.hub.open_pr(REPO, BRANCH, user=who, title="Add a draft security threat model")


@dataclass(frozen=True)
class OpenThreads:
    """The drafter opens one review thread on each question's lines."""

    questions: tuple[str, ...]

    def __call__(self, world: World, who: str) -> None:
        for question in self.questions:
            body = f"{question}: please confirm, correct or strike the proposed answer."
            world.roots[question] = world.hub.review_comment(REPO, world.number, DOCUMENT_PATH, world.line_of(question), body, user=who)


@dataclass(frozen=True)
class Reply:
    """A reply in the question's review thread."""

    question: str
    body: str
    is_reply: ClassVar[bool] = True  # the bot's API calls for it are counted

    def __call__(self, world: World, who: str) -> None:
        world.hub.reply(REPO, world.number, world.roots[self.question], self.body, user=who)


@dataclass(frozen=True)
class PullRequestComment:
    body: str
    is_reply: ClassVar[bool] = True

    def __call__(self, world: World, who: str) -> None:
        world.hub.comment(REPO, world.number, self.body, user=who)


@dataclass(frozen=True)
class SubmitReview:
    body: str
    event: str = "COMMENT"
    is_reply: ClassVar[bool] = True

    def __call__(self, world: World, who: str) -> None:
        world.hub.submit_review(REPO, world.number, user=who, event=self.event, body=self.body)


@dataclass(frozen=True)
class Accept(PullRequestComment):
    """A maintainer's PR-level `/accept`; remembers the head before (the fold's diff base)."""

    body: str = "/accept"

    def __call__(self, world: World, who: str) -> None:
        world.fold = (world.hub.head_sha(REPO, BRANCH), "")
        super().__call__(world, who)

    def settled(self, world: World) -> None:
        assert world.fold is not None
        world.fold = (world.fold[0], world.hub.head_sha(REPO, BRANCH))


@dataclass(frozen=True)
class CloseFollowUp:
    title: str

    def __call__(self, world: World, who: str) -> None:
        issue = next((issue for issue in world.bot_issues() if issue.title == self.title), None)
        if issue is None:
            raise LookupError(f"no follow-up issue titled {self.title!r} to close")
        world.hub.close_issue(REPO, issue.number, user=who)


# ---------------------------------------------------------------------------------------
# Expectations: each returns None when it holds, else what was found instead
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionsTracked:
    """The bot imported one record per §14 question of the document."""

    count: int

    def __call__(self, world: World) -> str | None:
        found = len(world.records())
        return None if found == self.count else f"{found} question records, expected {self.count}"


@dataclass(frozen=True)
class StatusIs:
    question: str
    status: str

    def __call__(self, world: World) -> str | None:
        found = world.records()[self.question]["status"]
        return None if found == self.status else f"{self.question} is {found}, expected {self.status}"


@dataclass(frozen=True)
class Awaiting:
    question: str
    logins: tuple[str, ...]

    def __call__(self, world: World) -> str | None:
        found = tuple(world.records()[self.question].get("awaiting") or ())
        return None if found == self.logins else f"{self.question} awaits {list(found)}, expected {list(self.logins)}"


@dataclass(frozen=True)
class AnswerRecorded:
    question: str
    author: str
    stance: str
    binding: bool

    def __call__(self, world: World) -> str | None:
        answers = [a for a in world.records()[self.question].get("answers") or () if a["author"] == self.author]
        if any(a["stance"] == self.stance and a["binding"] is self.binding for a in answers):
            return None
        seen = [(a["stance"], a["binding"]) for a in answers]
        return f"{self.question}: no {self.stance} (binding={self.binding}) by {self.author}; found {seen}"


@dataclass(frozen=True)
class ProposalIs:
    question: str
    kind: str
    state: str

    def __call__(self, world: World) -> str | None:
        proposals = [(p["kind"], p["state"]) for p in world.records()[self.question].get("proposals") or ()]
        return None if (self.kind, self.state) in proposals else f"{self.question} proposals are {proposals}"


@dataclass(frozen=True)
class FollowUpIs:
    question: str
    title: str
    state: str

    def __call__(self, world: World) -> str | None:
        items = [f for f in world.records()[self.question].get("followups") or () if f["title"] == self.title]
        if not items:
            return f"{self.question} has no follow-up {self.title!r}"
        return None if items[0]["state"] == self.state else f"follow-up is {items[0]['state']}, expected {self.state}"


@dataclass(frozen=True)
class IssueOpened:
    title: str
    labels: tuple[str, ...] = ("security", "threat-model")

    def __call__(self, world: World) -> str | None:
        issues = [issue for issue in world.bot_issues() if issue.title == self.title]
        if len(issues) != 1:
            return f"{len(issues)} issues titled {self.title!r}"
        labels = tuple(sorted(label.name for label in issues[0].labels))
        return None if labels == tuple(sorted(self.labels)) else f"labels {list(labels)}"


@dataclass(frozen=True)
class ThreadsMapped:
    def __call__(self, world: World) -> str | None:
        threads = world.pull_state().threads
        wrong = [q for q, root in world.roots.items() if threads.get(str(root)) != q]
        return None if not wrong else f"threads not mapped to their question: {wrong}"


@dataclass(frozen=True)
class DocumentHas:
    text: str
    present: bool = True

    def __call__(self, world: World) -> str | None:
        found = self.text in world.document()
        return None if found is self.present else f"{self.text!r} {'missing from' if self.present else 'still in'} the document"


@dataclass(frozen=True)
class DocumentUnchanged:
    def __call__(self, world: World) -> str | None:
        return None if world.document() == demo_document() else "the document on the PR branch changed"


@dataclass(frozen=True)
class OneFoldCommit:
    """The /accept added exactly one commit on the PR branch, on top of the old head."""

    def __call__(self, world: World) -> str | None:
        if world.fold is None:
            return "no /accept step ran"
        before, after = world.fold
        if after == before:
            return "the PR branch did not move"
        parents = world.hub.state.repo_named(REPO).store.commits[after].parents
        return None if parents == (before,) else f"the head's parents are {parents}, not the old head alone"


@dataclass(frozen=True)
class NoStatusChanged:
    """No question's status or awaited list moved during this step."""

    def __call__(self, world: World) -> str | None:
        after = world.snapshot()
        moved = [qid for qid in after if after[qid] != world.before.get(qid)]
        return None if not moved else f"changed: {', '.join(moved)}"


@dataclass(frozen=True)
class ThreadResolved:
    question: str

    def __call__(self, world: World) -> str | None:
        thread = world.hub.state.thread_of(world.roots[self.question])
        return None if thread is not None and thread.resolved else f"the {self.question} thread is not resolved"


@dataclass(frozen=True)
class NoticeSays:
    """The bot's one notice in the question's thread contains `text`."""

    question: str
    text: str

    def __call__(self, world: World) -> str | None:
        root = world.roots[self.question]
        notices = [c for c in world.hub.state.review_comments.values() if c.user == BOT_LOGIN and c.in_reply_to_id == root]
        if len(notices) != 1:
            return f"{len(notices)} bot notices in the {self.question} thread"
        return None if self.text in notices[0].body else f"the notice does not say {self.text!r}"


@dataclass(frozen=True)
class ApiCallsAtMost:
    """The bot answered this step's reply with at most `limit` API calls (token fetches aside)."""

    limit: int

    def __call__(self, world: World) -> str | None:
        calls = world.api_calls[-1][2] if world.api_calls else 0
        return None if calls <= self.limit else f"{calls} API calls, more than {self.limit}"


Act = Callable[[World, str], None]
Expectation = Callable[[World], "str | None"]


@dataclass(frozen=True)
class Step:
    who: str
    what: str  # one line for the report
    act: Act
    expect: tuple[Expectation, ...] = ()


# ---------------------------------------------------------------------------------------
# The conversation (modelled on the cloudstack review, in our own words)
# ---------------------------------------------------------------------------------------

FOLLOW_UP = "Re-test the download-link expiry"
CORRECTION = "links expire after the configured interval but are not single-use; anyone holding one can fetch until then"
THREADS = ("Q2", "Q3", "Q4", "Q8", "Q10")
REPLY_BUDGET = 3  # API calls one maintainer reply in a known thread may cost (settings ETag + the notice)

CONVERSATION: tuple[Step, ...] = (
    Step(AUTHOR, "opens the threat-model PR: every §14 question imported", OpenPullRequest(),
         (QuestionsTracked(12), StatusIs("Q2", "open"), StatusIs("Q12", "open"))),
    Step(AUTHOR, "opens a review thread on Q2, Q3, Q4, Q8 and Q10", OpenThreads(THREADS),
         (ThreadsMapped(), NoStatusChanged())),
    Step(MAINTAINER_A, "`/confirm` in the Q2 thread: confirmed, binding", Reply("Q2", "/confirm"),
         (StatusIs("Q2", "confirmed"), AnswerRecorded("Q2", MAINTAINER_A, "confirm", True),
          NoticeSays("Q2", "status: **confirmed**"), ApiCallsAtMost(REPLY_BUDGET))),
    Step(MAINTAINER_A, "\"yes, that's right\" on Q3: a proposal, status unchanged",
         Reply("Q3", "yes, that's right — the system VMs ship with the product."),
         (StatusIs("Q3", "open"), AnswerRecorded("Q3", MAINTAINER_A, "confirm", False), ProposalIs("Q3", "promote", "proposed"), ApiCallsAtMost(REPLY_BUDGET))),
    Step(MAINTAINER_B, "`/correct Q4 …`: corrected, listed for a human, not rewritten", Reply("Q4", f"/correct Q4 {CORRECTION}"),
         (StatusIs("Q4", "corrected"), AnswerRecorded("Q4", MAINTAINER_B, "correct", True), DocumentUnchanged(),
          NoticeSays("Q4", "Left for a person"))),
    Step(MAINTAINER_A, "asks back on Q8: a question, nothing decided",
         Reply("Q8", "Do you mean the agent-to-server channel, or the channel between management servers?"),
         (StatusIs("Q8", "open"), AnswerRecorded("Q8", MAINTAINER_A, "question", False), ApiCallsAtMost(REPLY_BUDGET))),
    Step(MAINTAINER_B, "delegates Q10 to daan: daan awaited", Reply("Q10", f"@{MAINTAINER_A} can you confirm the boundary here?"),
         (StatusIs("Q10", "open"), Awaiting("Q10", (MAINTAINER_A,)), NoticeSays("Q10", f"Still awaited: @{MAINTAINER_A}"))),
    Step(MAINTAINER_B, "bulk answer at PR level (`Q6: confirm`, `Q7 - yes`)", PullRequestComment("Q6: confirm\nQ7 - yes, per domain"),
         (StatusIs("Q6", "confirmed"), StatusIs("Q7", "confirmed"), AnswerRecorded("Q7", MAINTAINER_B, "confirm", True),
          ApiCallsAtMost(REPLY_BUDGET))),
    Step(MAINTAINER_A, "submits a review whose body answers `Q12: yes …`", SubmitReview("Q12: yes — keep it in the repository, next to SECURITY.md"),
         (StatusIs("Q12", "confirmed"), AnswerRecorded("Q12", MAINTAINER_A, "confirm", True), ApiCallsAtMost(REPLY_BUDGET))),
    Step(MAINTAINER_B, f"`/followup Q4 {FOLLOW_UP}`: an issue opens", Reply("Q4", f"/followup Q4 {FOLLOW_UP}"),
         (IssueOpened(FOLLOW_UP), FollowUpIs("Q4", FOLLOW_UP, "open"))),
    Step(PASSERBY, "a non-maintainer replies `/confirm` on Q8: no effect", Reply("Q8", "/confirm"),
         (NoStatusChanged(), AnswerRecorded("Q8", PASSERBY, "confirm", False))),
    Step(MAINTAINER_B, "`/accept` at PR level: one commit folds every confirmed answer", Accept(),
         (OneFoldCommit(), DocumentHas(f"*(maintainer: {MAINTAINER_A} — §14 Q2)*"), DocumentHas("*(inferred — §14 Q2)*", present=False),
          DocumentHas("*(inferred — §14 Q4)*"), StatusIs("Q2", "folded"), StatusIs("Q3", "folded"), StatusIs("Q6", "folded"),
          StatusIs("Q7", "folded"), StatusIs("Q12", "folded"),
          ProposalIs("Q3", "promote", "applied"), StatusIs("Q4", "corrected"), StatusIs("Q8", "open"), Awaiting("Q10", (MAINTAINER_A,)),
          ThreadResolved("Q2"), ThreadResolved("Q3"))),
    Step(MAINTAINER_B, "closes the follow-up issue: the record follows", CloseFollowUp(FOLLOW_UP),
         (FollowUpIs("Q4", FOLLOW_UP, "closed"),)),
)


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------


@dataclass
class StepResult:
    index: int
    step: Step
    failures: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.failures


async def run_steps(world: World, steps: Sequence[Step], out: TextIO) -> list[StepResult]:
    """Each step: act, settle, check; a failing step is reported and the script goes on."""
    results = []
    for index, step in enumerate(steps, start=1):
        started = time.monotonic()
        failures = await _play(world, step)
        result = StepResult(index, step, failures, time.monotonic() - started)
        results.append(result)
        print(f"{OK if result.ok else FAILED} {index:2}. {step.who:<8} {step.what}", file=out)
        for failure in failures:
            print(f"       {failure}", file=out)
    return results


async def _play(world: World, step: Step) -> list[str]:
    world.before = world.snapshot() if world.number else {}
    first_request = len(world.hub.requests)
    failed_before = await world.box.failed_deliveries()
    try:
        step.act(world, step.who)
        await world.box.settle()
    except Exception as error:  # noqa: BLE001 - a step that cannot even be played is a failure, not a crash
        return [f"could not play the step: {type(error).__name__}: {error}"]
    settled = getattr(step.act, "settled", None)  # an act that notes what the bot did (the fold's head)
    if settled is not None:
        settled(world)
    if step.who in MAINTAINERS and getattr(step.act, "is_reply", False):
        world.api_calls.append((step.who, step.what, _bot_api_calls(world, first_request)))
    failures = [f"{type(check).__name__}: {problem}" for check in step.expect if (problem := _check(check, world))]
    failed_deliveries = await world.box.failed_deliveries() - failed_before
    if failed_deliveries:  # the service gave up on a webhook: whatever the checks say, that is a failure
        failures.append(f"{failed_deliveries} webhook deliveries failed in the service")
    return failures


def _check(check: Expectation, world: World) -> str | None:
    try:
        return check(world)
    except Exception as error:  # noqa: BLE001 - a broken check fails its step; the script goes on
        return f"could not check: {type(error).__name__}: {error}"


def _bot_api_calls(world: World, since: int) -> int:
    """Requests the App made (token fetches excluded: they are cached, not per reply)."""
    return sum(1 for r in world.hub.requests[since:] if r.caller == BOT_LOGIN and not r.path.startswith("/app/"))


async def play(state_dir: Path, steps: Sequence[Step], out: TextIO, *, quiet: bool = False) -> int:
    started = time.monotonic()
    async with sandbox(state_dir, maintainers=MAINTAINERS) as box:
        box.hub.add_user(PASSERBY)
        world = World(box, state_dir)
        results = await run_steps(world, steps, out)
        if not quiet and world.number:
            print_report(world, out)
    failed = [result.index for result in results if not result.ok]
    verdict = f"{len(results) - len(failed)} of {len(results)} steps did what they should in {time.monotonic() - started:.1f}s"
    print(f"\n{OK if not failed else FAILED} {verdict}" + (f"; failed: {', '.join(map(str, failed))}" if failed else ""), file=out)
    return 1 if failed else 0


DEMO_MARK = ".threat-model-bot-demo"  # in a --state-dir the demo made, so a rerun may empty it


class DemoStateError(ValueError):
    """The --state-dir cannot be used; the message says why and what to do."""


def prepare_state_dir(folder: Path) -> bool:
    """Make `folder` an empty demo state folder. An earlier demo's folder (it carries the mark)
    is emptied, so every run starts from the same world; anything else that is not empty is
    refused, never deleted. True when an earlier demo's state was removed."""
    if folder.exists() and not folder.is_dir():
        raise DemoStateError(f"{folder} is a file; give --state-dir a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    entries = [entry for entry in folder.iterdir() if entry.name != DEMO_MARK]
    if entries and not (folder / DEMO_MARK).exists():
        raise DemoStateError(f"{folder} is not empty and was not made by the demo; give --state-dir a new or empty folder")
    for entry in entries:
        shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    (folder / DEMO_MARK).write_text("made by `python -m bot demo`; a rerun empties this folder\n", encoding="utf-8")
    return bool(entries)


def run_demo(steps: Sequence[Step] = CONVERSATION, *, state_dir: Path | None = None, quiet: bool = False,
             out: TextIO | None = None) -> int:
    """Play `steps` in a fresh sandbox; 0 if every expectation held, else 1."""
    stream = out or sys.stdout
    if state_dir is not None:
        try:
            if prepare_state_dir(Path(state_dir)):
                print(f"demo: {state_dir} held an earlier demo's state; starting it afresh", file=stream)
        except DemoStateError as error:
            print(f"demo: {error}", file=sys.stderr)
            return 2
        code = asyncio.run(play(Path(state_dir), steps, stream, quiet=quiet))
        print(f"state kept in {state_dir}", file=stream)
        return code
    with tempfile.TemporaryDirectory(prefix="threat-model-demo-") as temporary:
        return asyncio.run(play(Path(temporary), steps, stream, quiet=quiet))


# ---------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------


def print_report(world: World, out: TextIO) -> None:
    now = datetime.now(UTC)  # taken once: the table and the digest describe the same moment
    records = world.typed_records()
    for title, body in (
        ("Answers recorded", answers_section(records)),
        ("The fold commit's diff", fold_diff(world)),
        ("Issues opened", issues_section(world)),
        ("Status", render_tables([status_row(record, now) for record in records])),
        ("Bot API calls per maintainer reply", api_calls_section(world)),
        ("Weekly digest (rendered, not posted)", digest_section(world, records, now)),
    ):
        print(f"\n== {title} ==\n{body.rstrip()}", file=out)


def answers_section(records: Sequence[Record]) -> str:
    lines = [f"{'id':<4} {'who':<8} {'stance':<9} {'binding?':<12} excerpt"]
    for record in records:
        for answer in record.answers:
            binding = "binding" if answer.binding else "not binding"
            lines.append(f"{record.id:<4} {answer.author:<8} {answer.stance:<9} {binding:<12} {answer.excerpt[:60]}")
    return "\n".join(lines)


def fold_diff(world: World) -> str:
    if world.fold is None or not world.fold[1] or world.fold[0] == world.fold[1]:
        return "(no fold commit)"
    before, after = world.fold
    diff = difflib.unified_diff(
        world.document(before).splitlines(keepends=True), world.document(after).splitlines(keepends=True),
        fromfile=f"a/{DOCUMENT_PATH} ({before[:7]})", tofile=f"b/{DOCUMENT_PATH} ({after[:7]})",
    )
    return "".join(diff)


def issues_section(world: World) -> str:
    lines = [
        f"#{issue.number}  {issue.title}  [{', '.join(label.name for label in issue.labels)}]  {issue.state}"
        for issue in world.bot_issues()
    ]
    return "\n".join(lines) or "(none)"


def api_calls_section(world: World) -> str:
    lines = [f"{calls:5}  {who:<8} {what}" for who, what, calls in world.api_calls]
    return "\n".join(["calls  who      step", *lines])


def digest_section(world: World, records: Sequence[Record], now: datetime) -> str:
    state = world.pull_state()
    document = parse_document(world.document(), DOCUMENT_PATH)
    pr_url = state.url
    digest = render_digest(
        records, document, None, now, maintainers=set(MAINTAINERS),
        thread_url=lambda record: thread_url(pr_url, record), pr_url=pr_url,
    )
    return digest.markdown
