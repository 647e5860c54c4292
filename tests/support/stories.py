"""Synthetic wire stories for benchmarks: about 700 words each, in the style of the press,
naming people, places and organisations, some on newsmon's topics. Load and speed only:
accuracy is never measured on text written for the purpose.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from newsmon.analysis.messages import Article
from newsmon.connectors.article import article_id

PEOPLE = ["Anna Petrova", "Tomas Novak", "Lina Haddad", "Oleksandr Melnyk", "Grace Okafor", "Jonas Berg",
          "Maria Santos", "Dmitri Volkov", "Aisha Rahman", "Pierre Laurent", "Yuki Tanaka", "Ahmed Saleh"]
PLACES = ["Warsaw", "Vilnius", "Minsk", "Kyiv", "Riga", "Geneva", "Brussels", "Istanbul", "Tbilisi", "Baku"]
ORGS = ["the European Union", "the United Nations", "the Red Cross", "NATO", "the OSCE", "the World Bank"]
SENTENCES = [
    "{p1} said on {day} that talks with officials in {c1} had made progress toward the release of detainees.",
    "The government in {c1} pardoned {n} prisoners, including two journalists, according to {o1}.",
    "{o1} welcomed the decision and urged authorities to free all remaining political prisoners.",
    "Officials in {c2} said sanctions on the national airline would be eased to let it buy spare parts.",
    "{p2}, who led the delegation, told reporters the embassy in {c1} could reopen within months.",
    "Critics said the move fell far short of what had been promised and called for further pressure.",
    "Relatives gathered outside the prison in {c2} early in the morning, hoping to see those released.",
    "The foreign ministry in {c1} did not respond to a request for comment on {day}.",
    "Trade between the two countries has fallen sharply since restrictions were imposed in {year}.",
    "{p1} met {p2} in {c2} for two hours, the first such meeting in years, a spokesperson said.",
    "Analysts in {c2} said the agreement showed a shift in policy after years of isolation.",
    "Markets reacted calmly, with the currency little changed against the dollar by midday.",
    "{o2} said it would monitor the situation and report to member states next month.",
    "Human rights groups estimate that more than {n}00 people remain behind bars for political reasons.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def news_text(rng: random.Random) -> tuple[str, str]:
    """A title and a body of about 700 words, in the style of a wire story."""
    p1, p2 = rng.sample(PEOPLE, 2)
    c1, c2 = rng.sample(PLACES, 2)
    o1, o2 = rng.sample(ORGS, 2)
    values = {"p1": p1, "p2": p2, "c1": c1, "c2": c2, "o1": o1, "o2": o2, "day": rng.choice(DAYS),
              "n": rng.randint(3, 60), "year": rng.randint(2014, 2023)}
    paragraphs = [" ".join(rng.choice(SENTENCES).format(**values) for _ in range(4)) for _ in range(12)]
    title = f"{c1} frees {values['n']} prisoners after talks with {o1.removeprefix('the ')}"
    return title, "\n".join(paragraphs)


def messages(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    result = []
    for _ in range(count):
        title, body = news_text(rng)
        url = f"https://bench.example.com/{uuid.uuid4().hex}"
        result.append(Article(article_id=article_id(url, feed_url="", guid=None), url=url, guid=None,
                              title=title, summary=None, content=body, source_name="Bench Wire",
                              feed_url="https://bench.example.com/rss", published_at=now,
                              published_at_estimated=False, fetched_at=now, language="en").to_message())
    return result
