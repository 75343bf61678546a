"""Dates as national registers write them: day-first numbers, Spanish, Portuguese and French
month names, ordinals, early/mid/late, fortnights, "no date" words; the default unchanged."""

import csv
import time
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from detainees.domain.fuzzydates import MAX_LENGTH, DateReading, FuzzyDate, FuzzyDateError
from detainees.domain.models import Event
from tests.factories import CountryFactory
from tests.test_hostile_params import BOUND, HOSTILE

REGISTER = Path(__file__).parent / "data" / "register_events.csv"
READING = DateReading(order="dmy", locales=("es", "pt", "fr"))
D = date

# Each cell of the fixture (tests/data/register_events.csv): EDTF stored, earliest, latest.
EXPECTED = {
    "03/04/1976": ("1976-04-03", D(1976, 4, 3), D(1976, 4, 3)),
    "12/11/1976": ("1976-11-12", D(1976, 11, 12), D(1976, 11, 12)),
    "25/12/1976": ("1976-12-25", D(1976, 12, 25), D(1976, 12, 25)),
    "NOV/1976": ("1976-11", D(1976, 11, 1), D(1976, 11, 30)),
    "Noviembre de 1976": ("1976-11", D(1976, 11, 1), D(1976, 11, 30)),
    "AGO/1976": ("1976-08", D(1976, 8, 1), D(1976, 8, 31)),
    "dic. 1976": ("1976-12", D(1976, 12, 1), D(1976, 12, 31)),
    "DIC/1974-ENE/1975": ("1974-12/1975-01", D(1974, 12, 1), D(1975, 1, 31)),
    "MAY-OCT/1977": ("1977-05/1977-10", D(1977, 5, 1), D(1977, 10, 31)),
    "1º/03/1976": ("1976-03-01", D(1976, 3, 1), D(1976, 3, 1)),
    "1° de marzo de 1976": ("1976-03-01", D(1976, 3, 1), D(1976, 3, 1)),
    "año 1976": ("1976", D(1976, 1, 1), D(1976, 12, 31)),
    "principios de 1976": ("1976-01/1976-04", D(1976, 1, 1), D(1976, 4, 30)),
    "mediados de 1976": ("1976-05/1976-08", D(1976, 5, 1), D(1976, 8, 31)),
    "fines de 1976": ("1976-09/1976-12", D(1976, 9, 1), D(1976, 12, 31)),
    "finales de 1977": ("1977-09/1977-12", D(1977, 9, 1), D(1977, 12, 31)),
    "ppios. 1977": ("1977-01/1977-04", D(1977, 1, 1), D(1977, 4, 30)),
    "med. de 1977": ("1977-05/1977-08", D(1977, 5, 1), D(1977, 8, 31)),
    "fin. 1978": ("1978-09/1978-12", D(1978, 9, 1), D(1978, 12, 31)),
    "fines de marzo de 1976": ("1976-03-20/1976-03-31", D(1976, 3, 20), D(1976, 3, 31)),
    "1ra quincena de marzo 1976": ("1976-03-01/1976-03-15", D(1976, 3, 1), D(1976, 3, 15)),
    "2da. quincena de febrero de 1976": (
        "1976-02-16/1976-02-29",
        D(1976, 2, 16),
        D(1976, 2, 29),
    ),
    "s/f": ("", None, None),
    "sin fecha": ("", None, None),
    "desconocida": ("", None, None),
    "15 de agosto de 1976": ("1976-08-15", D(1976, 8, 15), D(1976, 8, 15)),
    "1976-09-20": ("1976-09-20", D(1976, 9, 20), D(1976, 9, 20)),
    "1977": ("1977", D(1977, 1, 1), D(1977, 12, 31)),
    "about 1976": ("1976~", D(1975, 1, 1), D(1977, 12, 31)),
    "20 April 1976": ("1976-04-20", D(1976, 4, 20), D(1976, 4, 20)),
    "principios de MAR/1976": ("1976-03-01/1976-03-10", D(1976, 3, 1), D(1976, 3, 10)),
    "entre marzo y mayo de 1976": ("1976-03/1976-05", D(1976, 3, 1), D(1976, 5, 31)),
    "de marzo a mayo 1976": ("1976-03/1976-05", D(1976, 3, 1), D(1976, 5, 31)),
    "entre 1975 y 1976": ("1975/1976", D(1975, 1, 1), D(1976, 12, 31)),
    "década del 70": ("1970/1979", D(1970, 1, 1), D(1979, 12, 31)),
    "años 70": ("1970/1979", D(1970, 1, 1), D(1979, 12, 31)),
    "03/04/76": ("1976-04-03", D(1976, 4, 3), D(1976, 4, 3)),
    "MAR/76": ("1976-03", D(1976, 3, 1), D(1976, 3, 31)),
    "between March and May 1976": ("1976-03/1976-05", D(1976, 3, 1), D(1976, 5, 31)),
    "the 70s": ("1970/1979", D(1970, 1, 1), D(1979, 12, 31)),
}
# Portuguese, French and English words, and the other orders, read with a reading.
OTHER_FORMS = {
    "março de 1976": ("1976-03", D(1976, 3, 1), D(1976, 3, 31)),
    "2 de dezembro de 1975": ("1975-12-02", D(1975, 12, 2), D(1975, 12, 2)),
    "meados de 1976": ("1976-05/1976-08", D(1976, 5, 1), D(1976, 8, 31)),
    "primeira quinzena de maio de 1976": ("1976-05-01/1976-05-15", D(1976, 5, 1), D(1976, 5, 15)),
    "1er mars 1976": ("1976-03-01", D(1976, 3, 1), D(1976, 3, 1)),
    "mi-mars 1976": ("1976-03-10/1976-03-20", D(1976, 3, 10), D(1976, 3, 20)),
    "début 1976": ("1976-01/1976-04", D(1976, 1, 1), D(1976, 4, 30)),
    "Déc. 1976": ("1976-12", D(1976, 12, 1), D(1976, 12, 31)),
    "sans date": ("", None, None),
    "early 1976": ("1976-01/1976-04", D(1976, 1, 1), D(1976, 4, 30)),
    "late March 1976": ("1976-03-20/1976-03-31", D(1976, 3, 20), D(1976, 3, 31)),
    # Ranges said with words, in every language.
    "from March to May 1976": ("1976-03/1976-05", D(1976, 3, 1), D(1976, 5, 31)),
    "entre março e maio de 1976": ("1976-03/1976-05", D(1976, 3, 1), D(1976, 5, 31)),
    "entre mars et mai 1976": ("1976-03/1976-05", D(1976, 3, 1), D(1976, 5, 31)),
    "de mars à mai 1976": ("1976-03/1976-05", D(1976, 3, 1), D(1976, 5, 31)),
    "entre principios de 1975 y fines de 1976": ("1975-01/1976-12", D(1975, 1, 1), D(1976, 12, 31)),
    # Decades.
    "1970s": ("1970/1979", D(1970, 1, 1), D(1979, 12, 31)),
    "anos 70": ("1970/1979", D(1970, 1, 1), D(1979, 12, 31)),
    "années 70": ("1970/1979", D(1970, 1, 1), D(1979, 12, 31)),
    "les années 70": ("1970/1979", D(1970, 1, 1), D(1979, 12, 31)),
    "década de 1980": ("1980/1989", D(1980, 1, 1), D(1989, 12, 31)),
    "decada de los 60": ("1960/1969", D(1960, 1, 1), D(1969, 12, 31)),
    "the '90s": ("1990/1999", D(1990, 1, 1), D(1999, 12, 31)),
    # Two-digit years: the latest year up to this one that ends in them.
    "15 de agosto de 76": ("1976-08-15", D(1976, 8, 15), D(1976, 8, 15)),
    "25/12/76": ("1976-12-25", D(1976, 12, 25), D(1976, 12, 25)),
    "MAR/24": ("2024-03", D(2024, 3, 1), D(2024, 3, 31)),
    "fines de 77": ("1977-09/1977-12", D(1977, 9, 1), D(1977, 12, 31)),
    "años 20": ("2020/2029", D(2020, 1, 1), D(2029, 12, 31)),
}


def cells() -> list[str]:
    with REGISTER.open(encoding="utf-8") as f:
        return [row["date"] for row in csv.DictReader(f)]


def test_the_fixture_holds_every_form_and_each_is_expected():
    assert sorted(cells()) == sorted(EXPECTED)


@pytest.mark.parametrize("text", [*EXPECTED, *OTHER_FORMS])
def test_a_register_date_is_read_with_its_bounds(text):
    fuzzy = FuzzyDate.parse(text, READING)
    assert (fuzzy.edtf, fuzzy.earliest, fuzzy.latest) == {**EXPECTED, **OTHER_FORMS}[text]


def test_the_date_order_decides_an_ambiguous_day():
    assert FuzzyDate.parse("03/04/1976", DateReading(order="dmy")).edtf == "1976-04-03"
    assert FuzzyDate.parse("03/04/1976", DateReading(order="mdy")).edtf == "1976-03-04"
    assert FuzzyDate.parse("1976/03/04", DateReading(order="ymd")).edtf == "1976-03-04"
    with pytest.raises(FuzzyDateError, match="no day 31"):
        FuzzyDate.parse("31/04/1976", DateReading(order="dmy"))


def test_without_an_order_an_ambiguous_day_is_refused_naming_the_option():
    for reading in (None, DateReading(), DateReading(locales=("es",))):
        with pytest.raises(FuzzyDateError) as refused:
            FuzzyDate.parse("03/04/1976", reading)
        message = str(refused.value)
        assert "3 April or 4 March" in message
        assert "--date-order dmy or mdy" in message


@pytest.mark.parametrize(
    "text",
    [
        "2011-04-20",
        "20 April 2011",
        "April 2011",
        "spring 2011",
        "about 2010",
        "1976",
        "unknown",
        "between March 2013 and October 2014",
        "before June 2014",
        "20/04/2011",
        "04/2011",
    ],
)
def test_the_default_reading_is_unchanged_for_english_and_iso_forms(text):
    default = FuzzyDate.parse(text)
    assert FuzzyDate.parse(text, DateReading()) == default
    assert FuzzyDate.parse(text, READING) == default


@pytest.mark.parametrize("text", ["NOV/1976", "principios de 1976", "s/f", "early 1976"])
def test_the_default_reading_still_refuses_register_words(text):
    with pytest.raises(FuzzyDateError):
        FuzzyDate.parse(text)


def test_ago_is_a_month_not_a_relative_phrase():
    with pytest.raises(FuzzyDateError) as refused:
        FuzzyDate.parse("AGO/1976")
    assert "relative to today" not in str(refused.value)
    for relative in ("3 years ago", "two months ago", "a long time ago"):
        with pytest.raises(FuzzyDateError, match="relative to today"):
            FuzzyDate.parse(relative)


@pytest.mark.parametrize(
    "text, option",
    [
        ("DIC/1974-ENE/1975", "--locale es)"),
        ("noviembre 1976", "--locale es)"),
        ("NOV/1976", "--locale es or --locale pt or --locale fr"),
        ("sin fecha", "--locale es)"),
        ("janvier 1977", "--locale fr)"),
    ],
)
def test_an_import_refusal_of_a_foreign_date_word_names_the_locale_that_reads_it(text, option):
    with pytest.raises(FuzzyDateError, match="give the file's language") as refused:
        FuzzyDate.parse(text, DateReading())
    assert option in str(refused.value)
    # The site has no such option: its date filters say only what is wrong.
    with pytest.raises(FuzzyDateError) as on_the_site:
        FuzzyDate.parse(text)
    assert "--locale" not in str(on_the_site.value)


@pytest.mark.parametrize("text", ["03/04/76", "the 70s", "25/12/76"])
def test_an_import_refusal_of_a_two_digit_year_names_the_date_order_and_how_it_reads(text):
    with pytest.raises(FuzzyDateError) as refused:
        FuzzyDate.parse(text, DateReading())
    message = str(refused.value)
    assert "--date-order" in message
    assert "the latest year up to this one that ends in those digits (76: 1976)" in message
    with pytest.raises(FuzzyDateError) as on_the_site:
        FuzzyDate.parse(text)
    assert "--date-order" not in str(on_the_site.value)


@pytest.mark.parametrize(
    "text, option",
    [
        ("años 70", "--locale es or --locale pt)"),
        ("entre marzo y mayo de 1976", "--locale es)"),
        ("les années 70", "--locale fr)"),
    ],
)
def test_an_import_refusal_of_a_foreign_range_or_decade_names_the_locale(text, option):
    with pytest.raises(FuzzyDateError, match="give the file's language") as refused:
        FuzzyDate.parse(text, DateReading())
    assert option in str(refused.value)


def test_a_two_digit_year_is_the_latest_year_up_to_this_one_ending_in_it():
    this_year = date.today().year
    this, next_ = f"{this_year % 100:02d}", f"{(this_year + 1) % 100:02d}"
    assert FuzzyDate.parse(f"01/01/{this}", READING).edtf == f"{this_year}-01-01"
    assert FuzzyDate.parse(f"01/01/{next_}", READING).edtf == f"{this_year - 99}-01-01"
    assert FuzzyDate.parse(f"MAR/{next_}", READING).edtf == f"{this_year - 99}-03"


def test_a_century_given_reads_every_two_digit_year_in_it():
    reading = DateReading(order="dmy", locales=("es",), century=19)
    assert FuzzyDate.parse("03/04/24", reading).edtf == "1924-04-03"
    assert FuzzyDate.parse("MAR/24", reading).edtf == "1924-03"
    assert FuzzyDate.parse("años 20", reading).edtf == "1920/1929"
    assert FuzzyDate.parse("principios de 24", reading).edtf == "1924-01/1924-04"
    # Four-digit years are as written.
    assert FuzzyDate.parse("03/04/2024", reading).edtf == "2024-04-03"
    assert FuzzyDate.parse("MAR/76", DateReading(century=20)).edtf == "2076-03"
    for wrong in (0, 100):
        with pytest.raises(ValueError, match="from 1 to 99"):
            DateReading(century=wrong)


@pytest.mark.django_db
def test_the_import_command_reads_two_digit_years_in_the_century_given(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("id,kind,date,summary\nC1,capture,03/04/24,Detenido\n", encoding="utf-8")
    call_command("import_records", str(path), "--date-order", "dmy", stdout=StringIO())
    assert Event.objects.get().date == "2024-04-03"
    call_command(
        "import_records", str(path), "--date-order", "dmy", "--century", "19", stdout=StringIO()
    )
    assert (Event.objects.get().date, Event.objects.get().date_as_written) == (
        "1924-04-03",
        "03/04/24",
    )
    with pytest.raises(CommandError, match="from 1 to 99"):
        call_command("import_records", str(path), "--century", "200", stdout=StringIO())


def test_a_two_digit_year_reads_with_the_order_given_and_not_year_first():
    assert FuzzyDate.parse("03/04/76", DateReading(order="mdy")).edtf == "1976-03-04"
    with pytest.raises(FuzzyDateError):
        FuzzyDate.parse("76/03/04", DateReading(order="ymd"))


def test_a_range_or_decade_in_the_wrong_order_or_form_is_refused_saying_why():
    with pytest.raises(FuzzyDateError, match="before the start"):
        FuzzyDate.parse("entre mayo y marzo de 1976", READING)
    with pytest.raises(FuzzyDateError, match="decade .* or the century"):
        FuzzyDate.parse("1900s", READING)


def refused_import(tmp_path, *options) -> str:
    """Import the register with `options`, which must be refused; what the command printed."""
    CountryFactory()
    path = tmp_path / "events.csv"
    path.write_bytes(REGISTER.read_bytes())
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_records", str(path), *options, stderr=err)
    return err.getvalue()


@pytest.mark.django_db
def test_the_register_without_options_names_the_locale_for_month_words(tmp_path):
    assert "--locale es" in refused_import(tmp_path, "--date-order", "dmy")
    assert Event.objects.count() == 0


def test_a_reading_refuses_an_unknown_order_or_locale():
    with pytest.raises(ValueError):
        DateReading(order="ydm")
    with pytest.raises(ValueError):
        DateReading(locales=("xx",))


REGISTER_HOSTILE = {
    **HOSTILE,
    "long ranges of month abbreviations": "-".join(["DIC/1974"] * 12),
    "many link words": "1" + " de" * 40 + " marzo 1976",
    "fortnight words repeated": "1ra quincena de " * 7,
    "ordinals": "1º" * 60,
    "too long": "principios de " * 10,
    "connectives repeated": "entre " * 16 + "1976",
    "range words repeated": "entre marzo" + " y marzo" * 8 + " de 1976",
    "decade words repeated": "decada de " * 9 + "70",
}


@pytest.mark.parametrize("name", REGISTER_HOSTILE)
def test_register_forms_stay_bounded(name):
    text = REGISTER_HOSTILE[name]
    start = time.perf_counter()
    with pytest.raises(FuzzyDateError) as refused:
        FuzzyDate.parse(text, READING)
    assert time.perf_counter() - start < BOUND
    if len(text) > MAX_LENGTH:
        assert f"at most {MAX_LENGTH} characters" in str(refused.value)


# --- The importer ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_register_imports_with_its_reading_and_every_cell_has_its_bounds(tmp_path):
    CountryFactory()
    path = tmp_path / "events.csv"
    path.write_bytes(REGISTER.read_bytes())
    out = StringIO()
    call_command("import_records", str(path), "--date-order", "dmy", "--locale", "es", stdout=out)
    stored = {e.summary: (e.date, e.date_earliest, e.date_latest) for e in Event.objects.all()}
    with REGISTER.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(stored) == len(rows) == len(EXPECTED)
    for row in rows:
        assert stored[row["summary"]] == EXPECTED[row["date"]], row["date"]


@pytest.mark.django_db
def test_the_register_without_options_is_refused_naming_the_options(tmp_path):
    lines = refused_import(tmp_path).splitlines()
    assert "events.csv, line 2: date: Could not read '03/04/1976' as a date" in lines[0]
    assert "--date-order dmy or mdy" in lines[0]
    assert Event.objects.count() == 0
    # Read as written without options: the ISO and English cells only.
    readable = []
    for text in cells():
        try:
            FuzzyDate.parse(text)
            readable.append(text)
        except FuzzyDateError:
            pass
    assert sorted(readable) == sorted(
        [
            "25/12/1976",
            "1976-09-20",
            "1977",
            "about 1976",
            "20 April 1976",
            "between March and May 1976",
        ]
    )


def test_share_of_the_fixture_read_as_written():
    read = [t for t in cells() if FuzzyDate.parse(t, READING).edtf == EXPECTED[t][0]]
    assert len(read) == len(cells()) == 40


# --- The admin's import and its background job --------------------------------------------------


@pytest.mark.django_db
def test_the_admin_import_reads_the_register_with_the_form_options(
    admin_client, settings, tmp_path
):
    from detainees.domain.models import ImportJob
    from tests.test_import import run_queued_jobs
    from tests.test_import_jobs import upload

    CountryFactory()
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "events.csv"
    path.write_bytes(REGISTER.read_bytes())
    preview_page = upload(admin_client, path, date_order="dmy", locales=["es"], century="19")
    assert preview_page.status_code == 302
    run_queued_jobs()
    preview = ImportJob.objects.get()
    assert (preview.state, preview.date_order, preview.locales) == ("succeeded", "dmy", "es")
    admin_client.post(preview_page.url, {"confirm": "1"})
    run_queued_jobs()
    applied = ImportJob.objects.get(preview=preview)
    assert (applied.state, applied.date_order, applied.locales) == ("succeeded", "dmy", "es")
    assert preview.century == applied.century == 19
    stored = {e.summary: (e.date, e.date_earliest, e.date_latest) for e in Event.objects.all()}
    assert stored["Detenida en su domicilio (Ana Ficticia)"] == EXPECTED["03/04/1976"]
    assert stored["Detenida (Lucas Asiento)"] == EXPECTED["03/04/76"]  # 19: as without it
    assert len(stored) == len(EXPECTED)


@pytest.mark.django_db
def test_the_admin_import_without_options_refuses_the_register(admin_client, settings, tmp_path):
    from detainees.domain.models import ImportJob
    from tests.test_import import run_queued_jobs
    from tests.test_import_jobs import upload

    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "events.csv"
    path.write_bytes(REGISTER.read_bytes())
    upload(admin_client, path)
    run_queued_jobs()
    job = ImportJob.objects.get()
    assert job.state == "failed" and "--date-order dmy or mdy" in job.errors[0][1]
    assert not Event.objects.exists()


# --- A column in its own order -------------------------------------------------------------------


def test_a_column_may_be_read_in_its_own_order():
    reading = DateReading(order="dmy", columns=(("events.end_date", "mdy"),))
    assert reading.for_column("events.date") is reading
    assert FuzzyDate.parse("03/04/1976", reading.for_column("events.end_date")).edtf == (
        "1976-03-04"
    )
    with pytest.raises(ValueError, match="events.date: date order"):
        DateReading(columns=(("events.date", "dym"),))


@pytest.mark.django_db
def test_the_command_reads_a_column_in_its_own_order(tmp_path):
    CountryFactory()
    path = tmp_path / "events.csv"
    path.write_text(
        "id,kind,summary,date,end_date,custody_end_reason\n"
        "C1,custody,Held,03/04/1976,04/05/1976,release\n",
        encoding="utf-8",
    )
    call_command(
        "import_records",
        str(path),
        "--date-order",
        "dmy",
        "--column-date-order",
        "events.end_date=mdy",
        stdout=StringIO(),
    )
    held = Event.objects.get()
    assert (held.date, held.end_date) == ("1976-04-03", "1976-04-05")


@pytest.mark.parametrize(
    "option, message",
    [
        ("events.end_date", "give TABLE.COLUMN=ORDER"),
        ("evnts.date=mdy", "no table 'evnts'"),
        ("events.summary=mdy", "events has no date column 'summary'"),
        ("events.date=dym", "the order is one of dmy, mdy, ymd"),
    ],
)
@pytest.mark.django_db
def test_a_column_order_that_names_no_date_column_is_refused(tmp_path, option, message):
    with pytest.raises(CommandError, match=message):
        call_command(
            "import_records", str(REGISTER), "--column-date-order", option, stdout=StringIO()
        )


@pytest.mark.django_db
def test_the_admin_import_form_checks_and_keeps_column_orders(admin_client, settings, tmp_path):
    from detainees.domain.models import ImportJob
    from tests.test_import_jobs import upload

    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    path = tmp_path / "events.csv"
    path.write_bytes(REGISTER.read_bytes())
    refused = upload(admin_client, path, column_date_orders="events.summary=mdy")
    assert refused.status_code == 200
    assert "events has no date column" in refused.content.decode()
    assert not ImportJob.objects.exists()
    accepted = upload(
        admin_client, path, date_order="dmy", column_date_orders=" events.end_date=mdy"
    )
    assert accepted.status_code == 302
    assert ImportJob.objects.get().column_date_orders == "events.end_date=mdy"
