"""The local database runner (tracker/localdb.py) with real embedded servers.

Each test starts one or two embedded PostgreSQL servers in its own data directory (never the
checkout's .data), so they take some seconds; `-m "not localdb"` leaves them out.
"""

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from tracker.localdb import stop_embedded

pytestmark = pytest.mark.localdb

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120
# Prints the database URL and its own pid, then holds the server until its stdin is closed.
HOLD = [
    sys.executable,
    "-c",
    "import os, sys; print(os.environ['DATABASE_URL'], os.getpid(), flush=True); sys.stdin.read()",
]


@pytest.fixture
def data():
    """A data directory for the servers of one test.

    Not under pytest's tmp_path: as root the server runs as another user, who must be able to
    reach the directory, and every pytest run on the machine makes /tmp/pytest-of-root private.
    """
    base = Path(tempfile.mkdtemp(prefix="tracker-localdb-test-"))
    yield base / "data"
    # Should a test fail half-way, no server outlives it.
    for pgdata in (base / "data").glob("*/"):
        stop_embedded(pgdata, mode="immediate")
    shutil.rmtree(base, ignore_errors=True)


def localdb(data_dir: Path, *args: str, **kwargs) -> subprocess.Popen:
    """`python -m tracker.localdb ARGS` with its data under `data_dir`, never DATABASE_URL."""
    runner = (
        "import sys; from pathlib import Path; from tracker.localdb import main; "
        "sys.exit(main(sys.argv[2:], data_dir=Path(sys.argv[1])))"
    )
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    # In a process group of its own, as a command started from a terminal is.
    return subprocess.Popen(
        [sys.executable, "-c", runner, str(data_dir), *args],
        cwd=REPO_ROOT,
        env=env,
        text=True,
        process_group=0,
        **kwargs,
    )


def hold(data_dir: Path, *args: str) -> tuple[subprocess.Popen, str, int]:
    """Start a localdb command that holds its server; returns it, the URL and the holder's pid."""
    process = localdb(data_dir, *args, "--", *HOLD, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(TIMEOUT):
            process.kill()
            pytest.fail("the command did not start within the time allowed")
    line = process.stdout.readline().split()
    assert line, f"the command ended without a database (exit {process.wait(TIMEOUT)})"
    return process, line[0], int(line[1])


def release(process: subprocess.Popen) -> int:
    process.stdin.close()
    return process.wait(TIMEOUT)


def answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            return connection.execute("select 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def gone(pid: int) -> bool:
    """Whether process `pid` has ended, waiting for it a while."""
    deadline = time.monotonic() + TIMEOUT
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def postmaster(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])


def test_a_command_never_stops_the_server_another_one_still_uses(data):
    first, url, _ = hold(data)
    server = postmaster(data / "postgres")
    assert answers(url)

    # A second command (say `make shell` while `make run` serves) uses the same server and
    # leaves it running when it ends.
    second = localdb(
        data,
        "--",
        sys.executable,
        "-c",
        "import os, psycopg; psycopg.connect(os.environ['DATABASE_URL']).execute('select 1')",
        stderr=subprocess.PIPE,
    )
    _, stderr = second.communicate(timeout=TIMEOUT)
    assert second.returncode == 0, stderr
    assert "already running" in stderr
    assert "left running for 1 other" in stderr
    assert answers(url)

    # The command that started the server ends while a later one still uses it: the server
    # stays for the later one, which stops it as the last one out.
    third, third_url, _ = hold(data)
    assert third_url == url
    assert release(first) == 0
    assert answers(url)
    assert postmaster(data / "postgres") == server
    assert release(third) == 0
    assert gone(server)
    assert not answers(url)
    assert list((data / "postgres.users").iterdir()) == []


@pytest.mark.parametrize("how", ["SIGTERM to the runner", "Ctrl-C"])
def test_an_interrupted_throwaway_run_stops_its_server_and_deletes_its_data(data, how):
    process, url, holder = hold(data, "--throwaway")
    (pgdata,) = data.glob("pg-test-*")
    server = postmaster(pgdata)
    assert answers(url)

    if how == "Ctrl-C":
        # The terminal sends SIGINT to the whole foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        expected = 128 + signal.SIGINT  # the holder ends on the interrupt; its status is passed on
    else:
        process.send_signal(signal.SIGTERM)
        expected = 128 + signal.SIGTERM

    assert process.wait(TIMEOUT) == expected
    assert gone(holder)
    assert gone(server)
    assert not pgdata.exists()
    assert list(data.glob("pg-test-*")) == []


def test_the_next_run_sweeps_what_a_killed_throwaway_run_left(data):
    process, url, holder = hold(data, "--throwaway")
    (stale,) = data.glob("pg-test-*")
    server = postmaster(stale)
    for pid in (process.pid, holder):
        os.kill(pid, signal.SIGKILL)
    process.wait(TIMEOUT)
    assert gone(holder)
    # Killed outright, the run could clean nothing up.
    assert stale.exists()
    assert answers(url)

    later = localdb(data, "--throwaway", "--", "true", stderr=subprocess.PIPE)
    _, stderr = later.communicate(timeout=TIMEOUT)

    assert later.returncode == 0, stderr
    assert f"Removed the throwaway database left by an ended run: {stale}" in stderr
    assert gone(server)
    assert not stale.exists()
    assert list(data.glob("pg-test-*")) == []
