from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from detainees.demo import load_demo
from detainees.history import acting


class Command(BaseCommand):
    help = "Enter the Qari Bilal case as published records; running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            help="Username the audit history records the import under (default: none, only "
            "the command's name).",
        )

    def handle(self, *args, user=None, **options):
        account = None
        if user:
            try:
                account = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"No user named {user!r}.") from exc
        with acting(account, "load_demo: the Qari Bilal demonstration case", command="load_demo"):
            report = load_demo()
        self.stdout.write(str(report))
