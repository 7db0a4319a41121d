"""The command registry is the one table the parser, the help and the fold read."""
from __future__ import annotations

from bot.core import conversation
from bot.core.command_registry import BY_WORD, COMMANDS, CONTROL, DECIDING_COMMANDS, PER_QUESTION, Scope, help_text
from bot.core.commands_parser import ANY_QUESTION, classify_lines, parse_explicit
from bot.core.reader_output import CommandName, Stance


def test_every_command_name_has_exactly_one_row() -> None:
    assert sorted(spec.name.value for spec in COMMANDS) == sorted(name.value for name in CommandName)
    assert len(BY_WORD) == len(COMMANDS)


def test_the_help_shows_every_rows_grammar_and_help_line() -> None:
    text = help_text()
    for spec in COMMANDS:
        assert spec.grammar in text and spec.help in text


def test_the_parser_knows_every_word_in_the_table() -> None:
    for spec in COMMANDS:
        args = {"ask": " @someone Q3", "answer": " Q3 confirm", "followup": " Q3 a title", "correct": " Q3 text", "questions": " help"}
        body = f"/{spec.word}{args.get(spec.word, ' Q3')}"
        parsed = parse_explicit(classify_lines(body), ANY_QUESTION, "me")
        assert [command.name for command in parsed.commands] == [spec.name], body


def test_scopes_split_the_commands_and_the_fold_reads_them() -> None:
    assert frozenset(CommandName) == PER_QUESTION | CONTROL
    assert not PER_QUESTION & CONTROL
    assert {spec.name for spec in COMMANDS if spec.scope is Scope.CONTROL} == conversation._CONTROL


def test_deciding_commands_carry_their_stance() -> None:
    assert DECIDING_COMMANDS == {CommandName.CONFIRM: Stance.CONFIRM, CommandName.CORRECT: Stance.CORRECT, CommandName.STRIKE: Stance.STRIKE}
