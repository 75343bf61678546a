"""The account a command acts as, from its --user option."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def named_user(username: str | None):
    """The user `username` names, or None when no name is given; an unknown name is an error."""
    if not username:
        return None
    users = get_user_model()
    try:
        return users.objects.get_by_natural_key(username)
    except users.DoesNotExist:
        raise CommandError(f"No user named {username!r}.") from None
