"""The fixed IDF of story grouping: document frequencies of content lemmas in real news.

Built by ``bench/story_idf.py`` (which documents its sources) and shipped as
``seeds/story_idf.json.gz``: the number of documents and, per lower-cased lemma found in
at least two of them, how many contain it. The same for every worker and every restart,
unlike an IDF learned online. A term the table does not know (rarer than ``min_df``, or
new) gets the highest IDF: rare words are what tell one event from another.
"""

from __future__ import annotations

import gzip
import json
import math
from functools import cache
from importlib import resources
from pathlib import Path

IDF_FILE = "story_idf.json.gz"
FORMAT = 1


class FixedIdf:
    """``idf(term) = ln((N + 1) / (df + 1)) + 1``, the smoothed IDF the online counts use too."""

    def __init__(self, documents: int, frequencies: dict[str, int]) -> None:
        self.documents = documents
        self.frequencies = frequencies
        self.maximum = math.log(documents + 1) + 1.0

    def __call__(self, term: str) -> float:
        df = self.frequencies.get(term) or self.frequencies.get(term.lower())
        return math.log((self.documents + 1) / (df + 1)) + 1.0 if df else self.maximum

    @classmethod
    def from_file(cls, path: Path) -> FixedIdf:
        data = json.loads(gzip.decompress(path.read_bytes()))
        if data.get("format") != FORMAT:
            msg = f"{path}: IDF table format {data.get('format')!r}, expected {FORMAT}"
            raise ValueError(msg)
        return cls(int(data["documents"]), {term: int(n) for term, n in data["df"].items()})


@cache
def packaged_idf() -> FixedIdf:
    """The table shipped with the package, loaded once per process."""
    with resources.as_file(resources.files("newsmon.seeds") / IDF_FILE) as path:
        return FixedIdf.from_file(path)
