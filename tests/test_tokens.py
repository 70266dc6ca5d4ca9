"""The `ner` tokens are TOKEN's matches, found in numpy: given any text, the same tokens and offsets."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import GUM
from newscorpus.hf_builder.ner import NerPart, ner_columns
from newscorpus.hf_builder.tokens import TOKEN, tokenize

# apostrophes, "s", word characters of several scripts, combining marks, digits, the space
# characters Python's \s knows beyond ASCII (\x1c, \u2028, no-break space) and emoji
TRICKY = "s'’ aS_9é\u0301日🎉\n\t\x1c\u2028\u00a0-.,"


def regex_tokens(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in TOKEN.finditer(text)]


def found_tokens(text: str) -> list[tuple[int, int]]:
    tokens = tokenize(text)
    return list(zip(tokens.starts.tolist(), tokens.ends.tolist()))


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(TRICKY), max_size=40) | st.text(max_size=40))
def test_any_text_gives_the_tokens_of_the_regex(text):
    assert found_tokens(text) == regex_tokens(text)
    assert tokenize(text).strings().to_pylist() == [m.group() for m in TOKEN.finditer(text)]


def test_possessives_and_edges_give_the_tokens_of_the_regex():
    for text in ["Taliban's", "’s", "'s'", "x''s", "it's", "s's", "'sa 's1 's", "a's\u0301", "O'Neil's 5's", "", "'", " ", "日本's。", "🎉's"]:
        assert found_tokens(text) == regex_tokens(text), text


def test_gum_articles_give_the_tokens_of_the_regex():
    texts = [path.read_text() for path in sorted(GUM.glob("*.txt"))]
    assert len(texts) == 24
    for text in texts:
        assert found_tokens(text) == regex_tokens(text)


def test_a_span_is_tagged_on_its_whole_tokens_and_every_drop_is_counted():
    text = "Anna Müller met anti-Taliban fighters.\n\nIn Kabul's\nold city"
    # Anna Müller; nested in it; Taliban; crossing Taliban; Kabul' (ends inside 's); 's\nol (crosses a line)
    spans = [(0, 11, "PERSON"), (5, 11, "PERSON"), (21, 28, "NORP"), (26, 30, "NORP"), (43, 49, "GPE"), (49, 55, "GPE")]
    names = ["O", "B-PERSON", "I-PERSON", "B-NORP", "I-NORP", "B-GPE", "I-GPE"]
    counts = Counter()
    columns = ner_columns([NerPart("a", "title", "Anna", [(1, 3, "PERSON")]), NerPart("a", "text", text, spans)], names, counts)
    assert columns["id"].to_pylist() == ["a/title/0", "a/text/0", "a/text/1", "a/text/2"]
    assert columns["tokens"].to_pylist()[2] == ["In", "Kabul", "'s"]
    tags = [[names[t] for t in row] for row in columns["ner_tags"].to_pylist()]
    assert tags[0] == ["O"]  # "nn" holds no whole token of the title
    assert tags[1] == ["B-PERSON", "I-PERSON", "O", "O", "O", "B-NORP", "O", "O"]  # "Taliban" is a whole token of "anti-Taliban"
    assert tags[2] == ["O", "B-GPE", "O"]  # "Kabul'" is trimmed to its whole token "Kabul"
    assert tags[3] == ["O", "O"]
    assert counts == Counter(ner_spans=7, ner_dropped_nested=1, ner_dropped_crossing=1, ner_dropped_crosses_paragraph=1,
                             ner_dropped_no_whole_token=1, ner_spans_kept=3, ner_spans_trimmed_to_tokens=1)
