"""The text forms names are compared in: normalised, with and without a leading enumerator."""

from __future__ import annotations

import re
import unicodedata

# A task's label starts with its number as printed: "(十八)调整优化能源结构", "(18) Adjust …".
_ENUMERATOR = re.compile(r"^\s*\([^()]{1,8}\)\s*")


# Anything but a letter or a digit: spaces, punctuation, symbols, controls (and the underscore).
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Compatibility-folded (full-width → ASCII), case-folded, letters and digits only."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


def is_subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


def name_variants(text: str) -> list[str]:
    """The normalised forms of a name: itself, and without a leading enumerator such as (十八)."""
    full = normalise(text)
    stripped = normalise(_ENUMERATOR.sub("", unicodedata.normalize("NFKC", text)))
    return [full] if stripped == full or not stripped else [full, stripped]
