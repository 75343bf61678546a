from django.core.management.base import BaseCommand

from detainees.management.users import named_user
from detainees.write.demo import load_demo
from detainees.write.history import acting


class Command(BaseCommand):
    help = "Enter the Qari Bilal case as published records; running it again changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--user",
            help="Username the audit history records the import under (default: none, only "
            "the command's name).",
        )

    def handle(self, *args, user=None, **options):
        with acting(
            named_user(user), "load_demo: the Qari Bilal demonstration case", command="load_demo"
        ):
            report = load_demo()
        self.stdout.write(str(report))
