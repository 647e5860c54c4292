"""newsmon's Elasticsearch indices behind their aliases: set-up, and migration to a new mapping.

Writers and readers only ever use the aliases. A mapping change is a new index
``<alias>-v<n+1>`` made from the changed template; the alias's writes move to it at once
(no downtime for writers), the documents are copied over (client-side, so it also works
where the reindex module is not installed), and then the old index leaves the alias.
Copied documents that lack fields a later version of newsmon derives get them on the way
(:data:`COMPLETIONS`: an article written before search had lemmas, folded letters and
spellings of names gets those), so old stories are found like new ones.
"""

from __future__ import annotations

import copy
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, helpers

from newsmon.analysis.search_terms import NAME_KEYS_FIELD, document_search_fields
from newsmon.connectors.elasticsearch import setup_index, write_documents
from newsmon.errors import NewsmonError
from newsmon.schemas import load_index_template
from newsmon.settings import Settings

TEMPLATES = {"news-articles": "es_index_articles", "news-alerts": "es_index_alerts",
             "news-watchlist": "es_index_watchlist", "news-stories": "es_index_stories",
             "news-spikes": "es_index_spikes"}
_VERSION = re.compile(r"-v(\d+)$")
SETTLE_SECONDS = 1.0


def _complete_article(document: dict[str, Any]) -> dict[str, Any]:
    """An article document with the search fields (news-articles v2) it may lack."""
    return document if NAME_KEYS_FIELD in document else document | document_search_fields(document)


# Template → what a copied document goes through (deterministic: copying twice gives the same).
COMPLETIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"news-articles": _complete_article}


def aliases(settings: Settings) -> dict[str, str]:
    """Template name → the alias these settings use for it."""
    return {template: getattr(settings, field) for template, field in TEMPLATES.items()}


def setup_all(client: Elasticsearch, settings: Settings) -> dict[str, str]:
    """Install every template and index (idempotent); alias → index behind it."""
    return {alias: setup_index(client, template, alias) for template, alias in aliases(settings).items()}


@dataclass(frozen=True)
class Migration:
    alias: str
    old_index: str
    new_index: str
    copied: int
    written_meanwhile: int


def migrate(client: Elasticsearch, template: str, alias: str, *, template_body: dict[str, Any] | None = None,
            progress: Callable[[str], None] = lambda _message: None, delete_old: bool = False) -> Migration:
    """Move ``alias`` to a new index made from the (changed) template; every document is kept.

    ``template_body`` replaces the packaged template (to try a mapping before shipping it).
    """
    current = list(client.indices.get_alias(name=alias))
    if len(current) != 1:
        msg = (f"alias {alias} points to {len(current)} indices ({', '.join(current)}); "
               "finish that migration first")
        raise NewsmonError(msg)
    old = current[0]
    version = int(match.group(1)) if (match := _VERSION.search(old)) else 1
    new = f"{alias}-v{version + 1}"
    body = copy.deepcopy(template_body or load_index_template(template))
    body["index_patterns"] = [f"{alias}-v*"]
    body["meta"] = body.pop("_meta", None)
    client.indices.put_index_template(name=alias, **body)
    client.indices.create(index=new)
    client.indices.update_aliases(actions=[  # writers move to the new index in one step
        {"add": {"index": new, "alias": alias, "is_write_index": True}},
        {"add": {"index": old, "alias": alias, "is_write_index": False}}])
    time.sleep(SETTLE_SECONDS)  # let writes already routed to the old index finish
    client.indices.refresh(index=old)  # so that the copy sees every one of them
    progress(f"{alias}: writes go to {new}; copying the documents of {old}")
    total = client.count(index=old)["count"]
    copied = conflicts = 0
    hits = helpers.scan(client, index=old, query={"query": {"match_all": {}}}, size=1000)
    complete = COMPLETIONS.get(template, lambda document: document)
    while batch := [(hit["_id"], complete(hit["_source"])) for hit in itertools.islice(hits, 5000)]:
        # Created, not indexed: a document written through the alias since the switch is newer.
        refused = write_documents(client, new, batch, op_type="create")
        failed = [refusal for refusal in refused if refusal.status != 409]
        if failed:
            msg = f"copying {old} → {new} failed: {failed[0].reason}"
            raise NewsmonError(msg)
        conflicts += len(refused)
        copied += len(batch) - len(refused)
        progress(f"{alias}: {copied + conflicts:,} of {total:,} copied")
    client.indices.refresh(index=new)
    client.indices.update_aliases(actions=[{"remove": {"index": old, "alias": alias}}])
    if delete_old:
        client.indices.delete(index=old)
    progress(f"{alias}: now {new} only ({copied:,} copied, {conflicts:,} already rewritten by writers)"
             + (f"; {old} deleted" if delete_old else f"; {old} kept, delete it when satisfied"))
    return Migration(alias, old, new, copied, conflicts)
