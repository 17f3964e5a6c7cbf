"""LinkedIn's "little" text: reserved characters escaped, hashtags kept clickable."""

from __future__ import annotations

from chorus_sharing.connectors.linkedin import escape_little_text


def test_reserved_characters_are_escaped_and_hashtags_kept() -> None:
    text = "Launch (v2) [beta] @team a*b_c ~ <3 | {x} \\ #Chorus_Launch and C#"
    assert escape_little_text(text) == (
        "Launch \\(v2\\) \\[beta\\] \\@team a\\*b\\_c \\~ \\<3 \\| \\{x\\} \\\\ "
        "#Chorus_Launch and C\\#"
    )
