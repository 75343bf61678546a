from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from detainees.write.exports.package import write_export
from detainees.write.exports.tables import spec_markdown


class Command(BaseCommand):
    help = (
        "Write every published record as a Frictionless Data Package into DIR: "
        "datapackage.json, a CSV per table and records.jsonl."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "directory",
            nargs="?",
            default="",
            help="Where to write (default: the EXPORT_DIR setting).",
        )
        parser.add_argument(
            "--archive",
            action="store_true",
            help="Also write tracker-data.zip and its date, which the public /data/ page offers.",
        )

        parser.add_argument(
            "--spec",
            action="store_true",
            help="Print the tables' column specification (Markdown, as in the README) and stop.",
        )

    def handle(self, *args, **options):
        if options["spec"]:
            self.stdout.write(spec_markdown(), ending="")
            return
        directory = Path(options["directory"] or settings.EXPORT_DIR)
        result = write_export(directory, archive=options["archive"])
        self.stdout.write(str(result))
