"""An article as the name matcher reads it: its words, and what its analysis says about them.

:class:`ArticleWords` holds the text's words (with possessives and initials marked) and
answers the questions that tell a person's name from something else: is a capitalised word
part of a name, is a surname also a common word or a place, does a name stand inside the
longer name of a building or a prize, which words stand before a surname elsewhere.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from newsmon.analysis.entities import Entity
from newsmon.analysis.spelling import fold, given_groups, spelling_key
from newsmon.analysis.text import Sentence, Token
from newsmon.analysis.word_lists import word_lists

MAX_EVIDENCE = 600  # characters
SPEECH_VERBS = frozenset({"say", "tell", "add", "write", "tweet", "announce", "insist", "warn", "vow", "urge",
                          "deny", "claim", "argue", "accuse", "ask", "reply", "respond"})


@dataclass(slots=True)
class TextWord:
    """One word of the text as written; ``folded`` and ``key`` are filled in when first needed."""

    start: int
    end: int  # without a possessive
    text: str
    possessive: bool
    initial: bool
    folded: str = ""
    key: str = ""
    index: int = 0


_TEXT_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’ʼ][sS]$")
_NAME_GAP = re.compile(r"[ \t\u00a0]{1,3}")
_INITIAL_GAP = re.compile(r"\.[ \t\u00a0]{0,3}")
NON_PERSON_TYPES = frozenset({"ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
                              "LANGUAGE"})
@dataclass
class ArticleWords:
    """One article's text, words and analysis, with the look-ups matching needs."""

    text: str
    sentences: Sequence[Sentence]
    entities: Sequence[Entity]
    words: list[TextWord] = field(default_factory=list)
    _tokens: list[Token] | None = None
    _token_starts: list[int] = field(default_factory=list)
    _mentions: list[tuple[int, int, Entity]] | None = None
    _lower_words: set[str] | None = None
    _places: set[str] | None = None
    _given_before: dict[str, list[TextWord]] | None = None

    def tokens(self) -> list[Token]:
        if self._tokens is None:
            self._tokens = sorted((token for sentence in self.sentences for token in sentence.tokens),
                                  key=lambda token: token.start)
            self._token_starts = [token.start for token in self._tokens]
        return self._tokens

    def token_at(self, offset: int) -> tuple[int, Token] | tuple[None, None]:
        """The spaCy token covering character ``offset``, with its position."""
        tokens = self.tokens()
        position = bisect.bisect_right(self._token_starts, offset) - 1
        if position >= 0 and offset < tokens[position].start + len(tokens[position].text):
            return position, tokens[position]
        return None, None

    def overlapping(self, start: int, end: int) -> list[tuple[int, int, Entity]]:
        """Entity mentions overlapping ``text[start:end]``."""
        if self._mentions is None:
            self._mentions = sorted(((m.start, m.end, entity) for entity in self.entities
                                     for m in entity.mentions), key=lambda item: (item[0], item[1]))
        return [item for item in self._mentions if item[0] < end and start < item[1]]

    def lower_words(self) -> set[str]:
        if self._lower_words is None:
            self._lower_words = {fold(word.text) for word in self.words if word.text.islower()}
        return self._lower_words

    def places(self) -> set[str]:
        if self._places is None:
            self._places = {fold(entity.name) for entity in self.entities if entity.type in ("GPE", "LOC")}
        return self._places

    def name_like(self, word: TextWord) -> bool:
        """Whether a capitalised word before a surname reads as part of a person's name
        (not a title, a function word at the start of a sentence, a nationality, a place).
        """
        folded = word.folded or fold(word.text)
        lists = word_lists()
        if (folded in lists.titles or folded in lists.title_modifiers or folded in lists.name_titles
                or folded in lists.function_words or word.possessive):
            return False
        if spelling_key(folded) in given_groups():
            return True  # a listed given name, whatever the model made of it ("Oleg" tagged ORG)
        _, token = self.token_at(word.start) if self.sentences else (None, None)
        if token is None:
            # no analysis: a nationality ("Belarusian", "Polish", "Chinese") is no given name
            return not (len(folded) >= 6 and folded.endswith(("ian", "ish", "ese")))
        if token.ent_type == "PERSON":
            return True
        return token.pos == "PROPN" and not token.ent_type  # not a date, a place, a nationality...

    def false_friend(self, word: TextWord, slavic: bool) -> bool:
        """Whether a surname is also a common word or a place: in the lists, written in lower
        case elsewhere in this article, or a place in this article (the model's reading of a
        transliterated name as a place is too often wrong to count for East Slavic names).
        """
        folded, lists = word.folded, word_lists()
        return (folded in lists.common_words or folded in lists.place_words or folded in self.lower_words()
                or (not slavic and folded in self.places()))

    def stands_alone_as_name(self, word: TextWord, token: Token, *, false_friend: bool) -> bool:
        """Whether a surname alone reads as a name whatever the model's tag (headlines:
        "Tillerson set to meet Trudeau", Tillerson tagged ORG): not followed by another name
        ("Carson Pirie"); when it is also a word ("Trump"; a place never counts alone), never
        written in lower case in the article, not a modifier ("Trump card"), and capitalised
        inside an ordinary sentence or the subject of a verb of saying.
        """
        following = self.following(word)
        if following is not None and following.text[:1].isupper() and self.name_like(following):
            return False
        if not false_friend:
            return True
        if word.folded not in word_lists().common_words or word.folded in self.lower_words() \
                or word.folded in self.places():
            return False
        if token.dep in ("compound", "amod", "nmod"):
            return False
        return self.capital_says_name(word) or self.speaker(word)

    def capital_says_name(self, word: TextWord) -> bool:
        """Whether ``word``'s capital letter is evidence of a name: it stands inside its sentence
        (not first, not after a line break) and the sentence is not in title case (a headline
        such as "Exam Shows Biden Has Hiatal Hernia" capitalises every word).
        """
        lo = 0
        for sentence in self.sentences:
            if sentence.start <= word.start < sentence.start + len(sentence.text):
                lo = sentence.start
                break
        else:
            lo = max(self.text.rfind(mark, 0, word.start) for mark in (". ", "! ", "? ", "\n")) + 1
        lo = max(lo, self.text.rfind("\n", 0, word.start) + 1)
        hi = min((i for i in (self.text.find(mark, word.end) for mark in (". ", "! ", "? ", "\n")) if i >= 0),
                 default=len(self.text))
        others = [other for other in self.words[max(0, word.index - 40):word.index + 40]
                  if lo <= other.start < hi and other is not word and len(other.text) >= 4]
        first = next((other for other in self.words[max(0, word.index - 40):word.index + 1]
                      if other.start >= lo), word)
        capitals = sum(other.text[:1].isupper() for other in others)
        return first is not word and capitals * 2 <= len(others)

    def speaker(self, word: TextWord) -> bool:
        """Whether ``word`` is the subject of a verb of saying ("Trump said on Friday"): a person."""
        for sentence in self.sentences:
            if sentence.start <= word.start < sentence.start + len(sentence.text):
                for token in sentence.tokens:
                    if token.start == word.start:
                        return token.dep in ("nsubj", "nsubjpass") and \
                            sentence.tokens[token.head].lemma in SPEECH_VERBS
        return False

    def inside_longer_thing(self, start: int, end: int, surname: TextWord) -> bool:
        """Whether ``text[start:end]`` lies inside a longer name of a place, organisation,
        building, prize...: an entity of another type reaching past it, a token tagged so
        beside it ("Trump Tower", FAC, FAC), or a capitalised head word after it.
        """
        for m_start, m_end, entity in self.overlapping(start, end):
            if entity.type != "PERSON" and (m_start < start or m_end > end):
                return True
        following, lists = self.following(surname), word_lists()
        if following is not None and following.text[:1].isupper():
            if fold(following.text) in lists.thing_heads:
                return True
            second = self.following(following)
            if (second is not None and second.text[:1].isupper() and fold(second.text) in lists.facility_heads
                    and fold(following.text) not in lists.function_words and self._naming_word(following)):
                return True
        if not self.sentences:
            return False
        position, token = self.token_at(surname.start)
        if token is None or token.ent_type not in NON_PERSON_TYPES:
            return False
        tokens = self.tokens()
        if position + 1 < len(tokens):
            after = tokens[position + 1]
            if after.ent_type == token.ent_type and after.text[:1].isalnum() and after.start <= end + 1:
                return True
        first, _ = self.token_at(start)
        if first is not None and first > 0:
            before = tokens[first - 1]
            if before.ent_type == token.ent_type and before.text[:1].isalnum() \
                    and before.start + len(before.text) >= start - 1:
                return True
        return False

    def given_before(self, key: str) -> list[TextWord]:
        """The capitalised words written right before a surname of spelling ``key`` anywhere in
        the article (given names, initials, titles: to tell whose surname it is).
        """
        if self._given_before is None:
            found: dict[str, list[TextWord]] = defaultdict(list)
            for left, right in zip(self.words, self.words[1:], strict=False):
                if left.text[:1].isupper() and right.text[:1].isupper() and len(right.text) > 1 \
                        and adjacent(self.text, left, right):
                    if not left.folded:
                        left.folded = fold(left.text)
                        left.key = spelling_key(left.folded)
                    found[right.key or spelling_key(fold(right.text))].append(left)
            self._given_before = dict(found)
        return self._given_before.get(key, [])

    def _naming_word(self, word: TextWord) -> bool:
        """Whether a word can stand inside a longer name (not a verb: "Trump Visits Airport")."""
        if not self.sentences:
            return True
        _, token = self.token_at(word.start)
        return token is None or token.pos not in ("VERB", "AUX")

    def following(self, word: TextWord) -> TextWord | None:
        """The next word when it stands in the same name ("Trump" "Tower"), else None."""
        index = word.index + 1
        if index < len(self.words) and adjacent(self.text, word, self.words[index]):
            return self.words[index]
        return None

    def evidence(self, start: int, end: int) -> str:
        """The sentence (the line of it) around ``text[start:end]``, at most MAX_EVIDENCE characters."""
        lo, hi = 0, len(self.text)
        for sentence in self.sentences:
            if sentence.start <= start < sentence.start + len(sentence.text):
                lo, hi = sentence.start, sentence.start + len(sentence.text)
                break
        else:
            marks = [self.text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n")]
            lo = max(marks) + 1 if max(marks) >= 0 else 0
            ends = [i for i in (self.text.find(mark, end) for mark in (". ", "! ", "? ", "\n")) if i >= 0]
            hi = min(ends) + 1 if ends else len(self.text)
        newline = self.text.rfind("\n", lo, start)
        lo = newline + 1 if newline >= 0 else lo
        newline = self.text.find("\n", end, hi)
        hi = newline if newline >= 0 else hi
        if hi - lo > MAX_EVIDENCE:
            lo = max(lo, start - MAX_EVIDENCE // 2)
            hi = min(hi, max(end, lo + MAX_EVIDENCE))
        return self.text[lo:hi].strip()


def text_words(text: str) -> list[TextWord]:
    """The words of ``text``, a possessive "'s" left out of the word, initials marked."""
    words = []
    for match in _TEXT_WORD.finditer(text):
        raw, start, end = match.group(), match.start(), match.end()
        possessive = _POSSESSIVE.search(raw) is not None and len(raw) > 3
        if possessive:
            raw, end = raw[:-2], end - 2
        initial = len(raw) == 1 and raw.isupper() and text[end:end + 1] == "."
        words.append(TextWord(start, end, raw, possessive, initial, index=len(words)))
    return words


def adjacent(text: str, left: TextWord, right: TextWord) -> bool:
    """Whether two words stand together in one name: a space, or the dot of an initial."""
    if left.possessive:
        return False
    gap = text[left.end:right.start]
    if left.initial:
        return _INITIAL_GAP.fullmatch(gap) is not None
    return _NAME_GAP.fullmatch(gap) is not None or (gap == "-" and right.text[:1].isupper())


def name_sequence(words: Sequence[str]) -> list[TextWord]:
    """Words of a canonical entity name as if read from a text (for comparing names)."""
    result = []
    for word in words:
        folded = fold(word)
        result.append(TextWord(0, 0, word, False, len(word) == 1 and word.isupper(), folded=folded,
                               key=spelling_key(folded)))
    return result

