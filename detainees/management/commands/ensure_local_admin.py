import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

USERNAME = "admin"
ADMIN_URL = "http://127.0.0.1:8000/admin/"


def password_file() -> Path:
    """Where the first password is kept: .data/ is ignored by git and holds the local database."""
    return Path(settings.BASE_DIR) / ".data" / "admin-password.txt"


def write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 from the start, so the password is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    path.chmod(0o600)  # an older file may have been created with other permissions


class Command(BaseCommand):
    help = (
        f"Create the superuser '{USERNAME}' with a random password on first start, store the "
        "password in .data/admin-password.txt and print it once. Does nothing if the user exists."
    )

    def handle(self, *args, **options):
        path = password_file()
        User = get_user_model()
        if User.objects.filter(username=USERNAME).exists():
            if path.exists():
                self.stdout.write(f"Admin user '{USERNAME}' exists; its password is in {path}.")
            else:
                self.stdout.write(f"Admin user '{USERNAME}' exists.")
            return
        password = secrets.token_urlsafe(12)
        # The file is written inside the transaction: if it cannot be written, no user is left
        # behind whose password nobody knows.
        with transaction.atomic():
            User.objects.create_superuser(USERNAME, email="", password=password)
            write_secret(path, password)
        line = f"Admin login: {ADMIN_URL}  user: {USERNAME}  password: {password}"
        rule = "=" * len(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"\n{rule}\n{line}\n{rule}\nThe password is also stored in {path} (mode 0600).\n"
            )
        )
