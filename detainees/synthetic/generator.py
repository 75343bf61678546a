"""Rows of a synthetic dataset, made from one seeded random generator.

The generator writes plain dicts keyed by column attribute names (`person_id`, not `person`),
one list per model, and hands them over in blocks so memory stays flat at any size: first the
reference data (places, organizations, facilities and their handovers, sources, batches), then
people with their names, affiliations and timelines, a block of people at a time. Primary keys
are assigned here, so rows can reference each other before they reach the database.

Everything random comes from one `random.Random(seed)`, drawn in a fixed order; nothing reads
the clock or iterates over a set, so one seed gives the same rows on every run.
"""

import bisect
import functools
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from random import Random

from django.utils.text import slugify

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    Event,
    EventOrganization,
    EventPerson,
    Facility,
    FacilityControl,
    Nationality,
    Organization,
    OrganizationName,
    Person,
    PersonName,
    Place,
    ReleaseBatch,
    Source,
)
from detainees.read.search import name_key

from . import words
from .dates import PRECISIONS, blur

# Written at the start of every synthetic record's internal notes: how the command tells its
# own data from researchers' (see detainees.synthetic.loader.check_only_synthetic).
MARKER = "Synthetic record written by generate_dataset."

FIRST_DAY = date(2001, 10, 7)
LAST_DAY = date(2025, 12, 31)
PEOPLE_PER_BLOCK = 1000

# Shares out of 100 (or weights) of the choices the generator makes.
# With FORCED_STATUSES, a tenth of each table is unpublished.
STATUS_WEIGHTS = (("published", 93), ("draft", 4), ("in_review", 2), ("withdrawn", 1))
WITHDRAWAL_REASONS = (
    "Withdrawn: the only source was retracted.",
    "Withdrawn: a duplicate of another record.",
    "Withdrawn: the identification could not be confirmed.",
)
CLAIM_WEIGHTS = (
    ("confirmed", 25),
    ("reported", 55),
    ("inferred", 8),
    ("disputed", 8),
    ("retracted", 4),
)
EVENT_PRECISION_WEIGHTS = (45, 18, 10, 5, 5, 7, 4, 2, 4)  # in the order of dates.PRECISIONS
BIRTH_PRECISIONS = (("year", 40), ("approximate", 30), ("unknown", 25), ("day", 5))
SOURCE_PRECISIONS = (("day", 85), ("month", 8), ("year", 4), ("unknown", 3))
OFFICIAL_CAPACITIES = (
    ("president", "President of Afghanistan"),
    ("adr", "Chair of the Afghan Review Board"),
    ("moj", "Minister of Justice"),
    ("supreme", "Chief Justice"),
    ("pkgov", "Interior Minister of Pakistan"),
)


def _cumulative(pairs):
    values, weights = zip(*pairs, strict=True)
    total, cumulative = 0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return values, cumulative


FORCED_STATUSES = {47: "draft", 48: "in_review", 49: "withdrawn"}
BIRTH_CHOICES = _cumulative(BIRTH_PRECISIONS)
SOURCE_CHOICES = _cumulative(SOURCE_PRECISIONS)


@functools.cache
def _has_public_id(model) -> bool:
    """Records and, since links are cited and exported on their own, most link rows too."""
    return any(f.name == "public_id" for f in model._meta.concrete_fields)


class Generator:
    """Synthetic rows for `persons` people and exactly `events` events, from `seed`."""

    def __init__(self, *, persons: int, events: int, seed: int, now: datetime):
        if persons < 1 or events < 0:
            raise ValueError("Give at least one person and no negative number of events.")
        self.persons, self.events, self.seed = persons, events, seed
        self.rng = Random(seed)
        self.notes = f"{MARKER} Seed {seed}."
        self.now, self.tick = now, 0
        self.ids = defaultdict(int)
        self.slugs = defaultdict(set)
        self.slug_numbers = defaultdict(dict)
        self.rows = defaultdict(list)
        self._statuses = _cumulative(STATUS_WEIGHTS)
        self._claims = _cumulative(CLAIM_WEIGHTS)
        self._precisions = (
            PRECISIONS,
            _cumulative(zip(PRECISIONS, EVENT_PRECISION_WEIGHTS, strict=True))[1],
        )
        self._release_kinds = _cumulative(words.RELEASE_KIND_SHARES)
        self._countries = _cumulative([(c, share) for c, _, share in words.COUNTRIES])
        self._keys = {}

    # --- small helpers ------------------------------------------------------------------------

    def pick(self, weighted):
        values, cumulative = weighted
        return self.rng.choices(values, cum_weights=cumulative)[0]

    def precision(self) -> str:
        return self.pick(self._precisions)

    def blur(self, day: date, precision: str | None = None):
        return blur(day, precision or self.precision(), self.rng.randrange(24))

    def uuid(self) -> uuid.UUID:
        # Version 8 ("custom"): researchers' records get version 4 from uuid4(), so a synthetic
        # public id is recognizable even in a tombstone, after its record is gone.
        bits = self.rng.getrandbits(128)
        bits = (bits & ~(0xF << 76)) | (0x8 << 76)
        bits = (bits & ~(0x3 << 62)) | (0x2 << 62)
        return uuid.UUID(int=bits)

    def stamp(self) -> datetime:
        # Distinct, increasing creation times keep the API's cursor pages (on -created) cheap.
        self.tick += 1
        return self.now + timedelta(microseconds=self.tick)

    def key(self, name: str) -> str:
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = name_key(name)
        return key

    def slug(self, model, text: str) -> str:
        """Like models.common.unique_slug, without a query per row."""
        base = slugify(text)[:80].strip("-") or "record"
        taken, next_number = self.slugs[model], self.slug_numbers[model]
        if base not in taken:
            taken.add(base)
            return base
        n = next_number.get(base, 2)
        while f"{base}-{n}" in taken:
            n += 1
        next_number[base] = n + 1
        taken.add(f"{base}-{n}")
        return f"{base}-{n}"

    def status(self, row_id: int, *, forced_only=False) -> str:
        # Three rows in a hundred take each unpublished status in turn, so that even a small
        # dataset has every status in every table.
        status = "published" if forced_only else self.pick(self._statuses)
        return FORCED_STATUSES.get(row_id % 100, status)

    def claim(self) -> str:
        return self.pick(self._claims)

    def add(self, model, **fields) -> int:
        self.ids[model] += 1
        fields["id"] = self.ids[model]
        if "public_id" not in fields and _has_public_id(model):
            fields["public_id"] = self.uuid()
        if fields.get("status") == "withdrawn" and not fields.get("withdrawal_reason"):
            fields["withdrawal_reason"] = self.rng.choice(WITHDRAWAL_REASONS)
        self.rows[model].append(fields)
        return fields["id"]

    def add_record(self, model, status: str | None = None, **fields) -> int:
        """A Publishable row: public id, publication status, the synthetic marker, timestamps."""
        created = self.stamp()
        status = status or self.status(self.ids[model] + 1)
        return self.add(
            model,
            public_id=self.uuid(),
            status=status,
            internal_notes=self.notes,
            created=created,
            updated=created,
            **fields,
        )

    def day_between(self, first: date, last: date) -> date:
        return date.fromordinal(self.rng.randint(first.toordinal(), last.toordinal()))

    def take(self):
        """The rows made since the last call, by model."""
        rows, self.rows = self.rows, defaultdict(list)
        return rows

    # --- the dataset --------------------------------------------------------------------------

    def blocks(self):
        """(rows by model, events in them) for the reference data, then each block of people."""
        self.make_places()
        self.make_organizations()
        self.make_facilities()
        self.make_sources()
        self.make_batches()
        yield self.take(), 0
        self.people = People(self)
        for start in range(0, self.persons, PEOPLE_PER_BLOCK):
            made = self.people.make(start, min(self.persons, start + PEOPLE_PER_BLOCK))
            yield self.take(), made

    def make_places(self):
        rng = self.rng
        self.countries = {}  # ISO code -> place id
        self.districts = defaultdict(list)  # ISO code -> [(place id, label)]
        self.provinces = defaultdict(list)  # ISO code -> [(place id, name)]
        for code, name, _ in words.COUNTRIES:
            self.countries[code] = self.place(name, "country", None, code)
        for code, provinces in words.PROVINCES.items():
            for province in provinces:
                province_id = self.place(province, "province", self.countries[code], code)
                self.provinces[code].append((province_id, province))
                for district in rng.sample(words.DISTRICT_NAMES, rng.randint(3, 8)):
                    district_id = self.place(district, "district", province_id, code)
                    self.districts[code].append((district_id, district))
                    if rng.random() < 0.3:
                        prefix = rng.choice(words.LOCALITY_PREFIXES)
                        family = rng.choice(words.FAMILY_NAMES)[0].removeprefix("al-")
                        locality = self.place(f"{prefix} {family}", "locality", district_id, code)
                        self.districts[code].append((locality, f"{prefix} {family}"))

    def place(self, name, kind, parent_id, country) -> int:
        latitude = longitude = None
        if country in ("AF", "PK") and self.rng.random() < 0.6:
            latitude = f"{self.rng.uniform(29.5, 37.5):.5f}"
            longitude = f"{self.rng.uniform(61.0, 71.5):.5f}"
        return self.add_record(
            Place,
            name=name,
            kind=kind,
            parent_id=parent_id,
            country=country,
            slug=self.slug(Place, f"{name} {kind}"),
            latitude=latitude,
            longitude=longitude,
            search_key=self.key(name),
        )

    def organization(self, name, abbreviation, kind, parent_id, country, description="") -> int:
        org_id = self.add_record(
            Organization,
            name=name,
            abbreviation=abbreviation,
            slug=self.slug(Organization, abbreviation or name),
            kind=kind,
            parent_id=parent_id,
            country=country,
            description=description,
            search_key=self.key(name),
        )
        if abbreviation:
            self.organization_name(org_id, abbreviation, "abbreviation")
        return org_id

    def organization_name(self, org_id, name, kind, language=""):
        self.add(
            OrganizationName,
            organization_id=org_id,
            name=name,
            kind=kind,
            language=language,
            search_key=self.key(name),
        )

    def make_organizations(self):
        self.orgs = {}
        for key, name, abbreviation, kind, parent, country in words.ORGANIZATIONS:
            parent_id = self.orgs[parent] if parent else None
            self.orgs[key] = self.organization(name, abbreviation, kind, parent_id, country)
        self.governments = {"AF": self.orgs["afgov"], "PK": self.orgs["pkgov"]}
        self.governments["UZ"] = self.orgs["uzgov"]
        for code, name, _ in words.COUNTRIES:
            if code not in self.governments:
                self.governments[code] = self.organization(
                    f"Government of {name}", "", "state_authority", None, code
                )
        self.organization_name(self.orgs["taliban"], "Islamic Emirate of Afghanistan", "alias")
        self.organization_name(self.orgs["taliban"], "طالبان", "original_script", "ps-Arab")
        self.organization_name(
            self.orgs["imu"], "O'zbekiston Islomiy Harakati", "translation", "uz"
        )
        self.organization_name(self.orgs["haqqani"], "Haqani Network", "spelling")
        self.organization_name(self.orgs["nds"], "Riyasat-e Amniyat-e Milli", "translation", "fa")
        self.local_bodies = defaultdict(dict)  # province -> role -> org id
        for _, province in self.provinces["AF"]:
            bodies = self.local_bodies[province]
            bodies["police"] = self.organization(
                f"{province} Provincial Police", "", "police", self.orgs["anp"], "AF"
            )
            bodies["nds"] = self.organization(
                f"NDS {province}", "", "intelligence_service", self.orgs["nds"], "AF"
            )
            bodies["court"] = self.organization(
                f"{province} Provincial Court", "", "court", self.orgs["supreme"], "AF"
            )
            self.organization_name(bodies["police"], f"{province} Police", "alias")
        for _, province in self.provinces["PK"]:
            self.local_bodies[province]["police"] = self.organization(
                f"{province} Police", "", "police", self.orgs["pkgov"], "PK"
            )
        self.outlets = []
        for name, abbreviation, domain, language in words.MEDIA_OUTLETS:
            org_id = self.organization(name, abbreviation, "media_outlet", None, "")
            self.outlets.append((org_id, name, domain, language))

    def make_facilities(self):
        rng = self.rng
        self.facilities = []  # (id, name, country, place id, [(start, end, controller)])
        self.facilities_in = defaultdict(list)  # ISO code -> indexes into self.facilities
        self.controls = []  # (facility control id, start day) for citations
        us = [self.orgs["usfor"], self.orgs["tf435"]]
        afghan = [self.orgs["mod"], self.orgs["moj"]]

        def facility(name, kind, country, place_id, controllers, handover=None):
            facility_id = self.add_record(
                Facility,
                name=name,
                slug=self.slug(Facility, name),
                kind=kind,
                place_id=place_id,
                description=f"{name}, a {kind.replace('_', ' ')} in the synthetic dataset.",
                search_key=self.key(name),
            )
            periods = self.facility_controls(facility_id, controllers, handover)
            self.facilities_in[country].append(len(self.facilities))
            self.facilities.append((facility_id, name, country, place_id, periods))

        parwan = next(p for p in self.provinces["AF"] if p[1] == "Parwan")
        # Not "Parwan Detention Facility": load_demo looks that up by name, and would add its
        # own controllers to ours, overlapping them.
        facility(
            "Detention Facility in Parwan",
            "detention_facility",
            "AF",
            parwan[0],
            [rng.choice(us), self.orgs["mod"]],
            handover=date(2013, 3, 25),
        )
        for i, (province_id, province) in enumerate(self.provinces["AF"]):
            facility(
                f"{province} Provincial Prison",
                "prison",
                "AF",
                province_id,
                [self.orgs["moj"]] + ([self.orgs["moi"]] if i % 3 == 0 else []),
            )
            if i % 2 == 0:
                facility(
                    f"NDS {province} Detention Centre",
                    "intelligence_site",
                    "AF",
                    province_id,
                    [self.local_bodies[province]["nds"]],
                )
        for i, operation in enumerate(words.OPERATIONS[:8]):
            district_id, _ = self.districts["AF"][i * 7 % len(self.districts["AF"])]
            facility(
                f"Forward Operating Base {operation}",
                "military_base",
                "AF",
                district_id,
                [rng.choice(us), rng.choice(afghan)],
            )
        for district_id, district in self.districts["AF"][::6]:
            facility(
                f"{district} District Detention Centre",
                "detention_facility",
                "AF",
                district_id,
                [self.orgs["moi"]],
            )
        for code, provinces in self.provinces.items():
            if code == "AF":
                continue
            for province_id, province in provinces:
                facility(
                    f"Central Jail {province}", "jail", code, province_id, [self.governments[code]]
                )

    def facility_controls(self, facility_id, controllers, handover):
        """One period per controller; each handover, dated to the month, ends one and starts
        the next, so no two controllers certainly hold the facility at once."""
        rng = self.rng
        start = self.day_between(date(2001, 1, 1), date(2005, 12, 31))
        changes = [handover] if handover else []
        while len(changes) < len(controllers) - 1:
            last = changes[-1] if changes else date(2007, 1, 1)
            changes.append(self.day_between(last + timedelta(days=62), last + timedelta(days=2000)))
        periods = []
        start_text, start_earliest, start_latest = blur(start, "year")
        for i, controller in enumerate(controllers):
            if i < len(changes):
                end_text, end_earliest, end_latest = blur(changes[i], "month")
                end_day = changes[i]
            else:
                end_text = end_earliest = end_latest = end_day = None
            control_id = self.add(
                FacilityControl,
                facility_id=facility_id,
                controller_id=controller,
                start=start_text,
                start_earliest=start_earliest,
                start_latest=start_latest,
                end=end_text or "",
                end_earliest=end_earliest,
                end_latest=end_latest,
                claim_status=rng.choice(("confirmed", "reported", "reported")),
                note="Handed over; see the cited statement." if end_text else "",
            )
            self.controls.append((control_id, start))
            periods.append((start, end_day, controller))
            if end_text:
                start = end_day
                start_text, start_earliest, start_latest = end_text, end_earliest, end_latest
        return periods

    def make_sources(self):
        rng = self.rng
        count = max(60, self.events // 10)
        days = sorted(self.day_between(FIRST_DAY, LAST_DAY) for _ in range(count))
        self.source_ids, self.source_days = [], []
        references = defaultdict(int)
        kinds = [kind for kind, _ in Source.Kind.choices]
        for i, day in enumerate(days):
            kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
            outlet_id, outlet, domain, language = rng.choice(self.outlets)
            publisher, reference = outlet_id, ""
            if kind == "press_release":
                publisher = self.orgs["isaf"]
                month = f"{day.year}-{day.month:02d}"
                references[month] += 1
                reference = f"{month}-S-{references[month]:03d}"
                domain, language = "isaf.example", "en"
            elif kind in ("official_statement", "government_document"):
                publisher = self.orgs[rng.choice(("nds", "moi", "president", "mod"))]
                domain = "gov.af.example"
            elif kind == "ngo_report":
                publisher = self.orgs[rng.choice(("hrw", "aan", "unama", "icrc", "aihrc"))]
                domain, language = "ngo.example", "en"
            elif kind in ("court_document", "detainee_list"):
                publisher = self.orgs[rng.choice(("supreme", "tf435", "usfor"))]
                domain = "records.example"
            given = rng.choice(words.GIVEN_NAMES)[0]
            province = rng.choice(self.provinces["AF"])[1]
            title = (
                f"{rng.choice(words.ARMED_GROUPS).title()} {rng.choice(words.ROLES)} "
                f"{given} {rng.choice(('detained', 'released', 'freed', 'held', 'killed'))} "
                f"in {province}"
            )
            precision = self.pick(SOURCE_CHOICES)
            published, earliest, latest = blur(day, precision)
            confidential = rng.random() < 0.02
            status = self.status(len(self.source_ids) + 1)
            if confidential and status == "published":
                status = "in_review"
            url = f"https://{domain}/{day.year}/{day.month:02d}/{slugify(title)}-{i + 1}"
            source_id = self.add_record(
                Source,
                status=status,
                kind=kind,
                title=title,
                publisher_id=publisher,
                author=f"{rng.choice(words.GIVEN_NAMES)[0]} {rng.choice(words.FAMILY_NAMES)[0]}"
                if rng.random() < 0.5
                else "",
                url="" if confidential else url,
                archived_url=f"https://archive.example/{day:%Y%m%d}/{url}"
                if rng.random() < 0.3 and not confidential
                else "",
                published=published,
                published_earliest=earliest,
                published_latest=latest,
                language=language,
                reference_number=reference,
                is_confidential=confidential,
                summary="" if rng.random() < 0.5 else f"Reports on detentions in {province}.",
            )
            self.source_ids.append(source_id)
            self.source_days.append(day)
        for control_id, start in self.controls:
            self.cite(start, facility_control_id=control_id)

    def make_batches(self):
        rng = self.rng
        self.batches = []  # (day, id, EDTF, earliest, latest), by day
        days = sorted(
            self.day_between(date(2005, 1, 1), date(2020, 12, 31))
            for _ in range(max(4, self.events // 5000))
        )
        orderers = ("president", "adr", "supreme", "pkgov")
        for day in days:
            precision = rng.choice(("day", "day", "month"))
            text, earliest, latest = blur(day, precision)
            considered = rng.randint(20, 300)
            released = rng.randint(1, considered)
            facility = self.facilities[rng.choice(self.facilities_in["AF"])][1]
            title = f"Release of {released} detainees from {facility}"
            batch_id = self.add_record(
                ReleaseBatch,
                title=title,
                slug=self.slug(ReleaseBatch, title),
                date=text,
                date_earliest=earliest,
                date_latest=latest,
                ordered_by_id=self.orgs[rng.choice(orderers)],
                carried_out_by_id=self.orgs[rng.choice(("moj", "tf435", "mod", "nds"))],
                declared_considered=considered if rng.random() < 0.8 else None,
                declared_released=released,
                description=f"{considered} detainees were reviewed; {released} were freed."
                if rng.random() < 0.5
                else "",
                claim_status=self.claim(),
            )
            self.batches.append((day, batch_id, text, earliest, latest))
            self.cite(day, batch_id=batch_id)
        self.batch_days = [b[0] for b in self.batches]

    def cite(self, day: date | None, quote: str = "", **fact) -> None:
        """A citation of the fact given as `<fact>_id=`, to a source from after `day`."""
        rng = self.rng
        n = len(self.source_ids)
        first = bisect.bisect_left(self.source_days, day) if day else 0
        index = rng.randrange(first, n) if first < n else rng.randrange(n)
        source_day = self.source_days[index]
        accessed = None
        if rng.random() < 0.7:
            accessed = min(LAST_DAY, source_day + timedelta(days=rng.randrange(400)))
        roll = rng.random()
        locator = (
            f"paragraph {rng.randint(1, 25)}"
            if roll < 0.8
            else (f"p. {rng.randint(1, 60)}" if roll < 0.9 else "")
        )
        attribution = ""
        if rng.random() < 0.25:
            outlet = rng.choice(self.outlets)[1]
            attribution = rng.choice(words.ATTRIBUTIONS).format(outlet=outlet)
        self.add(
            Citation,
            source_id=self.source_ids[index],
            quote=quote,
            locator=locator,
            accessed_on=accessed,
            attribution=attribution,
            aspect="",
            internal_notes="",
            created=(created := self.stamp()),
            updated=created,
            **fact,
        )


class People:
    """People, their names, nationalities and affiliations, and their timelines of events."""

    def __init__(self, gen: Generator):
        self.gen = gen
        self.rng = gen.rng
        self.officials = max(len(OFFICIAL_CAPACITIES), gen.persons // 200)
        self.officials = min(self.officials, gen.persons - 1) if gen.persons > 1 else 0
        self.events_left = gen.events
        self.storytellers = gen.persons - self.officials  # people with a timeline

    def make(self, start: int, stop: int) -> int:
        made = 0
        for index in range(start, stop):
            made += self.person(index)
        return made

    # --- a person and what is said about them -------------------------------------------------

    def person(self, index: int) -> int:
        gen, rng = self.gen, self.rng
        person_id = index + 1
        official = index < self.officials
        placeholder = not official and index % 100 == 50  # one in a hundred, at any size
        status = gen.status(person_id)
        nationality = "AF" if official else gen.pick(gen._countries)
        born = gen.day_between(date(1950, 1, 1), date(1995, 12, 31))
        birth, birth_earliest, birth_latest = gen.blur(born, gen.pick(BIRTH_CHOICES))
        public_id = gen.uuid()
        names = [] if placeholder else self.names(official)
        primary = names[0][0] if names else ""
        slug = primary or f"person-{public_id.hex[:8]}"
        created = gen.stamp()
        gen.ids[Person] = person_id - 1
        gen.add(
            Person,
            public_id=public_id,
            status=status,
            internal_notes=gen.notes,
            created=created,
            updated=created,
            slug=gen.slug(Person, slug),
            gender="unknown" if placeholder else rng.choice(("male",) * 30 + ("female", "unknown")),
            birth=birth,
            birth_earliest=birth_earliest,
            birth_latest=birth_latest,
            biography=""
            if rng.random() < 0.5
            else f"{primary or 'This person'} was reported as a member of "
            f"{rng.choice(words.ARMED_GROUPS).title()} from {born.year + 20}.",
            is_placeholder=placeholder,
        )
        if rng.random() < 0.2:
            gen.cite(None, person_id=person_id)
        for i, (name, kind, language) in enumerate(names):
            name_id = gen.add(
                PersonName,
                person_id=person_id,
                name=name,
                kind=kind,
                is_primary=i == 0,
                language=language,
                claim_status=gen.claim() if i else rng.choice(("confirmed", "reported")),
                search_key=gen.key(name),
            )
            if rng.random() < 0.3:
                gen.cite(None, f"{name} was named by officials.", person_name_id=name_id)
        countries = [nationality]
        if rng.random() < 0.1:
            other = gen.pick(gen._countries)
            if other != nationality:
                countries.append(other)
        for country in countries:
            nationality_id = gen.add(
                Nationality, person_id=person_id, country=country, claim_status=gen.claim()
            )
            if rng.random() < 0.3:
                gen.cite(None, nationality_id=nationality_id)
        if official:
            return 0
        start = gen.day_between(FIRST_DAY, date(2017, 12, 31))
        self.affiliations(person_id, start)
        wanted = self.how_many_events(index)
        return Timeline(
            self, person_id, primary or "an unnamed detainee", status, nationality, start, wanted
        ).make()

    def how_many_events(self, index: int) -> int:
        """About events/people each, adding up to exactly the events asked for."""
        left_people = self.gen.persons - index
        if left_people <= 1:
            return self.events_left
        mean = self.events_left / left_people
        return min(self.events_left, self.rng.randint(int(mean * 0.4), int(mean * 1.6 + 0.99)))

    def names(self, official: bool) -> list[tuple[str, str, str]]:
        """(name, kind, language), the primary first: about three per person."""
        rng = self.rng
        given, given_variants, given_script = rng.choice(words.GIVEN_NAMES)
        family, family_variants, family_script = rng.choice(words.FAMILY_NAMES)
        honorific = "" if official or rng.random() < 0.5 else rng.choice(words.HONORIFICS) + " "
        with_family = official or rng.random() < 0.6
        primary = f"{honorific}{given} {family}" if with_family else f"{honorific}{given}"
        if primary in words.DEMO_PEOPLE:
            primary = f"{honorific}{given} {family}"
        names = [(primary, "common", "")]
        extra = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4))
        options = [
            "spelling",
            "original_script",
            "kunya",
            "alias",
            "birth",
            "nom_de_guerre",
            "married",
        ]
        for kind in rng.sample(options, extra):
            if kind == "spelling":
                name = f"{honorific}{rng.choice(given_variants)}"
                if with_family:
                    name += f" {rng.choice(family_variants)}"
                names.append((name, kind, ""))
            elif kind == "original_script":
                script = f"{given_script} {family_script}" if with_family else given_script
                names.append((script, kind, rng.choice(words.NAME_LANGUAGES)))
            elif kind == "kunya":
                names.append((f"Abu {rng.choice(words.GIVEN_NAMES)[0]}", kind, ""))
            elif kind == "alias":
                names.append((f"{rng.choice(words.GIVEN_NAMES)[0]} {family}", kind, ""))
            elif kind == "birth":
                father = rng.choice(words.GIVEN_NAMES)[0]
                names.append((f"{given} son of {father} {family}", kind, ""))
            elif kind == "married":
                # A name taken on marriage: the given name with the spouse's family name.
                names.append((f"{given} {rng.choice(words.FAMILY_NAMES)[0]}", kind, ""))
            else:
                word = rng.choice(words.NOM_DE_GUERRE_WORDS)
                names.append((f"{word} {rng.choice(words.GIVEN_NAMES)[0]}", kind, ""))
        seen, unique = set(), []
        for name in names:
            if (name[0], name[1]) not in seen:
                seen.add((name[0], name[1]))
                unique.append(name)
        return unique

    def affiliations(self, person_id: int, start: date) -> None:
        gen, rng = self.gen, self.rng
        count = rng.choice((0, 0, 1, 1, 1, 1, 1, 2))
        for _ in range(count):
            joined = start - timedelta(days=rng.randrange(2500))
            text, earliest, latest = gen.blur(
                joined, rng.choice(("year", "approximate", "month", "unknown"))
            )
            end = end_earliest = end_latest = None
            if rng.random() < 0.4:
                left = joined + timedelta(days=rng.randrange(3000))
                end, end_earliest, end_latest = gen.blur(left, rng.choice(("year", "month")))
            district = rng.choice(gen.districts["AF"])
            strength = rng.choice((50, 100, 200, 300, 500)) if rng.random() < 0.2 else None
            affiliation_id = gen.add_record(
                Affiliation,
                person_id=person_id,
                organization_id=gen.orgs[rng.choice(words.ARMED_GROUPS)],
                role=rng.choice(words.ROLES),
                start=text,
                start_earliest=earliest,
                start_latest=latest,
                end=end or "",
                end_earliest=end_earliest,
                end_latest=end_latest,
                place_id=district[0] if rng.random() < 0.5 else None,
                strength_estimate=strength,
                strength_note=f"more than {strength} fighters" if strength else "",
                claim_status=gen.claim(),
            )
            if rng.random() < 0.7:
                gen.cite(joined, affiliation_id=affiliation_id)


class Timeline:
    """One person's events: capture (or disappearance), custody and transfers, release, escape
    or death (and its remains found), and re-engagement, again and again, until the person has
    the events asked of them; now and then first a birth in captivity and appropriation."""

    def __init__(self, people, person_id, name, status, country, start, wanted):
        self.people, self.gen, self.rng = people, people.gen, people.rng
        self.person_id, self.name, self.country = person_id, name, country
        # Events about a person kept from the public stay unpublished too.
        self.person_status = status
        self.day, self.wanted, self.made = start, wanted, 0
        self.batches = set()

    def make(self) -> int:
        rng = self.rng
        released = False
        if self.wanted >= 4 and rng.random() < 0.03:
            self.appropriated_child()
        while self.made < self.wanted:
            if released and rng.random() < 0.4:
                self.reengagement()
                released = False
            else:
                released = self.detention()
            self.advance(30, 900)
        self.people.events_left -= self.made
        return self.made

    def advance(self, low: int, high: int) -> None:
        self.day = min(LAST_DAY, self.day + timedelta(days=self.rng.randint(low, high)))

    def left(self) -> int:
        return self.wanted - self.made

    # --- rows --------------------------------------------------------------------------------

    def event(self, kind: str, summary: str, day: date | None = None, **fields) -> int:
        gen, rng = self.gen, self.rng
        day = day or self.day
        text, earliest, latest = gen.blur(day)
        # Events of unpublished people are unpublished already: a tenth in all.
        status = self.person_status
        if status == "published":
            status = gen.status(gen.ids[Event] + 1, forced_only=True)
        event_id = gen.add_record(
            Event,
            status=status,
            kind=kind,
            summary=summary,
            description="",
            date=text,
            date_earliest=earliest,
            date_latest=latest,
            order_hint=self.made,
            claim_status=fields.pop("claim_status", None) or gen.claim(),
            **fields,
        )
        self.made += 1
        gen.add(EventPerson, event_id=event_id, person_id=self.person_id, role="subject")
        roll = rng.random()
        citations = 0 if roll < 0.03 else 1 + (roll < 0.65) + (roll < 0.25)
        for _ in range(citations):
            quote = rng.choice(words.QUOTES).format(
                name=self.name,
                count="two",
                place=self.place_label,
                facility=self.facility_label,
                year=day.year,
            )
            gen.cite(day, quote, event_id=event_id)
        return event_id

    def organization(self, event_id: int, org_id: int, role: str, note: str = "") -> None:
        self.gen.add(
            EventOrganization, event_id=event_id, organization_id=org_id, role=role, note=note
        )

    place_label = "the province"
    facility_label = "a detention facility"

    def district(self):
        country = self.country if self.rng.random() < 0.8 else "AF"
        place_id, label = self.rng.choice(self.gen.districts[country])
        self.place_label = label
        return place_id

    def facility(self):
        gen = self.gen
        country = self.country if gen.facilities_in[self.country] else "AF"
        if self.rng.random() < 0.15:
            country = "AF"
        facility = gen.facilities[self.rng.choice(gen.facilities_in[country])]
        self.facility_label = facility[1]
        return facility

    def controller(self, facility, fallback: int) -> int:
        for start, end, controller in facility[4]:
            if start <= self.day and (end is None or self.day < end):
                return controller
        return fallback

    # --- episodes ----------------------------------------------------------------------------

    def detention(self) -> bool:
        """Capture, custody (with transfers) and how it ended; True if the person walked free."""
        gen, rng = self.gen, self.rng
        force = gen.orgs[rng.choice(words.CAPTURING_FORCES)]
        unnamed = rng.choice((1, 2, 2, 3, 5)) if rng.random() < 0.3 else 0
        place_id = self.district()
        if rng.random() < 0.05 and self.made + 1 < self.wanted:
            # A raid that captured nobody: reported as a strike on the person, before the capture.
            killed = rng.choice((0, 1, 2, 4))
            strike = self.event(
                "strike",
                f"Targeted in a strike in {self.place_label}",
                place_id=place_id,
                unnamed_count=killed,
                unnamed_description="killed" if killed else "",
            )
            self.organization(strike, force, "capturing_force")
            self.advance(0, 2)
        # Some are taken by men who deny holding them: a disappearance, acknowledged later.
        disappeared = rng.random() < 0.05
        capture = self.event(
            "disappearance" if disappeared else "capture",
            f"Taken by unidentified men in {self.place_label}"
            if disappeared
            else f"Captured in {self.place_label}",
            place_id=place_id,
            operation=f"Operation {rng.choice(words.OPERATIONS)}" if rng.random() < 0.3 else "",
            unnamed_count=unnamed,
            unnamed_description=rng.choice(words.ASSOCIATES) if unnamed else "",
        )
        self.organization(capture, force, "capturing_force")
        if rng.random() < 0.4:
            self.organization(capture, gen.orgs[rng.choice(("ana", "anp", "nds"))], "partner_force")
        if rng.random() < 0.1:
            related = rng.randint(1, gen.persons)
            if related != self.person_id:
                gen.add(
                    EventPerson,
                    event_id=capture,
                    person_id=related,
                    role="related",
                    note="seized at his home",
                )
        custodian_fallback = force
        while self.made < self.wanted:
            self.advance(0, 10)
            facility = self.facility()
            custodian = self.controller(facility, custodian_fallback)
            known_facility = rng.random() < 0.95
            custody = self.event(
                "custody",
                f"Held at {facility[1]}" if known_facility else "Held, place unknown",
                facility_id=facility[0] if known_facility else None,
                place_id=facility[3] if known_facility else None,
                claim_status="inferred" if rng.random() < 0.15 else None,
            )
            custody_row = gen.rows[Event][-1]  # to be given its end below
            self.organization(custody, custodian, "custodian")
            self.maybe_in_batch_unknown()
            if self.made >= self.wanted:
                return False  # still held
            self.advance(30, 1500)
            ending = self.ending()
            end_text, end_earliest, end_latest = gen.blur(
                self.day, "unknown" if ending == "unknown" else None
            )
            custody_row.update(
                end_date=end_text,
                end_date_earliest=end_earliest,
                end_date_latest=end_latest,
                custody_end_reason=ending,
            )
            if ending == "transfer":
                target = self.facility()
                new_custodian = self.controller(target, custodian)
                transfer = self.event(
                    "transfer",
                    f"Transferred from {facility[1]} to {target[1]}",
                    from_facility_id=facility[0],
                    facility_id=target[0],
                    place_id=target[3],
                )
                self.organization(transfer, custodian, "from_custodian")
                self.organization(transfer, new_custodian, "to_custodian")
                custodian_fallback = new_custodian
                continue
            if ending == "release":
                self.release(facility, custodian)
                return True
            if ending == "escape":
                self.event("escape", f"Escaped from {facility[1]}", facility_id=facility[0])
                return True
            if ending == "death":
                self.event(
                    "death",
                    f"Died in custody at {facility[1]}",
                    place_id=facility[3],
                    death_circumstances=rng.choice(("died_in_custody", "executed", "unknown")),
                )
                if self.left() == 2:
                    # Found years later in a grave near the facility, then identified.
                    self.advance(365, 3000)
                    self.event("remains_found", "Remains exhumed", place_id=facility[3])
                    self.advance(30, 700)
                    self.event("remains_identified", "Remains identified by DNA")
                self.wanted = self.made  # the rest of the events go to other people
            return False
        return False

    def ending(self) -> str:
        roll = self.rng.random()
        if self.left() in (1, 3) and roll < 0.25:
            return "death"  # with its remains found and identified when 3 are left
        if roll < 0.3:
            return "transfer"
        if roll < 0.82:
            return "release"
        if roll < 0.92:
            return "escape"
        return "unknown"

    def appropriated_child(self) -> None:
        """Born to a detained mother, given to another family, identified as an adult."""
        self.event("birth_in_captivity", "Born to a mother held in a detention facility")
        self.advance(30, 200)
        self.event("appropriation", "Given to another family under another name")
        self.advance(3000, 7000)
        self.event("identity_restored", "Identity restored after a DNA match")
        self.advance(30, 900)

    def release(self, facility, custodian: int) -> None:
        gen, rng = self.gen, self.rng
        batch = None
        if rng.random() < 0.2:
            i = bisect.bisect_left(gen.batch_days, self.day)
            if i < len(gen.batches) and (gen.batches[i][0] - self.day).days < 1500:
                batch = gen.batches[i]
                if batch[1] in self.batches:
                    batch = None
                else:
                    self.day = batch[0]
        kind = gen.pick(gen._release_kinds)
        release = self.event(
            "release",
            f"Released from {facility[1]}",
            facility_id=facility[0] if rng.random() < 0.6 else None,
            release_kind=kind,
            batch_id=batch[1] if batch else None,
        )
        ordering = gen.orgs[rng.choice(("president", "adr", "supreme", "pkgov"))]
        self.organization(release, ordering, "ordered_by")
        self.organization(release, custodian, "carried_out_by")
        if rng.random() < 0.3:
            official = rng.randrange(self.people.officials) if self.people.officials else None
            if official is not None:
                capacity = OFFICIAL_CAPACITIES[official % len(OFFICIAL_CAPACITIES)][1]
                gen.add(
                    EventPerson,
                    event_id=release,
                    person_id=official + 1,
                    role="ordered_by",
                    capacity=capacity,
                )
        if batch:
            self.batches.add(batch[1])
            membership = gen.add(
                BatchMembership,
                batch_id=batch[1],
                person_id=self.person_id,
                inclusion="released",
                claim_status=gen.claim(),
            )
            if rng.random() < 0.5:
                gen.cite(self.day, batch_membership_id=membership)
        if self.made < self.wanted and rng.random() < 0.08:
            # Another source gives another date: both accounts are kept, side by side.
            other = min(LAST_DAY, self.day + timedelta(days=rng.randint(20, 400)))
            self.event(
                "release",
                f"Released from {facility[1]} (another account)",
                day=other,
                release_kind=kind,
                claim_status="disputed",
            )

    def maybe_in_batch_unknown(self) -> None:
        """Sometimes a batch decision covers the person while held, inclusion unknown."""
        gen, rng = self.gen, self.rng
        if rng.random() >= 0.05:
            return
        i = bisect.bisect_left(gen.batch_days, self.day)
        if i >= len(gen.batches) or gen.batches[i][1] in self.batches:
            return
        batch_id = gen.batches[i][1]
        self.batches.add(batch_id)
        gen.add(
            BatchMembership,
            batch_id=batch_id,
            person_id=self.person_id,
            inclusion=rng.choice(("unknown", "unknown", "not_released")),
            note="Not known whether he was among those released.",
            claim_status=gen.claim(),
        )

    def reengagement(self) -> None:
        gen, rng = self.gen, self.rng
        group = gen.orgs[rng.choice(words.ARMED_GROUPS)]
        strength = rng.choice((30, 100, 150, 300, 500)) if rng.random() < 0.4 else None
        role = rng.choice(words.ROLES)
        place_id = self.district()
        event = self.event(
            "reengagement",
            f"Returned to the fight as a {role} in {self.place_label}",
            place_id=place_id,
            reengagement=rng.choice(("confirmed", "suspected", "suspected")),
            role=role,
            strength_estimate=strength,
            strength_note=f"leads more than {strength} fighters" if strength else "",
        )
        self.organization(event, group, "group")
