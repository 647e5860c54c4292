"""Synthetic wire stories for the name-matching benchmark: a headline, a dateline and 600-800
words naming several people, in full the first time and by surname, possessive or initial
after that.
"""

from __future__ import annotations

import random
from string import Formatter

from newsmon.analysis.text import article_text
from tests.support.synthetic_names import Person, draw_name

NEWS_WEIGHT = 6  # how much more often the five people of the 10-entry list are in a story

ROLES = ("opposition leader", "foreign minister", "human rights lawyer", "former presidential candidate",
         "political analyst", "government spokesperson", "economy minister", "central bank governor",
         "defence minister", "senior diplomat", "journalist", "blogger", "trade union leader",
         "prosecutor general", "member of parliament", "mayor", "energy minister", "deputy prime minister",
         "rights activist", "special envoy", "university professor", "former political prisoner")
CITIES = ("Minsk", "Vilnius", "Warsaw", "Kyiv", "Riga", "Geneva", "Brussels", "Istanbul", "Tbilisi", "Berlin",
          "Washington", "Moscow", "Hrodna", "Brest", "Gomel", "Vitebsk", "Strasbourg", "Vienna", "Prague",
          "Helsinki", "Tallinn", "Budapest", "Bratislava", "Chisinau")
ORGS = ("the European Union", "the United Nations", "the Red Cross", "NATO", "the OSCE", "the World Bank",
        "Viasna", "Amnesty International", "the Belarusian Association of Journalists", "Human Rights Watch",
        "the International Monetary Fund", "the Council of Europe", "Reporters Without Borders")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
TOPICS = ("sanctions on potash exports", "the release of political prisoners", "transit through the border",
          "the reopening of the embassy", "flights over the country's airspace", "grain exports",
          "the exchange of prisoners", "energy supplies for the winter", "visas for students")
QUOTES = ("The door to dialogue remains open, but it cannot be open in one direction only",
          "We are not going to trade people like goods", "This is a first step, and it is not enough",
          "Nobody should be in prison for what they wrote", "Sanctions have worked, and they must stay",
          "We expect concrete steps, not promises", "Our priority is to bring every one of them home",
          "The talks were difficult but honest", "There is no deal until everyone is free")
# {a}, {b}: people (introduced in full the first time, by surname later); {a_s}: surname only
NAMED = (
    "{a} said on {day} that talks with officials in {city} had made progress toward {topic}.",
    "\"{quote},\" {a} told reporters in {city} after the meeting.",
    "{a_s}'s office did not respond to a request for comment on {day}.",
    "{a} was detained in {month} {year} and sentenced to {n} years in prison, according to {org}.",
    "The talks in {city} were attended by {a} and {b}, officials said.",
    "{a_s} has denied the charges, which {org} described as politically motivated.",
    "{a} met {b} in {city} for about two hours, the first such meeting in years.",
    "Speaking by telephone from {city}, {a} said the decision would be tested in the coming weeks.",
    "{a_s} added that {org} had been informed of the plan in advance.",
    "In a statement on {day}, {a} welcomed the move but said {n} people were still held.",
    "{b} later said {a_s} had been given no guarantees about {topic}.",
    "According to {a_s}'s lawyer, the appeal will be heard in {month}.",
    "{a}, who has spent {n} months in exile, said the announcement changed little for the families.",
    "\"{quote},\" said {a_s}, who has campaigned for years on the issue.",
    "{a} and {b} are expected to travel to {city} next week for talks on {topic}.",
    "A spokesperson for {a_s} said the meeting with {b} had been postponed until {month}.",
    "{a_s} was among {n} people named in the decree published on {day}.",
    "Asked about {topic}, {a_s} said the question would be decided in {city}.",
    "{b} dismissed the criticism from {a_s} as \"theatre for foreign audiences\".",
    "Supporters of {a_s} gathered outside the court building in {city} on {day} morning.",
)
FILLER = (
    "The government in {city} pardoned {n} prisoners, including two journalists, according to {org}.",
    "{org_cap} welcomed the decision and urged the authorities to free all remaining political prisoners.",
    "Officials in {city} said sanctions on the national airline would be eased to let it buy spare parts.",
    "Critics said the move fell far short of what had been promised and called for further pressure.",
    "Relatives gathered outside the prison early in the morning, hoping to see those released.",
    "The foreign ministry in {city} did not respond to a request for comment on {day}.",
    "Trade between the two countries has fallen sharply since restrictions were imposed in {year}.",
    "Analysts said the agreement showed a shift in policy after years of isolation.",
    "Markets reacted calmly, with the currency little changed against the dollar by midday.",
    "{org_cap} said it would monitor the situation and report to member states in {month}.",
    "Human rights groups estimate that more than {n}00 people remain behind bars for political reasons.",
    "The border crossing near {city} was closed for several hours on {day}, local media reported.",
    "Negotiations on {topic} have been under way since {month} {year}, diplomats said.",
    "The decree did not say when the remaining prisoners would be released.",
    "State television showed the released prisoners boarding a bus, without naming them.",
    "The European Union has imposed several rounds of sanctions since the disputed election of {year}.",
    "Officials in {city} declined to give details, citing the sensitivity of the talks.",
    "Several of those freed were in poor health, according to people who met them at the border.",
    "It was not immediately clear whether the move was linked to talks on {topic}.",
    "The Belarusian service of a Western broadcaster said it had confirmed {n} of the names.",
)
HEADLINES = (
    "{city} frees {n} prisoners after talks on {topic}",
    "{a_s} says door to dialogue open as {b_s} meets envoy",
    "Officials in {city} signal shift on {topic}",
    "{a_s} calls for pressure as {org_short} weighs next step",
)


def story(rng: random.Random, newsmakers: list[Person]) -> tuple[str, frozenset[str]]:
    """A headline, a blank line and a body of 600-800 words: several people, named in full
    (with a role) the first time and by surname, possessive or initial after that; and the
    names of the people it names.
    """
    cast: list[Person] = []
    wanted = rng.randint(2, 3)
    while len(cast) < wanted:
        # the people every list watches are in the news more often: hits at every size
        person = rng.choices(newsmakers, [NEWS_WEIGHT if i < 5 else 1 for i in range(len(newsmakers))])[0]
        if person not in cast:
            cast.append(person)
    for _ in range(rng.randint(2, 4)):
        name, short = draw_name(rng)
        cast.append(Person(name, short, rng.choice(ROLES)))
    introduced: set[str] = set()

    def mention(person: Person, *, short: bool) -> str:
        if person.name in introduced:
            if rng.random() < 0.08 and person.name.endswith(person.short):
                return f"{person.name[0]}. {person.short}"
            return person.short
        introduced.add(person.name)
        if short:
            return person.name
        if rng.random() < 0.5:
            return f"{person.role} {person.name}"
        article = "an" if person.role[0] in "aeiou" else "a"
        return f"{person.name}, {article} {person.role},"

    def sentence(template: str) -> str:
        a, b = rng.sample(cast, 2)
        org = rng.choice(ORGS)
        values = {"city": rng.choice(CITIES), "org": org, "org_cap": org[0].upper() + org[1:],
                  "org_short": org.removeprefix("the "), "topic": rng.choice(TOPICS),
                  "quote": rng.choice(QUOTES), "day": rng.choice(DAYS), "month": rng.choice(MONTHS),
                  "year": str(rng.randint(2014, 2024)), "n": str(rng.randint(2, 60))}
        # people in the order the sentence names them, so the first mention is the full one
        for _, field, _, _ in Formatter().parse(template):
            if field in ("a", "a_s", "b", "b_s") and field not in values:
                values[field] = mention(a if field[0] == "a" else b, short=field.endswith("_s"))
        text = template.format(**values).replace(",,", ",")
        return text[0].upper() + text[1:]

    named, filler = Deck(rng, NAMED), Deck(rng, FILLER)
    headline = sentence(rng.choice(HEADLINES))
    introduced.clear()  # the headline does not introduce anyone
    lede = f"{rng.choice(CITIES).upper()}, {rng.choice(MONTHS)} {rng.randint(1, 28)} (Newswire) - "
    paragraphs = [lede + sentence(rng.choice(NAMED[:2]))]
    words, target = len(paragraphs[0].split()), rng.randint(600, 800)
    while words < target:
        paragraph = " ".join(sentence((named if rng.random() < 0.55 else filler).draw())
                             for _ in range(rng.randint(1, 3)))
        paragraphs.append(paragraph)
        words += len(paragraph.split())
    text = article_text({"title": headline, "content": "\n\n".join(paragraphs)})
    return text, frozenset(introduced)


class Deck:
    """Templates drawn without repeats until all have been used, then reshuffled."""

    def __init__(self, rng: random.Random, templates: tuple[str, ...]) -> None:
        self._rng, self._templates, self._left = rng, templates, []

    def draw(self) -> str:
        if not self._left:
            self._left = list(self._templates)
            self._rng.shuffle(self._left)
        return self._left.pop()

