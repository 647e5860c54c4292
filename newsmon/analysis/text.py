"""spaCy's analysis of an article as plain, picklable data.

spaCy runs once per article (in ``ExtractEntities``); the later steps (``TagTopics``, the
watch list) read its sentences, lemmas, parts of speech and dependencies from these
frozen dataclasses instead of a ``Doc``, so they need no model, are cheap to pass between
pipeline steps on any runner, and are easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsmon.analysis.messages import Article


@dataclass(frozen=True)
class Token:
    text: str
    lemma: str  # lower-cased
    pos: str  # universal part of speech: NOUN, VERB, PROPN, ...
    dep: str  # dependency label: nsubj, dobj, neg, ...
    head: int  # index of the head token in the same sentence (itself for the root)
    ent_type: str  # PERSON, ORG, GPE, ... or ""
    start: int  # character offset in the article text


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # character offset in the article text
    tokens: tuple[Token, ...]

    def lemmas(self) -> tuple[str, ...]:
        return tuple(token.lemma for token in self.tokens)


def sentences_of(doc: Any) -> tuple[Sentence, ...]:
    """Convert a parsed spaCy ``Doc``."""
    result = []
    for span in doc.sents:
        first = span.start
        tokens = tuple(
            Token(text=t.text, lemma=t.lemma_.lower(), pos=t.pos_, dep=t.dep_,
                  head=t.head.i - first if span.start <= t.head.i < span.end else t.i - first,
                  ent_type=t.ent_type_, start=t.idx)
            for t in span)
        result.append(Sentence(text=span.text, start=span.start_char, tokens=tokens))
    return tuple(result)


def article_text(article: Article | Mapping[str, Any]) -> str:
    """The text spaCy reads: the title, a blank line, then the fullest body the article has.

    ``article`` is an :class:`Article` or its message (an indexed document will do). Entity
    and evidence offsets refer to this text.
    """
    fields = article if isinstance(article, Mapping) else vars(article)
    body = fields.get("content") or fields.get("summary") or ""
    return f"{fields['title']}\n\n{body}" if body else fields["title"]
