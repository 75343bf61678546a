"""Run a command (the development server) with a background-job worker beside it.

    python -m tracker.with_worker python manage.py runserver

starts `manage.py procrastinate worker`, runs the command, and stops the worker when the
command ends, however it ends (Ctrl+C, a signal, an error). `make run` uses it.
"""

import signal
import subprocess
import sys

WORKER = [sys.executable, "manage.py", "procrastinate", "worker"]
STOP_SECONDS = 30


def main(command: list[str]) -> int:
    if not command:
        print("usage: python -m tracker.with_worker COMMAND [ARGS...]", file=sys.stderr)
        return 2
    worker = subprocess.Popen(WORKER)
    try:
        server = subprocess.Popen(command)

        def forward(signum, _frame):
            server.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGHUP, forward)
        while True:
            try:
                return server.wait()
            except KeyboardInterrupt:
                continue  # Ctrl+C reached the server too: wait for it to stop
    finally:
        if worker.poll() is None:
            # The worker finishes the job it is running, then stops.
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
