from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from detainees.write.exports.template import ARCHIVE, template_zip


class Command(BaseCommand):
    help = (
        "Write the import template: a zip of datapackage.json, one CSV per table with its "
        "header row only, and README.txt with the column specification."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", default=ARCHIVE, help=f"The zip to write (default: {ARCHIVE})."
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if path.is_dir():
            path = path / ARCHIVE
        try:
            path.write_bytes(template_zip())
        except OSError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(path))
