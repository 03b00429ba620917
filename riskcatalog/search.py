"""Chinese-aware full-text search: how the index holds text and how a reader's query is read.

The index. SQLite's unicode61 tokenizer treats a run of Chinese characters as one token, so `报销`
never matches `经费报销审核`; the trigram tokenizer cannot match two-character words. We index a
derived text in which each Chinese run is replaced by its overlapping character pairs and its last
character: any Chinese word is then the phrase of its pairs, found wherever it stands, and a
one-character word a prefix (a pair it begins, or the last character of a run). Traditional
characters are folded to Simplified on both sides; English goes through the porter stemmer.

The query. People type phrases without spaces (低保审核, 公务接待超标准). read() cuts a query into
words with jieba's dictionary (rjieba) plus the thesaurus's terms, so each word is looked for on
its own, in any order; a dictionary word that is two shorter words (公车私用 = 公车 + 私用) is also
found as those two apart; each word also finds what the thesaurus says is the same (公车 →
公务用车). The search page ranks entries that hold the whole phrase, then all the words, then most
of them (riskcatalog.site.ranking); Datasette's table search asks for all the words (fts_query).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import opencc

#: Tokenizer for every search table: porter stemming over unicode61, accents folded.
TOKENIZE = "porter unicode61 remove_diacritics 2"
#: The index's columns a reader's words are looked for in (riskcatalog.tables.SEARCHED names them),
#: and those that hold the entry's own text (not the titles of the regulations it cites).
READ_COLUMNS, OWN_COLUMNS = "{title area body cited}", "{title area body}"

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(f"([{_HAN}]+)|([^\\s{_HAN}]+)")
_HAN_RUN = re.compile(f"[{_HAN}]+")
#: A token of other text as the unicode61 tokenizer cuts it: letters and digits (LAND-02: land, 02).
_TOKEN = re.compile(r"[^\W_]+")
_T2S = opencc.OpenCC("t2s")

#: A query is read up to this many characters and words: enough for any phrase, and a bound on
#: the work one search asks of the index. What is left out is said on the page.
MAX_QUERY_CHARS, MAX_WORDS = 100, 12
#: Characters and words that carry no meaning alone in a query of several words (的, 和, 对…; the
#: question words of a query typed as a question, 怎么办, 能不能): part of the exact phrase, but not
#: words an entry must hold. The page says they were left out.
FUNCTION_CHARACTERS = set("的了和与及或在对把被为向从由以于之其等是个也都并而且就还吗呢吧啊呀么能")
FILLER_WORDS = {"怎么办", "怎么", "怎样", "如何", "什么", "哪些", "哪里", "哪个", "能不能", "能否", "可不可以",
                "可以", "是否", "是不是", "有没有", "要不要", "应该", "请问", "我们", "这个", "那个", "这些",
                "那些", "一下", "不能", "不得", "需要"}


def to_simplified(text: str) -> str:
    """Fold Traditional characters to Simplified (報銷 -> 报销)."""
    return _T2S.convert(text)


def pairs(run: str) -> list[str]:
    """The overlapping pairs of characters of a text: what the index holds of a Chinese run."""
    return list(map(str.__add__, run, run[1:]))


def index_text(*texts: str | None) -> str:
    """The text to index for a record's fields: each field's other words, then each Chinese run's pairs
    and last character (index_field)."""
    return "\n".join([index_field(text) for text in texts if text])


@functools.lru_cache(maxsize=16384)
def index_field(text: str) -> str:
    """One field's text to index: its other words, then each Chinese run's last character, then the runs'
    pairs. A whole Chinese run is left out (no query asks for one), and so are its single characters but
    the last: every other character begins a pair, which a one-character query finds by prefix. At a
    city's scale the index is a third smaller, and the build faster, for it. Remembered: the names of
    areas, posts and cited regulations recur on entry after entry (a third less work at a city's scale)."""
    text = to_simplified(text)
    runs = _HAN_RUN.findall(text)
    # Pairs of each run stay adjacent in one stream so a phrase of pairs matches a longer word.
    indexed = " ".join([" ".join(pairs(run)) for run in runs])
    return f"{_HAN_RUN.sub(' ', text)}\n{' '.join([run[-1] for run in runs])}\n{indexed}"


# --- reading a query -------------------------------------------------------------------------------

@dataclass
class Word:
    """One word of a query: as typed (Simplified), the shorter words it is made of, the thesaurus's terms."""

    text: str
    parts: list["Word"] = field(default_factory=list)  # 公车私用 -> 公车, 私用: also found apart
    also: list[str] = field(default_factory=list)  # 公车 -> 公务用车, 公务车辆

    def forms(self) -> list[str]:
        """Every text that counts as (part of) this word in an entry, the word itself first (for highlighting)."""
        return list(dict.fromkeys([self.text, *self.also, *(form for part in self.parts for form in part.forms())]))


@dataclass
class Reading:
    """How a query was read: its words, the phrase they make, and what was left out."""

    query: str
    words: list[Word]
    #: The query as one phrase (Chinese run together, or English words in order); None when a
    #: query of one word (the word is the phrase) or mixing Chinese and English.
    phrase: str | None = None
    ignored: list[str] = field(default_factory=list)  # function characters and words past MAX_WORDS
    cut: bool = False  # the query was longer than MAX_QUERY_CHARS

    def highlights(self) -> list[str]:
        """Every text a result may show as matching, longest first."""
        return sorted({form for word in self.words for form in word.forms()}, key=len, reverse=True)


def typed_words(query: str) -> list[str]:
    """A query's words as typed: each run of Chinese and each other word between spaces. What the
    site's parameter parser bounds (riskcatalog.site.params); read() then cuts the Chinese runs by
    the dictionary."""
    return [han or other for han, other in _RUNS.findall(query) if han or re.search(r"\w", other)]


def read(query: str) -> Reading:
    """A reader's query as words: Chinese cut by the dictionary, English and ids by spaces."""
    text = to_simplified(query.strip())
    cut = len(text) > MAX_QUERY_CHARS
    text = text[:MAX_QUERY_CHARS]
    words: list[str] = []
    runs = _RUNS.findall(text)
    english: list[str] = []  # consecutive other words, read together for the thesaurus's terms of several
    for han, other in [*runs, ("", "")]:
        other = other.replace('"', "")
        if re.search(r"\w", other):
            english.append(other)
            continue
        words += _terms(english)
        english = []
        if han:
            words += segment(han)
    words = list(dict.fromkeys(words))  # a word typed twice is one word
    ignored = [w for w in words if w in FUNCTION_CHARACTERS or w in FILLER_WORDS] if len(words) > 1 else []
    words = [w for w in words if w not in ignored]
    ignored += words[MAX_WORDS:]
    kept = [_word(w) for w in words[:MAX_WORDS]]
    return Reading(query, kept, _phrase(runs, len(kept)), ignored, cut)


def _terms(english: list[str]) -> list[str]:
    """Words typed with spaces (English, ids) as words, a thesaurus term of several (slush fund) as one."""
    from .thesaurus import shipped

    words, start = [], 0
    while start < len(english):
        end = next((end for end in range(min(len(english), start + 4), start + 1, -1)
                    if shipped().also(" ".join(english[start:end]))), start + 1)
        words.append(" ".join(english[start:end]))
        start = end
    return words


def _word(text: str, whole: bool = True) -> Word:
    """A word with what else counts as it: the thesaurus's terms, and (a longer word) its parts, each
    with the thesaurus's terms for it (征收补偿款: 征收 or 拆迁, and 补偿款 or 补偿资金)."""
    from .thesaurus import shipped  # the site reads it once per process

    parts = _parts(text) if whole and _HAN_RUN.fullmatch(text) else []
    return Word(text, [_word(part, whole=False) for part in parts], shipped().also(text))


def _phrase(runs: list[tuple[str, str]], words: int) -> str | None:
    """The exact phrase of a query of several words in one script: Chinese run together across the
    spaces typed (the index holds a run's pairs), or English words in order."""
    han = [h for h, _ in runs if h]
    other = [o for _, o in runs if o and re.search(r"\w", o)]
    if words < 2 or (han and other):
        return None
    return "".join(han) if han else " ".join(o.replace('"', "") for o in other)


def warm_up() -> None:
    """Load the thesaurus and the segmenter's dictionary now (about a second) rather than at a first search."""
    read("低保审核")


@functools.cache
def _segmenter():
    """jieba's dictionary (in the rjieba wheel: nothing is downloaded) with every thesaurus term kept whole."""
    import rjieba

    from .thesaurus import shipped

    jieba = rjieba.Jieba()
    for term in shipped().terms:
        if _HAN_RUN.fullmatch(term):
            jieba.add_word(term, None, None)
    return jieba


def segment(run: str) -> list[str]:
    """A run of Chinese characters as words. Characters the dictionary leaves alone next to each other
    (an expression it does not know, such as 优亲厚友) stay together as one word; a function character
    among them (收了礼) is left out when the rest is a word (收礼), else it separates them. A character
    left alone beside a word belongs to it (公示期, not 公示 and any 期…; 领低保): alone it would match
    any word it begins."""
    words: list[str] = []
    single = ""
    for word in [*_segmenter().cut(run, False), ""]:  # "" ends the last run of single characters
        if len(word) == 1:
            single += word
            continue
        if single:
            words += _singles(single)
            single = ""
        if word:
            words.append(word)
    return _attached(words)


def _attached(words: list[str]) -> list[str]:
    """Each lone character that is not a function character joined to the word before it, or else
    the word after it, when that is a word of two or more characters and no filler."""
    def joinable(word: str) -> bool:
        return len(word) > 1 and word not in FILLER_WORDS

    result: list[str] = []
    pending = ""  # a lone character waiting for the word after it
    for word in words:
        if len(word) == 1 and word not in FUNCTION_CHARACTERS:
            if result and joinable(result[-1]) and not pending:
                result[-1] += word
            elif pending:
                result.append(pending)
                pending = word
            else:
                pending = word
            continue
        if pending and joinable(word):
            word, pending = pending + word, ""
        elif pending:
            result.append(pending)
            pending = ""
        result.append(word)
    return result + [pending] if pending else result


def _singles(run: str) -> list[str]:
    """Characters the dictionary cut one by one, as words (see segment)."""
    content = "".join(c for c in run if c not in FUNCTION_CHARACTERS)
    if content == run or len(content) < 2 or not _known(content):
        return [piece for piece in re.split(f"([{''.join(FUNCTION_CHARACTERS)}])", run) if piece]
    return [content]


def _known(word: str) -> bool:
    from .thesaurus import shipped

    return _segmenter().has_word(word) or bool(shipped().also(word))


def _parts(word: str) -> list[str]:
    """A longer dictionary word as the shorter words that make it up exactly (虚报冒领 -> 虚报, 冒领),
    or [] when they do not (补偿款: 款 is no word; 一把手: 一把 and 把手 overlap)."""
    if len(word) < 3:
        return []
    shorter = {w for w in _segmenter().cut_for_search(word, False) if 1 < len(w) < len(word)}
    # The fewest shorter words that tile the word, found left to right (words are short: a few steps).
    best: dict[int, list[str]] = {0: []}
    for start in range(len(word)):
        if start not in best:
            continue
        for w in shorter:
            end = start + len(w)
            if word.startswith(w, start) and (end not in best or len(best[end]) > len(best[start]) + 1):
                best[end] = best[start] + [w]
    return best.get(len(word), [])


# --- the FTS5 expressions of a reading -------------------------------------------------------------

def phrase_query(text: str) -> str:
    """One text as an FTS5 expression over index_text, every part required: each Chinese run its pairs (one
    character: a prefix), each other word its tokens, quoted (quotes removed: FTS syntax stays inert).

    The index keeps which column holds a token, not where (detail=column: half the size), so a longer
    word is its pairs in any order rather than a phrase: 公示期 is 公示 and 示期. A pair that bridges two
    words (示期, 保审 in 低保审核) is rare elsewhere, so the pairs of a word seldom meet apart."""
    terms = []
    for han, other in _RUNS.findall(text):
        if han:
            terms += [f'"{pair}"' for pair in pairs(han)] if len(han) > 1 else [f'"{han}" *']
        else:
            terms += [f'"{token}"' for token in _TOKEN.findall(other)]
    terms = list(dict.fromkeys(terms))
    return " AND ".join(terms) if len(terms) > 1 else terms[0] if terms else '""'


def word_query(word: Word) -> str:
    """Any form of a word: itself (or, a longer word, its parts together, which include it), or a thesaurus
    term. A form that another form includes finds nothing more (低保金 beside 低保; 虚报 + 冒领 beside 冒领)
    and is left out: on a city's index every form is one more list to read."""
    if word.parts:  # the parts' own thesaurus terms make the parts looser than their texts say
        forms = [(tuple(p.text for p in word.parts), " AND ".join(map(word_query, word.parts)),
                  not any(p.also for p in word.parts))]
    else:
        forms = [((word.text,), phrase_query(word.text), True)]
    forms += [((term,), phrase_query(term), True) for term in word.also]
    kept = [(texts, query) for n, (texts, query, exact) in enumerate(forms)
            if not (exact and any(_includes(other, texts) and (other != texts or m < n)
                                  for m, (other, _, _) in enumerate(forms) if m != n))]
    return kept[0][1] if len(kept) == 1 else "(" + " OR ".join(f"({query})" for _, query in kept) + ")"


def _includes(looser: tuple[str, ...], stricter: tuple[str, ...]) -> bool:
    """Whether every entry holding all of stricter's Chinese texts holds all of looser's: each of looser's
    texts is within one of stricter's."""
    return all(_HAN_RUN.fullmatch(text) for text in looser + stricter) and all(
        any(text in other for other in stricter) for text in looser)


def all_words(reading: Reading) -> str:
    """Entries holding every word (in any of its forms), anywhere in the reader's columns."""
    return " AND ".join(map(word_query, reading.words)) or '""'


def any_word(reading: Reading) -> str:
    """Entries holding at least one of the words."""
    return " OR ".join(f"({word_query(word)})" for word in reading.words) or '""'


def exact(reading: Reading) -> str:
    """Entries holding the query as typed: its phrase, or its one word itself (not a thesaurus term)."""
    if reading.phrase:
        return phrase_query(reading.phrase)
    return phrase_query(reading.words[0].text) if reading.words else '""'


def in_columns(columns: str, expression: str) -> str:
    """expression with every phrase looked for in these columns only ({title}, {title area body})."""
    return f"{columns} : ({expression})"


def fts_query(query: str) -> str:
    """A user's search as an FTS5 query over index_text: every word must match, in any of its forms.
    Datasette's table search (?_search=) uses it through escape_fts."""
    return in_columns(READ_COLUMNS, all_words(read(query)))
