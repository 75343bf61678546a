"""One search box for people, organizations, facilities, places and sources.

Names are compared by their *search key*, a spelling skeleton made by `name_key`
(detainees/domain/names.py) and stored beside each name (filled by the model's `save()`): transliteration variants share one key, so
"Qari Belal", "Bilal" and "bilal qari" are all "bilal". PostgreSQL compares the query's key with
the stored keys by trigram similarity (pg_trgm), through the trigram index on each key column,
and ranks the best match first. Sources are found by full-text search on a generated, indexed
tsvector of their title and reference number.

Rows written without `save()` (`bulk_create`, `update()`, raw SQL imports) get their keys from
`refresh_search_keys()`, which must also run (in a new data migration, with a frozen copy of
the new `name_key`) whenever `name_key` changes.
"""

import re

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains, Unaccent
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    TrigramDistance,
    TrigramSimilarity,
    TrigramStrictWordSimilarity,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import (
    Case,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import Expression, RawSQL
from django.db.models.functions import Cast, Greatest
from django.db.models.sql.constants import INNER, LOUTER

from detainees.domain.models import (
    Facility,
    FacilityName,
    Organization,
    OrganizationName,
    Person,
    PersonName,
    PersonNameKey,
    Place,
    Source,
)
from detainees.domain.models.sources import SEARCH_CONFIG
from detainees.domain.names import WORD, name_key, only_titles, plain


def refresh_search_keys(models=None, batch_size: int = 1000) -> int:
    """Recompute stored search keys; returns how many rows changed.

    For rows written around `save()` and after any change to `name_key`. Reads every row of
    each keyed model once, and writes only the stale ones.
    """
    if models is None:
        models = [PersonName, Organization, OrganizationName, Facility, FacilityName, Place]
    changed = 0
    for model in models:
        stale = []
        rows = model._base_manager.only("pk", "name", "search_key")
        for row in rows.iterator(chunk_size=batch_size):
            key = name_key(row.name)
            if row.search_key != key:
                row.search_key = key
                stale.append(row)
        model._base_manager.bulk_update(stale, ["search_key"], batch_size=batch_size)
        changed += len(stale)
    return changed


def refresh_name_keys() -> None:
    """Add any key missing from PersonNameKey, after a load that switched its trigger off (the
    trigger adds the keys of names saved, updated or bulk-updated)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO detainees_personnamekey (key) SELECT DISTINCT search_key "
            "FROM detainees_personname ON CONFLICT DO NOTHING"
        )


# --- Queries ----------------------------------------------------------------------------------

_WORDS = ArrayField(TextField())


def _matches(key: str, q: str) -> Q:
    """Rows whose key is near `key`: `=`, `%` and `%>` are all served by the trigram index.

    `%` (similarity) uses pg_trgm.similarity_threshold (0.3) and `%>` (the query as a part of
    the key: "Haqani" in "hakani jalaludin") pg_trgm.word_similarity_threshold (0.6).
    """
    titles = only_titles(q)
    if titles:
        # Names keep titles out of their keys, so "Qari" alone is looked for as written (no
        # index; a rare query), rather than fuzzily, which would find Karzai.
        pattern = r"\m(?:{})\M".format("|".join(re.escape(word) for word in titles))
        return Q(search_key=key) | Q(name__iregex=pattern)
    return (
        Q(search_key=key)
        | Q(search_key__trigram_similar=key)
        | Q(search_key__trigram_word_similar=key)
    )


def _key_score(key: str, field="search_key"):
    """The part of `_score` that depends on a key alone (`field`, a column's name or an
    expression): the same for every name sharing it, so it can be computed once per key."""
    field = F(field) if isinstance(field, str) else field
    words = Func(field, Value(" "), function="string_to_array", output_field=_WORDS)
    has_every_word = Case(
        When(DataContains(words, Value(key.split(), output_field=_WORDS)), then=Value(1.0)),
        default=Value(0.0),
    )
    return (
        0.4 * TrigramSimilarity(field, key)
        + 0.2 * TrigramWordSimilarity(key, field)
        + 0.2 * has_every_word
    )


def _name_score(plain: str, name=None):
    """The part of `_score` that depends on the name as written (`name`, an expression)."""
    return 0.2 * TrigramSimilarity(Unaccent(F("name") if name is None else name), plain)


def _score(key: str, plain: str):
    """0..1, for a row with `search_key` and `name`: how alike the keys are, whether the key
    has every word of the query's, and how alike the names are as written, so that an exact
    spelling ranks above a variant sharing its key, and "Omari" finds Omari before Omar."""
    return Cast(_key_score(key) + _name_score(plain), FloatField())


def _no_match(queryset) -> QuerySet:
    """`queryset` matching nothing, with the annotations a search adds, for a query with no
    letter or digit ("-", "?", an emoji): the callers sort by `search_rank` and compile the
    query into counts, which `none()` cannot take (its SQL is never built)."""
    # Cast: PostgreSQL refuses a bare constant in ORDER BY, where callers put the rank.
    return queryset.filter(Value(False)).annotate(
        search_rank=Cast(Value(0.0), FloatField()),
        search_name=Value("", output_field=TextField()),
    )


def search_people(q: str, queryset=None, *, nearest: int | None = None) -> QuerySet:
    """People with a name near `q`, best first, annotated with `search_rank` (0..1) and
    `search_name` (their name that matched best); published people unless `queryset` is given.

    A query of several words (after the name key drops titles and particles) finds the people
    having every word in some name of theirs (`_every_word`); a one-word query, the people with
    a name near it. One query: the people found and the best name of each (`_best_names`,
    `_best_matching_names`) are a derived table joined to `queryset` (`_RankJoin`). With
    `nearest`, a one-word query ranks only the people of `nearest` names with the keys closest
    to `q` (enough for a first page of the best matches; see `_nearest_names`), instead of
    every name above the similarity threshold. Ties go to the newest person first, as the
    keyset pages of the lists order them (descending rank, then descending id).
    """
    queryset = Person.objects.public() if queryset is None else queryset
    key = name_key(q)
    if not key:
        return _no_match(queryset)
    if len(key.split()) > 1:
        return _every_word(key, plain(q), queryset)
    if only_titles(q):
        found = PersonName.objects.filter(_matches(key, q)).values("person_id")
        best = _best_names(key, plain(q), found)
        found = found.query.sql_with_params()
    elif nearest:
        found = _nearest_names(key, nearest)
        best = _best_names(key, plain(q), found)
        found = found.sql, found.params
    else:
        best = _best_matching_names(key, plain(q))
        found = _matching_people(key)
    return _join_best(queryset, best, found).order_by("-search_rank", "-pk")


def _best_names(key: str, plain_q: str, found) -> tuple[str, tuple]:
    """SQL of (person_id, score, name): for each person of `found` (person ids), their name
    with the best `_score`, ties going to the primary name, then the first written."""
    names = (
        PersonName.objects.filter(person_id__in=found)
        .annotate(score=_score(key, plain_q))
        .order_by("person_id", "-score", "-is_primary", "pk")
        .distinct("person_id")
        .values("person_id", "score", "name")
    )
    sql, params = names.query.sql_with_params()
    return sql, tuple(params)


def _best_matching_names(key: str, plain_q: str) -> tuple[str, tuple]:
    """`_best_names` of the people with a name `_matches` finds for a one-word `key` (not
    only titles), in one pass over the names found rather than over every name of each person.

    The keys near `key` come from PersonNameKey through its trigram index, each scored once
    (`_key_score`); their names are joined by equality, the part of the score of the name as
    written computed once for each distinct name. A name not found (its key below both
    thresholds, and without the query's word) scores less than `_weak_bound`: a person whose
    best found name scores that much has it as their best; the others (few: matched only
    weakly) are ranked again over all their names, scored in the same way."""
    keys = (
        PersonNameKey.objects.filter(
            Q(key=key) | Q(key__trigram_similar=key) | Q(key__trigram_word_similar=key)
        )
        .annotate(part=_key_score(key, "key"))
        .values("key", "part")
    )
    keys_sql, keys_params = keys.query.sql_with_params()
    key_sql, key_params = _compiled(_key_score(key, RawSQL("d.key", (), TextField())))
    name_sql, name_params = _compiled(_name_score(plain_q, RawSQL("d.name", (), TextField())))
    table = PersonName._meta.db_table
    sql = (
        # MATERIALIZED: each key is scored once, and each distinct name (else the planner
        # computes a part for every row of a join).
        f"WITH k AS MATERIALIZED ({keys_sql}), "  # noqa: S608 (compiled querysets and expressions; values are parameters)
        "m AS MATERIALIZED (SELECT n.id, n.person_id, n.name, n.is_primary, k.part FROM k "
        f'JOIN {table} n ON n.search_key COLLATE "C" = k.key '
        'WHERE n.search_key COLLATE "C" = ANY(ARRAY(SELECT key FROM k))), '
        f"s AS MATERIALIZED (SELECT d.name, {name_sql} AS part "
        "FROM (SELECT DISTINCT name FROM m) d), "
        "best AS MATERIALIZED (SELECT DISTINCT ON (m.person_id) m.person_id, "
        "CAST(m.part + s.part AS double precision) AS score, m.name "
        "FROM m JOIN s ON s.name = m.name "
        "ORDER BY m.person_id, 2 DESC, m.is_primary DESC, m.id), "
        # The people matched only weakly: every name of theirs, scored the same way.
        "w AS MATERIALIZED (SELECT n.id, n.person_id, n.name, n.is_primary, n.search_key "
        f"FROM {table} n WHERE n.person_id IN (SELECT person_id FROM best WHERE score < %s)), "
        f"wk AS MATERIALIZED (SELECT d.key, {key_sql} AS part "
        "FROM (SELECT DISTINCT search_key AS key FROM w) d), "
        f"ws AS MATERIALIZED (SELECT d.name, {name_sql} AS part "
        "FROM (SELECT DISTINCT name FROM w) d) "
        "SELECT person_id, score, name FROM best WHERE score >= %s "
        "UNION ALL (SELECT DISTINCT ON (w.person_id) w.person_id, "
        "CAST(wk.part + ws.part AS double precision) AS score, w.name "
        "FROM w JOIN wk ON wk.key = w.search_key JOIN ws ON ws.name = w.name "
        "ORDER BY w.person_id, 2 DESC, w.is_primary DESC, w.id)"
    )
    bound = _weak_bound()
    return sql, (*keys_params, *name_params, bound, *key_params, *name_params, bound)


def _compiled(expression) -> tuple[str, tuple]:
    """SQL of an expression over raw columns (RawSQL), as the ORM writes it in a query."""
    query = PersonName.objects.all().query
    sql, params = query.get_compiler(connection=connection).compile(
        expression.resolve_expression(query)
    )
    return sql, tuple(params)


def _matching_people(key: str) -> tuple[str, tuple]:
    """SQL of the ids of the people `_best_matching_names` ranks (repeated for each name found),
    for a selection that does not read the rank (counts, facets)."""
    keys = PersonNameKey.objects.filter(
        Q(key=key) | Q(key__trigram_similar=key) | Q(key__trigram_word_similar=key)
    ).values("key")
    keys_sql, keys_params = keys.query.sql_with_params()
    return (
        f"WITH k AS MATERIALIZED ({keys_sql}) SELECT n.person_id FROM k "  # noqa: S608 (compiled querysets; values are parameters)
        f'JOIN {PersonName._meta.db_table} n ON n.search_key COLLATE "C" = k.key '
        'WHERE n.search_key COLLATE "C" = ANY(ARRAY(SELECT key FROM k))',
        tuple(keys_params),
    )


def _weak_bound() -> float:
    """More than `_score` can give a name that `_matches` does not find for a one-word key:
    its key's similarity is below pg_trgm.similarity_threshold, its word similarity below
    pg_trgm.word_similarity_threshold, and it lacks the query's word (which would make the
    word similarity 1); the name as written adds 0.2 at most. A margin covers rounding."""
    return 0.4 * SIMILARITY_THRESHOLD + 0.2 * WORD_SIMILARITY_THRESHOLD + 0.2 + 1e-6


# pg_trgm's defaults, which the project keeps (`%` and `%>` in `_matches`).
SIMILARITY_THRESHOLD = 0.3
WORD_SIMILARITY_THRESHOLD = 0.6


class _RankJoin:
    """`INNER JOIN (<sql>) alias ON alias.person_id = <people>.id`: the derived table of
    `_best_names`, one row per person found, joined to a queryset of people (Django joins
    only tables), so that the rank is computed once for all of them rather than by a
    subquery for each. A query that reads neither the rank nor the name (a count, the facets
    of a selection) joins the ids of the people `found` instead, the same people without
    ranking them. An entry of `Query.alias_map` (see django.db.models.sql.datastructures
    .Join for what it must provide)."""

    table_name = "search_best"
    join_field = None
    nullable = False
    filtered_relation = None

    def __init__(self, best, found, parent_alias, table_alias=None, join_type=INNER):
        self.best, self.found = best, found
        self.parent_alias, self.table_alias, self.join_type = parent_alias, table_alias, join_type

    def as_sql(self, compiler, connection):
        alias = compiler.quote_name_unless_alias(self.table_alias)
        parent = compiler.quote_name_unless_alias(self.parent_alias)
        pk = connection.ops.quote_name(Person._meta.pk.column)
        on = f"{alias}.person_id = {parent}.{pk}"
        if _reads_column(compiler.query, self.table_alias):
            sql, params = self.best
            # In the lists' order (best first, then the newest): a page of the best matches
            # then joins only the people it shows, stopping at its LIMIT, instead of joining
            # every person found to the list's rows and sorting them all (at full size, 40 of
            # the 115 ms of a name matching 6,600 people).
            sql = f"SELECT * FROM ({sql}) b ORDER BY b.score DESC, b.person_id DESC"  # noqa: S608 (compiled querysets; values are parameters)
        else:
            sql, params = self.found
            sql = f"SELECT DISTINCT f.person_id FROM ({sql}) f"  # noqa: S608 (compiled querysets; values are parameters)
        return f"{self.join_type} ({sql}) {alias} ON ({on})", list(params)

    def relabeled_clone(self, change_map):
        return self.__class__(
            self.best,
            self.found,
            change_map.get(self.parent_alias, self.parent_alias),
            change_map.get(self.table_alias, self.table_alias),
            self.join_type,
        )

    @property
    def identity(self):
        return self.__class__, self.best, self.found, self.parent_alias

    def __eq__(self, other):
        return isinstance(other, _RankJoin) and self.identity == other.identity

    def __hash__(self):
        return hash(self.identity)

    def demote(self):
        new = self.relabeled_clone({})
        new.join_type = INNER
        return new

    def promote(self):
        new = self.relabeled_clone({})
        new.join_type = LOUTER
        return new


def _reads_column(query, alias: str) -> bool:
    """Whether `query` may read a `_JoinedColumn` of `alias`: any ordering or grouping counts
    (their names are resolved only when compiled), and a selection or filter naming one."""
    if query.order_by or query.extra_order_by or query.group_by or query.distinct_fields:
        return True
    expressions = [*query.annotation_select.values(), query.where]
    return any(_refers(expression, alias) for expression in expressions)


def _refers(expression, alias: str) -> bool:
    if expression is None:
        return False
    if not hasattr(expression, "get_source_expressions"):
        return True  # unresolved (an F): it may name the column
    if isinstance(expression, _JoinedColumn):
        return expression.alias == alias
    return any(_refers(source, alias) for source in expression.get_source_expressions())


class _JoinedColumn(Expression):
    """A column of a `_RankJoin`, following its alias when the query is relabeled (as a
    subquery of another)."""

    def __init__(self, alias, column, output_field):
        super().__init__(output_field=output_field)
        self.alias, self.column = alias, column

    def as_sql(self, compiler, connection):
        alias = compiler.quote_name_unless_alias(self.alias)
        return f"{alias}.{connection.ops.quote_name(self.column)}", []

    def relabeled_clone(self, change_map):
        return self.__class__(
            change_map.get(self.alias, self.alias), self.column, self.output_field
        )

    def get_group_by_cols(self):
        return [self]


def _join_best(queryset, best: tuple[str, tuple], found: tuple[str, tuple]) -> QuerySet:
    """`queryset` joined to the (person_id, score, name) rows of `best` (SQL, parameters): only
    the people found, annotated with `search_rank` and `search_name`; `found` is the SQL of
    their ids (repeated or not), for a query that reads neither."""
    queryset = queryset.all()
    query = queryset.query
    found = found[0], tuple(found[1])
    alias = query.join(_RankJoin(best, found, query.get_initial_alias()))
    return queryset.annotate(
        search_rank=_JoinedColumn(alias, "score", FloatField()),
        search_name=_JoinedColumn(alias, "name", TextField()),
    )


# Several words: each must be like a word of one of the person's names (any name: an alias and
# a surname written on different rows both count), by pg_trgm's strict word similarity (the
# trigrams of the word against those of the name's nearest whole words), 0..1.
WORD_FLOOR = 0.3  # the least a word may match by: "Тохир" finds "Тоҳир" (0.33)
# ... and the words together, on average: a misspelled "Yaser Karimov" keeps Yasir Karimov
# (1.0 and 1.0) and Yasir Karim (1.0 and 0.56), but not Nasir Karim (0.33 and 0.56), nor anyone
# matching only one of the words.
WORD_MEAN = 0.5
# A word this short also matches as the start of a word ("Abd" in "Abdrahman"), scoring
# WORD_MEAN: short words have too few trigrams to be compared.
SHORT_WORD = 3


def _word_match(word: str, field: str = "search_key"):
    """How well `word` matches a name's key (`field`): its strict word similarity, or
    WORD_MEAN for a short word that starts a word of the key."""
    similarity = TrigramStrictWordSimilarity(Value(word), F(field))
    if len(word) > SHORT_WORD:
        return similarity
    starts = Case(
        When(Q(**{f"{field}__regex": rf"(^| ){re.escape(word)}"}), then=Value(WORD_MEAN)),
        default=Value(0.0),
        output_field=FloatField(),
    )
    return Greatest(similarity, starts, output_field=FloatField())


def _every_word(key: str, plain_q: str, queryset) -> QuerySet:
    """People every word of `key` matches (`_every_word_people`), ranked by how well the
    words match (their mean, 0.8 of the rank) and how well their best single name matches the
    whole query (its `_score`, a primary name counting a little more: 0.2); one query, the
    people found ranked in one pass over their names (`_best_every_word`) and joined to
    `queryset` (`_RankJoin`)."""
    found = _every_word_people(key.split())
    best = _best_every_word(key, plain_q, found)
    return _join_best(queryset, best, (found.sql, found.params)).order_by("-search_rank", "-pk")


def _best_every_word(key: str, plain_q: str, found: RawSQL) -> tuple[str, tuple]:
    """SQL of (person_id, rank, name) for the people of `found` and a query of several words
    (`key`): the mean over the words of each word's best match in any of the person's names
    (`_word_match`), and the person's best name by `_score` (a primary name 0.1 more, ties to
    the primary, then the first written), in one pass over every name of the people found.

    Each distinct key among their names is scored once (its match with each word, and the part
    of `_score` a key decides), each distinct name once (the part the name as written decides),
    and the names joined to both: the same expressions, in the same order, as a subquery for
    each person over their names would compute (tests/test_search_people_rank.py keeps that
    formulation and holds this one to it)."""
    words = key.split()
    table = PersonName._meta.db_table
    columns = {f"w{i}": _word_match(word) for i, word in enumerate(words)}
    # A name of each distinct key, by primary key: the expressions need a model's field.
    keys = (
        PersonName.objects.filter(pk__in=RawSQL("SELECT min(id) FROM n GROUP BY search_key", ()))
        .annotate(**columns, part=_key_score(key))
        .values(*columns, "part", key=F("search_key"))
    )
    keys_sql, keys_params = keys.query.sql_with_params()
    name_sql, name_params = _compiled(_name_score(plain_q, RawSQL("d.name", (), TextField())))
    mean = " + ".join(f"max(p.{name})" for name in columns)
    sql = (
        # MATERIALIZED: each key and each distinct name scored once (else the planner scores
        # them for every row of a join).
        f"WITH n AS MATERIALIZED (SELECT n.id, n.person_id, n.name, n.is_primary, n.search_key "  # noqa: S608 (compiled querysets and expressions; values are parameters)
        f"FROM {table} n WHERE n.person_id IN ({found.sql})), "
        f"k AS MATERIALIZED ({keys_sql}), "
        f"s AS MATERIALIZED (SELECT d.name, {name_sql} AS part "
        "FROM (SELECT DISTINCT name FROM n) d), "
        f"p AS MATERIALIZED (SELECT n.id, n.person_id, n.name, n.is_primary, "
        f"{', '.join(f'k.{name}' for name in columns)}, "
        "(CAST((k.part + s.part) AS double precision) "
        "+ CASE WHEN n.is_primary THEN 0.1 ELSE 0.0 END) AS score "
        "FROM n JOIN k ON k.key = n.search_key JOIN s ON s.name = n.name), "
        f"own AS (SELECT p.person_id, (((0.0 + {mean})) / %s) AS words "
        "FROM p GROUP BY p.person_id), "
        "best AS (SELECT DISTINCT ON (p.person_id) p.person_id, p.score, p.name FROM p "
        "ORDER BY p.person_id, p.score DESC, p.is_primary DESC, p.id) "
        "SELECT best.person_id, "
        "CAST(((0.8 * own.words) + ((0.2 * best.score) / 1.1)) AS double precision) AS score, "
        "best.name FROM best JOIN own ON own.person_id = best.person_id"
    )
    return sql, (*found.params, *keys_params, *name_params, len(words))


def _every_word_people(words: list[str]) -> RawSQL:
    """Ids of the people each of `words` matches by WORD_FLOOR in some name, and all of them
    by WORD_MEAN on average.

    The keys come from PersonNameKey through its trigram index (`%>>`: strict word similarity
    0.5 or more, the pg_trgm default): a person the words match by WORD_MEAN on average has
    a word matching that well (or only short word starts, looked for when the query has no
    longer word), so no one is missed. Each key found is scored once for every word, then its
    names joined by equality, and the best score of each word kept per person. A word counts
    in a name whose key the index found for some word of the query: a weak match on a row
    no word matches well does not count."""
    branches = []
    for word in words:
        branches.append(Q(key__trigram_strict_word_similar=word))
        if all(len(w) <= SHORT_WORD for w in words):
            # Only short words ("Abd Ali"): the word starts count too (slower, and rare).
            branches.append(Q(key__regex=rf"(^| ){re.escape(word)}"))
    # A union of one index scan per condition, not one scan of their OR: the index's
    # candidates are rechecked against their own condition only (an OR rechecks each
    # candidate against every condition it fails, and "abd" alone brings ~2,400 at full size).
    # A key found by two conditions has the same scores in both rows: the union keeps one.
    columns = {f"w{i}": _word_match(word, "key") for i, word in enumerate(words)}
    found = [
        PersonNameKey.objects.filter(branch).annotate(**columns).values("key", *columns)
        for branch in branches
    ]
    keys = found[0].union(*found[1:]) if len(found) > 1 else found[0]
    keys_sql, keys_params = keys.query.sql_with_params()
    best = [f"max(k.{name})" for name in columns]
    every = " AND ".join(f"{b} >= %s" for b in best)
    return RawSQL(
        # MATERIALIZED: each key is scored once, not once for each of its names. The names are
        # looked up by their keys through personname_key_idx (the "C" collation), which the
        # planner skips for a join, reading every name, when it guesses few keys.
        f"WITH k AS MATERIALIZED ({keys_sql}) SELECT n.person_id FROM k "  # noqa: S608 (compiled querysets; values are parameters)
        f'JOIN {PersonName._meta.db_table} n ON n.search_key COLLATE "C" = k.key '
        f'WHERE n.search_key COLLATE "C" = ANY(ARRAY(SELECT key FROM k)) '
        f"GROUP BY n.person_id HAVING {every} AND ({' + '.join(best)}) >= %s",
        (*keys_params, *[WORD_FLOOR] * len(best), WORD_MEAN * len(words)),
    )


class _WordDistance(Func):
    """`key <->> q`: 1 - word_similarity(q, key), an ordering the trigram index serves."""

    function = ""
    arg_joiner = " <->> "
    output_field = FloatField()


def _nearest_names(key: str, n: int) -> RawSQL:
    """Person ids of `n` names with the keys nearest `key`: the keys most similar to it and
    those containing it most nearly as words (among the keys `_matches` finds), nearest first.

    Keys are looked for in PersonNameKey, a row per distinct key, and names by equality; so
    the cost follows the number of distinct keys, not of names."""
    keys = PersonNameKey.objects.all()
    similar = (
        keys.filter(Q(key=key) | Q(key__trigram_similar=key))
        .annotate(distance=TrigramDistance("key", key))
        .order_by("distance", "key")
        .values("key", "distance")[:n]
    )
    words = (
        keys.filter(key__trigram_word_similar=key)
        .annotate(distance=_WordDistance(F("key"), Value(key)))
        .order_by("distance", "key")
        .values("key", "distance")[:n]
    )
    similar_sql, similar_params = similar.query.sql_with_params()
    words_sql, words_params = words.query.sql_with_params()
    return RawSQL(
        f"SELECT n.person_id FROM (({similar_sql}) UNION ALL ({words_sql})) k "  # noqa: S608 (compiled querysets; values are parameters)
        f'JOIN {PersonName._meta.db_table} n ON n.search_key COLLATE "C" = k.key '
        "ORDER BY k.distance, n.person_id LIMIT %s",
        (*similar_params, *words_params, n),
    )


# How alike two names' keys must be for the admin to ask whether they are one person: stricter
# than search (0.3), since every false alarm costs a researcher a click.
DUPLICATE_SIMILARITY = 0.5


def similar_people(names, exclude_pk=None, limit: int = 10) -> list[tuple[Person, str]]:
    """People of any status with a name close to one of `names`, as (person, their name),
    closest first; for the admin's duplicate warning. One query, through the trigram index."""
    keys = {name_key(n) for n in names} - {""}
    if not keys:
        return []
    match, score = Q(), []
    for key in keys:
        match |= Q(search_key=key) | Q(search_key__trigram_similar=key)
        score.append(TrigramSimilarity("search_key", key))
    rows = (
        PersonName.objects.filter(match)
        .annotate(
            likeness=Greatest(*score, output_field=FloatField()) if len(score) > 1 else score[0]
        )
        .filter(likeness__gte=DUPLICATE_SIMILARITY)
        .exclude(person_id=exclude_pk)
        .select_related("person")
        .prefetch_related("person__names")
        .order_by("-likeness", "person_id", "pk")
    )
    found = {}
    for row in rows[: limit * 5]:
        found.setdefault(row.person_id, (row.person, row.name))
    return list(found.values())[:limit]


def _search_named(queryset, q: str, also: Q | None = None, also_ranks=()) -> QuerySet:
    """Rows of `queryset` whose `name` is near `q`, or that match `also`, best first; the rank
    is the best of the name's score and `also_ranks` (expressions, NULL where they don't
    apply)."""
    key = name_key(q)
    if not key:
        return _no_match(queryset)
    match = _matches(key, q) if also is None else _matches(key, q) | also
    rank = _score(key, plain(q))
    if also_ranks:
        rank = Greatest(rank, *also_ranks, output_field=FloatField())
    return queryset.filter(match).annotate(search_rank=rank).order_by("-search_rank", "pk")


def search_organizations(q: str, queryset=None) -> QuerySet:
    """Organizations near `q` by name or other names, or whose abbreviation is `q` (any case),
    best first; published ones unless `queryset` is given."""
    queryset = Organization.objects.public() if queryset is None else queryset
    key, abbreviation = name_key(q), q.strip()
    if not key:
        return _no_match(queryset)
    variants = OrganizationName.objects.filter(_matches(key, q)).values("organization_id")
    best_variant = (
        OrganizationName.objects.filter(organization=OuterRef("pk"))
        .annotate(score=_score(key, plain(q)))
        .order_by("-score")
        .values("score")[:1]
    )
    same_abbreviation = Q(abbreviation__iexact=abbreviation)
    return _search_named(
        queryset,
        q,
        also=same_abbreviation | Q(pk__in=variants),
        also_ranks=[
            Case(When(same_abbreviation, then=Value(1.0)), output_field=FloatField()),
            Subquery(best_variant, output_field=FloatField()),
        ],
    )


def search_facilities(q: str, queryset=None) -> QuerySet:
    """Facilities near `q` by name or other names ("Detention Facility in Parwan"), best
    first; published ones unless `queryset` is given."""
    queryset = Facility.objects.public() if queryset is None else queryset
    key = name_key(q)
    if not key:
        return _no_match(queryset)
    variants = FacilityName.objects.filter(_matches(key, q)).values("facility_id")
    best_variant = (
        FacilityName.objects.filter(facility=OuterRef("pk"))
        .annotate(score=_score(key, plain(q)))
        .order_by("-score")
        .values("score")[:1]
    )
    return _search_named(
        queryset,
        q,
        also=Q(pk__in=variants),
        also_ranks=[Subquery(best_variant, output_field=FloatField())],
    )


def search_places(q: str, queryset=None) -> QuerySet:
    """Places near `q` by name, best first; published ones unless `queryset` is given."""
    return _search_named(Place.objects.public() if queryset is None else queryset, q)


def _prefix_query(q: str) -> str:
    """A to_tsquery text matching every word of `q` as a word start: "uzbek:* & isaf:*"."""
    return " & ".join(f"{word}:*" for word in WORD.findall(q))


def search_sources(q: str, queryset=None) -> QuerySet:
    """Sources whose title or reference number has the words of `q` (word starts, accents
    ignored, English stemming), or whose reference number is `q`; best first."""
    queryset = Source.objects.public() if queryset is None else queryset
    q = q.strip()
    prefixes = _prefix_query(q)
    if not prefixes:
        return _no_match(queryset)
    words = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
    starts = SearchQuery(prefixes, search_type="raw", config=SEARCH_CONFIG)
    reference = Q(reference_number__iexact=q)
    rank = Greatest(
        SearchRank(F("search_vector"), words), SearchRank(F("search_vector"), starts)
    ) + Case(When(reference, then=Value(1.0)), default=Value(0.0))
    return (
        queryset.filter(Q(search_vector=words) | Q(search_vector=starts) | reference)
        .annotate(search_rank=Cast(rank, FloatField()))
        .order_by("-search_rank", "pk")
    )


def search_all(q: str, limit: int = 10) -> dict[str, list]:
    """The best `limit` published matches of each kind; six queries (people's names are
    prefetched; a seventh when `_people_or_joined` tries the words of a name as one), none for
    a query with no letter or digit."""
    if not name_key(q) and not _prefix_query(q.strip()):
        return {kind: [] for kind in ("people", "organizations", "facilities", "places", "sources")}
    return {
        "people": _people_or_joined(q, limit),
        "organizations": list(search_organizations(q)[:limit]),
        "facilities": list(search_facilities(q)[:limit]),
        "places": list(search_places(q)[:limit]),
        "sources": list(search_sources(q)[:limit]),
    }


def _people_or_joined(q: str, limit: int) -> list:
    """The best `limit` people for the search box; when a query of several words finds no one,
    its words as one: a misspelled prefix the name key does not join ("Abddel Ghani", "Abdl
    Gani") leaves two words of which the first is like no word of any name, while the name is
    keyed as one word ("Abdul Ghani": abdgani), which the words joined are near."""
    found = list(search_people(q, nearest=5 * limit).with_primary_name()[:limit])
    if found or len(name_key(q).split()) < 2:  # a key of several words has as many words
        return found
    joined = "".join(WORD.findall(plain(q)))
    return list(search_people(joined, nearest=5 * limit).with_primary_name()[:limit])
