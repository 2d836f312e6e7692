"""A throwaway PostgreSQL server on 127.0.0.1 for tests and benchmarks.

    server = PostgresServer().start()
    server.create_database("app", template=None)
    url = server.url("app")          # postgresql+psycopg://postgres@127.0.0.1:PORT/app
    server.stop()                    # stops it and deletes every file it wrote

Tuned for speed, not durability (fsync, synchronous_commit and full_page_writes are off).
PostgreSQL refuses to run as root, so under root (as in CI) initdb and the server run as
the `postgres` OS user. From a shell: `python -m tests.pg_server [--migrate] [dbname]`.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

NOT_FOUND = "PostgreSQL server binaries not found; install them (apt-get install postgresql) — tests never skip this"
_NEEDED = ("initdb", "pg_ctl", "postgres")


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres: `pg_config --bindir`, then
    /usr/lib/postgresql/*/bin newest first, then $PATH. Raises RuntimeError if none."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.name))

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    candidates += [Path(os.path.realpath(found)).parent for found in map(shutil.which, _NEEDED) if found]
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in _NEEDED):
            return directory
    raise RuntimeError(NOT_FOUND)


# Runs beside the test process and cleans up after it however it ends (a CI timeout's
# SIGTERM or a SIGKILL skip atexit and fixture teardown): when the pipe from its parent
# closes, it shuts the server down immediately and deletes its files.
_WATCHDOG = """
import os, shutil, signal, sys, time
base_dir, pid_file = sys.argv[1:3]
sys.stdin.read()
try:
    pid = int(open(pid_file).readline())
    os.kill(pid, signal.SIGQUIT)
    for _ in range(200):
        time.sleep(0.05)
        os.kill(pid, 0)
except (OSError, ValueError):
    pass
shutil.rmtree(base_dir, ignore_errors=True)
"""


def _scratch_dir() -> str | None:
    # A RAM-backed directory when there is one: on a disk, even with fsync off, creating a
    # database from a template took ~250 ms here; in /dev/shm it takes ~15 ms.
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, reachable with trust auth."""

    def __init__(self, user: str = "postgres", bindir: Path | None = None):
        self.user = user
        self.bindir = bindir
        self.port: int | None = None
        self.base_dir: Path | None = None
        self.startup_seconds: float | None = None
        self._run_as: dict = {}
        self._version: int | None = None
        self._watchdog: subprocess.Popen | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        """initdb a new cluster and start it; returns self. Raises RuntimeError on failure."""
        started = time.perf_counter()
        self.bindir = self.bindir or find_bindir()
        self.base_dir = Path(tempfile.mkdtemp(prefix="growth-pg-", dir=_scratch_dir()))
        atexit.register(self.stop)
        try:
            if os.geteuid() == 0:
                self._drop_root()
            self._initdb_and_start()
        except BaseException:
            self.stop()
            raise
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(self.base_dir), str(self.data_dir / "postmaster.pid")],
            stdin=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C meant for us must not reach it first
        )
        self.startup_seconds = time.perf_counter() - started
        return self

    def _initdb_and_start(self) -> None:
        self._run(
            "initdb", "-D", str(self.data_dir), "-U", self.user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        for attempt in range(3):
            self.port = _free_port()
            self._configure()
            try:
                self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "start")
                return
            except RuntimeError:
                if attempt == 2:  # the port we picked may have been taken meanwhile; retry
                    raise

    def stop(self) -> None:
        """Stop the server (immediately: nothing here is worth keeping) and delete its files."""
        if self.base_dir is None:
            return
        atexit.unregister(self.stop)
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = None
        if self._watchdog is not None and self._watchdog.stdin is not None:
            self._watchdog.stdin.close()
            self._watchdog.wait(timeout=30)
            self._watchdog = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for database `dbname` on this server."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str, template: str | None = None) -> None:
        """CREATE DATABASE `name`, as a copy of `template` if given (nobody may be connected to it)."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            if self.server_version >= 150000:
                # FILE_COPY copies the template's files; for a small schema that beats 15's
                # default, WAL_LOG, which writes every page through the WAL.
                statement += sql.SQL(" STRATEGY FILE_COPY")
        self.execute(statement)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE `name` if it exists, disconnecting any sessions still on it."""
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @property
    def server_version(self) -> int:
        """The server's version as a number, e.g. 150004 for 15.4."""
        if self._version is None:
            with psycopg.connect(self._conninfo("postgres")) as connection:
                self._version = connection.info.server_version
        return self._version

    def execute(self, statement: sql.Composed | str) -> None:
        """Run one statement in the `postgres` database, outside a transaction."""
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as connection:
            connection.execute(statement)

    # -- internals -------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self.base_dir is not None, "server not started"
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        assert self.base_dir is not None, "server not started"
        return self.base_dir / "server.log"

    def _conninfo(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.user} dbname={dbname}"

    def _drop_root(self) -> None:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError(
                "Running as root, and PostgreSQL refuses to run as root: the tests run it as the "
                "'postgres' OS user, which does not exist here. Create it (useradd --system postgres) "
                "or run the tests as an ordinary user."
            ) from None
        assert self.base_dir is not None
        os.chown(self.base_dir, account.pw_uid, account.pw_gid)
        self._run_as = {
            "user": account.pw_uid,
            "group": account.pw_gid,
            "extra_groups": [],
            "env": {**os.environ, "HOME": account.pw_dir, "USER": "postgres", "LOGNAME": "postgres"},
        }

    def _configure(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.base_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        # postgresql.auto.conf is read last, so rewriting it on a retry replaces the port.
        lines = [f"{name} = {value}\n" for name, value in settings.items()]
        (self.data_dir / "postgresql.auto.conf").write_text("".join(lines))

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        assert self.bindir is not None
        result = subprocess.run(
            [str(self.bindir / program), *args], capture_output=True, text=True, cwd=self.base_dir, **self._run_as
        )
        if check and result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}{log}")


def main(argv: list[str]) -> int:
    migrate = "--migrate" in argv
    names = [arg for arg in argv if not arg.startswith("-")]
    dbname = names[0] if names else "growth_bench"
    # Turn `kill` into a normal exit, so the server is stopped and its files deleted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with PostgresServer() as server:
        server.create_database(dbname)
        if migrate:
            from storage.db import upgrade_database

            upgrade_database(server.url(dbname))
        print(f"PostgreSQL ready in {server.startup_seconds:.2f}s", file=sys.stderr)
        print(server.url(dbname), flush=True)
        print("Ctrl-C stops it and deletes its files.", file=sys.stderr)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
