"""Time the largest nested writes the API takes: a person with every name the limits allow, an
event with every person.

    python -m bench.nested_write [--names 100] [--people 1000] [--role Editor] [--repeat 3]

Sends, with django.test.Client and a token of a user in `--role`, `POST /api/v1/persons/` of a
person with `--names` names (each with one citation), two nationalities and one citation, and
`POST /api/v1/events/` of a capture naming `--people` people, with 30 citations; then replaces
the event with `PUT` (its people in another role), counting the queries of each request and
its seconds (the best of `--repeat`). The records linked to (people, sources) are made first;
everything runs in a transaction rolled back at the end, so the database is left as it was.
"""

import argparse
import os
import sys
import time
import uuid


class Rollback(Exception):
    pass


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=100)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--role", default="Editor", help="Researcher, Editor or Admin.")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.authtoken.models import Token

    from detainees.domain.models import Person, PublicationStatus, Source

    PUBLISHED = PublicationStatus.PUBLISHED

    setup_test_environment()
    prefix = uuid.uuid4().hex[:8]

    def timed(label, send, expected):
        best, count = None, None
        for _ in range(args.repeat):
            queries = []

            def counted(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            # Counted as they run (CaptureQueriesContext keeps the last 9,000 only).
            with connection.execute_wrapper(counted):
                started = time.perf_counter()
                response = send()
                seconds = time.perf_counter() - started
            if response.status_code != expected:
                sys.exit(f"{label}: {response.status_code}: {response.content[:2000]!r}")
            best = seconds if best is None else min(best, seconds)
            count = len(queries)
        print(f"{label:<44} {best:>7.2f} s {count:>7} queries")
        return response

    try:
        with transaction.atomic():
            account = get_user_model().objects.create_user(f"bench-nested-{prefix}", is_staff=True)
            account.groups.add(Group.objects.get(name=args.role))
            token = Token.objects.create(user=account)
            client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
            sources = Source.objects.bulk_create(
                Source(title=f"Bench nested {prefix} {i}", kind="news_report", status=PUBLISHED)
                for i in range(30)
            )
            people = Person.objects.bulk_create(
                Person(slug=f"bench-nested-{prefix}-{i}", status=PUBLISHED)
                for i in range(args.people)
            )

            def cite(i):
                return {"source": str(sources[i % len(sources)].public_id), "locator": f"p. {i}"}

            person = {
                "names": [
                    {
                        "name": f"Bench Nested {prefix} {i}",
                        "is_primary": i == 0,
                        "citations": [cite(i)],
                    }
                    for i in range(args.names)
                ],
                "nationalities": [{"country": "AF"}, {"country": "UZ"}],
                "citations": [cite(0)],
            }

            def event(role):
                return {
                    "kind": "capture",
                    "date": "2011-04",
                    "people": [{"person": str(p.public_id), "role": role} for p in people],
                    "citations": [cite(i) for i in range(30)],
                }

            def post(path, body):
                return lambda: client.post(path, body, content_type="application/json")

            # A first write imports and caches what every later one uses: not timed.
            post("/api/v1/persons/", {"names": [{"name": f"Warm {prefix}", "is_primary": True}]})()
            print(f"as a {args.role}, best of {args.repeat}")
            timed(f"POST person, {args.names} names", post("/api/v1/persons/", person), 201)
            created = timed(
                f"POST event, {args.people} people", post("/api/v1/events/", event("subject")), 201
            )
            path = f"/api/v1/events/{created.json()['id']}/"
            etags = [created["ETag"]]

            def put():
                response = client.put(
                    path,
                    event("related" if len(etags) % 2 else "subject"),
                    content_type="application/json",
                    HTTP_IF_MATCH=etags[-1],
                )
                etags.append(response.get("ETag"))
                return response

            timed(f"PUT event, {args.people} people replaced", put, 200)
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
