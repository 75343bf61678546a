"""One run of the importer lists every problem a write would hit, naming the rows involved."""

import time

import pytest

from bench.importfile import ImportFile
from detainees.domain.models import Person, Place, Source
from detainees.write.exports.package import render
from detainees.write.importers.generic import ImportRefused, import_rows, read_file
from tests.factories import CountryFactory

pytestmark = pytest.mark.django_db


def _import(tmp_path, files: dict[str, str]):
    directory = tmp_path / "desk"
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    return import_rows(read_file(directory))


def _refusal(tmp_path, files: dict[str, str]) -> list[str]:
    with pytest.raises(ImportRefused) as refused:
        _import(tmp_path, files)
    return [str(e) for e in refused.value.errors]


def test_a_duplicate_within_the_file_names_the_other_line(tmp_path):
    errors = _refusal(
        tmp_path,
        {
            "places.csv": "id,name,kind,parent,country\n"
            "AF,Afghanistan,country,,AF\n"
            "K1,Kunduz,province,AF,\n"
            "K2,Kunduz,province,AF,\n",
            "sources.csv": "id,kind,title,url\n"
            "S1,news_report,First,https://example.org/a\n"
            "S2,news_report,Second,https://example.org/a\n",
        },
    )
    assert errors == [
        "places.csv, line 4: This place already exists under the same parent. "
        "(duplicates line 3 of places.csv)",
        "sources.csv, line 3: A source with this URL already exists. "
        "(duplicates line 2 of sources.csv)",
    ]


def test_a_duplicate_of_a_stored_record_names_it_by_public_id_and_label(tmp_path):
    country = CountryFactory(name="Afghanistan", country="AF")
    kunduz = Place.objects.create(name="Kunduz", kind="province", parent=country)
    source = Source.objects.create(kind="news_report", title="Old", url="https://example.org/a")
    errors = _refusal(
        tmp_path,
        {
            "places.csv": f"id,name,kind,parent\nK1,Kunduz,province,{country.public_id}\n",
            "sources.csv": "id,kind,title,url\nS1,news_report,New,https://example.org/a\n",
        },
    )
    assert errors == [
        "places.csv, line 2: This place already exists under the same parent. "
        f"(already exists as place {kunduz.public_id} (Kunduz (province)))",
        "sources.csv, line 2: A source with this URL already exists. "
        f"(already exists as source {source.public_id} (Old))",
    ]


def test_updating_the_stored_record_itself_is_no_duplicate(tmp_path):
    source = Source.objects.create(kind="news_report", title="Old", url="https://example.org/a")
    _import(
        tmp_path,
        {
            "sources.csv": f"id,kind,title,url\n{source.public_id},news_report,New,https://example.org/a\n"
        },
    )
    source.refresh_from_db()
    assert source.title == "New"


def test_parse_errors_uniqueness_checks_and_tree_rules_come_in_one_run(tmp_path):
    CountryFactory(name="Pakistan", country="PK")
    errors = _refusal(
        tmp_path,
        {
            "places.csv": "id,name,kind,parent,country,latitude,longitude\n"
            "AF,Afghanistan,country,,AF,,\n"
            "K1,Kunduz,province,AF,PK,,\n"  # a second country in the tree
            "K2,Kunduz,provinse,AF,,,\n"  # a parse error
            "K3,Takhar,province,AF,,36.7,\n"  # a CHECK: a latitude without its longitude
            "K4,Baghlan,province,AF,,,\n"
            "K5,Baghlan,province,AF,,,\n",  # a duplicate
            "events.csv": "id,kind,date,place,release_kind\n"
            "E1,capture,2011-04-20,K4,pardon\n",  # a CHECK across columns
        },
    )
    assert errors == [
        "events.csv, line 2: Only a release has a release kind or a batch.",
        "places.csv, line 3: country: its parent (Afghanistan, line 2 of places.csv) is in AF, "
        "not in PK",
        "places.csv, line 4: kind: 'provinse' is not one of: country, province, district, locality",
        "places.csv, line 5: Give both coordinates, latitude within ±90 and longitude within "
        "±180, or neither.",
        "places.csv, line 7: This place already exists under the same parent. "
        "(duplicates line 6 of places.csv)",
    ]
    assert not Place.objects.filter(name__in=["Kunduz", "Takhar", "Baghlan"]).exists()


def test_what_only_the_write_finds_is_reported_beside_the_first_pass_problems(tmp_path):
    errors = _refusal(
        tmp_path,
        {
            "places.csv": "id,name,kind,parent,country\n"
            "AF,Afghanistan,country,,AF\n"
            "D1,Khanabad,district,AF,\n"
            "L1,Aliabad,locality,D1,\n"
            "P1,Kunduz,province,L1,\n",  # a province inside a locality: clean() at write time
            "persons.csv": "id,gender,is_placeholder\nX1,unknown-gender,true\n",
        },
    )
    assert errors[0].startswith("persons.csv, line 2: gender:")
    assert errors[1].startswith("places.csv, line 5: parent: A province cannot be inside")
    assert not Place.objects.exists()


@pytest.mark.slow
def test_fifty_problems_scattered_in_ten_thousand_rows_come_in_one_run(tmp_path):
    data = ImportFile(10_000, seed=3)
    rows = data.rows
    events = [e for e in rows["events"] if e["kind"] == "capture"]
    custody = [e for e in rows["events"] if e["kind"] == "custody"]
    expected = set()

    def spoil(table, row, **values):
        row.update(values)
        expected.add((table, row["id"]))

    for e in events[:4]:
        spoil("events", e, date="banana")  # parse
    for p in rows["persons"][100:104]:
        spoil("persons", p, gender="x")  # parse
    for link in rows["event_people"][300:308]:
        spoil("event_people", link, person="NOPE")  # unknown reference
    for n in rows["nationalities"][500:504]:  # in-file duplicates
        twin = {**n, "id": n["id"] + "-twin"}
        rows["nationalities"].append(twin)
        expected.add(("nationalities", twin["id"]))
    for s in rows["sources"][10:14]:
        spoil("sources", s, url=rows["sources"][0]["url"])
    for s in rows["sources"][20:28]:  # stored duplicates
        Source.objects.create(kind="news_report", title="Stored", url=s["url"])
        expected.add(("sources", s["id"]))
    for e in events[200:208]:
        spoil("events", e, release_kind="pardon")  # CHECK
    provinces = [p for p in rows["places"] if p["kind"] == "province"]
    for p in provinces[:5]:
        other = next(c for c, *_ in data.words.COUNTRIES if not p["parent"].endswith(c))
        spoil("places", p, country=other)  # the tree
    # Ends before it begins: found when written. (A row naming a refused row is left out of the
    # write, its refusal said once: these custody episodes are in facilities of good places.)
    refused_places = {p["id"] for p in provinces[:5]}
    facility_place = {f["id"]: f["place"] for f in rows["facilities"]}
    sound = [e for e in custody if facility_place[e["facility"]] not in refused_places]
    for e in sound[50:55]:
        spoil("events", e, end_date="2001")
    directory = tmp_path / "package"
    directory.mkdir()
    for name, content in render(data.table_rows()).items():
        (directory / name).write_bytes(content)

    started = time.monotonic()
    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(directory / "datapackage.json"))
    elapsed = time.monotonic() - started

    errors = refused.value.errors
    assert len(errors) == 50, "\n".join(map(str, errors))
    lines = {}
    for table in {t for t, _ in expected}:
        ids = [r["id"] for r in rows[table]]
        lines.update({(table, key): f"{table}.csv, line {i + 2}" for i, key in enumerate(ids)})
    assert {e.where for e in errors} == {lines[key] for key in expected}
    assert not Person.objects.exists() and Source.objects.count() == 8
    print(f"10,000 rows, 50 problems found in {elapsed:.1f} s")
