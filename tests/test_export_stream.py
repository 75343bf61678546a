"""The streamed export (`write_export`) writes the bytes the in-memory one (`render(collect())`)
builds: the same rows kept, the same references blanked, the same files, hashes and zip."""

import io
import zipfile
from pathlib import Path

import pytest

from detainees.domain.models import Place, PublicationStatus
from detainees.write.exports import package
from detainees.write.exports.package import (
    ARCHIVE,
    DESCRIPTOR,
    PACKAGE_NAME,
    ZIP_TIME,
    collect,
    render,
    write_export,
)
from detainees.write.exports.tables import TABLES
from tests.factories import (
    CitationFactory,
    EventFactory,
    EventPersonFactory,
    PersonFactory,
    PlaceFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

PUBLISHED = PublicationStatus.PUBLISHED


def reference_zip(files: dict[str, bytes]) -> bytes:
    """The archive as it was built from the files in memory, the descriptor first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in [DESCRIPTOR, *[n for n in files if n != DESCRIPTOR]]:
            info = zipfile.ZipInfo(f"{PACKAGE_NAME}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    return buffer.getvalue()


def assert_streamed_equals_rendered(directory: Path) -> dict[str, bytes]:
    expected = render(collect())
    result = write_export(directory, archive=True)

    written = {name: (directory / name).read_bytes() for name in expected}
    assert list(written) == list(expected)
    for name, content in expected.items():
        assert written[name] == content, name
    assert (directory / ARCHIVE).read_bytes() == reference_zip(expected)
    assert result.files == {name: len(content) for name, content in expected.items()}
    assert result.rows == {name: len(rows) for name, rows in collect().items()}
    return expected


def test_the_streamed_export_of_the_demo_equals_the_rendered_one(tmp_path, demo):
    expected = assert_streamed_equals_rendered(tmp_path)

    assert all(
        expected[f"{t.name}.csv"].count(b"\r\n") > 1 for t in TABLES if t.name != "relationships"
    )


def test_chunk_boundaries_change_no_byte(tmp_path, demo, monkeypatch):
    monkeypatch.setattr(package, "CHUNK", 3)

    assert_streamed_equals_rendered(tmp_path)


def test_the_streamed_export_of_generated_data_with_drafts_equals_the_rendered_one(tmp_path, db):
    from detainees.synthetic import generate_dataset

    generate_dataset(persons=80, events=600, seed=3)
    # What the package leaves out or blanks: a province of a draft country (and its district),
    # an event at a draft place, a draft person in an event, a citation of a draft event only,
    # a citation from a confidential source.
    country = PlaceFactory(name="Draft Country", kind=Place.Kind.COUNTRY, parent=None, country="IS")
    province = PlaceFactory(name="Lost Province", parent=country, country="IS", status=PUBLISHED)
    PlaceFactory(
        name="Lost District",
        kind=Place.Kind.DISTRICT,
        parent=province,
        country="IS",
        status=PUBLISHED,
    )
    person = PersonFactory(status=PUBLISHED, name="Public Man")
    event = EventFactory(status=PUBLISHED, place=province)
    EventPersonFactory(event=event, person=person)
    EventPersonFactory(event=event, person=PersonFactory(name="Draft Witness"))
    public = SourceFactory(status=PUBLISHED, title="Public Report")
    CitationFactory(source=public, event=event, quote="kept")
    CitationFactory(source=public, event=EventFactory(), quote="on a draft event")
    CitationFactory(source=SourceFactory(is_confidential=True), event=event, quote="secret")

    expected = assert_streamed_equals_rendered(tmp_path)

    places = expected["places.csv"].decode()
    assert "Draft Country" not in places and "Lost " not in places
    citations = expected["citations.csv"].decode()
    assert "kept" in citations and "on a draft event" not in citations and "secret" not in citations


def test_two_streamed_exports_in_one_transaction_do_not_collide(tmp_path, demo):
    write_export(tmp_path / "a")
    write_export(tmp_path / "b")

    for table in TABLES:
        name = f"{table.name}.csv"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
