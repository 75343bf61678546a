"""The ISAF press-release import, on the real file: every row in, counts as in the file, found by
search and facets, a second run changes nothing, and a bad row leaves nothing behind."""

import csv
import hashlib
from collections import Counter
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Sum

from detainees.domain.models import (
    Citation,
    Event,
    EventOrganization,
    Organization,
    OrganizationName,
    Place,
    PublicationStatus,
    Source,
)
from detainees.write.demo import load_demo
from detainees.write.importers.isaf import (
    COUNTS,
    DEFAULT_PATH,
    FLAGS,
    BadRow,
    Row,
    district_in,
    forces_in,
    import_isaf,
    published_date,
    read_rows,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
FILE = Path(__file__).resolve().parent.parent / "data" / "isaf-press-releases"
CSV = FILE / "isaf_press_releases.csv"

# The file's target-group codes and the organizations they stand for; "criminal" is none.
GROUP_NAMES = {
    "taliban": "Taliban",
    "haqqani": "Haqqani Network",
    "imu": "Islamic Movement of Uzbekistan",
    "aq": "al Qaeda",
    "hig": "Hezb-e Islami Gulbuddin",
    "let": "Lashkar-e-Taiba",
    "shirafat attack network": "Shirafat Attack Network",
}


def file_rows() -> list[dict]:
    with open(CSV, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def is_capture(row: dict) -> bool:
    return row["captureq"] == "True" or int(row["min_captured"]) > 0


def event_of(row: dict) -> Event:
    digest = hashlib.sha256(row["text"].strip().encode()).hexdigest()
    return Event.objects.get(import_key=f"isaf:event:{digest}")


def imported_events():
    return Event.objects.filter(import_key__startswith="isaf:")


@pytest.fixture(scope="module")
def imported(module_data):
    return module_data(import_isaf, CSV)


def test_the_repository_holds_the_file_and_the_command_reads_it_by_default():
    assert Path(DEFAULT_PATH) == CSV
    assert len(file_rows()) == 724
    assert "CC BY-SA 4.0" in (FILE / "README.md").read_text()


def test_every_row_becomes_a_published_source_and_event_as_the_file_counts_them(imported):
    rows = file_rows()
    assert imported.rows == len(rows) == 724
    events = imported_events()
    assert events.count() == 724
    assert not events.exclude(status=PUBLISHED).exists()

    # Rows sharing a reference are items of one release; the others are one source each.
    references = {r["eventrefnumber"] for r in rows if r["eventrefnumber"]}
    unreferenced = [r for r in rows if not r["eventrefnumber"]]
    sources = Source.objects.filter(import_key__startswith="isaf:")
    assert sources.count() == len(references) + len(unreferenced) == 589
    assert set(sources.exclude(reference_number="").values_list("reference_number", flat=True)) == (
        references
    )
    isaf = Organization.objects.get(abbreviation="ISAF")
    assert set(sources.values_list("publisher", "kind", "status", "language")) == {
        (isaf.pk, Source.Kind.PRESS_RELEASE, PUBLISHED, "en")
    }
    assert not sources.filter(full_text="").exists()
    assert all(
        "CC BY-SA 4.0" in r and "Strick van Linschoten" in r
        for r in sources.values_list("rights", flat=True)
    )

    # Each row: its own event, cited to the source with its reference, with its date and count.
    for row in rows:
        event = event_of(row)
        citation = Citation.objects.get(event=event)
        assert citation.source.reference_number == row["eventrefnumber"]
        assert citation.quote and " ".join(citation.quote.split()) in " ".join(
            row["text"].replace("\u2028", " ").split()
        )
        assert event.date == row["start_date"]
        if is_capture(row):
            assert (event.kind, event.unnamed_count) == ("capture", int(row["min_captured"]))
        else:
            assert (event.kind, event.unnamed_count) == ("strike", int(row["min_killed"]))

    per_year = Counter(r["start_date"][:4] for r in rows)
    assert per_year == {"2009": 8, "2010": 175, "2011": 337, "2012": 184, "2013": 20}
    db_years = Counter(str(e.date_earliest.year) for e in events)
    assert db_years == per_year
    captures_per_year = Counter(r["start_date"][:4] for r in rows if is_capture(r))
    assert (
        Counter(str(e.date_earliest.year) for e in events.filter(kind=Event.Kind.CAPTURE))
        == captures_per_year
    )
    captured = sum(int(r["min_captured"]) for r in rows)
    assert captured == 1730
    assert events.filter(kind=Event.Kind.CAPTURE).aggregate(n=Sum("unnamed_count"))["n"] == captured

    per_group = Counter()
    for row in rows:
        for code in {c.strip() for c in row["target_group"].split(";") if c.strip()}:
            if code != "criminal":
                per_group[GROUP_NAMES[code]] += 1
    targets = EventOrganization.objects.filter(
        role=EventOrganization.Role.GROUP, event__in=events
    ).values_list("organization__name")
    db_groups = Counter(
        dict(targets.annotate(n=Count("pk")).values_list("organization__name", "n"))
    )
    assert db_groups == per_group
    assert per_group["Islamic Movement of Uzbekistan"] == 20
    assert per_group["Taliban"] == 400


def test_places_are_districts_in_provinces_in_afghanistan_named_once(imported):
    afghanistan = Place.objects.get(kind=Place.Kind.COUNTRY, country="AF")
    provinces = Place.objects.filter(kind=Place.Kind.PROVINCE)
    assert set(provinces.values_list("parent", flat=True)) == {afghanistan.pk}
    assert provinces.filter(name="Kunduz").count() == 1
    assert provinces.filter(name="Paktia").count() == 1  # coded "paktya", written "Paktiya"
    khanabad = Place.objects.get(kind=Place.Kind.DISTRICT, name="Khanabad")
    assert khanabad.parent.name == "Kunduz"
    # Spellings of one district meet: "Now Zad" and "Nowzad", "Garm Ser" and "Garmsir".
    helmand = provinces.get(name="Helmand").children.values_list("name", flat=True)
    assert len([n for n in helmand if n.replace(" ", "").lower() == "nowzad"]) == 1
    assert len([n for n in helmand if n.replace(" ", "").lower() in ("garmser", "garmsir")]) == 1
    # A row coded with no province ("", "??") happened somewhere in Afghanistan.
    nowhere = [r for r in file_rows() if r["province"] in ("", "??", "southern afghanistan")]
    assert imported_events().filter(place=afghanistan).count() == len(nowhere) == 4


def test_the_demo_case_places_and_organizations_are_reused_not_doubled(db):
    load_demo()
    before = {
        "imu": Organization.objects.get(abbreviation="IMU").pk,
        "isaf": Organization.objects.get(abbreviation="ISAF").pk,
        "kunduz": Place.objects.get(kind=Place.Kind.PROVINCE, name="Kunduz").pk,
        "khanabad": Place.objects.get(name="Khanabad").pk,
    }
    import_isaf(CSV)
    assert Organization.objects.filter(abbreviation="IMU").get().pk == before["imu"]
    assert Organization.objects.filter(abbreviation="ISAF").get().pk == before["isaf"]
    assert (
        Place.objects.filter(kind=Place.Kind.PROVINCE, name="Kunduz").get().pk == before["kunduz"]
    )
    assert Place.objects.filter(name="Khanabad").get().pk == before["khanabad"]
    assert Organization.objects.filter(name__iexact="taliban").count() == 1
    assert Organization.objects.filter(name="al Qaeda").count() == 1
    hig = Organization.objects.get(abbreviation="HIG")
    assert OrganizationName.objects.filter(
        organization=hig, name="Hizb-i-Islami Gulbuddin"
    ).exists()
    taliban = Organization.objects.get(name="Taliban")
    assert OrganizationName.objects.filter(organization=taliban, name="Taleban").exists()


def imu_captures_in_kunduz() -> set[Event]:
    """From the file, independently of the import's rules for places and groups."""
    rows = [
        r
        for r in file_rows()
        if "imu" in r["target_group"].split(";") and r["province"] == "kunduz" and is_capture(r)
    ]
    assert len(rows) == 4
    return {event_of(r) for r in rows}


def test_imu_captures_in_kunduz_are_found_by_the_events_facets(client, imported):
    expected = imu_captures_in_kunduz()
    imu = Organization.objects.get(abbreviation="IMU")
    kunduz = Place.objects.get(kind=Place.Kind.PROVINCE, name="Kunduz")
    params = {"kind": "capture", "group": imu.slug, "province": kunduz.slug}

    response = client.get("/events/", {**params, "size": 200})
    assert response.status_code == 200
    assert set(response.context["page"].rows) == expected
    assert response.context["total"] == 4
    facets = {field.name: counts for field, counts in response.context["facets"]}
    assert (imu.slug, imu.name, 4) in facets["group"]
    assert (kunduz.slug, "Kunduz", 4) in facets["province"]
    html = response.content.decode()
    for event in expected:
        assert event.citations.get().source.reference_number in html

    # The whole list counts every value; each count is what choosing it lists.
    response = client.get("/events/")
    facets = {field.name: counts for field, counts in response.context["facets"]}
    assert ("capture", "Capture or arrest", 590) in facets["kind"]
    assert ("strike", "Strike or raid with no capture reported", 134) in facets["kind"]
    assert ("2011", "2011", 337) in facets["year"]
    assert dict((v, n) for v, _, n in facets["group"])[imu.slug] == 20

    data = client.get("/api/v1/events/", {**params, "page_size": 500}).json()
    assert {e["id"] for e in data["results"]} == {str(e.public_id) for e in expected}
    one = data["results"][0]
    assert {o["role"] for o in one["organizations"]} >= {"capturing_force", "group"}
    assert one["citations"]


def test_imu_captures_in_kunduz_are_found_by_the_public_search(client, imported):
    expected = {e.citations.get().source for e in imu_captures_in_kunduz()}
    response = client.get("/search/", {"q": "IMU Kunduz"})
    assert response.status_code == 200
    found = set(response.context["results"]["sources"])
    assert expected <= found
    html = response.content.decode()
    for source in expected:
        assert source.get_absolute_url() in html
    page = client.get(next(iter(expected)).get_absolute_url()).content.decode()
    assert "Strick van Linschoten" in page and "CC BY-SA 4.0" in page


def snapshot():
    models = [Source, Event, Citation, EventOrganization, Organization, OrganizationName, Place]
    return {
        m.__name__: (
            m.objects.count(),
            m.objects.aggregate(last=Max("updated"))["last"] if hasattr(m, "updated") else None,
            sorted(m.objects.values_list("pk", flat=True)),
        )
        for m in models
    }


def test_a_second_run_changes_nothing(imported):
    before = snapshot()
    stamps = dict(imported_events().values_list("pk", "updated"))
    again = import_isaf(CSV)
    assert (again.created, again.updated) == (0, 0)
    assert again.unchanged >= 724 + 589 + 724
    assert snapshot() == before
    assert dict(imported_events().values_list("pk", "updated")) == stamps


def test_the_command_says_what_it_did_and_that_a_rerun_did_nothing(db, capsys):
    call_command("import_isaf", str(CSV))
    first = capsys.readouterr().out
    assert "events: 724 created" in first and "sources: 589 created" in first
    call_command("import_isaf")
    assert capsys.readouterr().out.rstrip().endswith("0 created, 0 updated, 3983 unchanged.")


def write_rows(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def line_of_last_row(path: Path) -> int:
    """The line the last record starts on, counting the lines of multi-line texts."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        start = 1
        for _ in reader:
            last = start
            start = reader.line_num + 1
    return last


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("start_date", "2011-02-30", "start_date '2011-02-30' is not a date"),
        ("min_captured", "-1", "min_captured '-1' is not a whole number"),
        ("captureq", "maybe", "captureq 'maybe' is neither True nor False"),
        ("province", "atlantis", "unknown province 'atlantis'"),
        ("event_type", "detention;picnic", "unknown event_type 'picnic'"),
        ("text", "  ", "the press release text is empty"),
    ],
)
def test_a_bad_row_stops_the_import_with_its_line_and_writes_nothing(
    db, tmp_path, column, value, message
):
    rows = file_rows()[:5]
    rows[4][column] = value
    path = write_rows(tmp_path / "bad.csv", rows)
    line = line_of_last_row(path)
    assert line > 6  # the texts before it run over several lines
    with pytest.raises(CommandError) as error:
        call_command("import_isaf", str(path))
    assert f"line {line}: {message}" in str(error.value)
    assert "Nothing was imported" in str(error.value)
    for model in (Source, Event, Citation, EventOrganization, Organization, Place):
        assert not model.objects.exists(), model


def test_a_failure_while_writing_rolls_back_what_was_written(db, tmp_path, monkeypatch):
    from detainees.write.importers import isaf

    path = write_rows(tmp_path / "ok.csv", file_rows()[:5])

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(isaf, "quote_for", broken)
    with pytest.raises(RuntimeError):
        import_isaf(path)
    assert not Place.objects.exists() and not Organization.objects.exists()


def test_a_file_without_the_columns_is_refused_at_line_1(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("name,date\nx,2011\n")
    with pytest.raises(BadRow, match="line 1: missing column"):
        read_rows(path)


def test_repeated_texts_are_refused_with_both_lines(tmp_path):
    rows = file_rows()[:2]
    path = write_rows(tmp_path / "twice.csv", [rows[0], rows[1], rows[0]])
    with pytest.raises(BadRow, match=r"the same press release text as line 2"):
        read_rows(path)


def test_a_rerun_restores_what_was_changed_and_counts_it_as_updated(db, tmp_path):
    path = write_rows(tmp_path / "five.csv", file_rows()[:5])
    import_isaf(path)
    event = imported_events().order_by("pk").first()
    stamp = event.updated
    Event.objects.filter(pk=event.pk).update(unnamed_count=99, summary="edited")
    report = import_isaf(path)
    assert (report.created, report.updated) == (0, 1)
    event.refresh_from_db()
    assert event.unnamed_count != 99 and event.summary != "edited"
    assert event.updated > stamp


def test_a_release_entered_by_hand_with_isafs_reference_is_taken_over_not_doubled(db, tmp_path):
    rows = file_rows()[:5]
    path = write_rows(tmp_path / "five.csv", rows)
    isaf = f.OrganizationFactory(
        name="International Security Assistance Force", abbreviation="ISAF", status=PUBLISHED
    )
    by_hand = f.SourceFactory(
        publisher=isaf, reference_number=rows[0]["eventrefnumber"], title="Typed in"
    )
    import_isaf(path)
    by_hand.refresh_from_db()
    assert by_hand.import_key == f"isaf:{rows[0]['eventrefnumber']}"
    assert Source.objects.filter(reference_number=rows[0]["eventrefnumber"]).count() == 1
    assert Citation.objects.filter(source=by_hand, event=event_of(rows[0])).exists()


def synthetic(text: str, start="2011-02-15", province="helmand") -> Row:
    return Row(
        line=2,
        reference="",
        start=date.fromisoformat(start),
        event_types=["detention"],
        province=province,
        province_as_coded=province,
        groups=[],
        counts=dict.fromkeys(COUNTS, 0),
        flags=dict.fromkeys(FLAGS, False),
        text=text,
    )


@pytest.mark.parametrize(
    "text, start, published",
    [
        ("KABUL, Afghanistan (Feb. 16, 2011) – Afghan forces...", "2011-02-15", "2011-02-16"),
        ("KABUL, Afghanistan (Feb. 16) – Afghan forces...", "2011-02-15", "2011-02-16"),
        ("KABUL, Afghanistan (Jan. 2) – a December raid", "2010-12-31", "2011-01-02"),
        ("Sept. 25: no dateline in brackets", "2011-09-20", "2011-09-20/.."),
    ],
)
def test_the_release_date_comes_from_its_dateline_and_never_gains_precision(text, start, published):
    assert published_date(synthetic(text, start=start)) == published


@pytest.mark.parametrize(
    "text, province, district",
    [
        ("In Nad ‘Ali district, Helmand province, a force detained two.", "helmand", "Nad ‘Ali"),
        ("A force detained two in Marjeh district, Helmand province.", "helmand", "Marjah"),
        (
            "A force raided the Dara Soof Payan district of Samangan province.",
            "samangan",
            "Dara Soof Payan",
        ),
        ("A force detained two in Zurmat district, Paktiya province.", "paktya", "Zurmat"),
        ("A force detained two in Zurmat district, Paktiya province.", "helmand", None),
        ("A force detained two in Helmand province.", "helmand", None),
    ],
)
def test_a_district_is_taken_only_where_the_text_puts_it_in_the_coded_province(
    text, province, district
):
    found = district_in(synthetic(text, province=province))
    assert (found[0] if found else None) == district
    if found:
        assert found[1] == text


def test_forces_are_read_from_the_text():
    assert forces_in(synthetic("An Afghan and coalition security force detained two.")) == (
        True,
        True,
    )
    assert forces_in(synthetic("An Afghan-led security force detained two.")) == (False, True)
    assert forces_in(synthetic("A coalition patrol detained two.")) == (True, False)


def test_the_audit_history_records_the_isaf_import_as_the_user_who_ran_it(superuser, tmp_path):
    path = tmp_path / "isaf.csv"
    with open(DEFAULT_PATH, newline="", encoding="utf-8") as full, open(path, "w") as part:
        rows = csv.reader(full)
        csv.writer(part).writerows([next(rows) for _ in range(4)])  # the header and three rows
    call_command("import_isaf", str(path), "--user", "editor", stdout=StringIO())
    source = Source.objects.filter(import_key__isnull=False).first()
    created = source.history.get(pgh_label="insert")
    assert created.pgh_context.metadata["user"] == superuser.pk
    assert created.pgh_context.metadata["command"] == "import_isaf"
