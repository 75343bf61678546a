import sys

from django.core.management.base import BaseCommand, CommandError

from detainees.synthetic import RealDataPresent, generate_dataset


class Command(BaseCommand):
    help = (
        "Replace the database's records with a deterministic synthetic dataset; refuses to run "
        "if any record was not written by this command."
    )

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=100_000)
        parser.add_argument("--events", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--quiet", action="store_true", help="No progress bar or summary.")

    def handle(self, *args, persons, events, seed, quiet, **options):
        if persons < 1 or events < 0:
            raise CommandError("--persons must be at least 1 and --events at least 0.")
        bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm  # noqa: PLC0415 (a progress bar only on a terminal)

            bar = tqdm(total=events, unit="event", unit_scale=True, desc="generate_dataset")
        try:
            report = generate_dataset(
                persons=persons,
                events=events,
                seed=seed,
                progress=bar.update if bar else None,
                # The events are all in by then; say what the remaining minute is spent on.
                phase=(lambda name: bar.set_description_str(f"generate_dataset: {name}"))
                if bar
                else None,
            )
        except RealDataPresent as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.close()
        if not quiet:
            self.stdout.write(str(report))
