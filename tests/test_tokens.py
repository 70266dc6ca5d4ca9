"""The `ner` tokens are TOKEN's matches, found in numpy, with each character of a script written
without spaces a token of its own: given any text, the same tokens and offsets as the definition."""

import re
import unicodedata
from collections import Counter

from hypothesis import given, settings
from fontTools.unicodedata import script_extension
from hypothesis import strategies as st

from conftest import GUM
from newscorpus.hf_builder.ner import NerPart, ner_columns
from newscorpus.hf_builder.tokens import TOKEN, tokenize

# apostrophes, "s", word characters of several scripts, combining marks, digits, the space
# characters Python's \s knows beyond ASCII (\x1c, \u2028, no-break space), emoji, and Han,
# Kana, the prolonged sound mark, Thai with its vowel and tone marks, Khmer and Tibetan
TRICKY = "s'’ aS_9é\u0301日🎉\n\t\x1c\u2028\u00a0-.,本カーกุ้ำ๒ខ្བོ"
UNSPACED = {"Hani", "Hira", "Kana", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"}


def unspaced(char: str) -> bool:
    return bool(re.match(r"\w", char)) and bool(set(script_extension(char)) & UNSPACED)


def defined_tokens(text: str) -> list[tuple[int, int]]:
    """TOKEN's matches, with each word character of a script written without spaces cut out as a
    token of its own, and the combining marks right after it joined to it: one character at a time."""
    pieces = []
    for match in TOKEN.finditer(text):
        start = match.start()
        for k in range(match.start(), match.end()):
            if unspaced(text[k]):
                pieces += [(start, k)] * (start < k) + [(k, k + 1)]
                start = k + 1
        pieces += [(start, match.end())] * (start < match.end())
    tokens: list[tuple[int, int]] = []
    for start, end in pieces:
        if tokens and tokens[-1][1] == start and unicodedata.category(text[start]).startswith("M") and unspaced(text[tokens[-1][0]]):
            tokens[-1] = (tokens[-1][0], end)
        else:
            tokens.append((start, end))
    return tokens


def found_tokens(text: str) -> list[tuple[int, int]]:
    tokens = tokenize(text)
    return list(zip(tokens.starts.tolist(), tokens.ends.tolist()))


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(TRICKY), max_size=40) | st.text(max_size=40))
def test_any_text_gives_the_defined_tokens(text):
    assert found_tokens(text) == defined_tokens(text)
    assert tokenize(text).strings().to_pylist() == [text[start:end] for start, end in defined_tokens(text)]
    if not any(unspaced(char) for char in text):  # text in other scripts: exactly TOKEN's matches
        assert found_tokens(text) == [(m.start(), m.end()) for m in TOKEN.finditer(text)]


def test_han_kana_and_thai_characters_are_tokens_of_their_own_with_their_marks():
    def strings(text):
        return tokenize(text).strings().to_pylist()

    assert strings("北京市的习近平") == ["北", "京", "市", "的", "习", "近", "平"]
    assert strings("東京都のコーヒー") == ["東", "京", "都", "の", "コ", "ー", "ヒ", "ー"]
    assert strings("กรุงเทพ") == ["ก", "รุ", "ง", "เ", "ท", "พ"]
    assert strings("Tokyo東京2024年") == ["Tokyo", "東", "京", "2024", "年"]
    assert strings("Anna Müller's anti-Taliban") == ["Anna", "Müller", "'s", "anti", "-", "Taliban"]


def test_possessives_and_edges_give_the_defined_tokens():
    for text in ["Taliban's", "’s", "'s'", "x''s", "it's", "s's", "'sa 's1 's", "a's\u0301", "O'Neil's 5's", "", "'", " ", "日本's。", "🎉's",
                 "'s日", "日's", "\u0e38ก", "ก\u0e38\u0e49x", "a\u0e38"]:
        assert found_tokens(text) == defined_tokens(text), text


def test_gum_articles_give_the_tokens_of_the_regex():
    texts = [path.read_text() for path in sorted(GUM.glob("*.txt"))]
    assert len(texts) == 24
    for text in texts:
        assert found_tokens(text) == defined_tokens(text)


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


def test_entities_in_chinese_japanese_and_thai_are_whole_tokens_and_none_is_dropped():
    text = "北京市的习近平访问了上海。\n東京都の小池百合子知事が発表した。\nนายกรัฐมนตรีเดินทางไปกรุงเทพมหานคร"
    names = ["O", "B-GPE", "I-GPE", "B-PERSON", "I-PERSON"]
    entities = [("北京市", "GPE"), ("习近平", "PERSON"), ("上海", "GPE"), ("東京都", "GPE"), ("小池百合子", "PERSON"), ("กรุงเทพมหานคร", "GPE")]
    spans = [(text.index(name), text.index(name) + len(name), label) for name, label in entities]
    counts = Counter()
    columns = ner_columns([NerPart("a", "text", text, spans)], names, counts)
    assert counts == Counter(ner_spans=6, ner_spans_kept=6)
    found = []
    for tokens, tags in zip(columns["tokens"].to_pylist(), columns["ner_tags"].to_pylist()):
        for token, tag in zip(tokens, tags):
            if names[tag].startswith("B-"):
                found.append([token, names[tag][2:]])
            elif names[tag].startswith("I-"):
                assert found[-1][1] == names[tag][2:]
                found[-1][0] += token
    assert [tuple(f) for f in found] == entities
