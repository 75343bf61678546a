"""ISAF Joint Command press releases on kill/capture raids, 2009-2013 (data/isaf-press-releases).

Each row of the CSV is one press release (or one item of an operational update) with the event it
reports, as coded by Alex Strick van Linschoten: a date, a province, target groups and minimum
counts of people captured and killed. `import_isaf()` makes of each row:

- a published press-release `Source`, ISAF as publisher, keyed by ISAF's reference number. Rows
  that share a reference are items of one release (an operational update), so they share the
  source, whose full text holds every item in file order. Rows without a reference are keyed on
  their date and a hash of their text.
- one published `Event`, keyed on a hash of the row's text: a capture when the coding says anyone
  was captured (`captureq`, or `min_captured` above 0), otherwise a strike (a raid, air strike or
  firefight with no capture). Its place is the district named in the text when the text puts it
  in the coded province, else the province; the forces and target groups are `EventOrganization`
  rows; the minimum number captured (killed, for a strike) is the count of unnamed people.
- a `Citation` tying the event to its source with the sentence that reports it.

Places, target groups and forces already in the database are reused, matched on spelling
skeletons (`detainees.read.search.name_key`), never renamed. Everything is checked before anything is
written, and everything is written in one transaction: a bad row stops the import with its line
number and leaves the database as it was. A second run over the same file writes nothing.
"""

import csv
import hashlib
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction

from detainees.domain.fuzzydates import FuzzyDate
from detainees.domain.models import (
    Citation,
    ClaimStatus,
    Event,
    EventOrganization,
    Organization,
    OrganizationName,
    Place,
    PublicationStatus,
    Source,
)
from detainees.read.search import name_key
from detainees.write import services
from detainees.write.gazetteer import read_isaf_coordinates

DEFAULT_PATH = Path(settings.BASE_DIR) / "data" / "isaf-press-releases" / "isaf_press_releases.csv"

COLUMNS = (
    "eventrefnumber",
    "start_date",
    "event_type",
    "province",
    "target_group",
    "min_killed",
    "min_captured",
    "min_leaders_killed",
    "min_leaders_captured",
    "killq",
    "captureq",
    "killcaptureraid",
    "airstrike",
    "noshotsfired",
    "name",
    "text",
)
COUNTS = ("min_killed", "min_captured", "min_leaders_killed", "min_leaders_captured")
FLAGS = ("killq", "captureq", "killcaptureraid", "airstrike", "noshotsfired")
EVENT_TYPES = {
    "detention",
    "captureandkill",
    "insurgentskilled",
    "airstrike",
    "civiliancasualty",
    "exchangeoffire",
}

DATASET = "ISAF press releases"
RIGHTS = (
    "Text: ISAF Joint Command press release, NATO/ISAF public information. Event coding (event "
    "type, province, target group, minimum counts of people captured and killed): the dataset "
    "“ISAF press releases” (strickvl/isafpressreleases) by Alex Strick van Linschoten, the basis "
    "of the Afghanistan Analysts Network report “A Knock on the Door: 22 Months of ISAF Press "
    "Releases”, licensed CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/)."
)
KEY_PREFIX = "isaf:"

# Province codes of the coding, with the spellings ISAF's texts use for them.
PROVINCES = {
    "badakhshan": ("Badakhshan", []),
    "badghis": ("Badghis", []),
    "baghlan": ("Baghlan", []),
    "balkh": ("Balkh", []),
    "bamyan": ("Bamyan", ["Bamiyan"]),
    "day_kundi": ("Daykundi", ["Day Kundi", "Daikundi"]),
    "farah": ("Farah", []),
    "faryab": ("Faryab", []),
    "ghazni": ("Ghazni", ["Ghanzi"]),
    "ghor": ("Ghor", []),
    "helmand": ("Helmand", []),
    "herat": ("Herat", []),
    "jowzjan": ("Jowzjan", ["Jawzjan", "Jowzjan"]),
    "kabul": ("Kabul", []),
    "kandahar": ("Kandahar", []),
    "kapisa": ("Kapisa", []),
    "khost": ("Khost", ["Khowst"]),
    "kunar": ("Kunar", []),
    "kunduz": ("Kunduz", ["Konduz"]),
    "laghman": ("Laghman", []),
    "logar": ("Logar", []),
    "nangarhar": ("Nangarhar", []),
    "nimroz": ("Nimroz", []),
    "nuristan": ("Nuristan", []),
    "paktya": ("Paktia", ["Paktiya", "Paktya"]),
    "paktika": ("Paktika", []),
    "panjshir": ("Panjshir", []),
    "parwan": ("Parwan", []),
    "samangan": ("Samangan", []),
    "sar_e_pul": ("Sar-e Pol", ["Sar-e Pul", "Sari Pul"]),
    "takhar": ("Takhar", []),
    "uruzgan": ("Uruzgan", ["Oruzgan", "Urozgan"]),
    "wardak": ("Wardak", ["Maidan Wardak"]),
    "zabul": ("Zabul", []),
}
# Values that say only "somewhere in Afghanistan".
NO_PROVINCE = {"", "??", "southern afghanistan", "afghanistan"}

# Target-group codes: name, abbreviation, other names (spelling variants, abbreviations).
GROUPS = {
    "taliban": ("Taliban", "", [("Taleban", "spelling")]),
    "haqqani": ("Haqqani Network", "", [("Haqqani", "alias")]),
    "aq": ("al Qaeda", "", [("al-Qaeda", "spelling"), ("al-Qaida", "spelling")]),
    "hig": (
        "Hezb-e Islami Gulbuddin",
        "HIG",
        [("Hizb-i-Islami Gulbuddin", "spelling"), ("Hezb-i-Islami Gulbuddin", "spelling")],
    ),
    "imu": ("Islamic Movement of Uzbekistan", "IMU", []),
    "let": ("Lashkar-e-Taiba", "LeT", [("Lashkar-e-Tayyiba", "spelling")]),
    "iju": ("Islamic Jihad Union", "IJU", []),
    "ttp": ("Tehrik-i-Taliban Pakistan", "TTP", [("Pakistani Taliban", "alias")]),
    "hik": ("Hezb-e Islami Khalis", "HIK", []),
}
# Spellings of one district that spelling skeletons do not bring together; the first is ISAF's
# most frequent spelling, or the usual one.
DISTRICT_SPELLINGS = {
    variant: name
    for name, variants in {
        "Jaldak": ["Jaldek"],
        "Marjah": ["Marjeh"],
        "Lashkar Gah": ["Lashkar Gar", "Lashkar Ghar"],
        "Tarin Kot": ["Tarin Kowt", "Tarin Kwot"],
        "Zharay": ["Zhari", "Jharai"],
        "Sayyidabad": ["Sayed Abad"],
        "Surobi": ["Sarobi"],
        "Alishang": ["Alisheng"],
        "Musa Qal’ah": ["Musa Qualah"],
        "Nahr-e Saraj": ["Narh-e Saraj"],
    }.items()
    for variant in variants
}
# Coded targets that are no organization.
NOT_GROUPS = {"criminal", "criminals", "other"}

_WORD = r"[‘'’]?[A-Z][\w'’-]*"  # "Nad ‘Ali" too
_NAME = rf"{_WORD}(?: {_WORD}){{0,3}}"
# "in Khanabad district, Kunduz province", "the Dara Soof Payan district of Samangan province".
DISTRICT_IN_PROVINCE = re.compile(
    rf"(?<![\w'’-])({_NAME}) [Dd]istrict(?:,| of| in)? (?:the )?({_NAME}) [Pp]rovince"
)
_LEADING_WORDS = re.compile(r"^(?:(?:In|The|During|Also|Near|And)\s+)+")
# A sentence ends at . ! or ?, perhaps inside quotes, before a capital; "U.S. Army" is split.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][”\"’)]))\s+(?=[A-Z“\"(])")
# A line broken inside a sentence, as in the 2009 releases: the next line goes on in lower case.
_WRAPPED = re.compile(r"[\n\r\u2028\u2029]+(?=[a-z])")
_LINE_BREAK = re.compile(r"[\n\r\u2028\u2029]+")
# "KABUL, Afghanistan (Jan. 25, 2013) –" before the first sentence.
_DATELINE_PREFIX = re.compile(r"^[A-Z][A-Za-z .]*, Afghanistan \([^)]*\)\s*[–—-]?\s*")
# Lines that head a release rather than tell of the event.
_HEADER = re.compile(
    r"For Immediate Release|ISAF Joint Command|Operational Update|Download PDF|NEWS RELEASE"
    r"|^\d{4}-\d{2}-[A-Z]+"
)
_DATELINE = re.compile(r"\(([A-Z][a-z]{2,8})\.? (\d{1,2})(?:, (\d{4}))?\)")
MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_AFGHAN_FORCE = re.compile(
    r"Afghan(?:-led|-international|-ISAF|-coalition| and coalition| and international"
    r"| National (?:Security|Army|Police|Civil Order)| security| forces?| Border| Local Police"
    r"| Uniform Police| [Cc]ommandos?| special| Special|, [Cc]oalition)|\bANSF\b|\bANA\b|\bANP\b"
    r"|\bMOI\b|joint Afghan",
)
_COALITION_FORCE = re.compile(
    r"coalition|Afghan-international|Afghan-ISAF|International Security Assistance Force|"
    r"international (?:security )?force|ISAF (?:patrol|force|aircraft|helicopter|combat|air)",
    re.IGNORECASE,
)


class BadRow(Exception):
    """A row the import cannot take; nothing has been written."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(f"line {line}: {message}")


@dataclass
class Row:
    line: int
    reference: str
    start: date
    event_types: list[str]
    province: str  # a key of PROVINCES, or "" for somewhere in Afghanistan
    province_as_coded: str
    groups: list[str]
    counts: dict[str, int]
    flags: dict[str, bool]
    text: str

    @property
    def is_capture(self) -> bool:
        return self.flags["captureq"] or self.counts["min_captured"] > 0

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def source_key(self) -> str:
        if self.reference:
            return f"{KEY_PREFIX}{self.reference}"
        return f"{KEY_PREFIX}{self.start.isoformat()}:{self.digest[:40]}"

    @property
    def event_key(self) -> str:
        return f"{KEY_PREFIX}event:{self.digest}"


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    rows: int = 0
    seconds: float = 0.0
    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def count(self, what: str, outcome: str, n: int = 1) -> None:
        tally = self.tallies[what]
        setattr(tally, outcome, getattr(tally, outcome) + n)

    @property
    def created(self) -> int:
        return sum(t.created for t in self.tallies.values())

    @property
    def updated(self) -> int:
        return sum(t.updated for t in self.tallies.values())

    @property
    def unchanged(self) -> int:
        return sum(t.unchanged for t in self.tallies.values())

    def __str__(self) -> str:
        lines = [f"ISAF press releases: {self.rows} rows in {self.seconds:.1f} s."]
        for what, t in self.tallies.items():
            lines.append(
                f"  {what}: {t.created} created, {t.updated} updated, {t.unchanged} unchanged"
            )
        lines.append(f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged.")
        return "\n".join(lines)


# --- Reading and checking ----------------------------------------------------------------------


def _flat(text: str) -> str:
    """The text on one line: line and paragraph separators and runs of spaces as one space."""
    return " ".join(text.replace("\u2028", " ").replace("\u2029", " ").split())


def _province_code(value: str) -> str | None:
    value = value.strip().lower()
    if value in NO_PROVINCE:
        return ""
    code = value.replace("-", "_").replace(" ", "_")
    return code if code in PROVINCES else None


def _parse_row(line: int, raw: dict) -> Row:
    def fail(message):
        raise BadRow(line, message)

    if None in raw or any(v is None for v in raw.values()):
        fail(f"expected {len(COLUMNS)} columns")
    text = raw["text"].strip()
    if not text:
        fail("the press release text is empty")
    try:
        start = date.fromisoformat(raw["start_date"].strip())
    except ValueError:
        fail(f"start_date {raw['start_date']!r} is not a date (YYYY-MM-DD)")
    counts = {}
    for name in COUNTS:
        value = raw[name].strip()
        if not value.isdigit():
            fail(f"{name} {value!r} is not a whole number of 0 or more")
        counts[name] = int(value)
    flags = {}
    for name in FLAGS:
        value = raw[name].strip().lower()
        if value not in ("true", "false"):
            fail(f"{name} {raw[name]!r} is neither True nor False")
        flags[name] = value == "true"
    event_types = [t.strip() for t in raw["event_type"].split(";") if t.strip()]
    unknown = [t for t in event_types if t not in EVENT_TYPES]
    if unknown:
        fail(f"unknown event_type {unknown[0]!r}")
    province = _province_code(raw["province"])
    if province is None:
        fail(f"unknown province {raw['province']!r}")
    groups = []
    for group in raw["target_group"].split(";"):
        group = " ".join(group.strip().lower().split())
        if group and group not in groups:
            groups.append(group)
    reference = raw["eventrefnumber"].strip()
    if len(reference) > 100:
        fail("eventrefnumber is longer than 100 characters")
    return Row(
        line=line,
        reference=reference,
        start=start,
        event_types=event_types,
        province=province,
        province_as_coded=raw["province"].strip(),
        groups=groups,
        counts=counts,
        flags=flags,
        text=text,
    )


def read_rows(path: Path | str) -> list[Row]:
    """Every row of the CSV, checked; raises BadRow with the line number of the first bad one."""
    rows, seen = [], {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise BadRow(1, f"missing column(s): {', '.join(missing)}")
        line = reader.line_num + 1
        try:
            for raw in reader:
                row = _parse_row(line, raw)
                if row.event_key in seen:
                    raise BadRow(line, f"the same press release text as line {seen[row.event_key]}")
                seen[row.event_key] = line
                rows.append(row)
                line = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as exc:
            raise BadRow(line, str(exc)) from exc
    return rows


# --- Reading the text --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _key(text: str) -> str:
    """A spelling skeleton with no spaces: 'Now Zad' and 'Nowzad', 'Musa Qal'ah' and 'Musa
    Qalah' meet."""
    return name_key(text).replace(" ", "")


PROVINCE_KEYS = {
    code: {_key(n) for n in (name, code.replace("_", " "), *aliases)}
    for code, (name, aliases) in PROVINCES.items()
}


# Any spelling of a province -> the skeleton of its name in PROVINCES.
PROVINCE_BY_SPELLING = {
    spelling: _key(PROVINCES[code][0]) for code, keys in PROVINCE_KEYS.items() for spelling in keys
}


def places_named(rows: list[Row]) -> set[tuple[str, str]]:
    """(province, district or "") for every place the rows put events at, as the import names
    them: what data/isaf-press-releases/place_coordinates.csv gives coordinates for."""
    places = set()
    for row in rows:
        if row.province:
            province = PROVINCES[row.province][0]
            district = district_in(row)
            places.add((province, district[0] if district else ""))
            places.add((province, ""))
    return places


def sentences(text: str) -> list[str]:
    """The text's sentences, each on one line; a line break always ends one."""
    out = []
    text = _WRAPPED.sub(" ", text)
    for line in _LINE_BREAK.split(text):
        line = _DATELINE_PREFIX.sub("", " ".join(line.split()))
        out += [piece.strip() for piece in _SENTENCE_END.split(line) if piece.strip()]
    return out


def district_in(row: Row) -> tuple[str, str] | None:
    """(district as written, the sentence naming it) when the text puts a district in the
    province the row is coded with."""
    if not row.province:
        return None
    for sentence in sentences(row.text):
        for match in DISTRICT_IN_PROVINCE.finditer(sentence):
            district = _LEADING_WORDS.sub("", match.group(1)).strip()
            district = DISTRICT_SPELLINGS.get(district, district)
            if district and _key(match.group(2)) in PROVINCE_KEYS[row.province]:
                return district, sentence
    return None


def quote_for(row: Row, district: tuple[str, str] | None) -> str:
    """The sentence that reports the event, word for word (spacing aside): the one naming the
    district, or else the first naming the province, or else the first after the headers."""
    if district:
        return district[1]
    body = [s for s in sentences(row.text) if not _HEADER.search(s) and len(s) > 40]
    # Headlines ("Combined Operation Secures Nuristan villages") have no full stop.
    body = [s for s in body if s[-1] in '.!?”"’'] or body
    if row.province:
        name, aliases = PROVINCES[row.province]
        spellings = [n.lower() for n in (name, *aliases)]
        for sentence in body:
            if any(spelling in sentence.lower() for spelling in spellings):
                return sentence
    return body[0] if body else _flat(row.text)


def published_date(row: Row) -> str:
    """The release's date from its dateline, '(Jan. 25, 2013)' or '(Feb. 16)' (the year then
    taken from the event's); failing that, only 'on or after the event'."""
    match = _DATELINE.search(_flat(row.text))
    month = MONTHS.get(match.group(1)[:3].lower()) if match else None
    if month:
        day = int(match.group(2))
        year = int(match.group(3)) if match.group(3) else row.start.year
        if not match.group(3) and month < row.start.month - 6:
            year += 1  # a January release of a December raid
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            pass
    return f"{row.start.isoformat()}/.."


def forces_in(row: Row) -> tuple[bool, bool]:
    """(coalition forces named, Afghan forces named) in the text's account of the operation."""
    text = _flat(row.text)
    return bool(_COALITION_FORCE.search(text)), bool(_AFGHAN_FORCE.search(text))


# --- Records it needs --------------------------------------------------------------------------


class _Registry:
    """Organizations and places, found by spelling skeleton or created, never renamed. A place
    gets the coordinates of data/isaf-press-releases/place_coordinates.csv when it is created,
    or when it is found without any; coordinates it has are never changed."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.coordinates = {
            (PROVINCE_BY_SPELLING.get(_key(province), _key(province)), _key(district)): found
            for (province, district), found in read_isaf_coordinates().items()
        }
        self.orgs = list(Organization.objects.prefetch_related("names"))
        self._org_cache: dict[str, Organization] = {}
        self.afghanistan = self._country()
        self._places: dict[tuple[int, str], Place] = {}
        for place in Place.objects.filter(
            models.Q(parent=self.afghanistan) | models.Q(parent__parent=self.afghanistan)
        ):
            self._places.setdefault((place.parent_id, _key(place.name)), place)

    def _country(self) -> Place:
        country = Place.objects.filter(kind=Place.Kind.COUNTRY, country="AF").first()
        if country:
            self.report.count("places", "unchanged")
            return country
        return self._new_place(name="Afghanistan", kind=Place.Kind.COUNTRY, country="AF")

    def _new_place(self, **values) -> Place:
        place = Place(status=PublicationStatus.PUBLISHED, **values)
        found = self._coordinates_of(place)
        if found is not None:
            place.latitude, place.longitude = found.latitude, found.longitude
        place.save()
        self.report.count("places", "created")
        return place

    def _located(self, place: Place) -> Place:
        """The place, given its coordinates from the ISAF data's file if it has none."""
        if place.latitude is None and (found := self._coordinates_of(place)) is not None:
            place.latitude, place.longitude = found.latitude, found.longitude
            place.save(update_fields=["latitude", "longitude"])
            self.report.count("places", "updated")
        return place

    def _coordinates_of(self, place: Place):
        """Its row of the coordinates file, by province (under any of its spellings) and
        district; none for a country."""
        if place.kind == Place.Kind.COUNTRY:
            return None
        if place.kind == Place.Kind.PROVINCE:
            province, district = place.name, ""
        else:
            province, district = place.parent.name, place.name
        province_key = PROVINCE_BY_SPELLING.get(_key(province), _key(province))
        return self.coordinates.get((province_key, _key(district)))

    def place(self, parent: Place, kind: str, name: str) -> Place:
        key = (parent.pk, _key(name))
        if key not in self._places:
            self._places[key] = self._new_place(name=name, kind=kind, parent=parent)
        return self._located(self._places[key])

    def province(self, code: str) -> Place:
        if not code:
            return self.afghanistan
        name, aliases = PROVINCES[code]
        for alias in (name, *aliases):
            found = self._places.get((self.afghanistan.pk, _key(alias)))
            if found and found.kind == Place.Kind.PROVINCE:
                return self._located(found)
        return self.place(self.afghanistan, Place.Kind.PROVINCE, name)

    def organization(
        self, name: str, *, abbreviation="", kind, parent=None, variants=(), country=""
    ) -> Organization:
        if name in self._org_cache:
            return self._org_cache[name]
        keys = {name_key(name), *(name_key(v) for v, _ in variants)}
        found = None
        for org in self.orgs:
            org_keys = {name_key(org.name), *(n.search_key for n in org.names.all())}
            if (abbreviation and org.abbreviation.lower() == abbreviation.lower()) or (
                keys & org_keys
            ):
                found = org
                break
        if found is None:
            found = Organization(
                name=name,
                abbreviation=abbreviation,
                kind=kind,
                parent=parent,
                country=country,
                status=PublicationStatus.PUBLISHED,
            )
            found.save()
            self.orgs.append(found)
            self.report.count("organizations", "created")
        else:
            self.report.count("organizations", "unchanged")
        have = {n.name.lower() for n in found.names.all()} if found.pk else set()
        for variant, variant_kind in variants:
            if variant.lower() not in have and variant.lower() != found.name.lower():
                OrganizationName(organization=found, name=variant, kind=variant_kind).save()
                self.report.count("organization names", "created")
        self._org_cache[name] = found
        return found

    def isaf(self) -> Organization:
        nato = self.organization(
            "North Atlantic Treaty Organization",
            abbreviation="NATO",
            kind=Organization.Kind.INTERNATIONAL_BODY,
        )
        return self.organization(
            "International Security Assistance Force",
            abbreviation="ISAF",
            kind=Organization.Kind.MILITARY_FORCE,
            parent=nato,
        )

    def afghan_forces(self) -> Organization:
        government = self.organization(
            "Government of Afghanistan", kind=Organization.Kind.STATE_AUTHORITY, country="AF"
        )
        return self.organization(
            "Afghan National Security Forces",
            abbreviation="ANSF",
            kind=Organization.Kind.MILITARY_FORCE,
            parent=government,
            country="AF",
        )

    def group(self, code: str) -> Organization | None:
        if code in NOT_GROUPS:
            return None
        name, abbreviation, variants = GROUPS.get(code, (code.title(), "", []))
        return self.organization(
            name, abbreviation=abbreviation, kind=Organization.Kind.ARMED_GROUP, variants=variants
        )


def _group_label(org: Organization, long: bool) -> str:
    if long:
        return f"{org.name} ({org.abbreviation})" if org.abbreviation else org.name
    return org.abbreviation or org.name


# --- What each row should be -------------------------------------------------------------------


@dataclass
class Planned:
    row: Row
    place: Place
    place_text: str
    groups: list[Organization]
    orgs: list[tuple[Organization, str, str]]  # (organization, role, note)
    event: dict
    citation: dict
    headline: str  # this event, for the source's title


def _plan(row: Row, registry: _Registry, isaf: Organization, ansf: Organization) -> Planned:
    province = registry.province(row.province)
    district = district_in(row)
    place = province
    if district:
        place = registry.place(province, Place.Kind.DISTRICT, district[0])
    if place.kind == Place.Kind.DISTRICT:
        place_text = f"{place.name} district, {province.name} province"
    elif place.kind == Place.Kind.PROVINCE:
        place_text = f"{place.name} province"
    else:
        place_text = "Afghanistan"
    groups = [g for g in (registry.group(code) for code in row.groups) if g is not None]

    coalition, afghan = forces_in(row)
    lead_role = (
        EventOrganization.Role.CAPTURING_FORCE
        if row.is_capture
        else EventOrganization.Role.CARRIED_OUT_BY
    )
    orgs = []
    if coalition or not afghan:
        orgs.append((isaf, lead_role, ""))
        if afghan:
            orgs.append((ansf, EventOrganization.Role.PARTNER_FORCE, ""))
    else:
        orgs.append((ansf, lead_role, ""))
    orgs += [(g, EventOrganization.Role.GROUP, "target of the operation") for g in groups]

    c = row.counts
    targets = ", ".join(_group_label(g, long=False) for g in groups)
    targeting = f", targeting {targets}" if targets else ""
    if row.is_capture:
        kind = Event.Kind.CAPTURE
        count, described = c["min_captured"], "people detained (at least this many)"
        who = f"at least {count} {'person' if count == 1 else 'people'}" if count else "people"
        summary = f"Capture of {who} in {place_text}{targeting}"
        headline = f"capture in {place_text}"
    else:
        kind = Event.Kind.STRIKE
        count, described = c["min_killed"], "people killed (at least this many)"
        killed = f": at least {count} killed" if count else ""
        summary = f"Strike or raid in {place_text}{killed}{targeting}"
        headline = f"strike or raid in {place_text}"
    if groups:
        headline += ", targeting " + ", ".join(_group_label(g, long=True) for g in groups)

    def yes(flag):
        return "yes" if row.flags[flag] else "no"

    coded_groups = "; ".join(row.groups) or "none"
    description = (
        f"As coded in the dataset “{DATASET}” (Alex Strick van Linschoten, CC BY-SA 4.0): "
        f"event type {', '.join(row.event_types) or 'none'}; province "
        f"{row.province_as_coded or 'none'}; target group {coded_groups}; at least "
        f"{c['min_captured']} captured ({c['min_leaders_captured']} of them leaders) and at least "
        f"{c['min_killed']} killed ({c['min_leaders_killed']} of them leaders); kill-capture raid: "
        f"{yes('killcaptureraid')}; air strike: {yes('airstrike')}; no shots fired: "
        f"{yes('noshotsfired')}."
    )
    edtf = row.start.isoformat()
    bounds = FuzzyDate.from_edtf(edtf)
    event = {
        "kind": kind,
        "summary": summary[:300],
        "description": description,
        "date": edtf,
        "date_earliest": bounds.earliest,
        "date_latest": bounds.latest,
        "place_id": place.pk,
        "unnamed_count": count,
        "unnamed_description": described if count else "",
        "claim_status": ClaimStatus.REPORTED,
        "status": PublicationStatus.PUBLISHED,
    }
    citation = {
        "quote": quote_for(row, district),
        "aspect": "what happened, when, where and against whom",
        "locator": "",
        "attribution": "",
    }
    return Planned(row, place, place_text, groups, orgs, event, citation, headline)


def _title(rows: list[Row], headlines: list[str]) -> str:
    first = rows[0]
    if first.reference:
        name = f"ISAF press release {first.reference}"
    else:
        day = date.fromisoformat(published_date(first)[:10])
        name = f"ISAF press release of {day.day} {day:%B %Y}"
    unique = list(dict.fromkeys(headlines))
    title = f"{name}: {'; '.join(unique)}"
    if len(title) > 500:
        title = title[:499].rsplit(" ", 1)[0] + "…"
    return title


def _source_values(rows: list[Row], headlines: list[str], isaf: Organization) -> dict:
    published = published_date(rows[0])
    bounds = FuzzyDate.from_edtf(published)
    texts = list(dict.fromkeys(r.text for r in rows))
    return {
        "kind": Source.Kind.PRESS_RELEASE,
        "title": _title(rows, headlines),
        "publisher_id": isaf.pk,
        "published": published,
        "published_earliest": bounds.earliest,
        "published_latest": bounds.latest,
        "language": "en",
        "reference_number": rows[0].reference,
        "full_text": "\n\n* * *\n\n".join(texts),
        "rights": RIGHTS,
        "status": PublicationStatus.PUBLISHED,
        "is_confidential": False,
    }


# --- Writing -----------------------------------------------------------------------------------


def _sync(model, report: ImportReport, label: str, existing: dict, wanted: dict) -> dict:
    """Create what is missing from `existing` (key -> row), update what differs, through
    `services.upsert_rows`; counts each outcome; returns key -> row for every wanted key."""
    result = services.upsert_rows(model, existing=existing, wanted=wanted)
    for outcome in ("unchanged", "created", "updated"):
        if getattr(result, outcome):
            report.count(label, outcome, getattr(result, outcome))
    return result.rows


@transaction.atomic
def import_isaf(path: Path | str = DEFAULT_PATH) -> ImportReport:
    """Import the press releases at `path`; all or nothing; a second run writes nothing."""
    began = time.monotonic()
    report = ImportReport()
    rows = read_rows(path)
    report.rows = len(rows)

    registry = _Registry(report)
    isaf, ansf = registry.isaf(), registry.afghan_forces()
    plans = [_plan(row, registry, isaf, ansf) for row in rows]

    # Sources: one per reference number (or per dated text, where there is none).
    by_source: dict[str, list[Planned]] = defaultdict(list)
    for plan in plans:
        by_source[plan.row.source_key].append(plan)
    wanted_sources = {
        key: {
            "import_key": key,
            **_source_values([p.row for p in group], [p.headline for p in group], isaf),
        }
        for key, group in by_source.items()
    }
    existing = {s.import_key: s for s in Source.objects.filter(import_key__in=wanted_sources)}
    # A release a researcher entered by hand, with ISAF's reference, is taken over, not doubled.
    by_reference = {
        values["reference_number"]: key
        for key, values in wanted_sources.items()
        if values["reference_number"] and key not in existing
    }
    for source in Source.objects.filter(publisher=isaf, reference_number__in=by_reference):
        existing[by_reference[source.reference_number]] = source
    sources = _sync(Source, report, "sources", existing, wanted_sources)

    # Events: one per row.
    wanted_events = {
        plan.row.event_key: plan.event | {"import_key": plan.row.event_key} for plan in plans
    }
    existing = {e.import_key: e for e in Event.objects.filter(import_key__in=wanted_events)}
    events = _sync(Event, report, "events", existing, wanted_events)

    # Citations: the event's sentence in its release.
    wanted_citations, wanted_links = {}, {}
    for plan in plans:
        event, source = events[plan.row.event_key], sources[plan.row.source_key]
        group = by_source[plan.row.source_key]
        citation = dict(plan.citation)
        if len(group) > 1:
            citation["locator"] = f"item {group.index(plan) + 1} of {len(group)}"
        wanted_citations[(event.pk, source.pk)] = {
            "event_id": event.pk,
            "source_id": source.pk,
            **citation,
        }
        for org, role, note in plan.orgs:
            wanted_links[(event.pk, org.pk, role)] = {
                "event_id": event.pk,
                "organization_id": org.pk,
                "role": role,
                "note": note,
            }
    event_ids = [e.pk for e in events.values()]
    existing = {}
    for citation in Citation.objects.filter(event_id__in=event_ids).order_by("pk"):
        existing.setdefault((citation.event_id, citation.source_id), citation)
    _sync(Citation, report, "citations", existing, wanted_citations)
    existing = {
        (link.event_id, link.organization_id, link.role): link
        for link in EventOrganization.objects.filter(event_id__in=event_ids)
    }
    _sync(EventOrganization, report, "organizations in events", existing, wanted_links)

    if report.created or report.updated:
        # Inside the import's transaction: ANALYZE counts the rows this transaction wrote, and
        # its statistics are committed (or rolled back) with them.
        _analyze()
    report.seconds = time.monotonic() - began
    return report


def _analyze() -> None:
    """Refresh the planner's statistics of the tables the import filled.

    Until autovacuum gets to them, PostgreSQL plans on the figures of the empty tables: the
    facet counts of /events/ (`facet_counts`, an IN over the selection) then took 30-40 s
    instead of 10 ms after the first import.
    """
    models_written = (
        Source,
        Event,
        Citation,
        EventOrganization,
        Place,
        Organization,
        OrganizationName,
    )
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models_written)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
