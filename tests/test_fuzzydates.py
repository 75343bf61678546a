"""Fuzzy dates: words and EDTF in, canonical EDTF with honest bounds and plain wording out.

None of these tests touch the database.
"""

from datetime import date
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Engine

from detainees.domain.fuzzydates import (
    HELP_TEXT,
    EDTFField,
    FuzzyDate,
    FuzzyDateError,
    FuzzyDateFormField,
    fuzzy_date_constraints,
    humanize,
    to_edtf,
)

D = date

# text typed by a researcher -> (canonical EDTF, earliest, latest, display)
PARSED = {
    # EDTF typed directly is kept
    "2011-04-20": ("2011-04-20", D(2011, 4, 20), D(2011, 4, 20), "20 April 2011"),
    "2011-04": ("2011-04", D(2011, 4, 1), D(2011, 4, 30), "April 2011"),
    "2010": ("2010", D(2010, 1, 1), D(2010, 12, 31), "2010"),
    "2011-21": ("2011-21", D(2011, 3, 1), D(2011, 5, 31), "spring 2011"),
    "2010~": ("2010~", D(2009, 1, 1), D(2011, 12, 31), "about 2010"),
    "2010?": ("2010?", D(2009, 1, 1), D(2011, 12, 31), "2010 (uncertain)"),
    "2010%": ("2010%", D(2008, 1, 1), D(2012, 12, 31), "about 2010 (uncertain)"),
    "2013-03/2014-10": (
        "2013-03/2014-10",
        D(2013, 3, 1),
        D(2014, 10, 31),
        "between March 2013 and October 2014",
    ),
    "../2014-06": ("../2014-06", None, D(2014, 6, 30), "before June 2014"),
    "2011/..": ("2011/..", D(2011, 1, 1), None, "after 2011"),
    "2011-04-20/2014-07": (
        "2011-04-20/2014-07",
        D(2011, 4, 20),
        D(2014, 7, 31),
        "between 20 April 2011 and July 2014",
    ),
    "199X": ("199X", D(1990, 1, 1), D(1999, 12, 31), "the 1990s"),
    "/2014-06": ("/2014-06", None, D(2014, 6, 30), "before June 2014 (start unknown)"),
    "2011/": ("2011/", D(2011, 1, 1), None, "after 2011 (end unknown)"),
    "[1667, 1668]": ("[1667,1668]", D(1667, 1, 1), D(1668, 12, 31), "1667 or 1668"),
    "2013-03 / 2014-10": (
        "2013-03/2014-10",
        D(2013, 3, 1),
        D(2014, 10, 31),
        "between March 2013 and October 2014",
    ),
    # days
    "20 April 2011": ("2011-04-20", D(2011, 4, 20), D(2011, 4, 20), "20 April 2011"),
    "April 20, 2011": ("2011-04-20", D(2011, 4, 20), D(2011, 4, 20), "20 April 2011"),
    "the 20th of April 2011": ("2011-04-20", D(2011, 4, 20), D(2011, 4, 20), "20 April 2011"),
    "Apr. 20th, 2011": ("2011-04-20", D(2011, 4, 20), D(2011, 4, 20), "20 April 2011"),
    "20/04/2011": ("2011-04-20", D(2011, 4, 20), D(2011, 4, 20), "20 April 2011"),
    "29 February 2012": ("2012-02-29", D(2012, 2, 29), D(2012, 2, 29), "29 February 2012"),
    # months and years
    "April 2011": ("2011-04", D(2011, 4, 1), D(2011, 4, 30), "April 2011"),
    "APRIL 2011": ("2011-04", D(2011, 4, 1), D(2011, 4, 30), "April 2011"),
    "2011": ("2011", D(2011, 1, 1), D(2011, 12, 31), "2011"),
    "sometime in 2010": ("2010", D(2010, 1, 1), D(2010, 12, 31), "2010"),
    "in 2010": ("2010", D(2010, 1, 1), D(2010, 12, 31), "2010"),
    # approximate and uncertain
    "about 2010": ("2010~", D(2009, 1, 1), D(2011, 12, 31), "about 2010"),
    "circa 2010": ("2010~", D(2009, 1, 1), D(2011, 12, 31), "about 2010"),
    "around 2010": ("2010~", D(2009, 1, 1), D(2011, 12, 31), "about 2010"),
    "c. 2010": ("2010~", D(2009, 1, 1), D(2011, 12, 31), "about 2010"),
    "probably 2010": ("2010?", D(2009, 1, 1), D(2011, 12, 31), "2010 (uncertain)"),
    "about 2010?": ("2010%", D(2008, 1, 1), D(2012, 12, 31), "about 2010 (uncertain)"),
    # seasons and parts of a year
    "spring 2011": ("2011-21", D(2011, 3, 1), D(2011, 5, 31), "spring 2011"),
    "summer 2011": ("2011-22", D(2011, 6, 1), D(2011, 8, 31), "summer 2011"),
    "autumn 2011": ("2011-23", D(2011, 9, 1), D(2011, 11, 30), "autumn 2011"),
    "fall 2011": ("2011-23", D(2011, 9, 1), D(2011, 11, 30), "autumn 2011"),
    "winter 2011": ("2011-24", D(2010, 12, 1), D(2012, 2, 29), "winter 2011"),
    "first half of 2011": ("2011-40", D(2011, 1, 1), D(2011, 6, 30), "first half of 2011"),
    "Q3 2011": ("2011-35", D(2011, 7, 1), D(2011, 9, 30), "third quarter of 2011"),
    # decades
    "2010s": ("201X", D(2010, 1, 1), D(2019, 12, 31), "the 2010s"),
    "the 1990s": ("199X", D(1990, 1, 1), D(1999, 12, 31), "the 1990s"),
    # periods
    "between March 2013 and October 2014": (
        "2013-03/2014-10",
        D(2013, 3, 1),
        D(2014, 10, 31),
        "between March 2013 and October 2014",
    ),
    "from March 2013 to October 2014": (
        "2013-03/2014-10",
        D(2013, 3, 1),
        D(2014, 10, 31),
        "between March 2013 and October 2014",
    ),
    "March 2013-October 2014": (
        "2013-03/2014-10",
        D(2013, 3, 1),
        D(2014, 10, 31),
        "between March 2013 and October 2014",
    ),
    "2011-04-20 to 2011-05": (
        "2011-04-20/2011-05",
        D(2011, 4, 20),
        D(2011, 5, 31),
        "between 20 April 2011 and May 2011",
    ),
    "2011-2012": ("2011/2012", D(2011, 1, 1), D(2012, 12, 31), "between 2011 and 2012"),
    "between March and June 2011": (
        "2011-03/2011-06",
        D(2011, 3, 1),
        D(2011, 6, 30),
        "between March and June 2011",
    ),
    "20-25 April 2011": (
        "2011-04-20/2011-04-25",
        D(2011, 4, 20),
        D(2011, 4, 25),
        "between 20 and 25 April 2011",
    ),
    "between spring and autumn 2011": (
        "2011-21/2011-23",
        D(2011, 3, 1),
        D(2011, 11, 30),
        "between spring 2011 and autumn 2011",
    ),
    "between 20 April 2011 and July 2014": (
        "2011-04-20/2014-07",
        D(2011, 4, 20),
        D(2014, 7, 31),
        "between 20 April 2011 and July 2014",
    ),
    "between about 2010 and 2012": (
        "2010~/2012",
        D(2009, 1, 1),
        D(2012, 12, 31),
        "between about 2010 and 2012",
    ),
    # open ends
    "before June 2014": ("../2014-06", None, D(2014, 6, 30), "before June 2014"),
    "by June 2014": ("../2014-06", None, D(2014, 6, 30), "before June 2014"),
    "after 2011": ("2011/..", D(2011, 1, 1), None, "after 2011"),
    "since 2011": ("2011/..", D(2011, 1, 1), None, "after 2011"),
    "2011 onwards": ("2011/..", D(2011, 1, 1), None, "after 2011"),
    "after spring 2011": ("2011-21/..", D(2011, 3, 1), None, "after spring 2011"),
    # alternatives
    "2010 or 2011": ("[2010,2011]", D(2010, 1, 1), D(2011, 12, 31), "2010 or 2011"),
    # unknown
    "": ("", None, None, "date unknown"),
    "unknown": ("", None, None, "date unknown"),
    "Unknown.": ("", None, None, "date unknown"),
    "date unknown": ("", None, None, "date unknown"),
    "not known": ("", None, None, "date unknown"),
}


@pytest.mark.parametrize(("text", "expected"), PARSED.items(), ids=list(PARSED))
def test_words_and_edtf_become_canonical_edtf_with_bounds_and_wording(text, expected):
    edtf, earliest, latest, display = expected
    fuzzy = FuzzyDate.parse(text)
    assert (fuzzy.edtf, fuzzy.earliest, fuzzy.latest, fuzzy.display()) == expected
    assert to_edtf(text) == edtf
    assert humanize(edtf) == display
    assert str(fuzzy) == display
    assert fuzzy.is_unknown == (edtf == "")


# Everything shown reads back as the same date, except an end said to be unknown (EDTF only).
READ_BACK = {t: e for t, e in PARSED.items() if e[0] and "unknown)" not in e[3]}


@pytest.mark.parametrize(("text", "expected"), READ_BACK.items(), ids=list(READ_BACK))
def test_the_wording_shown_reads_back_as_the_same_date(text, expected):
    edtf, _, _, display = expected
    assert to_edtf(display) == edtf


DISPLAY = {
    "2011-04-20": "20 April 2011",
    "2011-04": "April 2011",
    "2010": "2010",
    "2011-21": "spring 2011",
    "2011-22": "summer 2011",
    "2011-23": "autumn 2011",
    "2011-24": "winter 2011",
    "2010~": "about 2010",
    "2010?": "2010 (uncertain)",
    "2010%": "about 2010 (uncertain)",
    "2013-03/2014-10": "between March 2013 and October 2014",
    "../2014-06": "before June 2014",
    "2011/..": "after 2011",
    "2011-04-20/2014-07": "between 20 April 2011 and July 2014",
    "": "date unknown",
    "199X": "the 1990s",
    "199X~": "about the 1990s",
    "19XX": "1900–1999",
    "190X": "1900–1909",
    "2011-04~": "about April 2011",
    "2011-04-20/2011-05-03": "between 20 April and 3 May 2011",
    "2011-33": "first quarter of 2011",
    "2011-41": "second half of 2011",
    "2011-25": "spring 2011 (northern hemisphere)",
    "2011-XX": "2011",
    "2011-04-XX": "April 2011",
    "{2010,2011}": "2010 and 2011",
    "[..1760-12-03]": "3 December 1760 or earlier",
    "2004-06-~11": "11 June 2004 (partly approximate)",
    "2011-04-20T10:00:00": "20 April 2011, 10:00:00",
}


@pytest.mark.parametrize(("edtf", "display"), DISPLAY.items(), ids=[e or "empty" for e in DISPLAY])
def test_stored_edtf_is_shown_as_people_say_it(edtf, display):
    assert humanize(edtf) == display
    assert FuzzyDate.from_edtf(edtf).display() == display


# text -> fragments the refusal must contain, so that it says why
REFUSED = {
    "next tuesday": ["Could not read 'next tuesday' as a date:", "relative to today"],
    "blah blah": ["Could not read 'blah blah' as a date:", "not a form of date we know"],
    "31 February 2011": ["February 2011 has no day 31"],
    "2011-02-29": ["February 2011 has no day 29"],
    "2011-13": ["month 13 does not exist"],
    "2011-00": ["month 0 does not exist"],
    "13/13/2011": ["month 13 does not exist"],
    "between June 2014 and March 2011": ["the end (March 2011) is before the start (June 2014)"],
    "2014-06/2011-03": ["the end (March 2011) is before the start (June 2014)"],
    "early 2011": ["'early'", "invent precision", "between January and April 2011"],
    "mid-2011": ["'mid'", "between May and August 2011"],
    "late 2011": ["'late'", "between September and December 2011"],
    "early 1990s": ["'early'", "between 1990 and 1993"],
    "mid April 2011": ["between 10 and 20 April 2011"],
    "the 1900s": ["decade 1900–1909", "century 1900–1999"],
    "Octobr 2014": ["'octobr' is not a month"],
    "March 2013 - Octobr 2014": ["'octobr' is not a month"],
    "04/05/2011": ["day-month or month-day", "4 May 2011"],
    "about spring 2011": ["cannot mark a season", "between February and June 2011"],
    "2011-21~": ["cannot mark a season"],
    "between first half of 2011 and 2012": ["cannot be part of a period"],
    "before the 1990s": ["cannot start or end with a decade", "before 1990"],
    "0000": ["from the year 1 to 9999"],
}


@pytest.mark.parametrize(("text", "fragments"), REFUSED.items(), ids=list(REFUSED))
def test_a_refusal_says_why(text, fragments):
    with pytest.raises(FuzzyDateError) as caught:
        FuzzyDate.parse(text)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert message.endswith(".")
    with pytest.raises(FuzzyDateError):
        to_edtf(text)


def test_text_that_is_neither_edtf_nor_words_we_know_is_refused_as_both():
    with pytest.raises(FuzzyDateError, match="neither valid EDTF nor a form of date we know"):
        to_edtf("2011-04-20-12")


@pytest.mark.parametrize("text", ["../", "2011-XX/2011", "[2011-XX,2011]", "../199X"])
def test_edtf_the_package_refuses_is_refused_without_printing_anything(text, capsys):
    with pytest.raises(FuzzyDateError):
        FuzzyDate.parse(text)
    assert capsys.readouterr().out == ""


def test_a_refusal_is_a_value_error_with_its_reason_apart():
    with pytest.raises(ValueError) as caught:
        to_edtf("2011-13")
    assert caught.value.reason == "month 13 does not exist"
    assert caught.value.text == "2011-13"
    assert str(caught.value) == "Could not read '2011-13' as a date: month 13 does not exist."


def test_a_year_never_gains_precision():
    fuzzy = FuzzyDate.parse("2010")
    assert (fuzzy.edtf, fuzzy.earliest, fuzzy.latest) == ("2010", D(2010, 1, 1), D(2010, 12, 31))
    assert fuzzy.display() == "2010"
    assert "January" not in fuzzy.display()


@pytest.mark.parametrize("text", ["2010", "April 2011", "spring 2011", "the 1990s", "about 2010"])
def test_a_vague_date_is_stored_at_its_own_precision(text):
    fuzzy = FuzzyDate.parse(text)
    assert fuzzy.earliest < fuzzy.latest
    assert not fuzzy.edtf.endswith("-01-01")
    assert fuzzy.display().lower().replace("about ", "") in {
        "2010",
        "april 2011",
        "spring 2011",
        "the 1990s",
    }


def test_before_june_2014_is_open_at_the_start():
    fuzzy = FuzzyDate.parse("before June 2014")
    assert fuzzy.edtf == "../2014-06"
    assert fuzzy.earliest is None
    assert fuzzy.latest == D(2014, 6, 30)


def test_after_2011_is_open_at_the_end():
    fuzzy = FuzzyDate.parse("after 2011")
    assert fuzzy.edtf == "2011/.."
    assert (fuzzy.earliest, fuzzy.latest) == (D(2011, 1, 1), None)


def test_about_2010_spans_the_widest_bounds_the_edtf_package_gives():
    fuzzy = FuzzyDate.parse("about 2010")
    assert (fuzzy.earliest, fuzzy.latest) == (D(2009, 1, 1), D(2011, 12, 31))


def test_winter_runs_into_the_next_year_and_may_start_in_the_one_before():
    assert FuzzyDate.from_edtf("2013-24").earliest == D(2012, 12, 1)
    assert FuzzyDate.from_edtf("2013-24").latest == D(2014, 2, 28)
    assert FuzzyDate.from_edtf("2011-21/2011-24").latest == D(2012, 2, 29)


def test_an_unknown_date_has_no_bounds():
    for text in ["", "unknown", "date unknown", "not known", None]:
        fuzzy = FuzzyDate.parse(text)
        assert fuzzy == FuzzyDate("", None, None)
        assert fuzzy.is_unknown
        assert fuzzy.display() == "date unknown"


def test_from_edtf_is_strict_and_refuses_words():
    assert FuzzyDate.from_edtf(" 2011-21 ").edtf == "2011-21"
    assert FuzzyDate.from_edtf("") == FuzzyDate("", None, None)
    with pytest.raises(FuzzyDateError, match="Could not read 'spring 2011' as a date"):
        FuzzyDate.from_edtf("spring 2011")
    with pytest.raises(FuzzyDateError, match="unknown"):
        FuzzyDate.from_edtf("unknown")


def test_from_edtf_refuses_a_period_that_ends_before_it_starts():
    with pytest.raises(FuzzyDateError, match=r"the end \(2010\) is before the start \(2011\)"):
        FuzzyDate.from_edtf("2011/2010")


@pytest.mark.parametrize("text", ["garbage", "2011-13", "../..", "[", "2011-02-30", None])
def test_humanize_never_raises_and_falls_back_to_the_raw_text(text):
    shown = humanize(text)
    assert shown == (text or "date unknown")


# --- form field ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("spring 2011", "2011-21"),
        ("between March 2013 and October 2014", "2013-03/2014-10"),
        ("  before June 2014 ", "../2014-06"),
        ("2011-04-20", "2011-04-20"),
        ("unknown", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_the_form_field_cleans_words_or_edtf_to_canonical_edtf(typed, cleaned):
    assert FuzzyDateFormField(required=False).clean(typed) == cleaned


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("next tuesday", "Could not read 'next tuesday' as a date"),
        ("2011-13", "month 13 does not exist"),
        ("between June 2014 and March 2011", "the end (March 2011) is before the start"),
    ],
)
def test_the_form_field_refuses_with_the_reason(typed, reason):
    with pytest.raises(ValidationError) as caught:
        FuzzyDateFormField(required=False).clean(typed)
    assert caught.value.code == "invalid_fuzzy_date"
    assert reason in caught.value.messages[0]


def test_a_required_form_field_refuses_an_empty_or_unknown_date():
    field = FuzzyDateFormField(required=True)
    for typed in ["", "unknown"]:
        with pytest.raises(ValidationError) as caught:
            field.clean(typed)
        assert caught.value.code == "required"


def test_the_form_field_explains_the_formats_it_accepts():
    assert FuzzyDateFormField().help_text == HELP_TEXT
    assert "spring 2011" in HELP_TEXT and "../2014-06" in HELP_TEXT
    assert FuzzyDateFormField(help_text="When it began.").help_text == "When it began."


def test_the_form_field_sees_words_for_the_stored_date_as_no_change():
    field = FuzzyDateFormField(required=False)
    assert not field.has_changed("2011-21", "spring 2011")
    assert field.has_changed("2011-21", "summer 2011")


# --- model field --------------------------------------------------------------------------------


def make_field(**kwargs) -> EDTFField:
    field = EDTFField("date", earliest_field="date_earliest", latest_field="date_latest", **kwargs)
    field.set_attributes_from_name("date")
    return field


def test_the_model_field_deconstructs_with_its_bound_fields_and_round_trips():
    field = make_field(blank=True, help_text="When it happened.")
    name, path, args, kwargs = field.deconstruct()
    assert (name, path, args) == ("date", "detainees.domain.fuzzydates.EDTFField", [])
    assert kwargs == {
        "verbose_name": "date",
        "blank": True,
        "help_text": "When it happened.",
        "earliest_field": "date_earliest",
        "latest_field": "date_latest",
    }
    clone = EDTFField(*args, **kwargs)
    clone.set_attributes_from_name(name)
    assert clone.deconstruct() == (name, path, args, kwargs)
    assert clone.max_length == 100


def test_the_model_field_keeps_a_max_length_other_than_the_default():
    _, _, args, kwargs = make_field(max_length=200).deconstruct()
    assert kwargs["max_length"] == 200
    assert EDTFField(*args, **kwargs).max_length == 200


def test_saving_sets_the_earliest_and_latest_day_from_the_edtf():
    field = make_field(blank=True)
    row = SimpleNamespace(date="2013-03/2014-10", date_earliest=None, date_latest=None)
    assert field.pre_save(row, add=True) == "2013-03/2014-10"
    assert (row.date_earliest, row.date_latest) == (D(2013, 3, 1), D(2014, 10, 31))
    row.date = ""
    field.pre_save(row, add=False)
    assert (row.date_earliest, row.date_latest) == (None, None)


def test_saving_refuses_edtf_that_is_not_valid():
    row = SimpleNamespace(date="spring 2011", date_earliest=None, date_latest=None)
    with pytest.raises(FuzzyDateError):
        make_field(blank=True).pre_save(row, add=True)


def test_model_validation_gives_the_reason_for_invalid_edtf():
    field = make_field(blank=True)
    assert field.clean("2011-21", None) == "2011-21"
    assert field.clean("", None) == ""
    with pytest.raises(ValidationError) as caught:
        field.clean("2011-13", None)
    assert caught.value.code == "invalid_fuzzy_date"
    assert "month 13 does not exist" in caught.value.messages[0]


def test_model_validation_derives_the_bounds_on_the_instance():
    row = SimpleNamespace(date="", date_earliest=None, date_latest=None)
    make_field(blank=True).clean("../2014-06", row)
    assert (row.date_earliest, row.date_latest) == (None, D(2014, 6, 30))


def test_the_model_field_edits_through_the_fuzzy_date_form_field():
    formfield = make_field(blank=True, help_text="When it happened.").formfield()
    assert isinstance(formfield, FuzzyDateFormField)
    assert not formfield.required
    assert formfield.help_text == f"When it happened. {HELP_TEXT}"
    assert formfield.clean("spring 2011") == "2011-21"
    assert make_field().formfield().help_text == HELP_TEXT


def test_the_constraints_are_named_for_the_model_and_the_field():
    ordered, unknown = fuzzy_date_constraints("end_date", "event")
    assert ordered.name == "event_end_date_bounds_ordered"
    assert unknown.name == "event_end_date_unknown_has_no_bounds"
    assert "end_date_earliest" in str(ordered.condition)
    assert "end_date_latest" in str(ordered.condition)
    assert "end_date" in str(unknown.condition)
    assert ordered.violation_error_message and unknown.violation_error_message


# --- template filter ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2011-21", "spring 2011"),
        ("", "date unknown"),
        (None, "date unknown"),
        (FuzzyDate.from_edtf("../2014-06"), "before June 2014"),
        (D(2011, 4, 20), "20 April 2011"),
    ],
)
def test_the_fuzzydate_filter_shows_the_wording(value, shown):
    engine = Engine(libraries={"fuzzydates": "detainees.templatetags.fuzzydates"})
    template = engine.from_string("{% load fuzzydates %}{{ value|fuzzydate }}")
    assert template.render(Context({"value": value})) == shown
