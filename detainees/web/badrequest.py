"""The site's answer to a request it cannot serve as asked: a 400 page in the site's look that
names each parameter and why (the API answers JSON instead: detainees/api/errors.py)."""

from django.shortcuts import render


def bad_request(request, problems: dict[str, list[str]] | dict):
    """`problems`: each parameter with its messages (a form's `errors` will do)."""
    listed = [(name, [str(m) for m in messages]) for name, messages in problems.items()]
    return render(request, "400.html", {"problems": listed}, status=400)
