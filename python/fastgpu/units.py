"""Human units, parsed exactly as the ``fastgpu`` command line parses them.

- GPU: ``0.5`` or ``"500m"`` is half of one GPU (500 milli); ``1``, ``2``, ``8`` are
  whole GPUs; ``0`` is none. Fractions above one GPU (``1.5``) are refused: a request is
  either a fraction of one GPU or a whole count.
- Memory: ``"40GiB"``/``"40Gi"``, ``"512MiB"``, ``"1TiB"`` (binary, whole MiB);
  ``"8G"``/``"8GB"`` = 8e9 bytes, ``"500M"``, ``"1T"`` (decimal, rounded up to whole
  MiB); a bare number is MiB.
- CPU: ``2`` is 2000 milli, ``"500m"`` is 500, ``0.25`` is 250.

Numbers may be given as ``int``, ``float`` or ``str``; at most three decimals. Errors
are :class:`fastgpu.InvalidArgumentError` (a ``ValueError``) naming the bad text.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Tuple, Union

from .errors import InvalidArgumentError

Amount = Union[int, float, str]

_MIB = 1024 * 1024
_MAX_INT64 = (1 << 63) - 1

# (suffix, bytes per unit (0: refused), binary). Longest first, as the CLI matches them.
_MEMORY_SUFFIXES: Tuple[Tuple[str, int, bool], ...] = (
    ("TiB", 1024 * 1024 * _MIB, True), ("GiB", 1024 * _MIB, True), ("MiB", _MIB, True),
    ("KiB", 0, True), ("Ti", 1024 * 1024 * _MIB, True), ("Gi", 1024 * _MIB, True),
    ("Mi", _MIB, True), ("Ki", 0, True), ("TB", 10**12, False), ("GB", 10**9, False),
    ("MB", 10**6, False), ("KB", 0, False), ("T", 10**12, False), ("G", 10**9, False),
    ("M", 10**6, False), ("K", 0, False),
)


def _text(value: Amount) -> str:
    if isinstance(value, bool):
        raise InvalidArgumentError(f"'{value}': expected a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(f"'{value}': expected a number")
        # repr gives the shortest text that reads back as the same float: 0.5 -> "0.5".
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        return text
    if isinstance(value, (int, str)):
        return str(value)
    raise InvalidArgumentError(f"'{value}': expected a number or a string")


def _thousandths(num: str, whole: str) -> int:
    """A non-negative decimal with at most three decimals, in thousandths."""

    def bad(why: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"'{whole}': {why}")

    if not num:
        raise bad("expected a number")
    int_part, frac, frac_digits = 0, 0, 0
    seen_dot = seen_digit = False
    for c in num:
        if c == ".":
            if seen_dot:
                raise bad("more than one decimal point")
            seen_dot = True
        elif "0" <= c <= "9":
            seen_digit = True
            if seen_dot:
                frac_digits += 1
                if frac_digits > 3:
                    raise bad("at most three decimals are supported")
                frac = frac * 10 + int(c)
            else:
                if int_part > _MAX_INT64 // 10000:
                    raise bad("too large")
                int_part = int_part * 10 + int(c)
        elif c == "-":
            raise bad("must not be negative")
        else:
            raise bad(f"unexpected character '{c}'")
    if not seen_digit:
        raise bad("expected a number")
    return int_part * 1000 + frac * 10 ** (3 - frac_digits)


def parse_gpu(value: Amount) -> Tuple[int, int]:
    """``(gpu_count, gpu_milli)`` of a GPU amount: 0.5 -> (1, 500), 2 -> (2, 1000)."""
    whole = _text(value)
    s = whole.strip()
    if s.endswith(("m", "M")):
        r = _thousandths(s[:-1], whole)
        if r % 1000 != 0:
            raise InvalidArgumentError(f"'{whole}': milli must be whole")
        milli = r // 1000
    else:
        milli = _thousandths(s, whole)
    if milli == 0:
        return 0, 0
    if milli < 1000:
        return 1, milli
    if milli % 1000 != 0:
        raise InvalidArgumentError(
            f"'{whole}': a GPU request is a fraction of one GPU (below 1) or a whole count")
    if milli // 1000 > 1024:
        raise InvalidArgumentError(f"'{whole}': too many GPUs")
    return milli // 1000, 1000


def parse_memory_mib(value: Amount) -> int:
    """MiB of a memory amount: ``"20GiB"`` -> 20480, ``"8G"`` -> 7630, ``512`` -> 512."""
    whole = _text(value)
    s = whole.strip()
    per_unit, binary = _MIB, True
    for suffix, unit_bytes, is_binary in _MEMORY_SUFFIXES:
        if s.lower().endswith(suffix.lower()):
            if unit_bytes == 0:
                raise InvalidArgumentError(
                    f"'{whole}': use MiB, GiB or TiB (binary), or MB, GB, TB (decimal)")
            per_unit, binary = unit_bytes, is_binary
            s = s[: len(s) - len(suffix)].strip()
            break
    bytes_1e3 = _thousandths(s, whole) * per_unit
    mib_1e3 = _MIB * 1000
    if binary and bytes_1e3 % mib_1e3 != 0:
        raise InvalidArgumentError(f"'{whole}': not a whole number of MiB")
    mib = -(-bytes_1e3 // mib_1e3)
    if mib > _MAX_INT64 // _MIB:
        raise InvalidArgumentError(f"'{whole}': too large")
    return mib


def parse_cpu_milli(value: Amount) -> int:
    """Milli-CPU of a CPU amount: 2 -> 2000, ``"500m"`` -> 500, 0.25 -> 250."""
    whole = _text(value)
    s = whole.strip()
    if s.endswith("m"):
        r = _thousandths(s[:-1], whole)
        if r % 1000 != 0:
            raise InvalidArgumentError(f"'{whole}': milli must be whole")
        return r // 1000
    return _thousandths(s, whole)


def format_gpu(gpu_count: int, gpu_milli: int) -> str:
    """The inverse of :func:`parse_gpu`: (1, 500) -> ``"0.5"``, (2, 1000) -> ``"2"``."""
    if gpu_count == 0:
        return "0"
    if gpu_milli >= 1000 or gpu_milli == 0:
        return str(gpu_count)
    return str(Decimal(gpu_milli) / 1000)


__all__ = ["Amount", "parse_gpu", "parse_memory_mib", "parse_cpu_milli", "format_gpu"]
