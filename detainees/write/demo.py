"""The Qari Bilal case, entered in full from FDD's Long War Journal's 2014 article about him.

`load_demo()` looks every record up by its natural key and writes it only when it is missing or
differs from what is below, so running it again changes no row and moves no `updated` stamp.
Each fact is cited with the article's words; where the article names the original source
(ISAF's statement, Pajhwok, TOLOnews), that source is cited too, with who said it.
"""

from dataclasses import dataclass

from django.db import models, transaction

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    ClaimStatus,
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
    PublicationStatus,
    Publishable,
    ReleaseBatch,
    Source,
)

ARTICLE_TITLE = "Senior IMU leader captured by ISAF in 2011 now leads fight in northern Afghanistan"
PERSON_NAME = "Qari Bilal"
PERSON_SLUG = "qari-bilal"

# Which Citation column points at each kind of fact.
FACT_FIELDS = {
    Person: "person",
    PersonName: "person_name",
    Nationality: "nationality",
    Affiliation: "affiliation",
    Event: "event",
    FacilityControl: "facility_control",
    ReleaseBatch: "batch",
    BatchMembership: "batch_membership",
}

# Who speaks inside a source, as the article reports it.
POLICE_CHIEF = "Kunduz police chief, to Pajhwok Afghan News"
KUNDUZ_OFFICIALS = "Afghan officials in Kunduz, to TOLONews"
ISAF_STATEMENT = "ISAF, in its April 2011 statement"
SECONDHAND_NOTE = "Quoted from the 2014 LWJ article; not yet checked against the original."

# Between the ISAF capture and the article: all the article says of both releases.
AFTER_CAPTURE_BEFORE_ARTICLE = "2011-04-20/2014"


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"Qari Bilal demo case: {self.created} records created, {self.updated} updated, "
            f"{self.unchanged} already present."
        )


def _same(obj: models.Model, name: str, value) -> bool:
    field = obj._meta.get_field(name)
    if field.is_relation:
        return getattr(obj, field.attname) == (value.pk if value is not None else None)
    return getattr(obj, name) == value


class _Loader:
    def __init__(self) -> None:
        self.report = LoadReport()

    def write(self, model, existing, lookup: dict, values: dict):
        """Create the row, or bring `existing` in line with `values` only if something differs."""
        if issubclass(model, Publishable):
            values.setdefault("status", PublicationStatus.PUBLISHED)
        if existing is None:
            obj = model(**lookup, **values)
            obj.save()
            self.report.created += 1
            return obj
        changed = [name for name, value in values.items() if not _same(existing, name, value)]
        if not changed:
            self.report.unchanged += 1
            return existing
        for name in changed:
            setattr(existing, name, values[name])
        existing.save()
        self.report.updated += 1
        return existing

    def put(self, model, lookup: dict, **values):
        """Get or create by the natural key `lookup`, then set `values`."""
        existing = model._default_manager.filter(**lookup).order_by("pk").first()
        return self.write(model, existing, lookup, values)

    # Records with a natural key spread over several rows.

    def person(self, name: str, **values) -> Person:
        primary = (
            PersonName.objects.filter(name=name, is_primary=True)
            .select_related("person")
            .order_by("person__pk")
            .first()
        )
        person = self.write(Person, primary.person if primary else None, {}, values)
        self.put(
            PersonName,
            {"person": person, "name": name, "kind": PersonName.Kind.COMMON},
            is_primary=True,
        )
        person.refresh_slug()
        return person

    def event(self, person: Person, *, kind: str, summary: str, **values) -> Event:
        existing = (
            Event.objects.filter(
                kind=kind,
                summary=summary,
                people__person=person,
                people__role=EventPerson.Role.SUBJECT,
            )
            .order_by("pk")
            .first()
        )
        event = self.write(Event, existing, {"kind": kind, "summary": summary}, values)
        self.put(EventPerson, {"event": event, "person": person, "role": EventPerson.Role.SUBJECT})
        return event

    def org_role(self, event: Event, organization: Organization, role: str, note: str = ""):
        lookup = {"event": event, "organization": organization, "role": role}
        return self.put(EventOrganization, lookup, note=note)

    def cite(
        self,
        fact: models.Model,
        source: Source,
        quote: str,
        *,
        paragraph: int,
        aspect: str = "",
        attribution: str = "",
        locator: str = "",
    ) -> Citation:
        """Cite `fact` with the article's words; other sources are cited as the article quotes
        them, and say so in the locator."""
        secondhand = source.title != ARTICLE_TITLE
        if not locator:
            where = f"paragraph {paragraph}"
            locator = (
                f"as quoted by FDD's Long War Journal (2014), {where}" if secondhand else where
            )
        lookup = {FACT_FIELDS[type(fact)]: fact, "source": source, "quote": quote}
        return self.put(
            Citation,
            lookup,
            aspect=aspect,
            attribution=attribution,
            locator=locator,
            internal_notes=SECONDHAND_NOTE if secondhand else "",
        )


@transaction.atomic
def load_demo() -> LoadReport:
    """Enter the Qari Bilal case, every record published; a second run changes nothing."""
    load = _Loader()
    orgs = _organizations(load)
    places = _places(load)
    sources = _sources(load, orgs)
    parwan = _parwan(load, orgs, places, sources)
    people = _people(load, sources)
    _affiliations(load, people, orgs, places, sources)
    _events(load, people, orgs, places, parwan, sources)
    _batch(load, people["bilal"], orgs, sources)
    return load.report


def _organizations(load: _Loader) -> dict[str, Organization]:
    kind = Organization.Kind
    org = load.put
    o = {}
    o["nato"] = org(
        Organization,
        {"name": "North Atlantic Treaty Organization"},
        abbreviation="NATO",
        kind=kind.INTERNATIONAL_BODY,
    )
    o["isaf"] = org(
        Organization,
        {"name": "International Security Assistance Force"},
        abbreviation="ISAF",
        kind=kind.MILITARY_FORCE,
        parent=o["nato"],
        description="NATO-led coalition force in Afghanistan, 2001-2014.",
    )
    o["afghanistan"] = org(
        Organization,
        {"name": "Government of Afghanistan"},
        kind=kind.STATE_AUTHORITY,
        country="AF",
    )
    o["ansf"] = org(
        Organization,
        {"name": "Afghan National Security Forces"},
        abbreviation="ANSF",
        kind=kind.MILITARY_FORCE,
        parent=o["afghanistan"],
        country="AF",
    )
    o["pakistan"] = org(
        Organization,
        {"name": "Government of Pakistan"},
        kind=kind.STATE_AUTHORITY,
        country="PK",
    )
    o["dod"] = org(
        Organization,
        {"name": "United States Department of Defense"},
        abbreviation="DoD",
        kind=kind.STATE_AUTHORITY,
        country="US",
    )
    o["usfor_a"] = org(
        Organization,
        {"name": "United States Forces – Afghanistan"},
        abbreviation="USFOR-A",
        kind=kind.MILITARY_FORCE,
        parent=o["dod"],
        country="US",
        description="Command of US forces in Afghanistan; ran the Parwan Detention Facility "
        "until the March 2013 handover.",
    )
    o["imu"] = org(
        Organization,
        {"name": "Islamic Movement of Uzbekistan"},
        abbreviation="IMU",
        kind=kind.ARMED_GROUP,
        description="Jihadist group allied with al Qaeda and the Taliban, active in "
        "Afghanistan and Pakistan.",
    )
    o["taliban"] = org(Organization, {"name": "Taliban"}, kind=kind.ARMED_GROUP)
    o["al_qaeda"] = org(Organization, {"name": "al Qaeda"}, kind=kind.ARMED_GROUP)
    o["fdd"] = org(
        Organization,
        {"name": "Foundation for Defense of Democracies"},
        abbreviation="FDD",
        kind=kind.NGO,
        country="US",
    )
    o["lwj"] = org(
        Organization,
        {"name": "FDD's Long War Journal"},
        abbreviation="LWJ",
        kind=kind.MEDIA_OUTLET,
        parent=o["fdd"],
        country="US",
    )
    o["pajhwok"] = org(
        Organization, {"name": "Pajhwok Afghan News"}, kind=kind.MEDIA_OUTLET, country="AF"
    )
    o["tolo"] = org(Organization, {"name": "TOLOnews"}, kind=kind.MEDIA_OUTLET, country="AF")

    names = OrganizationName.Kind
    for key, name, name_kind, language in [
        ("afghanistan", "Afghan government", names.ALIAS, ""),
        ("afghanistan", "Islamic Republic of Afghanistan", names.ALIAS, ""),
        ("ansf", "Afghan security forces", names.ALIAS, ""),
        ("pakistan", "Pakistani government", names.ALIAS, ""),
        ("usfor_a", "US forces in Afghanistan", names.ALIAS, ""),
        ("isaf", "Coalition forces", names.ALIAS, ""),
        ("imu", "Islamic Movement of Uzbekistan (IMU)", names.ALIAS, ""),
        ("imu", "O'zbekiston Islomiy Harakati", names.TRANSLATION, "uz-Latn"),
        ("al_qaeda", "al-Qaeda", names.SPELLING, ""),
        ("al_qaeda", "al-Qaida", names.SPELLING, ""),
        ("tolo", "TOLONews", names.SPELLING, ""),
        ("tolo", "Tolo News", names.SPELLING, ""),
        ("lwj", "Long War Journal", names.ALIAS, ""),
    ]:
        load.put(
            OrganizationName,
            {"organization": o[key], "name": name},
            kind=name_kind,
            language=language,
        )
    return o


def _places(load: _Loader) -> dict[str, Place]:
    kind = Place.Kind

    def place(parent, place_kind, name, **values):
        return load.put(Place, {"parent": parent, "kind": place_kind, "name": name}, **values)

    p = {}
    p["afghanistan"] = place(None, kind.COUNTRY, "Afghanistan", country="AF")
    p["kunduz"] = place(p["afghanistan"], kind.PROVINCE, "Kunduz")
    p["khanabad"] = place(p["kunduz"], kind.DISTRICT, "Khanabad")
    p["chahar_darah"] = place(p["kunduz"], kind.DISTRICT, "Chahar Darah")
    p["parwan"] = place(p["afghanistan"], kind.PROVINCE, "Parwan")
    p["bagram"] = place(p["parwan"], kind.DISTRICT, "Bagram")
    p["pakistan"] = place(None, kind.COUNTRY, "Pakistan", country="PK")
    p["balochistan"] = place(p["pakistan"], kind.PROVINCE, "Balochistan")
    p["quetta"] = place(p["balochistan"], kind.LOCALITY, "Quetta")
    p["uzbekistan"] = place(None, kind.COUNTRY, "Uzbekistan", country="UZ")
    return p


def _sources(load: _Loader, orgs) -> dict[str, Source]:
    kind = Source.Kind

    def source(title, publisher, **values):
        return load.put(Source, {"title": title, "publisher": publisher}, **values)

    s = {}
    s["lwj"] = source(
        ARTICLE_TITLE,
        orgs["lwj"],
        kind=kind.ANALYSIS,
        author="Bill Roggio",
        published="2014",
        language="en",
        summary="Reports that Qari Bilal, an IMU leader captured by ISAF in Khanabad, Kunduz, "
        "on 20 April 2011 and twice freed on President Karzai's orders, now leads more than "
        "300 fighters in Kunduz. It also counts how often ISAF targeted the IMU: of the 338 "
        "raids ISAF publicised from 2007 until it stopped reporting in the summer of 2013, "
        "139 targeted the IMU.",
    )
    s["isaf"] = source(
        "ISAF statement announcing the capture of a senior IMU leader in Khanabad, Kunduz",
        orgs["isaf"],
        kind=kind.PRESS_RELEASE,
        published="2011-04",
        language="en",
        summary="Announced the capture of a senior IMU leader and two of his associates in "
        "Khanabad district on 20 April 2011, without naming him. Its reference number is not "
        "known.",
    )
    s["pajhwok"] = source(
        "Senior IMU leader captured in Kunduz",
        orgs["pajhwok"],
        kind=kind.NEWS_REPORT,
        published="2011-04",
        language="en",
        summary="Names the IMU leader captured in Khanabad as Qari Bilal, citing Kunduz's "
        "police chief.",
    )
    s["tolo"] = source(
        "TOLOnews report on Qari Bilal's releases on President Karzai's orders",
        orgs["tolo"],
        kind=kind.NEWS_REPORT,
        published="2014",
        summary="Afghan officials in Kunduz say Qari Bilal was twice freed on President "
        "Karzai's orders and leads more than 300 fighters in Kunduz. The report's own title "
        "is not known; this one describes it.",
    )
    s["lwj_2011"] = source(
        "ISAF captures Islamic Movement of Uzbekistan's top commander for Afghanistan",
        orgs["lwj"],
        kind=kind.NEWS_REPORT,
        published="2011-04",
        language="en",
        summary="FDD's Long War Journal's report of the April 2011 capture.",
    )
    return s


def _parwan(load: _Loader, orgs, places, sources):
    parwan = load.put(
        Facility,
        {"name": "Parwan Detention Facility"},
        kind=Facility.Kind.DETENTION_FACILITY,
        place=places["bagram"],
        description="Detention facility next to Bagram Airfield, also called the Detention "
        "Facility in Parwan; it replaced the Bagram Theater Internment Facility in late 2009. "
        "The US handed it to the Afghan government in March 2013.",
    )
    handover = (
        "The US transferred control of the Parwan Detention Facility to Afghanistan in March 2013."
    )
    us = load.put(
        FacilityControl,
        {"facility": parwan, "controller": orgs["usfor_a"]},
        start="2009/2010",
        end="2013-03",
        claim_status=ClaimStatus.CONFIRMED,
        note="US control began when the facility opened, in late 2009; the article dates only "
        "its end, the March 2013 handover.",
    )
    load.cite(us, sources["lwj"], handover, paragraph=12, aspect="end of US control")
    afghan = load.put(
        FacilityControl,
        {"facility": parwan, "controller": orgs["afghanistan"]},
        start="2013-03",
        end="",
        claim_status=ClaimStatus.CONFIRMED,
        note="Handed over by the US in March 2013.",
    )
    load.cite(afghan, sources["lwj"], handover, paragraph=12, aspect="start of Afghan control")
    return parwan


def _people(load: _Loader, sources) -> dict[str, Person]:
    lwj, tolo, pajhwok = sources["lwj"], sources["tolo"], sources["pajhwok"]
    bilal = load.person(
        PERSON_NAME,
        gender=Person.Gender.MALE,
        biography="Uzbek leader of the Islamic Movement of Uzbekistan (IMU), once the top "
        "commander of its network in Afghanistan and, according to ISAF, a key conduit "
        "between the IMU leadership in Pakistan and the Taliban leadership in Afghanistan. "
        "TOLOnews reports that he fled to Pakistan after 2001 and was invited back to Kunduz "
        "by the Peace Council chaired by Sibghatullah Mojaddedi; he was previously based in "
        "Quetta. ISAF captured him in Khanabad district, Kunduz, on 20 April 2011. Afghan "
        "officials say he was twice freed on President Hamid Karzai's orders; in 2014 he led "
        "more than 300 fighters in Kunduz province.",
    )
    load.cite(
        bilal,
        lwj,
        "Bilal was previously based in Quetta, the capital of Pakistan’s Balochistan province.",
        paragraph=8,
        aspect="previously based in Quetta",
    )
    load.cite(
        bilal,
        tolo,
        "fled to Pakistan after the collapse of the Taliban regime in 2001 but was then invited "
        "to return to Kunduz by the Peace Council chaired by Sibghatullah Mojaddedi, the former "
        "Afghan President.",
        paragraph=3,
        aspect="fled to Pakistan after 2001; invited back to Kunduz",
    )
    load.cite(
        bilal,
        pajhwok,
        "was given special treatment at Taliban’s meetings in the Chahar Darah district, where "
        "the militants had a training centre in the Ainul Majar",
        paragraph=9,
        aspect="given special treatment at Taliban meetings in Chahar Darah",
    )
    primary = bilal.primary_name
    load.cite(
        primary,
        lwj,
        "Qari Bilal, the IMU leader",
        paragraph=2,
        aspect="name, with the honorific Qari",
    )
    short = load.put(
        PersonName,
        {"person": bilal, "name": "Bilal", "kind": PersonName.Kind.COMMON},
        claim_status=ClaimStatus.REPORTED,
    )
    load.cite(short, lwj, "Bilal is from Uzbekistan", paragraph=8, aspect="called Bilal for short")
    # A common transliteration of the name, kept so that searches for it find him; none of
    # the sources here spells it so, hence inferred.
    load.put(
        PersonName,
        {"person": bilal, "name": "Qari Belal", "kind": PersonName.Kind.SPELLING},
        claim_status=ClaimStatus.INFERRED,
    )
    uzbek = load.put(
        Nationality, {"person": bilal, "country": "UZ"}, claim_status=ClaimStatus.REPORTED
    )
    load.cite(
        uzbek,
        pajhwok,
        "Bilal is from Uzbekistan",
        paragraph=8,
        aspect="from Uzbekistan",
        attribution=POLICE_CHIEF,
    )
    load.cite(
        uzbek,
        lwj,
        "Bilal is from Uzbekistan and was seized at the home of another IMU leader known as "
        "Qari Sibghatullah, Kunduz’s police chief told Pajhwok Afghan News in 2011.",
        paragraph=8,
        aspect="from Uzbekistan",
        attribution=POLICE_CHIEF,
    )

    sibghatullah = load.person(
        "Qari Sibghatullah",
        gender=Person.Gender.MALE,
        biography="IMU leader at whose home Qari Bilal was seized in April 2011, according to "
        "Kunduz's police chief.",
    )
    load.cite(
        sibghatullah,
        pajhwok,
        "was seized at the home of another IMU leader known as Qari Sibghatullah",
        paragraph=8,
        aspect="IMU leader; Bilal seized at his home",
        attribution=POLICE_CHIEF,
    )

    karzai = load.person(
        "Hamid Karzai",
        gender=Person.Gender.MALE,
        biography="President of Afghanistan, who ordered Qari Bilal's releases according to "
        "Afghan officials in Kunduz.",
    )
    load.cite(
        karzai,
        lwj,
        "freed by the Afghan government at the direction of President Hamid Karzai",
        paragraph=2,
        aspect="President of Afghanistan",
    )
    return {"bilal": bilal, "sibghatullah": sibghatullah, "karzai": karzai}


def _affiliations(load: _Loader, people, orgs, places, sources) -> None:
    lwj, isaf, tolo, pajhwok = sources["lwj"], sources["isaf"], sources["tolo"], sources["pajhwok"]
    bilal, imu = people["bilal"], orgs["imu"]

    def affiliation(person, organization, role, **values):
        lookup = {"person": person, "organization": organization, "role": role}
        return load.put(Affiliation, lookup, **values)

    command = affiliation(
        bilal,
        imu,
        "top commander of the IMU network in Afghanistan",
        start="2010",
        end="2011-04-20",
        claim_status=ClaimStatus.REPORTED,
        internal_notes="Start: ISAF says he took command shortly after his 2010 escape. End: "
        "his capture on 20 April 2011.",
    )
    load.cite(
        command,
        lwj,
        "The IMU leader once served as the top commander of the jihadist group’s network in "
        "Afghanistan.",
        paragraph=1,
        aspect="top commander in Afghanistan",
    )
    load.cite(
        command,
        isaf,
        "He entered Afghanistan shortly after escaping from the Pakistani prison and, along "
        "with another IMU leader, took overall command of the IMU’s network.",
        paragraph=6,
        aspect="took command, with another IMU leader, after his 2010 escape",
    )
    load.cite(
        command,
        sources["lwj_2011"],
        "ISAF captures Islamic Movement of Uzbekistan’s top commander for Afghanistan",
        paragraph=4,
        aspect="title calls the captive the IMU's top commander for Afghanistan",
        locator="title, as cited by FDD's Long War Journal (2014), paragraph 4",
    )

    conduit = affiliation(
        bilal,
        imu,
        "key conduit between the senior IMU leadership in Pakistan and senior Taliban "
        "leadership in Afghanistan",
        start="",
        end="2011-04-20",
        claim_status=ClaimStatus.REPORTED,
    )
    load.cite(
        conduit,
        isaf,
        "a key conduit between the senior IMU leadership in Pakistan and senior Taliban "
        "leadership in Afghanistan",
        paragraph=7,
        aspect="key conduit between the IMU and the Taliban",
    )
    load.cite(
        conduit,
        isaf,
        "assisted both groups by directing insurgent movement for training and operations "
        "between the two countries, coordinating suicide, explosive device, and mortar attacks "
        "against Afghan and coalition forces throughout northern Afghanistan.",
        paragraph=7,
        aspect="what he did for both groups",
    )
    load.cite(
        conduit,
        lwj,
        "According to ISAF, Bilal served as “a key conduit between the senior IMU leadership in "
        "Pakistan and senior Taliban leadership in Afghanistan.”",
        paragraph=7,
        aspect="key conduit between the IMU and the Taliban",
        attribution=ISAF_STATEMENT,
    )

    kunduz = affiliation(
        bilal,
        imu,
        "leader commanding fighters in Kunduz province",
        start="2014",
        end="",
        place=places["kunduz"],
        strength_estimate=300,
        strength_note="more than 300 fighters",
        claim_status=ClaimStatus.REPORTED,
    )
    load.cite(
        kunduz,
        tolo,
        "He leads more than 300 fighters in Kunduz province",
        paragraph=2,
        aspect="leads more than 300 fighters in Kunduz",
        attribution=KUNDUZ_OFFICIALS,
    )
    load.cite(
        kunduz,
        lwj,
        "is now leading more than 300 jihadists in the northern Afghan province of Kunduz",
        paragraph=1,
        aspect="leads more than 300 fighters in Kunduz",
    )

    al_qaeda = affiliation(
        bilal,
        orgs["al_qaeda"],
        "senior al-Qaeda leader",
        start="",
        end="",
        claim_status=ClaimStatus.REPORTED,
        internal_notes="Only TOLOnews calls him an al-Qaeda leader; the LWJ article describes "
        "him as an IMU leader, the IMU being allied with al Qaeda.",
    )
    load.cite(
        al_qaeda,
        tolo,
        "a senior al-Qaeda leader who was released from prison on two separate occasions",
        paragraph=2,
        aspect="calls him a senior al-Qaeda leader",
    )

    sibghatullah = affiliation(
        people["sibghatullah"], imu, "leader", start="", end="", claim_status=ClaimStatus.REPORTED
    )
    load.cite(
        sibghatullah,
        pajhwok,
        "another IMU leader known as Qari Sibghatullah",
        paragraph=8,
        aspect="IMU leader",
        attribution=POLICE_CHIEF,
    )


def _events(load: _Loader, people, orgs, places, parwan, sources) -> None:
    lwj, isaf, tolo, pajhwok = sources["lwj"], sources["isaf"], sources["tolo"], sources["pajhwok"]
    bilal, role = people["bilal"], EventOrganization.Role
    kind = Event.Kind

    escaped_quote = "ISAF said Bilal had escaped from a jail in Pakistan sometime in 2010"
    pakistan_jail = load.event(
        bilal,
        kind=kind.CUSTODY,
        summary="Held in a jail in Pakistan until his escape",
        description="Which jail, and since when, is not known.",
        date="",
        end_date="2010",
        custody_end_reason=Event.CustodyEnd.ESCAPE,
        place=places["pakistan"],
        facility=None,
        claim_status=ClaimStatus.REPORTED,
    )
    load.org_role(pakistan_jail, orgs["pakistan"], role.CUSTODIAN)
    load.cite(pakistan_jail, isaf, escaped_quote, paragraph=6, aspect="held in Pakistan")
    load.cite(
        pakistan_jail,
        lwj,
        escaped_quote,
        paragraph=6,
        aspect="held in Pakistan",
        attribution=ISAF_STATEMENT,
    )

    escape = load.event(
        bilal,
        kind=kind.ESCAPE,
        summary="Escaped from a jail in Pakistan",
        description="ISAF said he escaped sometime in 2010 and also helped others escape, "
        "including by paying bribes for their release. He entered Afghanistan shortly "
        "afterwards.",
        date="2010",
        place=places["pakistan"],
        claim_status=ClaimStatus.REPORTED,
    )
    load.cite(escape, isaf, escaped_quote, paragraph=6, aspect="escape, dated to 2010")
    load.cite(
        escape,
        isaf,
        "and also assisted others in escaping from incarceration, including paying bribes for "
        "their release.",
        paragraph=6,
        aspect="helped others escape, paying bribes",
    )
    load.cite(
        escape,
        lwj,
        "He entered Afghanistan shortly after escaping from the Pakistani prison",
        paragraph=6,
        aspect="went to Afghanistan after the escape",
        attribution=ISAF_STATEMENT,
    )

    capture = load.event(
        bilal,
        kind=kind.CAPTURE,
        summary="Captured by ISAF and Afghan forces in a raid in Khanabad district, Kunduz",
        description="ISAF announced the capture of a senior IMU leader and two of his "
        "associates in a special operations raid, after weeks of intelligence gathering with "
        "Afghan security forces. ISAF did not name him; Kunduz's police chief named him to "
        "Pajhwok Afghan News. He was seized at the home of another IMU leader, Qari "
        "Sibghatullah.",
        date="2011-04-20",
        place=places["khanabad"],
        operation="",
        unnamed_count=2,
        unnamed_description="associates",
        claim_status=ClaimStatus.CONFIRMED,
        order_hint=0,
    )
    load.org_role(capture, orgs["isaf"], role.CAPTURING_FORCE)
    load.org_role(capture, orgs["ansf"], role.PARTNER_FORCE)
    load.put(
        EventPerson,
        {"event": capture, "person": people["sibghatullah"], "role": EventPerson.Role.RELATED},
        note="seized at his home",
    )
    load.cite(
        capture,
        isaf,
        "Three years ago, ISAF announced the capture of a senior IMU leader and “two of his "
        "associates” during a special operations raid in the Khanabad district in Kunduz on "
        "April 20, 2011 after “multiple weeks of intelligence gathering and coordination with "
        "Afghan security forces.”",
        paragraph=4,
        aspect="capture, date and place; does not name him",
    )
    load.cite(
        capture,
        pajhwok,
        "Bilal is from Uzbekistan and was seized at the home of another IMU leader known as "
        "Qari Sibghatullah, Kunduz’s police chief told Pajhwok Afghan News in 2011.",
        paragraph=8,
        aspect="names the captive as Qari Bilal; seized at Qari Sibghatullah's home",
        attribution=POLICE_CHIEF,
    )
    load.cite(
        capture,
        lwj,
        "Although Bilal was not directly named by ISAF, Afghan officials later identified him "
        "to the press.",
        paragraph=5,
        aspect="ISAF's captive was Bilal",
    )
    load.cite(
        capture,
        sources["lwj_2011"],
        "ISAF captures Islamic Movement of Uzbekistan’s top commander for Afghanistan",
        paragraph=4,
        aspect="LWJ's report of the capture at the time",
        locator="title, as cited by FDD's Long War Journal (2014), paragraph 4",
    )

    held = load.event(
        bilal,
        kind=kind.CUSTODY,
        summary="Held at the Parwan Detention Facility",
        description="Not stated by any source: the article infers it because ISAF captured "
        "him. The custodian follows the facility's controller, so the March 2013 handover made "
        "the Afghan government his custodian if he was still held there. When this custody "
        "ended is unclear.",
        date="2011-04-20",
        end_date=AFTER_CAPTURE_BEFORE_ARTICLE,
        custody_end_reason=Event.CustodyEnd.RELEASE,
        place=places["bagram"],
        facility=parwan,
        claim_status=ClaimStatus.INFERRED,
        order_hint=1,
    )
    load.cite(
        held,
        lwj,
        "Given that he was captured by ISAF, he was very likely held at the Parwan Detention "
        "Facility.",
        paragraph=12,
        aspect="inferred: held at Parwan",
    )
    load.cite(
        held,
        lwj,
        "It is unclear when Bilal was released from Afghan custody.",
        paragraph=12,
        aspect="end of custody undated",
    )

    # The two detentions and releases TOLOnews reports, in the order they must have happened;
    # their dates can only be bounded, so order_hint keeps them in sequence.
    def release(order: int, ordinal: str) -> None:
        event = load.event(
            bilal,
            kind=kind.RELEASE,
            summary=f"{ordinal.capitalize()} release, on President Karzai's orders",
            description=f"The {ordinal} of the two releases Afghan officials in Kunduz "
            "described to TOLOnews, both on President Hamid Karzai's orders. When it happened "
            "is unclear: after the April 2011 capture and before the 2014 article.",
            date=AFTER_CAPTURE_BEFORE_ARTICLE,
            release_kind=Event.ReleaseKind.PARDON,
            place=None,
            claim_status=ClaimStatus.REPORTED,
            order_hint=order,
        )
        load.put(
            EventPerson,
            {"event": event, "person": people["karzai"], "role": EventPerson.Role.ORDERED_BY},
            capacity="President of Afghanistan",
        )
        load.org_role(event, orgs["afghanistan"], role.ORDERED_BY)
        load.org_role(event, orgs["afghanistan"], role.CARRIED_OUT_BY)
        load.cite(
            event,
            tolo,
            "released from prison on two separate occasions",
            paragraph=2,
            aspect="released twice",
        )
        load.cite(
            event,
            tolo,
            "both times was freed after President Hamid Karzai issued orders for his release",
            paragraph=3,
            aspect="ordered by President Karzai",
            attribution=KUNDUZ_OFFICIALS,
        )
        load.cite(
            event,
            lwj,
            "Qari Bilal, the IMU leader, was freed by the Afghan government at the direction of "
            "President Hamid Karzai, Afghan officials in Kunduz have told TOLONews",
            paragraph=2,
            aspect="freed by the Afghan government on Karzai's orders",
            attribution=KUNDUZ_OFFICIALS,
        )
        load.cite(
            event,
            lwj,
            "It is unclear when Bilal was released from Afghan custody.",
            paragraph=12,
            aspect="date unknown",
        )

    release(1, "first")
    detained = load.event(
        bilal,
        kind=kind.CAPTURE,
        summary="Detained again by the Afghan authorities",
        description="TOLOnews reports two detentions since his return to Afghanistan, each "
        "ended by a release on President Karzai's orders. Whether the ISAF capture of April "
        "2011 was the first of them is not clear; this record takes it so. Who detained him "
        "the second time is not reported.",
        date=AFTER_CAPTURE_BEFORE_ARTICLE,
        place=places["afghanistan"],
        claim_status=ClaimStatus.REPORTED,
        order_hint=2,
    )
    load.org_role(detained, orgs["afghanistan"], role.CAPTURING_FORCE)
    load.cite(
        detained,
        tolo,
        "Since his return to Afghanistan, Bilal has been detained two times",
        paragraph=3,
        aspect="detained twice",
        attribution=KUNDUZ_OFFICIALS,
    )
    release(3, "second")

    reengaged = load.event(
        bilal,
        kind=kind.REENGAGEMENT,
        summary="Leads more than 300 fighters in Kunduz province",
        description="Afghan officials in Kunduz told TOLOnews that he leads more than 300 "
        "fighters in the province and has masterminded suicide attacks and roadside bombings "
        "there.",
        date="2014",
        place=places["kunduz"],
        reengagement=Event.Reengagement.CONFIRMED,
        role="commander",
        strength_estimate=300,
        strength_note="more than 300 fighters",
        claim_status=ClaimStatus.REPORTED,
    )
    load.org_role(reengaged, orgs["imu"], role.GROUP)
    load.cite(
        reengaged,
        tolo,
        "He leads more than 300 fighters in Kunduz province",
        paragraph=2,
        aspect="leads more than 300 fighters",
        attribution=KUNDUZ_OFFICIALS,
    )
    load.cite(
        reengaged,
        tolo,
        "has masterminded numerous suicide attacks and overseen the planting of roadside bombs "
        "throughout the province.",
        paragraph=2,
        aspect="attacks he directed",
    )
    load.cite(
        reengaged,
        lwj,
        "is now leading more than 300 jihadists in the northern Afghan province of Kunduz",
        paragraph=1,
        aspect="leads more than 300 fighters",
    )


def _batch(load: _Loader, bilal: Person, orgs, sources) -> None:
    lwj, afghanistan = sources["lwj"], orgs["afghanistan"]
    batch = load.put(
        ReleaseBatch,
        {"title": "Release of 65 of 88 detainees the US called dangerous"},
        date="2014-02",
        ordered_by=afghanistan,
        carried_out_by=afghanistan,
        declared_considered=88,
        declared_released=65,
        description="The Afghan government released 65 of a group of 88 detainees whom the US "
        "government and military called dangerous, over strong US protest. Seven of those "
        "freed may have been involved in insider attacks on Coalition personnel.",
        claim_status=ClaimStatus.CONFIRMED,
    )
    load.cite(
        batch,
        lwj,
        "In February of this year, the US government and the military strongly protested the "
        "release of “65 dangerous individuals from a group of 88 detainees.”",
        paragraph=13,
        aspect="65 of 88 released, February 2014",
    )
    load.cite(
        batch,
        lwj,
        "Seven of those freed may have been involved in the green-on-blue, or insider attacks "
        "that have resulted in the deaths of Coalition personnel.",
        paragraph=13,
        aspect="some of those freed may have been behind insider attacks",
    )
    membership = load.put(
        BatchMembership,
        {"batch": batch, "person": bilal},
        inclusion=BatchMembership.Inclusion.UNKNOWN,
        note="Not known whether he was one of the 65.",
        claim_status=ClaimStatus.REPORTED,
    )
    load.cite(
        membership,
        lwj,
        "It is not known if Bilal was one of the “65 dangerous individuals” freed by the Afghan "
        "government.",
        paragraph=13,
        aspect="inclusion unknown",
    )
