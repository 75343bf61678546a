"""One run of the importer lists every problem a write would hit, naming the rows involved."""

import pytest

from detainees.domain.models import Place, Source
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
            "K3,Takhar,province,AF,,95,70\n"  # a CHECK
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
