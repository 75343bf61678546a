from django.core.management.base import BaseCommand

from detainees.demo import load_demo


class Command(BaseCommand):
    help = "Enter the Qari Bilal case as published records; running it again changes nothing."

    def handle(self, *args, **options):
        report = load_demo()
        self.stdout.write(str(report))
