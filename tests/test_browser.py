"""The front end in a real browser: headless Debian Chromium against a real uvicorn server.

Screenshots land in test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.harness import REPO, chromium, missing, screenshot, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 20


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with serve("tests.browser.app:make_app") as url:
        yield url


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as d:
        yield d


def wait_for(driver: Any, css: str, count: int = 1) -> list[Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def enough(d: Any) -> list[Any] | bool:
        found = d.find_elements(By.CSS_SELECTOR, css)
        return found if len(found) >= count else False

    result: list[Any] = WebDriverWait(driver, WAIT).until(enough)
    return result


def test_home_renders_both_charts(origin: str, driver: Any) -> None:
    driver.get(origin + "/")
    bars = wait_for(driver, "svg#chart-investment rect.bar", 6)
    # 2 pillars x 3 stages in the fixture, each drawn with a visible width.
    assert len(bars) == 6
    assert all(b.size["width"] > 1 and b.size["height"] > 1 for b in bars)
    year_bars = wait_for(driver, "svg#chart-targets rect.bar")
    assert [b.get_attribute("data-year") for b in year_bars] == ["2025"]
    assert "4ed757512b5c0bef6028d7f0802f68948e2ac26f7eed8e56b5523d88777f25aa" in driver.page_source
    screenshot(driver, "home")


def test_entity_page_highlights_the_quote(origin: str, driver: Any) -> None:
    driver.get(origin + "/id/task/6")  # 303 to the document; the browser gets HTML
    marks = wait_for(driver, "figure.passage mark.quote")
    assert driver.current_url.endswith("/doc/id/task/6")
    texts = [m.text for m in marks]
    assert any("到2025年人才总量突破300万" in t for t in texts)
    # The highlight is drawn: a background colour other than transparent.
    colour = marks[0].value_of_css_property("background-color")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    driver.get(origin + "/doc/id/target/6-1")
    mark = wait_for(driver, "figure.passage mark.quote")[0]
    assert mark.text == "到2025年人才总量突破300万"
    screenshot(driver, "entity-target")
    driver.get(origin + "/doc/id/task/1")
    wait_for(driver, "figure.passage mark.quote")
    screenshot(driver, "entity-task")


def test_search_finds_shandong_university(origin: str, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(origin + "/search")
    box = wait_for(driver, "input#q")[0]
    box.send_keys("山东大学", Keys.ENTER)
    hits = wait_for(driver, "ol.hits li a")
    assert hits[0].text.startswith("山东大学")
    hits[0].click()
    title = wait_for(driver, "article.entity h1")[0]
    assert title.text == "山东大学"
    assert driver.find_elements(By.CSS_SELECTOR, "section.related-task li a")
    driver.back()
    wait_for(driver, "ol.hits li a")
    screenshot(driver, "search")


def test_query_page_runs_a_query_and_shows_rows(origin: str, driver: Any) -> None:
    if not (REPO / "server" / "static" / "vendor" / ".installed").exists():
        missing("the YASGUI assets are not installed")
    query = "PREFIX pk: <http://127.0.0.1:8000/def/>\nSELECT ?task WHERE { ?task a pk:Task } ORDER BY ?task"
    driver.get(origin + "/query")
    wait_for(driver, ".yasqe .CodeMirror")
    # Our prefixes are preloaded in the editor.
    assert "PREFIX pk: <http://127.0.0.1:8000/def/>" in driver.execute_script(
        "return window.plankgYasgui.getTab().getQuery();"
    )
    driver.execute_script("window.plankgYasgui.getTab().setQuery(arguments[0]);", query)
    wait_for(driver, ".yasqe_queryButton")[0].click()
    rows = wait_for(driver, ".yasr table tbody tr", 3)
    assert len(rows) == 3
    assert [r.text.split("/id/")[1].rstrip(">") for r in rows] == ["task/1", "task/6", "task/7"]
    screenshot(driver, "query")

    # A shareable link (YASGUI's URL state) reopens the page with the same query.
    link = driver.execute_script(
        "return Yasgui.linkUtils.createShareLink(window.location.href.split('?')[0].split('#')[0],"
        " window.plankgYasgui.getTab());"
    )
    assert link.startswith(origin + "/query")
    driver.get("about:blank")
    driver.get(link)
    wait_for(driver, ".yasqe .CodeMirror")
    assert driver.execute_script("return window.plankgYasgui.getTab().getQuery();") == query


def test_api_docs_render_offline(origin: str, driver: Any) -> None:
    if not (REPO / "server" / "static" / "vendor" / ".installed").exists():
        missing("the swagger-ui assets are not installed")
    driver.get(origin + "/docs")
    wait_for(driver, ".swagger-ui .info .title")
    paths = [e.text for e in wait_for(driver, ".opblock-summary-path", 5)]
    assert "/sparql" in paths and "/search" in paths
    # Every script and stylesheet came from this server.
    sources = driver.execute_script(
        "return Array.from(document.querySelectorAll('script[src], link[href]')).map(e => e.src || e.href);"
    )
    assert sources and all(s.startswith(origin) for s in sources), sources
    screenshot(driver, "docs")


def test_canned_queries_are_examples_with_their_example_values(origin: str, driver: Any) -> None:
    if not (REPO / "server" / "static" / "vendor" / ".installed").exists():
        missing("the YASGUI assets are not installed")
    driver.get(origin + "/query")
    examples = wait_for(driver, "#example-list a.example", 12)
    chosen = next(e for e in examples if e.get_attribute("data-name") == "tasks-by-organisation")
    chosen.click()
    wait_for(driver, ".yasqe .CodeMirror")
    query = driver.execute_script("return window.plankgYasgui.getTab().getQuery();")
    assert query.startswith("BASE <http://127.0.0.1:8000/>")
    assert 'WHERE {\n  VALUES ?org { "中科院" }' in query  # the parameter's example: an alias
    driver.execute_script("window.plankgYasgui.getTab().query();")
    rows = wait_for(driver, ".yasr table tbody tr")
    assert len(rows) == 1 and "task/1" in rows[0].text  # 中科院 = 中国科学院, mentioned by task (一)
    screenshot(driver, "query-example")


def test_a_missing_chromium_fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.browser import harness

    monkeypatch.setattr(harness, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"), harness.chromium():
        pass
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception), harness.chromium():
        pass


def test_query_this_from_an_entity_page(origin: str, driver: Any) -> None:
    if not (REPO / "server" / "static" / "vendor" / ".installed").exists():
        missing("the YASGUI assets are not installed")
    driver.get(origin + "/doc/id/task/7")
    wait_for(driver, "a.query-this")[0].click()
    wait_for(driver, ".yasqe .CodeMirror")
    query = driver.execute_script("return window.plankgYasgui.getTab().getQuery();")
    assert "<http://127.0.0.1:8000/id/task/7> ?property ?value" in query
    # YASGUI runs a query that arrives in the URL (a shared link) by itself: no click, which
    # would abort it while it runs.
    rows = wait_for(driver, ".yasr table tbody tr", 5)
    assert any("大力培育产业共同体" in r.text for r in rows)
