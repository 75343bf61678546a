"""A deterministic import file of N rows, in the importer's input format, for measuring imports.

    python -m bench.importfile DIR [--rows 100000] [--seed 1]

Writes a data package as `manage.py export` writes one (a CSV per table, records.jsonl and
datapackage.json), with the desk's own identifiers (P000001, E000001, ...) in the id columns
rather than UUIDs, as a desk's file has: importing it creates every record and an ExternalId for
each, the importer's heaviest path. The mix per person is that of a desk's records: two names
(one primary, one spelling variant), a nationality, a capture and then a custody episode or a
release with the person in each, and citations of the capture and of the primary name; one
source per ten people; a fixed set of places, organizations and facilities first. The rows add
up to exactly N (extra citations of people pad the remainder). Needs no database or Django
settings beyond what the table spec needs (Django set up, no queries).
"""

import argparse
import random
import sys
from pathlib import Path

# Rows one person brings: person, 2 names, nationality, 2 events, 2 links, 2 citations.
PER_PERSON = 10
PEOPLE_PER_SOURCE = 10
FACILITIES_PER_PROVINCE = 2


def _tables():
    # Imported late: the table spec imports the models, which need Django set up.
    from detainees.write.exports.tables import TABLES

    return TABLES


# A register's clerks write dates in these forms (Spanish, day first), with these shares; each is
# read by `--date-order dmy --locale es` (detainees.domain.fuzzydates.DateReading).
MESES = ("ENE", "FEB", "MAR", "ABR", "MAY", "JUN", "JUL", "AGO", "SEP", "OCT", "NOV", "DIC")
MESES_LARGOS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
PARTES = ("principios", "mediados", "fines")
SIN_FECHA = ("s/f", "sin fecha", "desconocida")


def register_date(rnd: random.Random, year: int, month: int, day: int) -> str:
    """A date as a register's clerk writes it: day-first numbers mostly, month words, early/
    mid/late, fortnights, whole-year markers, ranges and "no date" words."""
    form = rnd.random()
    if form < 0.40:
        return f"{day:02d}/{month:02d}/{year}"
    if form < 0.55:
        return f"{MESES[month - 1]}/{year}"
    if form < 0.63:
        return f"{day} de {MESES_LARGOS[month - 1]} de {year}"
    if form < 0.71:
        return f"{rnd.choice(PARTES)} de {year}"
    if form < 0.76:
        half = "1ra" if day <= 15 else "2da"
        return f"{half} quincena de {MESES_LARGOS[month - 1]} {year}"
    if form < 0.81:
        return f"año {year}"
    if form < 0.86:
        return f"1º/{month:02d}/{year}"
    if form < 0.91 and month < 12:
        return f"{MESES[month - 1]}-{MESES[month]}/{year}"
    return rnd.choice(SIN_FECHA)


class ImportFile:
    """The rows of the file, table by table, as dicts of column to value (None: empty).

    With `register`, the people are those of a national register of the detained and
    disappeared: dates as its clerks write them (`register_date`), and a share of the people
    disappeared rather than captured."""

    def __init__(self, rows: int, seed: int = 1, *, register: bool = False):
        self.register = register
        # The vocabulary's package imports the models: Django must be set up first.
        from detainees.synthetic import words

        self.words = words
        self.target = rows
        self.random = random.Random(seed)
        self.rows: dict[str, list[dict]] = {t.name: [] for t in _tables()}
        self._fixed()
        self._people()

    @property
    def total(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def add(self, table: str, **values) -> str:
        self.rows[table].append(values)
        return values["id"]

    def _fixed(self) -> None:
        self.provinces = []
        for code, name, _ in self.words.COUNTRIES:
            self.add("places", id=f"PL-{code}", name=name, kind="country", country=code)
            for province in self.words.PROVINCES.get(code, ()):
                key = self.add(
                    "places",
                    id=f"PL-{code}-{province}",
                    name=province,
                    kind="province",
                    parent=f"PL-{code}",
                )
                self.provinces.append((key, province))
        for key, name, abbreviation, kind, parent, country in self.words.ORGANIZATIONS:
            self.add(
                "organizations",
                id=f"O-{key}",
                name=name,
                abbreviation=abbreviation,
                kind=kind,
                parent=f"O-{parent}" if parent else None,
                country=country or None,
            )
        self.outlets = []
        for i, (name, abbreviation, domain, _) in enumerate(self.words.MEDIA_OUTLETS, 1):
            key = self.add(
                "organizations",
                id=f"O-media-{i}",
                name=name,
                abbreviation=abbreviation,
                kind="media_outlet",
            )
            self.outlets.append((key, name, domain))
        self.facilities = []
        for place, province in self.provinces:
            for n, kind in enumerate(("prison", "detention_facility")[:FACILITIES_PER_PROVINCE]):
                key = self.add(
                    "facilities",
                    id=f"F-{place}-{n}",
                    name=f"{province} {'Central Prison' if n == 0 else 'Detention Centre'}",
                    kind=kind,
                    place=place,
                )
                self.facilities.append((key, place))

    def _source(self, number: int) -> str:
        outlet, outlet_name, domain = self.random.choice(self.outlets)
        year = self.random.randint(2008, 2021)
        return self.add(
            "sources",
            id=f"S{number:06d}",
            kind="news_report",
            title=f"{outlet_name}: detainees named in report {number}",
            publisher=outlet,
            url=f"https://{domain}/{year}/report-{number}",
            published=f"{year}-{self.random.randint(1, 12):02d}",
            language="en",
        )

    def _person(self, n: int, source: str) -> None:
        rnd = self.random
        given, spellings, _ = rnd.choice(self.words.GIVEN_NAMES)
        family, _, _ = rnd.choice(self.words.FAMILY_NAMES)
        honorific = rnd.choice(self.words.HONORIFICS) + " " if rnd.random() < 0.3 else ""
        name = f"{honorific}{given} {family}"
        birth = f"{rnd.randint(1950, 1995)}~" if rnd.random() < 0.4 else None
        if self.register and birth:
            birth = register_date(rnd, int(birth[:4]), rnd.randint(1, 12), rnd.randint(1, 28))
        person = self.add(
            "persons",
            id=f"P{n:06d}",
            gender="male",
            birth=birth,
            biography=f"Named in reports as {name}.",
        )
        primary = self.add(
            "person_names",
            id=f"N{n:06d}a",
            person=person,
            name=name,
            kind="common",
            is_primary=True,
        )
        self.add(
            "person_names",
            id=f"N{n:06d}b",
            person=person,
            name=f"{rnd.choice(spellings)} {family}",
            kind="spelling",
            is_primary=False,
        )
        country = rnd.choices(
            [c[0] for c in self.words.COUNTRIES], weights=[c[2] for c in self.words.COUNTRIES]
        )[0]
        self.add("nationalities", id=f"NA{n:06d}", person=person, country=country)
        facility, place = rnd.choice(self.facilities)
        year, month, day = rnd.randint(2008, 2019), rnd.randint(1, 12), rnd.randint(1, 28)
        first_kind, first_date = "capture", f"{year}-{month:02d}-{day:02d}"
        if self.register:
            first_date = register_date(rnd, year, month, day)
            if rnd.random() < 0.4:
                first_kind = "disappearance"
        capture = self.add(
            "events",
            id=f"E{n:06d}a",
            kind=first_kind,
            date=first_date,
            place=place,
            operation=rnd.choice(self.words.OPERATIONS) if rnd.random() < 0.3 else None,
            unnamed_count=rnd.choice((0, 0, 1, 2, 5)),
            summary=f"{name} captured",
        )
        if rnd.random() < 0.6:
            second = self.add(
                "events",
                id=f"E{n:06d}b",
                kind="custody",
                date=register_date(rnd, year, month, day)
                if self.register
                else f"{year}-{month:02d}",
                end_date=self._year(year + rnd.randint(1, 4)),
                custody_end_reason="release",
                facility=facility,
                summary=f"{name} held",
            )
        else:
            second = self.add(
                "events",
                id=f"E{n:06d}b",
                kind="release",
                date=self._year(year + rnd.randint(1, 5)),
                facility=facility,
                release_kind=rnd.choice(("pardon", "conditional", "end_of_sentence")),
                summary=f"{name} released",
            )
        for event, suffix in ((capture, "a"), (second, "b")):
            self.add("event_people", id=f"L{n:06d}{suffix}", event=event, person=person)
        quote = rnd.choice(self.words.QUOTES).format(
            name=name, count=2, place="the province", facility="the prison", year=year
        )
        self.add("citations", id=f"C{n:06d}a", source=source, event=capture, quote=quote)
        self.add("citations", id=f"C{n:06d}b", source=source, person_name=primary, quote=name)

    def _year(self, year: int) -> str:
        return f"año {year}" if self.register else str(year)

    def _people(self) -> None:
        n, source = 0, None
        while True:
            new_source = n % PEOPLE_PER_SOURCE == 0
            if self.total + PER_PERSON + new_source > self.target:
                break
            if new_source:
                source = self._source(n // PEOPLE_PER_SOURCE + 1)
            n += 1
            self._person(n, source)
        # Pad to exactly the target with further citations of people.
        for i in range(self.target - self.total):
            if not n or source is None:
                break
            self.add(
                "citations",
                id=f"CX{i + 1:06d}",
                source=source,
                person=f"P{i % n + 1:06d}",
                aspect="biography",
            )

    def table_rows(self) -> dict[str, list[list]]:
        """Rows as the export renders them: lists in the order of each table's columns."""
        return {
            t.name: [[row.get(c.name) for c in t.exported_columns] for row in self.rows[t.name]]
            for t in _tables()
        }

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.rows.items() if rows}


def write_import_file(
    directory: Path, *, rows: int = 100_000, seed: int = 1, register: bool = False
) -> dict[str, int]:
    """Write the data package of `rows` rows into `directory`; its rows per table. With
    `register`, a register's rows (see ImportFile), its CSVs in Latin-1 as such files come."""
    from detainees.write.exports.package import render

    data = ImportFile(rows, seed, register=register)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in render(data.table_rows()).items():
        if register and name.endswith(".csv"):
            content = content.decode("utf-8").encode("latin-1")
        (directory / name).write_bytes(content)
    return data.counts()


def main(argv=None) -> int:
    import os

    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--register", action="store_true", help="dates and kinds as a register writes them"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    django.setup()
    counts = write_import_file(
        args.directory, rows=args.rows, seed=args.seed, register=args.register
    )
    print(f"{sum(counts.values()):,} rows: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
