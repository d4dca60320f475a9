"""Names as analysts should read them: bidirectional control characters shown, not obeyed.

`invoice\u202etxt.exe` would otherwise render as `invoiceexe.txt`. Only the display changes;
the stored value keeps its characters (searches and the API see what was sent).
"""

# Embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the invisible
# direction marks (U+200E, U+200F, U+061C).
BIDI_CONTROLS = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
_VISIBLE = {code: f"⟨U+{code:04X}⟩" for code in BIDI_CONTROLS}


def reveal_bidi(text: str) -> str:
    """`text` with each bidirectional control character written out as `⟨U+202E⟩`."""
    return text.translate(_VISIBLE)
