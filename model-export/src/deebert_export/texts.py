"""What counts as an empty text, for training and evaluation data: the same rule as the streaming
service's ``EmptyText`` (Java), which dead-letters such events as ``EMPTY_TEXT``.

A text is empty when it has no visible character: every code point is a space or separator (general
categories Zs, Zl, Zp: ASCII and ideographic spaces, the no-break spaces U+00A0, U+2007, U+202F), a
control (Cc: NUL, tab, line feed, DEL), a format character (Cf: zero-width space/joiners, word
joiner, byte order mark, soft hyphen, bidi marks), or one of the other default-ignorable code points
of Unicode that render as nothing (:data:`OTHER_INVISIBLE`). Both languages are checked against
``tests/golden/empty_texts.json``.
"""

from __future__ import annotations

import unicodedata

# General categories whose characters show nothing by themselves.
INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties) outside those categories: letters and
# marks that render as nothing.
OTHER_INVISIBLE = frozenset(
    [0x034F]                               # combining grapheme joiner
    + [0x115F, 0x1160, 0x3164, 0xFFA0]     # Hangul fillers
    + [0x17B4, 0x17B5]                     # Khmer inherent vowels
    + list(range(0x180B, 0x1810))          # Mongolian free variation selectors (and U+180E)
    + list(range(0xFE00, 0xFE10))          # variation selectors
    + list(range(0xE0100, 0xE01F0))        # variation selectors supplement
)


def is_invisible(char: str) -> bool:
    """Whether one code point renders as nothing (see the module docstring)."""
    return unicodedata.category(char) in INVISIBLE_CATEGORIES or ord(char) in OTHER_INVISIBLE


def is_empty_text(text: str | None) -> bool:
    """Whether ``text`` is None or has no visible character (see the module docstring)."""
    return text is None or all(is_invisible(c) for c in text)
