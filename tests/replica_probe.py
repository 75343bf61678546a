"""The application side of tests/test_replica_pair.py, run in a process of its own against a
real primary and replica (DATABASE_URL, DATABASE_REPLICA_URLS in its environment).

Reads one JSON command a line on stdin and answers one JSON line on stdout:

- `{"write": NAME}`: a published person named NAME, written outside any request (the primary);
- `{"get": [PATH, ...]}`: each PATH through Django's test client as an anonymous reader:
  its status, whether the last written NAME shows, and the queries each alias ran;
- `{"close": true}`: close every connection (so the servers count what they served).
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import django  # noqa: E402

django.setup()

from django.db import connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from detainees.domain.models import PublicationStatus  # noqa: E402
from tests import factories as f  # noqa: E402


def main() -> None:
    setup_test_environment()
    client = Client()
    name = None
    for line in sys.stdin:
        command = json.loads(line)
        if "write" in command:
            name = command["write"]
            f.PersonFactory(name=name, status=PublicationStatus.PUBLISHED)
            answer = {"written": name}
        elif "get" in command:
            answer = {"responses": [get(client, path, name) for path in command["get"]]}
        elif "close" in command:
            connections.close_all()
            answer = {"closed": True}
        else:
            answer = {"error": f"unknown command {command}"}
        print(json.dumps(answer), flush=True)


def get(client, path, name):
    captured = {alias: CaptureQueriesContext(connections[alias]) for alias in connections}
    for context in captured.values():
        context.__enter__()
    try:
        response = client.get(path)
    finally:
        for context in captured.values():
            context.__exit__(None, None, None)
    return {
        "path": path,
        "status": response.status_code,
        "shows_name": bool(name) and name.encode() in response.content,
        "queries": {alias: len(context) for alias, context in captured.items()},
    }


if __name__ == "__main__":
    main()
