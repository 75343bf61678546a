from django.core.management.base import BaseCommand, CommandError

from detainees.management.users import named_user
from detainees.write.history import acting
from detainees.write.importers.isaf import DEFAULT_PATH, BadRow, import_isaf


class Command(BaseCommand):
    help = (
        "Import ISAF press releases (CSV): each row a published source and the capture or strike "
        "it reports. All or nothing; running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", nargs="?", default=str(DEFAULT_PATH), help=f"CSV file (default: {DEFAULT_PATH})"
        )
        parser.add_argument(
            "--user", help="Username the audit history records the import under (default: none)."
        )

    def handle(self, *args, path, user=None, **options):
        account = named_user(user)
        try:
            with acting(
                account, f"import_isaf: ISAF press releases from {path}", command="import_isaf"
            ):
                report = import_isaf(path)
        except BadRow as exc:
            raise CommandError(f"{path}, {exc}. Nothing was imported.") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        self.stdout.write(str(report))
