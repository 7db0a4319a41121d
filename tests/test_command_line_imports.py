"""What `python -m bot` loads before it knows the command: not PyGithub (with requests and
urllib3, about 0.4 s of CPU), which only `sync` and `digest` need. `serve`, `status`, `explain`
and the rest start without it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_command_line_parser_loads_no_pygithub() -> None:
    probe = ("import sys; from bot.__main__ import build_parser; build_parser(); "
             "print(sorted(name for name in ('github', 'requests') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
