import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from detainees.domain.fuzzydates import DATE_ORDERS, LOCALES, DateReading
from detainees.management.users import named_user
from detainees.write import services
from detainees.write.history import acting
from detainees.write.importers.encodings import Decoder
from detainees.write.importers.generic import (
    DEFAULT_SYSTEM,
    ImportRefused,
    column_date_orders,
    import_rows,
    read_file,
)


class Command(BaseCommand):
    help = (
        "Import records from a CSV, JSON or JSON Lines file, or a data package (directory, "
        "datapackage.json or zip), all or nothing. New records are drafts unless --publish."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--format",
            choices=["csv", "json", "jsonl", "package", "zip"],
            default="",
            help="Read the file as this format (default: from its name).",
        )
        parser.add_argument(
            "--table",
            default="",
            help="The table a CSV file holds (default: its name, e.g. persons.csv).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish the records imported; needs --user, an editor.",
        )
        parser.add_argument(
            "--user",
            default="",
            help="Who runs the import: recorded in the audit history; an editor for --publish.",
        )
        parser.add_argument(
            "--as-user",
            default="",
            metavar="NAME",
            help="Hold every row to this user's role, as the admin's import does (a researcher "
            "may not change published records). Without it the command, run on the server, "
            "may change anything.",
        )
        parser.add_argument(
            "--system",
            default=DEFAULT_SYSTEM,
            help="Whose identifiers the id columns hold when they are not UUIDs "
            f"(default: {DEFAULT_SYSTEM}).",
        )

        parser.add_argument(
            "--date-order",
            choices=DATE_ORDERS,
            default=None,
            help="How the file writes a numeric day: dmy reads 03/04/1976 as 3 April, mdy as "
            "March 4 (default: refuse a day that could be either).",
        )
        parser.add_argument(
            "--column-date-order",
            action="append",
            default=[],
            metavar="TABLE.COLUMN=ORDER",
            help="A date column written in another order than the file's other dates, e.g. "
            "events.end_date=mdy; repeat for several.",
        )
        parser.add_argument(
            "--locale",
            action="append",
            choices=LOCALES,
            default=[],
            help="A language of the file's month names and date words (NOV/1976, principios "
            "de 1976, 1ra quincena de marzo, s/f); repeat for several.",
        )
        parser.add_argument(
            "--century",
            type=int,
            default=None,
            help="The century of two-digit years (03/04/76, MAR/76): 19 reads 24 as 1924 "
            "(default: the latest year up to now that ends in them, 24: 2024).",
        )

        parser.add_argument(
            "--encoding",
            default="utf-8",
            metavar="NAME",
            help="The text encoding of the CSV and JSON files: any Python codec name (cp1252, "
            "latin-1, utf-16...), or 'detect' to guess it and say which (default: UTF-8, with "
            "or without BOM; UTF-16 with a BOM is read too).",
        )

    def handle(self, *args, **options):
        as_user = named_user(options["as_user"])
        user = as_user or named_user(options["user"])
        if options["publish"] and not services.may_publish(user):
            raise CommandError("--publish needs --user naming an editor who may publish.")
        try:
            reading = DateReading(
                order=options["date_order"],
                locales=tuple(options["locale"]),
                century=options["century"],
                columns=column_date_orders(options["column_date_order"]),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            decoder = Decoder(options["encoding"])
        except ValueError as exc:
            raise CommandError(f"--encoding: {exc}") from None
        reason = f"import_records: {options['path']}"
        try:
            rows = read_file(
                options["path"], fmt=options["format"], table=options["table"], decoder=decoder
            )
            for note in decoder.notes():
                self.stdout.write(note)
            with (
                tqdm(
                    total=len(rows), unit="row", desc="import", disable=not sys.stderr.isatty()
                ) as progress,
                acting(user, reason, command="import_records"),
            ):
                report = import_rows(
                    rows,
                    publish=options["publish"],
                    dry_run=options["dry_run"],
                    system=options["system"],
                    progress=progress,
                    user=as_user,
                    reading=reading,
                )
        except ImportRefused as refused:
            for error in refused.errors:
                self.stderr.write(str(error))
            raise CommandError(str(refused)) from None
        except OSError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(report))
