"""The product package `bot` does not depend on the local GitHub: only the demo entry may import it.

`localhub` is a stand-in for the outside world; if a product module imported it, the service
could run against the fake without anyone noticing. The demo (`bot.demo_review`, the sandbox it plays
in, and the `localhub` command that serves the fake alone) is the one sanctioned door.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_ENTRY = {"bot/demo_review.py", "bot/sandbox.py", "bot/commands/localhub.py"}


def imported_modules(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def imports_localhub(source: Path) -> bool:
    return any(name == "localhub" or name.startswith("localhub.") for name in imported_modules(source))


def test_only_the_demo_entry_imports_localhub() -> None:
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "bot").rglob("*.py")
        if str(path.relative_to(ROOT)) not in DEMO_ENTRY and imports_localhub(path)
    )
    assert offenders == []


def test_the_demo_entry_is_what_reaches_localhub() -> None:
    # Guards the check above: were the import spelled differently, it would pass vacuously.
    reaching = {name for name in DEMO_ENTRY if imports_localhub(ROOT / name)}
    assert reaching == {"bot/sandbox.py", "bot/commands/localhub.py"}


def test_localhub_stands_alone() -> None:
    # The fake knows nothing of the bot, so it can be held to GitHub's descriptions on its own.
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "localhub").rglob("*.py")
        if any(name == "bot" or name.startswith("bot.") for name in imported_modules(path))
    )
    assert offenders == []


# Run with `localhub` made unimportable, as in the container image, which copies only `bot`.
WITHOUT_LOCALHUB = "import sys; sys.modules['localhub'] = None; "


def run_without_localhub(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_LOCALHUB + code], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_every_product_module_imports_without_localhub() -> None:
    walk = ("import importlib, pkgutil, bot; "
            "names = [m.name for m in pkgutil.walk_packages(bot.__path__, 'bot.') "
            "if m.name not in ('bot.demo_review', 'bot.sandbox') and m.name != 'bot.__main__']; "
            "[importlib.import_module(n) for n in names]; print(len(names))")
    result = run_without_localhub(walk)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 20, "the walk found the product's modules"


@pytest.mark.parametrize("command", ["demo", "localhub"])
def test_the_commands_that_need_localhub_say_so_in_one_line_when_it_is_missing(command: str) -> None:
    result = run_without_localhub(f"from bot.__main__ import main; sys.exit(main([{command!r}]))")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"{command}: needs the local GitHub (the `localhub` package), which this installation lacks; "
        "install the project from its source tree (pip install .)"]
