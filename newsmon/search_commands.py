"""``newsmon search``, ``newsmon es setup|migrate`` and ``newsmon kibana import``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from newsmon.arguments import argument_type
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.es_indices import TEMPLATES, aliases, migrate, setup_all
from newsmon.connectors.search import (
    HISTOGRAMS,
    SearchRequest,
    build_search,
    histograms,
    snippet,
    spelling_notes,
)
from newsmon.console import printable, printable_json, progress
from newsmon.moments import parse_moment
from newsmon.settings import Settings, bounded

MAX_HITS = 10_000  # Elasticsearch's default index.max_result_window


def add_search_commands(commands, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    search = leaf(commands, "search", search_stories,
                  "search the indexed stories: free text and filters, newest first (or by relevance)")
    search.add_argument("text", nargs="*", metavar="QUERY",
                        help="free text (title, summary, content, topic evidence), every word required: "
                        "as typed or in another form (prisoner finds prisoners, free finds freed, Łosik "
                        "finds Losik, Lukashenka finds Lukashenko); stories with the words as typed rank "
                        "first with --sort relevance")
    search.add_argument("--topic", action="append", default=[],
                        help="tagged with this topic (repeatable: any)")
    search.add_argument("--person", action="append", default=[], help="naming this person, in any spelling: "
                        "\"Ihar Losik\", Lukashenka, \"Svetlana Tikhanovskaya\" (the canonical names it "
                        "matched are shown; repeatable: all)")
    search.add_argument("--org", action="append", default=[],
                        help="naming this organisation, in any spelling (repeatable: all)")
    search.add_argument("--place", action="append", default=[],
                        help="naming this place, in any spelling (repeatable: all)")
    search.add_argument("--source", action="append", default=[], help="from this source (repeatable: any)")
    search.add_argument("--since", help="published since: 30m, 12h, 7d, 2w or an ISO date")
    search.add_argument("--until", help="published until: an ISO date (or 30m, 12h, 7d ago)")
    search.add_argument("--sort", choices=("time", "relevance"), default="time",
                        help="newest first (default) or best match first")
    search.add_argument("--exact", action="store_true",
                        help="words and names only as typed: no other word forms, diacritics or "
                        "spellings")
    search.add_argument("--limit", type=argument_type(bounded(int, 1, MAX_HITS)), default=20, metavar="N",
                        help=f"stories to show (default 20, at most {MAX_HITS})")
    search.add_argument("--count", action="store_true", help="print only how many stories match")
    search.add_argument("--histogram", choices=HISTOGRAMS, help="also count the matches per topic or per day")
    search.add_argument("--json", action="store_true", help="the hits as JSON")
    search.add_argument("--explain", action="store_true",
                        help="print the query for Kibana Dev Tools instead of running it")

    es = leaf(commands, "es", es_indices, "set up newsmon's Elasticsearch indices, or migrate one to a "
              "changed mapping (a new index behind the alias; writers never stop)")
    es.add_argument("action", choices=("setup", "migrate"))
    es.add_argument("--index", choices=tuple(TEMPLATES), help="migrate: which one (default: all)")
    es.add_argument("--delete-old", action="store_true", help="migrate: delete the old index afterwards")

    kibana = leaf(commands, "kibana", kibana_import, "load newsmon's data views, saved searches and "
                  "dashboard (deploy/kibana/newsmon.ndjson) into Kibana")
    kibana.add_argument("action", choices=("import",))
    kibana.add_argument("--url", default="http://127.0.0.1:5601", help="Kibana URL (default http://127.0.0.1:5601)")
    kibana.add_argument("--space", help="Kibana space (default: the default space)")
    kibana.add_argument("--username", help="Kibana user (basic auth); password from NEWSMON_KIBANA_PASSWORD")
    kibana.add_argument("--insecure", action="store_true", help="do not verify Kibana's TLS certificate")


def search_stories(args: argparse.Namespace, settings: Settings) -> int:
    request = SearchRequest(
        text=" ".join(args.text) or None, topics=tuple(args.topic), persons=tuple(args.person),
        organisations=tuple(args.org), places=tuple(args.place), sources=tuple(args.source),
        since=parse_moment(args.since) if args.since else None,
        until=parse_moment(args.until, "--until") if args.until else None,
        sort=args.sort, size=0 if args.count else args.limit, histogram=args.histogram, exact=args.exact)
    body = build_search(request)
    if args.explain:
        print(f"GET {settings.es_index_articles}/_search\n{json.dumps(body, indent=2, ensure_ascii=False)}")
        return 0
    client = make_client(settings)
    if not client.indices.exists_alias(name=settings.es_index_articles):
        print("nothing indexed yet (run the pipeline: newsmon pipeline run)")
        return 0
    result = client.search(index=settings.es_index_articles, track_total_hits=True, **body)
    total = result["hits"]["total"]["value"]
    hits = result["hits"]["hits"]
    for note in spelling_notes(request, result):  # "Lukashenka → Alexander Lukashenko"
        print(printable(note), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        found = [hit["_source"] | {"snippet": snippet(hit)} for hit in hits]
        print(printable_json({"total": total, "hits": found, "aggregations": histograms(result)}))
        return 0
    for hit in hits:
        story = hit["_source"]
        topics = ", ".join(t["name"] for t in story.get("topics", []))
        people = ", ".join(story.get("persons", [])[:4])
        print(f"{story['published_at'][:16].replace('T', ' ')}  "
              f"{printable(story['source_name'])}: {printable(story['title'])}")
        details = "  ".join(part for part in (f"[{topics}]" if topics else "", people) if part)
        if details:
            print(f"    {printable(details)}")
        if snippet(hit):
            print(f"    {printable(snippet(hit))}")
        print(f"    {printable(story.get('url') or story['article_id'])}")
    for name, aggregation in histograms(result).items():
        print(f"{name.replace('_', ' ')}:")
        for bucket in aggregation["buckets"]:
            key = bucket["key_as_string"][:10] if "key_as_string" in bucket else bucket["key"]  # day / topic
            print(f"  {printable(key):<20} {bucket['doc_count']}")
    print(f"{total} stories match" + ("" if args.count else f", {len(hits)} shown"))
    return 0


def es_indices(args: argparse.Namespace, settings: Settings) -> int:
    client = make_client(settings)
    if args.action == "setup":
        for alias, index in setup_all(client, settings).items():
            print(f"{alias} → {index}")
        return 0
    chosen = [args.index] if args.index else list(TEMPLATES)
    for template in chosen:
        alias = aliases(settings)[template]
        if not client.indices.exists_alias(name=alias):
            print(f"{alias}: not set up yet; nothing to migrate")
            continue
        moved = migrate(client, template, alias, progress=progress, delete_old=args.delete_old)
        print(f"{alias}: {moved.old_index} → {moved.new_index}, {moved.copied} documents copied")
    return 0


def kibana_import(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from newsmon.connectors.kibana import import_saved_objects, load_saved_objects
    from newsmon.settings import Secret

    password = os.environ.get("NEWSMON_KIBANA_PASSWORD")
    objects = load_saved_objects()
    answer = import_saved_objects(args.url, objects, username=args.username,
                                  password=Secret(password) if password else None, space=args.space,
                                  verify_certs=not args.insecure)
    print(f"Kibana at {args.url}: {answer.get('successCount', len(objects))} saved objects imported "
          f"({datetime.now(UTC):%H:%M} UTC); open Dashboards → \"newsmon\"")
    return 0
