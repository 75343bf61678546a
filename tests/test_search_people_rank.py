"""A one-word name search ranks the people found in one set-based pass (the keys near the
query scored once each, the names joined by key) and joins that to the list's queryset: the
people, their rank and their best name, in order, are the ones of the formulation it replaced,
a subquery for each person over all their names."""

import re

import pytest
from django.db import connection
from django.db.models import Case, F, FloatField, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from detainees.domain.models import Person, PersonName, PersonNameKey
from detainees.domain.names import name_key, only_titles, plain
from detainees.read import search
from detainees.read.pagination import keyset_page
from detainees.read.search import (
    SHORT_WORD,
    WORD_FLOOR,
    WORD_MEAN,
    _matches,
    _nearest_names,
    _score,
    _weak_bound,
    _word_match,
    search_people,
)
from tests.test_search import make_person, write_people


def reference(q: str, queryset=None, nearest: int | None = None):
    """The people `search_people(q)` finds for a one-word query, by the per-person subquery."""
    queryset = Person.objects.public() if queryset is None else queryset
    key = name_key(q)
    if nearest and not only_titles(q):
        found = _nearest_names(key, nearest)
    else:
        found = PersonName.objects.filter(_matches(key, q)).values("person_id")
    best = (
        PersonName.objects.filter(person=OuterRef("pk"))
        .annotate(score=_score(key, plain(q)))
        .order_by("-score", "-is_primary", "pk")
    )
    return (
        queryset.filter(pk__in=found)
        .annotate(
            search_rank=Subquery(best.values("score")[:1]),
            search_name=Subquery(best.values("name")[:1]),
        )
        .order_by("-search_rank", "-pk")
    )


def rows(queryset):
    return [(p.pk, p.search_rank, p.search_name) for p in queryset]


def paged(found, size: int) -> list:
    """`rows` of a search read by keyset pages of `size`, following each page's cursor."""
    seen, after = [], None
    while True:
        page = keyset_page(found, field="search_rank", descending=True, after=after, size=size)
        seen += rows(page.rows)
        after = page.next_cursor
        if not after:
            return seen


def write_more():
    people = write_people()
    # Names sharing keys and spellings, so that ranks tie and ties go by id; a weak match
    # whose best name is one the search does not find; titles in names; a draft.
    for n in range(6):
        make_person("Abdul Ghani", "Abdulghani", "Abd al-Ghani")
        make_person(f"Ghani Jan {n}", "Abdul Ghani")
    make_person("Abdul Ghani", "Abdul Ghani", status="draft")
    make_person("Gani Baradar", "Qari Gani")
    make_person("Ghanizada", "Mullah Nasim Akhund")
    make_person("Bilalzai Omar", "Mohammad Omar")
    make_person("Omarov", "Qari Omar", "Omar")
    make_person("Karzai", "Hamid Karzai")
    make_person("Hamidullah", "Hamid")
    make_person("Nur Ali Jan", "Alijan Nuristani")
    make_person("Abu Bakr Ghani", "Janbaz Ali")
    # Found by one word's key alone, the other word matching it only weakly (0.3 to 0.5).
    make_person("Nasrullah Omarkhel")
    make_person("Ghanizada Nasrullah")
    return people


@pytest.fixture(scope="module")
def written(module_data):
    return module_data(write_more)


QUERIES = [
    "Abdul Ghani",  # one word once keyed: "abdgani"
    "Abdulghani",
    "Ghani",
    "Gani",
    "Bilal",
    "Belal",
    "Karzai",
    "Omar",
    "Omari",
    "Hamid",
    "Haqani",
    "Hekmatyar",
    "Тоҳир",
    "حقاني",
    "Qari",  # titles only: looked for as written
    "mullah",
    "Zzyzx",  # nobody
    "-",  # no letter
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_one_word_search_ranks_as_a_subquery_for_each_person(written, db, query):
    assert rows(search_people(query)) == rows(reference(query)), query
    everyone = Person.objects.all()
    assert rows(search_people(query, queryset=everyone)) == rows(reference(query, everyone))
    if name_key(query):
        assert rows(search_people(query, nearest=5)) == rows(reference(query, nearest=5))


@pytest.mark.parametrize("query", ["Abdul Ghani", "Omar", "Qari"])
def test_keyset_pages_of_a_search_are_the_reference_order(written, db, query):
    expected = rows(reference(query, Person.objects.all()))
    assert len(expected) > 3
    assert paged(search_people(query, queryset=Person.objects.all()), size=2) == expected
    found = search_people(query, queryset=Person.objects.all())
    assert found.count() == len(expected)
    assert set(Person.objects.filter(pk__in=found.values("pk"))) == {
        Person.objects.get(pk=pk) for pk, _, _ in expected
    }


def test_a_search_costs_one_query(written, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert rows(search_people("Abdul Ghani"))


def test_the_equality_covers_people_matched_strongly_and_weakly(written, db):
    """Both ways to the best name are compared above: from the names found alone, and again
    over every name of a person whose names found all score below `_weak_bound`."""
    ranks = [rank for query in QUERIES for _, rank, _ in rows(reference(query))]
    assert min(ranks) < _weak_bound() < max(ranks)


@pytest.mark.parametrize("query", ["Abdul Ghani", "Qari"])
def test_a_count_joins_the_people_found_without_ranking_them(written, db, query):
    found = search_people(query, queryset=Person.objects.all())
    with CaptureQueriesContext(connection) as ranked:
        expected = len(rows(found))
    with CaptureQueriesContext(connection) as counted:
        assert found.count() == expected
        assert set(found.order_by().values_list("pk", flat=True)) == {pk for pk, *_ in rows(found)}
    assert "SELECT DISTINCT f.person_id" not in ranked[0]["sql"]
    assert all("SELECT DISTINCT f.person_id" in q["sql"] for q in counted)


def every_word_reference(words: list[str]) -> RawSQL:
    """The people a query of several words finds, the keys found by one scan of the OR of
    every word's condition (`_every_word_people` takes the union of a scan per condition)."""
    found = Q()
    for word in words:
        found |= Q(key__trigram_strict_word_similar=word)
        if all(len(w) <= SHORT_WORD for w in words):
            found |= Q(key__regex=rf"(^| ){re.escape(word)}")
    columns = {f"w{i}": _word_match(word, "key") for i, word in enumerate(words)}
    keys = PersonNameKey.objects.filter(found).annotate(**columns).values("key", *columns)
    keys_sql, keys_params = keys.query.sql_with_params()
    best = [f"max(k.{name})" for name in columns]
    every = " AND ".join(f"{b} >= %s" for b in best)
    return RawSQL(
        f"WITH k AS ({keys_sql}) SELECT n.person_id FROM k "  # noqa: S608 (compiled querysets; values are parameters)
        f"JOIN {PersonName._meta.db_table} n ON n.search_key = k.key "
        f"GROUP BY n.person_id HAVING {every} AND ({' + '.join(best)}) >= %s",
        (*keys_params, *[WORD_FLOOR] * len(best), WORD_MEAN * len(words)),
    )


SEVERAL_WORDS = [
    "Abddel Ghani",  # the bench's misspelled query: "abdl gani"
    "Ghani Jan",
    "Gani Jan 3",
    "Mohammad Omar",
    "Mohamad Omer",
    "Hamid Karzai",
    "Karzai Hamid",
    "Nasim Akhund",
    "Mullah Nasim Akhund",
    "Qari Gani Baradar",
    "Bilalzai Omar",
    "Ali Jan",  # short words only: word starts count
    "Nur Ali",
    "Abu Ghani",
    "Тоҳир Ghani",
    "Nasrullah Omar",  # "nasrula umar": Nasrullah Omarkhel through "nasrula" alone
    "Nasrullah Ghani",  # "gani nasrula": Ghanizada Nasrullah likewise
    "Zzyzx Qwerty",
]


@pytest.mark.parametrize("query", SEVERAL_WORDS)
def test_a_search_of_several_words_finds_the_people_of_one_scan_of_every_condition(
    written, db, monkeypatch, query
):
    assert len(name_key(query).split()) > 1, query
    everyone = Person.objects.all()
    got = rows(search_people(query)), rows(search_people(query, queryset=everyone))
    monkeypatch.setattr(search, "_every_word_people", every_word_reference)
    expected = rows(search_people(query)), rows(search_people(query, queryset=everyone))
    assert got == expected, query


def test_the_several_words_equality_finds_people(written, db):
    assert (
        sum(len(rows(search_people(q, queryset=Person.objects.all()))) for q in SEVERAL_WORDS) > 10
    )


def every_word_rank_reference(q: str, queryset=None):
    """The people `search_people(q)` ranks for a query of several words, by the formulation it
    replaced: two subqueries for each person found, over all their names."""
    queryset = Person.objects.public() if queryset is None else queryset
    key, plain_q = name_key(q), plain(q)
    words = key.split()
    scores = {f"w{i}": Max(_word_match(word)) for i, word in enumerate(words)}
    mean = sum((F(name) for name in scores), Value(0.0)) / len(words)
    names = PersonName.objects.filter(person=OuterRef("pk"))
    own = names.order_by().values("person_id").annotate(**scores).annotate(words=mean)
    primary = Case(When(is_primary=True, then=Value(0.1)), default=Value(0.0))
    best_name = names.annotate(score=_score(key, plain_q) + primary).order_by(
        "-score", "-is_primary", "pk"
    )
    return (
        queryset.filter(pk__in=search._every_word_people(words))
        .annotate(
            search_rank=Cast(
                0.8 * Subquery(own.values("words")[:1])
                + 0.2 * Subquery(best_name.values("score")[:1]) / 1.1,
                FloatField(),
            ),
            search_name=Subquery(best_name.values("name")[:1]),
        )
        .order_by("-search_rank", "-pk")
    )


@pytest.mark.parametrize("query", SEVERAL_WORDS)
def test_a_search_of_several_words_ranks_as_two_subqueries_for_each_person(written, db, query):
    everyone = Person.objects.all()
    assert rows(search_people(query)) == rows(every_word_rank_reference(query)), query
    assert rows(search_people(query, queryset=everyone)) == rows(
        every_word_rank_reference(query, everyone)
    ), query


def test_the_several_words_ranking_covers_ties_and_several_names(written, db):
    ranked = [rows(search_people(q, queryset=Person.objects.all())) for q in SEVERAL_WORDS]
    # Ties broken by id, and people whose best name is not their primary one.
    assert any(len({rank for _, rank, _ in found}) < len(found) for found in ranked)
    names = dict(PersonName.objects.filter(is_primary=True).values_list("person_id", "name"))
    assert any(name != names[pk] for found in ranked for pk, _, name in found)


@pytest.mark.parametrize("query", ["Ghani Jan", "Mohammad Omar", "Ali Jan"])
def test_keyset_pages_of_a_several_words_search_are_the_reference_order(written, db, query):
    everyone = Person.objects.all()
    expected = rows(every_word_rank_reference(query, everyone))
    assert len(expected) > 1
    assert paged(search_people(query, queryset=everyone), size=1) == expected
    assert search_people(query, queryset=everyone).count() == len(expected)
