"""``newsmon web`` in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium) against a server on the real Elasticsearch and
Kafka, with data the pipeline's own steps wrote. A screenshot of each page is saved in
the directory the run prints (``NEWSMON_SCREENSHOTS``, default a fresh one under /tmp).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from newsmon.web.app import create_app
from newsmon.web.server import WebServer, bind
from tests.conftest import REQUIRE_SERVICES, SUMMARY
from tests.support.web_site import HOSTILE_TITLE, SEED_TITLE, pipeline_data, through_the_pipeline

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT = 30.0  # seconds for a page or an element; the CPU is shared


@pytest.fixture(scope="module")
def screenshots(request) -> Path:
    where = os.environ.get("NEWSMON_SCREENSHOTS")
    folder = Path(where) if where else Path(tempfile.gettempdir()) / (
        f"newsmon-web-screenshots-{datetime.now(UTC):%Y%m%dT%H%M%S}")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash.setdefault(SUMMARY, []).append(f"newsmon web screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def site(kafka, es):
    with pipeline_data(kafka, es) as settings:
        server = WebServer(create_app(settings), bind("127.0.0.1", 0)).start()
        try:
            yield settings, server.url.rstrip("/")
        finally:
            server.stop()


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        missing = "Chromium is missing: apt-get install chromium chromium-driver (./run tests does)"
        pytest.fail(missing) if REQUIRE_SERVICES else pytest.skip(missing)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400",
                 "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def wait(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT, poll_frequency=0.2)


def by_css(selector: str):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, selector


def hit_titles(driver) -> list[str]:
    return [element.text for element in driver.find_elements(*by_css("article.hit h2"))]


def seed_evidence(es, settings, topic: str) -> str:
    [hit] = es.search(index=settings.es_index_articles, size=1, query={"bool": {"filter": [
        {"term": {"source_name": "Example Wire"}}]}})["hits"]["hits"]
    [found] = [t for t in hit["_source"]["topics"] if t["name"] == topic]
    return found["evidence"][0]


def test_search_by_person_and_by_topic_finds_the_seed_story_with_its_evidence(site, browser, es, screenshots):
    settings, url = site
    browser.get(f"{url}/search?person={quote('Ihar Losik')}")
    assert SEED_TITLE in hit_titles(browser)
    # The topic facet, with its count, narrows the search; the URL keeps the whole query.
    facet = browser.find_element(*by_css('section[data-facet="topic"] a[href*="prisoner_release"]'))
    facet.click()
    wait(browser).until(lambda d: "topic=prisoner_release" in d.current_url)
    assert "person=Ihar+Losik" in browser.current_url
    assert SEED_TITLE in hit_titles(browser)
    page = browser.find_element(*by_css("section.hits")).text
    evidence = seed_evidence(es, settings, "prisoner_release")
    assert f"“{' '.join(evidence.split())}”" in " ".join(page.split())
    assert "watched: Ihar Losik (default)" in page  # the pipeline's alert on this story
    browser.save_screenshot(str(screenshots / "search-person-topic.png"))

    browser.get(f"{url}/search?topic=prisoner_release")
    assert SEED_TITLE in hit_titles(browser)
    # Free text through the form: highlighted, sorted by relevance on request.
    box = browser.find_element(*by_css('input[name="q"]'))
    box.clear()
    box.send_keys("Belavia sanctions")
    box.submit()
    wait(browser).until(lambda d: "q=Belavia" in d.current_url)
    assert SEED_TITLE in hit_titles(browser)
    marks = [m.text.lower() for m in browser.find_elements(*by_css("p.fragment mark"))]
    assert {"belavia", "sanctions"} & set(marks)
    browser.save_screenshot(str(screenshots / "search-free-text.png"))


def test_the_story_view_lists_its_articles_and_sources(site, browser, screenshots):
    _, url = site
    browser.get(f"{url}/search?q={quote('Belarus frees 52 prisoners')}")
    browser.find_element(*by_css("article.hit p.meta a")).click()
    wait(browser).until(lambda d: "/story/" in d.current_url)
    assert browser.find_element(*by_css("h1.headline")).text == SEED_TITLE
    timeline = browser.find_element(*by_css("ol.timeline")).text
    assert "Example Wire" in timeline and "Daily Courier" in timeline
    assert "2 articles from 2 sources" in browser.find_element(*by_css("p.meta")).text
    browser.save_screenshot(str(screenshots / "story.png"))


def test_adding_a_watch_entry_shows_its_retro_search_hits_and_it_can_be_removed(site, browser, screenshots):
    _, url = site
    browser.get(f"{url}/watch")
    browser.find_element(*by_css('form.add input[name="name"]')).send_keys("Mikola Statkevich")
    browser.find_element(*by_css('form.add input[name="list"]')).send_keys("analysts")
    browser.find_element(*by_css("form.add button")).click()
    added = wait(browser).until(lambda d: d.find_elements(*by_css("#added")))[0]
    assert "Watching Mikola Statkevich on list analysts" in added.text
    assert int(browser.find_element(*by_css("#retro-count")).text) >= 2  # the seed in both sources
    assert SEED_TITLE in added.find_element(*by_css("ul.retro")).text
    assert "Statkevich" in added.find_element(*by_css("blockquote.evidence")).text
    browser.save_screenshot(str(screenshots / "watch-added.png"))

    row = '//tr[td[1]="analysts"][td[2]="Mikola Statkevich"]'
    browser.find_element("xpath", f"{row}//button").click()
    wait(browser).until(lambda d: d.current_url.endswith("/watch") and not d.find_elements("xpath", row))
    assert "Ihar Losik" in browser.find_element(*by_css("table.entries")).text


def test_a_new_alert_appears_without_a_reload_and_a_hostile_title_is_text(site, browser, screenshots):
    settings, url = site
    browser.get(f"{url}/alerts")
    before = len(browser.find_elements(*by_css("li.alert")))
    assert before == 6  # the seed story's alerts
    wait(browser).until(lambda d: d.find_element(*by_css("body")).get_attribute("data-live") == "ready")
    browser.execute_script("window.stillTheSamePage = 42")

    from tests.support.web_site import HOSTILE_MESSAGE

    through_the_pipeline(settings, HOSTILE_MESSAGE)
    fresh = wait(browser).until(lambda d: d.find_elements(*by_css("li.alert.fresh")))
    assert browser.execute_script("return window.stillTheSamePage") == 42
    assert "Ihar Losik" in fresh[0].find_element(*by_css(".person")).text
    assert fresh[0].find_element(*by_css("a")).text == HOSTILE_TITLE  # the markup shows as text
    assert browser.execute_script("return window.pwned") is None
    assert not browser.find_elements(*by_css("#alerts script, #alerts img"))
    assert int(browser.find_element(*by_css("#total")).text) == before + 1
    browser.save_screenshot(str(screenshots / "alerts-live.png"))

    def searched(driver) -> list[str]:  # the article is indexed after its alert is sent: ask again
        driver.get(f"{url}/search?q=released&source={quote('Hostile Wire')}")
        return hit_titles(driver)

    assert wait(browser).until(searched) == [HOSTILE_TITLE]
    assert browser.execute_script("return window.pwned") is None
    assert not browser.find_elements(*by_css("section.hits script, section.hits img"))
    browser.save_screenshot(str(screenshots / "search-hostile.png"))


def test_the_health_page_shows_feeds_lag_and_dead_letters(site, browser, screenshots, feed_server, tmp_path):
    import time

    from apache_beam import Create
    from apache_beam.testing.test_pipeline import TestPipeline

    from newsmon.analysis.messages import KafkaRecord
    from newsmon.connectors.feed_list import FeedSpec
    from newsmon.connectors.feed_poller import FeedPoller
    from newsmon.connectors.feed_store import FeedStore
    from newsmon.pipelines.dead_letters import WriteDeadLetters
    from newsmon.pipelines.parse_articles import ParseArticles
    from tests.test_feed_kafka import rss

    settings, _ = site
    settings = dataclasses.replace(settings, home=tmp_path, feed_parse_processes=0, fetch_timeout=5.0,
                                   fetch_allowed_networks=("127.0.0.1/32",))
    # The poller's own state: one feed read (two articles sent to Kafka), one gone.
    good = feed_server.serve("/good.xml", rss("good", "https://good.example.com/1", "https://good.example.com/2"))
    gone = feed_server.serve("/gone.xml", status=404)
    store = FeedStore.at_home(tmp_path)
    store.add([FeedSpec(url=good, name="Good Wire"), FeedSpec(url=gone, name="Gone Feed")])
    poller = FeedPoller(settings, store)
    try:
        assert poller.run(once=True).articles_sent == 2
    finally:
        poller.close()
        store.close()
    # A dead letter as the pipeline writes one: a message that is not an article.
    with TestPipeline() as pipeline:
        wrong = KafkaRecord(settings.topic_articles, 0, 7, b"k", b"not an article", int(time.time() * 1000))
        _ = (pipeline | Create([wrong]) | ParseArticles()).deadletter | WriteDeadLetters(settings)

    server = WebServer(create_app(settings), bind("127.0.0.1", 0)).start()
    try:
        browser.get(f"{server.url}health")
        row = '//section[@id="feeds"]//tr[contains(td[1], "{}")]'
        # without the feed's address, whose random port may itself hold "404"
        good_row = browser.find_element("xpath", row.format("Good Wire")).text.replace(good, "")
        gone_row = browser.find_element("xpath", row.format("Gone Feed")).text.replace(gone, "")
        assert datetime.now(UTC).strftime("%Y-%m-%d") in good_row and "404" not in good_row
        assert "never" in gone_row and "404" in gone_row
        lag = browser.find_element(*by_css("#lag")).text
        assert f"on {settings.topic_articles}: 2 articles not yet processed" in lag
        letters = browser.find_element(*by_css("#deadletters")).text
        assert f"1 on {settings.topic_deadletter} since" in letters and "parse 1" in letters
        browser.save_screenshot(str(screenshots / "health.png"))
    finally:
        server.stop()
