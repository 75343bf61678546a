from django.core.management.base import BaseCommand, CommandError

from detainees.domain.models import Person
from detainees.management.users import named_user
from detainees.write.demo import PERSON_SLUG, load_demo
from detainees.write.history import acting
from detainees.write.importers.generic import ImportRefused


class Command(BaseCommand):
    help = (
        "Import the Qari Bilal case (data/demo/) as published records; running it again "
        "changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            help="Username the audit history records the import under (default: none, only "
            "the command's name).",
        )

    def handle(self, *args, user=None, **options):
        try:
            with acting(
                named_user(user),
                "load_demo: the Qari Bilal demonstration case",
                command="load_demo",
            ):
                report = load_demo()
        except ImportRefused as refused:
            # All or nothing, as any import: say which rows the database refused, and why.
            for error in refused.errors:
                self.stderr.write(str(error))
            message = str(refused)
            if Person.objects.filter(slug=PERSON_SLUG).exists():
                # Loaded before the case became a data package, its records carry other ids.
                message += (
                    f" This database already holds a '{PERSON_SLUG}' under another id: a case "
                    "loaded by an earlier version. `make clean-data` resets the local database."
                )
            raise CommandError(message) from None
        self.stdout.write(str(report))
