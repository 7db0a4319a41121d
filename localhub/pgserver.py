"""A throwaway PostgreSQL server for the tests and the chaos bench: initdb, pg_ctl start, drop.

PostgreSQL's `initdb` refuses to run as root, so as root the server runs as the `postgres`
system user, in a data directory it owns, listening on a unix socket in that directory only
(no TCP port to collide with). `find_binaries()` looks in the distribution's usual places.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")


class NoPostgres(RuntimeError):
    """PostgreSQL's server binaries are not installed (apt-get install -y postgresql)."""


def find_binaries() -> Path:
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    for pattern in _SEARCH:
        found = sorted(Path("/").glob(pattern.lstrip("/")), reverse=True)
        for directory in found:
            if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
                return directory
    raise NoPostgres("PostgreSQL server binaries (initdb, pg_ctl) not found; install them: apt-get install -y postgresql")


@dataclass
class ThrowawayPostgres:
    directory: Path
    binaries: Path
    run_as: str | None  # the system user the server runs as (None: ourselves)

    @property
    def url(self) -> str:
        """A libpq URL: the unix socket in the data directory's parent, database `postgres`."""
        return f"postgresql://postgres@/postgres?host={self.directory}"

    @classmethod
    def start(cls) -> ThrowawayPostgres:
        binaries = find_binaries()
        run_as = "postgres" if os.geteuid() == 0 else None
        directory = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        if run_as is not None:
            user = pwd.getpwnam(run_as)
            os.chown(directory, user.pw_uid, user.pw_gid)
        server = cls(directory, binaries, run_as)
        data = directory / "data"
        server._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses='' -c unix_socket_directories='{directory}' -c fsync=off -c max_connections=60"
        server._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(directory / "server.log"), "-w", "-t", "30", "start")
        return server

    def new_database(self) -> str:
        """A fresh, empty database on this server; its URL."""
        import psycopg

        name = f"bot_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url.replace("@/postgres?", f"@/{name}?")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w", "-t", "20", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.binaries / program), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
