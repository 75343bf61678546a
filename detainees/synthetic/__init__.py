"""A deterministic, realistic synthetic dataset at any size, for measuring and demonstrating.

`generate_dataset(persons=..., events=..., seed=...)` replaces the database's records with
synthetic ones (refusing if any record is not synthetic): people with transliteration
variants, aliases and original-script names; timelines of captures and disappearances,
custody episodes, transfers, releases (some in batches, some told two ways), escapes, deaths
(some with their remains found and identified), re-engagements, and a few children born in
captivity, appropriated and given back their identity; facilities changing hands; dates of every precision; every claim status;
about a tenth of records unpublished. Rows go in by COPY, in one transaction.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from detainees.read import listing_store
from detainees.read.search import refresh_name_keys

from .generator import MARKER, Generator
from .loader import (
    LOAD_ORDER,
    RealDataPresent,
    TableCopier,
    analyze,
    bulk_load_session,
    check_only_synthetic,
    replace_all,
    reset_sequences,
)

__all__ = ["MARKER", "RealDataPresent", "LoadReport", "generate_dataset"]


@dataclass
class LoadReport:
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds each

    def __str__(self) -> str:
        counts = ", ".join(f"{n:,} {name}" for name, n in self.rows.items())
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items())
        return (
            f"Wrote {sum(self.rows.values()):,} rows in {self.seconds:.1f} s ({phases}): {counts}."
        )


def generate_dataset(
    *, persons: int, events: int, seed: int, progress=None, phase=None
) -> LoadReport:
    """Replace every (synthetic) record with a synthetic dataset; RealDataPresent if any
    record is not synthetic. `progress(n)` is called as each n events are written, and
    `phase(name)` as the work after the events begins."""
    clock = [time.monotonic()]
    phases = {}

    def lap(name):
        clock.append(time.monotonic())
        phases[name] = clock[-1] - clock[-2]

    check_only_synthetic()
    lap("check")
    generator = Generator(persons=persons, events=events, seed=seed, now=datetime.now(UTC))
    copiers = {model: TableCopier(model) for model in LOAD_ORDER}
    with bulk_load_session() as cursor:
        replace_all(cursor)
        lap("empty")
        for rows, made in generator.blocks():
            for model in LOAD_ORDER:
                copiers[model].copy(cursor, rows.get(model, ()))
            if progress is not None and made:
                progress(made)
        reset_sequences(cursor, LOAD_ORDER)
        lap("generate and copy")
        if phase is not None:
            phase("indexes and keys")
    lap("indexes and keys")
    if phase is not None:
        phase("analyze")
    analyze(LOAD_ORDER)
    lap("analyze")
    if phase is not None:
        phase("people list")
    # The load switched off the triggers keeping the stored people list and the table of name
    # keys: compute them whole.
    listing_store.rebuild()
    refresh_name_keys()
    lap("people list")
    return LoadReport(
        seconds=clock[-1] - clock[0],
        rows={m._meta.verbose_name_plural: c.count for m, c in copiers.items()},
        phases=phases,
    )
