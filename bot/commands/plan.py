"""`python -m bot plan DOCUMENT`: show (or apply) the edit that folds confirmed answers in."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commands.question_folder import read_question_records
from bot.core.planner import Plan, PlanOptions, ResolveStyle, plan_promotions
from bot.core.settings import RETIRE_STYLES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show the edit that promotes confirmed answers into the document",
        description=(
            "Flip the inferred tags of confirmed questions to maintainer tags, mark the questions "
            "resolved in §14 and update the stated tally. Prints a unified diff and what needs a human."
        ),
    )
    parser.add_argument("document", type=Path, help="the threat-model document (Markdown)")
    parser.add_argument(
        "--questions", type=Path, default=Path("questions"), help="folder of question records (default: questions/)"
    )
    parser.add_argument("--write", action="store_true", help="apply the plan to DOCUMENT")
    parser.add_argument("--only", type=_question_ids, default=None, help="fold just these questions, e.g. Q8,Q9")
    parser.add_argument(
        "--retire",
        choices=RETIRE_STYLES,
        default=None,
        help="how folded questions leave §14 (default: the way the document already marks them)",
    )
    parser.set_defaults(func=run)


def _question_ids(value: str) -> frozenset[str]:
    ids = frozenset(part.strip() for part in value.split(",") if part.strip())
    if not ids:
        raise argparse.ArgumentTypeError("expected question ids such as Q8,Q9")
    return ids


def run(args: argparse.Namespace) -> int:
    try:
        text = args.document.read_text(encoding="utf-8")
    except OSError as error:
        print(f"plan: cannot read {args.document}: {error.strerror}", file=sys.stderr)
        return 1
    records = read_question_records(args.questions)
    resolve_style = ResolveStyle(args.retire) if args.retire else None
    plan = plan_promotions(text, records, PlanOptions(only=args.only, path=str(args.document), resolve_style=resolve_style))
    print(render_plan(plan), end="")
    if args.write and plan.changed:
        args.document.write_text(plan.new_text, encoding="utf-8")
        print(f"wrote {args.document}")
    return 0


def render_plan(plan: Plan) -> str:
    """The diff, then a summary, then the list for humans (with the maintainers' words)."""
    out: list[str] = [plan.diff] if plan.diff else []
    out.append(
        f"{len(plan.promotions)} tag(s) promoted; resolved: {', '.join(plan.resolved) or 'none'}; "
        f"folded: {', '.join(plan.folded) or 'none'}\n"
    )
    if not plan.changed:
        out.append("no change to the document\n")
    if plan.for_humans:
        out.append("\nFor a human:\n")
        for item in plan.for_humans:
            where = f"line {item.line}" if item.line else "-"
            out.append(f"- [{item.kind.value}] {where}: {item.message}\n")
            for words in item.words:
                link = f" ({words.url})" if words.url else ""
                out.append(f"    {words.author}: \"{words.excerpt}\"{link}\n")
    return "".join(out)
