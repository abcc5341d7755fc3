"""The search index's text: splitting lessons at headings, reading queries, marking
matches. Pure functions, no database."""

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutorials import markdown
from tutorials.search.text import (
    CODE_END,
    CODE_START,
    MATCH_END,
    MATCH_START,
    MAX_TERMS,
    Highlighted,
    Term,
    best_part,
    build_entry,
    closest_term,
    edit_distance,
    identifier_parts,
    mark,
    marked_snippet,
    parse_query,
    snippet,
    split_sections,
)

LESSON = """Intro about **receivers**.

## Connecting with `post_save`

Use `@receiver(post_save)`.

```python
from django.db.models.signals import post_save
```

### Disconnecting

Call `disconnect()`.

#### A small detail

Still part of Disconnecting.
"""


def rendered(text: str = LESSON, summary: str = "A summary.") -> SimpleNamespace:
    """What build_entry reads from a saved Tutorial."""
    html = markdown.render(text).html
    return SimpleNamespace(pk=7, title="Receivers", summary=summary, body_html=html)


def test_sections_split_at_h2_and_h3_with_the_heading_anchor():
    sections = split_sections(rendered().body_html)
    assert [(s.position, s.anchor, s.heading) for s in sections] == [
        (0, "", ""),
        (1, "connecting-with-post_save", "Connecting with post_save"),
        (2, "disconnecting", "Disconnecting"),
    ]
    assert "from django.db.models.signals import post_save" in sections[1].text
    assert "Still part of Disconnecting." in sections[2].text
    assert "A small detail" in sections[2].text  # h4 stays in its h3's section


def test_anchors_are_the_ids_of_the_rendered_table_of_contents():
    lesson = rendered()
    toc = markdown.render(LESSON).toc
    ids = [toc[0]["id"], toc[0]["children"][0]["id"]]
    assert [s.anchor for s in split_sections(lesson.body_html)[1:]] == ids


def test_permalink_signs_and_runnable_labels_are_not_indexed():
    html = markdown.render("## Title\n\n```python run\nprint(1)\n```\n\n```output\n1\n```\n").html
    sections = split_sections(html)
    assert sections[1].heading == "Title"  # not "Title#"
    assert "Verified with Django" not in sections[1].text
    assert "Expected output" not in sections[1].text
    assert "print(1)" in sections[1].text


def test_entry_puts_summary_in_the_introduction_and_headings_in_their_column():
    entry = build_entry(rendered())
    assert entry.tutorial_id == 7
    assert entry.title_key == "receivers"
    assert entry.sections[0].text.startswith("A summary. Intro about receivers.")
    # One line per section, the introduction first: line n of each is section n.
    assert entry.headings == "\nConnecting with post_save\nDisconnecting"
    assert entry.anchors == "\nconnecting-with-post_save\ndisconnecting"
    # Code is kept recognisable: wrapped in CODE_START/CODE_END for the snippets.
    assert entry.body.split("\n")[2].startswith(f"Call {CODE_START}disconnect(){CODE_END}.")


def test_control_characters_are_removed_so_they_cannot_fake_a_match_marker():
    lesson = SimpleNamespace(
        pk=1, title=f"A{MATCH_START}B{MATCH_END}", summary="", body_html=f"<p>x{MATCH_START}y</p>"
    )
    entry = build_entry(lesson)
    assert MATCH_START not in entry.title + entry.body
    assert MATCH_END not in entry.title


def test_words_are_terms_and_the_last_one_is_a_prefix():
    query = parse_query("profile user sig")
    assert query.terms == (Term(("profile",)), Term(("user",)), Term(("sig",), prefix=True))


def test_stop_words_are_dropped_but_kept_in_the_key():
    query = parse_query("profile when user is created")
    assert [t.words for t in query.terms] == [("profile",), ("user",), ("created",)]
    assert query.key == "profile when user is created"


def test_identifiers_are_one_word_and_quotes_make_phrases():
    assert parse_query("post_save").terms == (Term(("post_save",), prefix=True),)
    assert parse_query("__init__ _").terms == (Term(("__init__",), prefix=True),)
    assert parse_query('"under the hood"').terms == (Term(("under", "the", "hood")),)


def test_minus_excludes_a_word_only_next_to_something_to_find():
    query = parse_query("signals -async")
    assert query.terms == (Term(("signals",), prefix=True),)
    assert query.excluded == (Term(("async",)),)
    assert parse_query("-x").terms == (Term(("x",), prefix=True),)


def test_operators_and_punctuation_are_not_syntax():
    query = parse_query('NEAR( title: ^a* (b) "c AND d" \\ OR NOT')
    assert query.terms == (
        Term(("near",)),
        Term(("title",)),
        Term(("b",)),
        Term(("c", "and", "d")),
    )


def test_a_query_is_cut_to_a_bounded_number_of_terms():
    query = parse_query(" ".join(f"word{n}" for n in range(100)))
    assert len(query.terms) == MAX_TERMS


def test_only_punctuation_or_stop_words_is_an_empty_query():
    for text in ["", "  ", "\\", "*", "😀", "\x00", "the", '""']:
        assert not parse_query(text), text


@given(st.text())
def test_any_text_parses_to_words_made_of_letters_and_digits(text):
    query = parse_query(text)
    for term in query.terms + query.excluded:
        assert term.words
        for word in term.words:
            assert word.replace("_", "").isalnum(), word


def test_highlighting_escapes_the_text_before_adding_marks():
    marked = Highlighted.from_marked(f"<script>{MATCH_START}alert{MATCH_END}</script> & co")
    assert marked.html == "&lt;script&gt;<mark>alert</mark>&lt;/script&gt; &amp; co"
    assert str(marked) == "<script>alert</script> & co"
    assert marked.segments == [("<script>", False), ("alert", True), ("</script> & co", False)]


def test_an_unpaired_marker_does_not_leave_an_open_mark():
    assert Highlighted.from_marked(f"a {MATCH_START}b").html == "a <mark>b</mark>"
    assert Highlighted.from_marked(f"a{MATCH_END} b").html == "a b"


def marked(text: str) -> str:
    """Write [word] for a match, as a backend marks it."""
    return text.replace("[", MATCH_START).replace("]", MATCH_END)


def test_the_best_part_has_the_most_distinct_matched_words():
    part = best_part(
        headings=marked("\nConnecting\nThe [post_save] [signal]"),
        body=marked("Intro [signal].\nUse [signal], [signal].\nIt is [signal] [post_save] text."),
        anchors="\nconnecting\npost-save",
    )
    assert part["anchor"] == "post-save"
    assert part["heading"] == marked("The [post_save] [signal]")
    assert part["snippet"] == marked("It is [signal] [post_save] text.")


def test_without_matches_the_best_part_is_the_introduction():
    part = best_part(headings="\nA", body="Intro text.\nMore.", anchors="\na")
    assert part == {"anchor": "", "heading": "", "snippet": "Intro text.", "covered": (0, 0)}


def test_a_snippet_is_cut_around_the_first_match_at_spaces_with_ellipses():
    words = " ".join(f"w{n}" for n in range(200))
    text = marked(words.replace("w100", "[match]"))
    cut = snippet(text, length=60)
    assert cut.startswith("…w") and cut.endswith("…")
    assert marked("[match]") in cut
    assert len(cut) < 90
    assert snippet(marked("short [one]")) == marked("short [one]")


def test_a_snippet_never_ends_inside_a_match():
    text = marked("a " * 10 + "[long matched phrase here]" + " b" * 50)
    cut = snippet(text, length=25)
    assert cut.count(MATCH_START) == cut.count(MATCH_END)


def test_the_best_part_for_a_query_counts_rare_words_and_headings_most():
    query = parse_query("signal not firing")
    part = best_part(
        headings=marked("\nBulk operations send no save [signals]\nReceivers that [never] [run]"),
        body=marked("Intro [signals].\nThe [signals] [run] here.\nYour [signals] module."),
        anchors="\nbulk\nnever-run",
        query=query,
    )
    assert part["anchor"] == "never-run"


def test_a_negated_verb_adds_a_hint_for_the_section_not_a_required_word():
    query = parse_query("signal not firing")
    assert [t.words for t in query.terms] == [("signal",), ("firing",)]
    assert [t.words for t in query.hints] == [("never",)]
    assert parse_query("why doesn't my post_save fire").hints == ()


def test_question_words_and_contractions_are_dropped():
    query = parse_query("why doesn't my post_save fire on bulk_create")
    assert [t.words for t in query.terms] == [("post_save",), ("fire",), ("bulk_create",)]


def test_identifier_parts_keep_each_occurrence_and_the_joined_form():
    assert identifier_parts("post_save, post_save and m2m_changed") == (
        "post save postsave post save postsave m2m changed m2mchanged"
    )


@pytest.mark.parametrize(
    ("typed", "vocabulary", "expected"),
    [
        ("recieve", [("receiv", 9), ("recip", 3)], "receiv"),
        ("chnaged", [("chang", 5), ("chain", 7)], "chang"),
        ("dispach", [("dispatch", 5), ("dispos", 2)], "dispatch"),
        ("qqxzzv", [("queue", 5)], None),
    ],
)
def test_the_closest_term_is_within_a_few_edits_of_a_form_of_the_word(typed, vocabulary, expected):
    assert closest_term(typed, vocabulary) == expected


def test_edit_distance_counts_a_swap_of_two_letters_as_one():
    assert edit_distance("recieve", "receive") == 1
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("kitten", "sitting") == 3


def test_a_snippet_keeps_code_as_code_and_escapes_it():
    marked_text = f"Call {CODE_START}{MATCH_START}post_save{MATCH_END}.connect(<f>){CODE_END} now"
    highlighted = Highlighted.from_marked(marked_text)
    assert highlighted.html == ("Call <code><mark>post_save</mark>.connect(&lt;f&gt;)</code> now")
    assert highlighted.segments == [
        ("Call ", False),
        ("post_save", True, True),
        (".connect(<f>)", False, True),
        (" now", False),
    ]
    assert str(highlighted) == "Call post_save.connect(<f>) now"


def test_lesson_text_cannot_fake_a_code_marker():
    lesson = SimpleNamespace(pk=1, title="T", summary="", body_html=f"<p>x{CODE_START}y</p>")
    assert CODE_START not in build_entry(lesson).body


def test_words_are_marked_whole_and_identifiers_in_parts():
    assert mark("Post_save sends; posts and Saves", {"post", "save", "saves"}) == (
        f"{MATCH_START}Post{MATCH_END}_{MATCH_START}save{MATCH_END} sends; posts and "
        f"{MATCH_START}Saves{MATCH_END}"
    )
    assert mark("nothing here", set()) == "nothing here"


@pytest.mark.parametrize("at", [0, 5, 100, 199])
def test_a_snippet_is_cut_around_the_first_match_before_marking_it(at):
    words = [f"w{n}" for n in range(200)]
    words[at] = "Signal_sent"
    text = " ".join(words)
    cut = marked_snippet(text, {"signal", "w"}, length=60)
    assert f"{MATCH_START}Signal{MATCH_END}_sent" in cut
    assert len(cut) < 90 and cut.count(MATCH_START) == 1
    assert cut.startswith("…") == (at > 20) and cut.endswith("…") == (at < 190)
    # Where snippet() cuts the whole marked text (give or take the marks' width).
    whole = snippet(mark(text, {"signal"}), length=60)
    assert set(cut.strip("…").split()) ^ set(whole.strip("…").split()) <= {"w14", "w15"}
