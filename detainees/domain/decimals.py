"""Decimals entered with more places than a column keeps: rounded, never refused for it."""

from decimal import ROUND_HALF_EVEN, Context, Decimal

# Larger than any column holds: left as it is, for the range check to refuse, rather than
# rounded in a context wide enough for it ("1e999999999" would take a gigabyte of digits).
MAX_WHOLE_DIGITS = 100


def rounded(value: Decimal, places: int) -> Decimal:
    """`value` to `places` decimal places, half to even (34.9412345 -> 34.94123 at 5).

    Exact for any value a column can hold; callers check the range themselves."""
    if not value.is_finite() or value.adjusted() >= MAX_WHOLE_DIGITS:
        return value
    digits = max(value.adjusted() + 1, 1) + places
    return value.quantize(
        Decimal(1).scaleb(-places),
        rounding=ROUND_HALF_EVEN,
        context=Context(prec=max(digits, 28)),
    )
