"""Decimals entered with more places than a column keeps: rounded, never refused for it."""

from decimal import ROUND_HALF_EVEN, Context, Decimal


def rounded(value: Decimal, places: int) -> Decimal:
    """`value` to `places` decimal places, half to even (34.9412345 -> 34.94123 at 5).

    Exact whatever the value's size (the context holds every digit kept); callers check the
    range themselves."""
    digits = max(value.adjusted() + 1, 1) + places
    return value.quantize(
        Decimal(1).scaleb(-places),
        rounding=ROUND_HALF_EVEN,
        context=Context(prec=max(digits, 28)),
    )
