"""How well people search finds the person meant, on a synthetic dataset.

    python -m bench.search_relevance [--samples 30] [--seed 7]

Run it against a database holding a synthetic dataset (`make dataset`, or `manage.py
generate_dataset` with its own DATABASE_URL). Two measures, each over `--samples` published
people picked at random (seeded):

- "alias + surname": a query of one of the person's other names (alias, kunya or nom de
  guerre, a different name row from the primary one) and the surname of the primary name;
  how often the person is among the first five results of the search page (`/search/`), the
  people list (`/people/?q=`) and the API (`/api/v1/persons/?search=`).
- "misspelled full name": the primary name with one slip in its longest word; how
  many people the list's name filter matches (median), and how often the person is in the
  first five of the list.
"""

import argparse
import os
import random
import statistics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-not-a-secret")
os.environ["API_ANON_RATE"] = "1000000/second"

TOP = 5
ALIAS_KINDS = ("alias", "kunya", "nom_de_guerre")
LETTERS = "bdfgklmnprstz"


def misspell(name: str, rng: random.Random) -> str:
    """One slip in the longest word: a letter changed for a consonant (which the name keys do
    not settle, unlike e/i or a doubled letter), dropped, or a consonant added."""
    words = name.split()
    n = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[n]
    i = rng.randrange(1, len(word) - 1)
    letter = rng.choice([c for c in LETTERS if c != word[i].lower()])
    edit = rng.choice(("change", "drop", "add"))
    if edit == "change":
        word = word[:i] + letter + word[i + 1 :]
    elif edit == "drop":
        word = word[:i] + word[i + 1 :]
    else:
        word = word[:i] + letter + word[i:]
    return " ".join([*words[:n], word, *words[n + 1 :]])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client

    from detainees.domain.models import Person, PersonName
    from detainees.domain.names import only_titles
    from detainees.read.filters import PersonFilterSet, people_for_listing
    from detainees.read.pagination import keyset_page
    from detainees.read.search import search_all, search_people
    from detainees.web.views import sort_for

    rng = random.Random(args.seed)
    client = Client(HTTP_HOST="localhost")

    def site_list(q: str):
        filterset = PersonFilterSet({"q": q}, queryset=people_for_listing())
        assert filterset.is_valid(), filterset.errors
        field, descending = sort_for(filterset)
        page = keyset_page(filterset.qs, field=field, descending=descending, after=None, size=TOP)
        return [p.pk for p in page.rows], filterset.qs

    def api(q: str):
        response = client.get("/api/v1/persons/", {"search": q, "page_size": TOP})
        assert response.status_code == 200, response.content[:300]
        return [row["id"] for row in response.json()["results"]]

    public = Person.objects.public()
    aliases = list(
        PersonName.objects.filter(person__in=public, kind__in=ALIAS_KINDS)
        .order_by("pk")
        .values_list("person_id", "name")
    )
    primaries = dict(
        PersonName.objects.filter(person__in=public, is_primary=True).values_list(
            "person_id", "name"
        )
    )
    ids = dict(public.values_list("pk", "public_id"))
    aliases = [
        (pk, name)
        for pk, name in aliases
        if len(primaries.get(pk, "").split()) >= 2 and not only_titles(primaries[pk])
    ]
    sample = rng.sample(aliases, args.samples)
    for label, with_surname in (("alias alone", False), ("alias + surname", True)):
        found = {"search page": 0, "people list": 0, "API": 0}
        best, tied = 0, []
        for pk, alias in sample:
            surname = primaries[pk].split()[-1]
            q = alias if alias.endswith(surname) or not with_surname else f"{alias} {surname}"
            ranks = dict(search_people(q).values_list("pk", "search_rank"))
            top = max(ranks.values(), default=None)
            if ranks.get(pk) == top:  # as good a match as any: only a tie keeps it out
                best += 1
                tied.append(sum(rank == top for rank in ranks.values()))
            found["search page"] += pk in [p.pk for p in search_all(q, limit=TOP)["people"]]
            found["people list"] += pk in site_list(q)[0]
            found["API"] += str(ids[pk]) in api(q)
        print(f"{label}, {args.samples} people: right person in the top {TOP}")
        for where, n in found.items():
            print(f"  {where}: {n}/{args.samples}")
        shared = f", shared with a median of {statistics.median(tied):,.0f} people" if tied else ""
        print(f"  the best match of all (any list): {best}/{args.samples}{shared}")

    full = [pk for pk, name in primaries.items() if len(name.split()) >= 2]
    counts, top = [], 0
    for pk in rng.sample(full, args.samples):
        q = misspell(primaries[pk], rng)
        first, selection = site_list(q)
        counts.append(selection.count())
        top += pk in first
    print(f"misspelled full names, {args.samples} people:")
    print(f"  matches: median {statistics.median(counts):,.0f}, max {max(counts):,}")
    print(f"  right person in the list's top {TOP}: {top}/{args.samples}")


if __name__ == "__main__":
    main()
