"""The front end in a real browser: headless Debian Chromium against ``plankg serve`` over the real build.

The server is a separate process (the CLI's ``serve`` on a free loopback port) over the plan built from
seeds/ once per session (``built_plan``), so the pages show what a user of the dataset sees. Expected
figures come from the source text (the investment totals, the task titles, the quoted characters) or
from the graph through /sparql (the targets per year), never from an earlier run.

Screenshots land in test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import pytest

from tests.browser.harness import REPO, chromium, missing, screenshot, serve_plan
from tests.conftest import BuiltPlan
from tests.seed import SLUG

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 20
BASE = "http://127.0.0.1:8000/"  # the graph's base IRI (the default); the server listens elsewhere
PREFIXES = (
    f"PREFIX pk: <{BASE}def/>\n"
    "PREFIX eli: <http://data.europa.eu/eli/ontology#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
NUMERALS = "一二三四五六七八九十"

# Key-project investment of each pillar in 亿元 as the plan prints it: "扎实推进总投资1920.83亿元的90个
# 重点项目,其中续建项目37个,总投资854.58亿元,计划2023年新开工项目37个,总投资683.91亿元,计划2024年、
# 2025年开工的谋划储备项目16个,总投资382.34亿元" (total, continuing, new, reserve); checked against the
# source text below.
INVESTMENT = (
    ("1920.83", "854.58", "683.91", "382.34"),
    ("3110.49", "1611.69", "754.63", "744.17"),
    ("5420.69", "2838.88", "1292.2", "1289.61"),
    ("850.39", "176.94", "302.41", "371.04"),
    ("6551.23", "3102.9", "1429.6", "2018.73"),
    ("524.95", "130.79", "327.76", "66.4"),
    ("990.2", "552.03", "348.15", "90.02"),
    ("1509.71", "499.03", "259.26", "751.42"),
    ("3097.59", "1666.84", "1169.27", "261.48"),
    ("125.74", "37.34", "66.56", "21.84"),
)
STAGES = ("continuing", "new", "reserve")


@pytest.fixture(scope="module")
def origin(built_plan: BuiltPlan) -> Iterator[str]:
    with serve_plan(built_plan.settings.store_dir, built_plan.dist) as url:
        yield url


# Every Content-Security-Policy violation of a page, recorded from before its first script runs.
RECORD_CSP = (
    "window.plankgCsp = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    " window.plankgCsp.push("
    "  e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);"
    "});"
)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with chromium() as d:
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_CSP})  # type: ignore[attr-defined]
        yield d


def wait_for(driver: Any, css: str, count: int = 1) -> list[Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def enough(d: Any) -> list[Any] | Literal[False]:
        found = d.find_elements(By.CSS_SELECTOR, css)
        return found if len(found) >= count else False

    result: list[Any] = WebDriverWait(driver, WAIT).until(enough)
    return result


def sparql(origin: str, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT asked of the server's /sparql, each variable's value as a string."""
    r = httpx.get(
        origin + "/sparql",
        params={"query": PREFIXES + query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    r.raise_for_status()
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def needs_assets() -> None:
    if not (REPO / "server" / "static" / "vendor" / ".installed").exists():
        missing("the YASGUI and swagger-ui assets are not installed")


def yuan(amount: str) -> str:
    """As the chart prints an amount: thousands separated, two decimals."""
    whole, _, cents = amount.partition(".")
    return f"{int(whole):,}.{cents.ljust(2, '0')}"


def printed_statistics(source: str) -> list[tuple[str, ...]]:
    """Each pillar's key-project sentence in the source: (total 亿元, total projects, continuing projects,
    亿元, new projects, 亿元, reserve projects, 亿元)."""
    return re.findall(
        r"扎实推进总投资([\d.]+)亿元的(\d+)个重点项目,其中续建项目(\d+)个,总投资([\d.]+)亿元,"
        r"计划2023年新开工项目(\d+)个,总投资([\d.]+)亿元,计划2024年、2025年开工的谋划储备项目(\d+)个,"
        r"总投资([\d.]+)亿元",
        re.sub(r"\s+", "", source),
    )


def test_the_investment_table_is_the_source_text(built_plan: BuiltPlan) -> None:
    printed = printed_statistics(built_plan.source)
    assert tuple((row[0], row[3], row[5], row[7]) for row in printed) == INVESTMENT


def test_home_charts_show_the_plan(origin: str, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(origin + "/")
    chart = wait_for(driver, "svg#chart-investment")[0]
    bars = wait_for(driver, "svg#chart-investment rect.bar", 30)
    # Ten pillars, each a row of three stage segments drawn with a visible width.
    assert len(bars) == 30
    assert all(b.size["width"] > 1 and b.size["height"] > 1 for b in bars)
    rows = chart.find_elements(By.CSS_SELECTOR, "text.axis[lang='zh']")
    labels = [r.text for r in rows if "、" in r.text]
    assert [label.split("、")[0] for label in labels] == list(NUMERALS)
    assert labels[0].startswith("一、聚力推动科技自立自强")
    totals = {
        t.get_attribute("data-pillar"): t.text for t in chart.find_elements(By.CSS_SELECTOR, "text.value")
    }
    assert totals == {str(i): yuan(row[0]) for i, row in enumerate(INVESTMENT, 1)}
    assert totals["1"] == "1,920.83" and totals["2"] == "3,110.49"
    for bar in bars:
        pillar, stage = int(bar.get_attribute("data-pillar")), bar.get_attribute("data-stage")
        amount = INVESTMENT[pillar - 1][1 + STAGES.index(stage)]
        title = bar.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        assert title.endswith(f": {yuan(amount)} 亿元"), (pillar, stage, title)
    # The widest row is pillar 五 (6,551.23), the narrowest pillar 十 (125.74).
    widths = {
        p: sum(b.size["width"] for b in bars if b.get_attribute("data-pillar") == str(p))
        for p in range(1, 11)
    }
    assert max(widths, key=lambda p: widths[p]) == 5 and min(widths, key=lambda p: widths[p]) == 10

    # Targets by year: the graph's own count per year, asked of /sparql here.
    found = sparql(
        origin, "SELECT DISTINCT ?target ?year WHERE { ?target a pk:Target ; pk:targetYear ?year }"
    )
    expected = Counter(row["year"] for row in found)
    assert sorted(expected) == ["2023", "2024", "2025"]
    year_bars = wait_for(driver, "svg#chart-targets rect.bar", 3)
    drawn = {
        b.get_attribute("data-year"): b.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        for b in year_bars
    }
    assert drawn == {year: f"{year}: {n}" for year, n in expected.items()}
    # Bar heights in proportion to the counts (to the pixel).
    heights = {b.get_attribute("data-year"): b.size["height"] for b in year_bars}
    tallest = max(expected.values())
    for year, n in expected.items():
        assert abs(heights[year] - heights[max(expected, key=lambda y: expected[y])] * n / tallest) < 1.5
    labels_on_bars = [t.text for t in driver.find_elements(By.CSS_SELECTOR, "svg#chart-targets text.value")]
    assert labels_on_bars == [str(expected[y]) for y in sorted(expected)]

    screenshot(driver, "home")
    screenshot(driver, "home-investment", chart)
    screenshot(driver, "home-targets", driver.find_element(By.CSS_SELECTOR, "svg#chart-targets"))


def test_task_page_highlights_the_source_characters(origin: str, driver: Any, built_plan: BuiltPlan) -> None:
    from selenium.webdriver.common.by import By

    driver.get(origin + "/id/task/1")  # the first release's IRI: 301 to the plan's, 303 to the document
    marks = wait_for(driver, "figure.passage mark.quote")
    assert driver.current_url.endswith(f"/doc/id/plan/{SLUG}/task/1")
    assert wait_for(driver, "article.entity h1")[0].text == "(一)构建高能级创新平台"
    source = built_plan.source
    for mark in marks:
        start, end = int(mark.get_attribute("data-start")), int(mark.get_attribute("data-end"))
        assert mark.get_attribute("textContent") == source[start:end]
    whole = max(marks, key=lambda m: int(m.get_attribute("data-end")) - int(m.get_attribute("data-start")))
    quoted = re.sub(r"\s+", "", whole.get_attribute("textContent"))
    assert quoted.startswith("(一)构建高能级创新平台。加快建设齐鲁科创大走廊")
    assert quoted.endswith("支持广安门医院、山东大学齐鲁医院创建国家医学中心。")
    # The highlight is drawn: a background colour other than transparent.
    colour = whole.value_of_css_property("background-color")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
    # The printed numeral of the task, as the plan numbers it.
    number = driver.find_element(
        By.XPATH, "//section[@class='properties']//tr[th//code[text()='eli:number']]/td"
    )
    assert number.text == "一"
    screenshot(driver, "entity-task")


def test_target_and_pillar_pages_show_the_plan(origin: str, driver: Any, built_plan: BuiltPlan) -> None:
    from selenium.webdriver.common.by import By

    # A target: its quote is the source's characters at its offsets, its value normalised.
    driver.get(origin + "/doc/id/target/6-1")
    marks = wait_for(driver, "figure.passage mark.quote")
    for mark in marks:
        start, end = int(mark.get_attribute("data-start")), int(mark.get_attribute("data-end"))
        assert mark.get_attribute("textContent") == built_plan.source[start:end]
    assert "到2025年人才总量突破300万" in [m.text for m in marks]
    screenshot(driver, "entity-target")

    # Pillar 一: the key-project statistics, stage by stage, as the plan prints them.
    total, projects, *stages = printed_statistics(built_plan.source)[0]
    driver.get(origin + "/doc/id/pillar/1")
    rows = wait_for(driver, "section.statistics tbody tr", 4)
    cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    assert [c[1:3] for c in cells] == [[projects, total], stages[0:2], stages[2:4], stages[4:6]]
    assert [c[0].split(" ")[0] for c in cells] == ["合计", "续建项目", "新开工项目", "谋划储备项目"]
    tasks = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "section.related-task li a")]
    assert [t.split(")")[0] + ")" for t in tasks] == [f"({n})" for n in NUMERALS[:6]]  # 6项重点工作
    screenshot(driver, "entity-pillar")


def test_search_finds_shandong_university_and_its_tasks(origin: str, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(origin + "/search")
    box = wait_for(driver, "input#q")[0]
    box.send_keys("山东大学", Keys.ENTER)
    hits = wait_for(driver, "ol.hits li a")
    names = [h.find_element(By.CSS_SELECTOR, "span[lang='zh']").text for h in hits]
    assert names[0] == "山东大学"
    assert {"山东大学齐鲁医院", "山东大学龙山校区"} <= set(names)
    screenshot(driver, "search")
    hits[0].click()
    title = wait_for(driver, "article.entity h1")[0]
    assert title.text == "山东大学"
    assert driver.current_url.endswith("/doc/id/org/shandong-university")
    tasks = [a.text for a in wait_for(driver, "section.related-task > ul > li > a")]
    # Through its hospital (一, 四十四) and its campus (四十三).
    assert [t.split(")")[0] + ")" for t in tasks] == ["(一)", "(四十三)", "(四十四)"]
    subs = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "section.related-suborg li a")]
    assert any("山东大学齐鲁医院" in s for s in subs) and any("山东大学龙山校区" in s for s in subs)
    screenshot(driver, "entity-org")


def test_query_page_runs_a_query_and_shows_rows(origin: str, driver: Any, built_plan: BuiltPlan) -> None:
    needs_assets()
    # The tasks of pillar 一, which the plan lists as (一)…(六) ("认真抓好6项重点工作").
    text = re.sub(r"\s+", "", built_plan.source)
    titles = [re.search(rf"\({n}\)([^。]+)。", text).group(1) for n in NUMERALS[:6]]  # type: ignore[union-attr]
    query = (
        PREFIXES + "SELECT ?task ?number ?title WHERE {\n"
        f"  ?task a pk:Task ; eli:is_part_of <{BASE}id/plan/{SLUG}/pillar/1> ;\n"
        "    eli:number ?number ; eli:title ?title ; pk:numberValue ?n .\n"
        "} ORDER BY ?n"
    )
    driver.get(origin + "/query")
    wait_for(driver, ".yasqe .CodeMirror")
    # Our prefixes are preloaded in the editor.
    assert f"PREFIX pk: <{BASE}def/>" in driver.execute_script(
        "return window.plankgYasgui.getTab().getQuery();"
    )
    driver.execute_script("window.plankgYasgui.getTab().setQuery(arguments[0]);", query)
    wait_for(driver, ".yasqe_queryButton")[0].click()
    rows = wait_for(driver, ".yasr table tbody tr", 6)
    assert len(rows) == 6
    for i, row in enumerate(rows):
        assert f"task/{i + 1}" in row.text
        assert NUMERALS[i] in row.text and titles[i] in row.text, row.text
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
    needs_assets()
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
    needs_assets()
    driver.get(origin + "/query")
    examples = wait_for(driver, "#example-list a.example", 12)
    chosen = next(e for e in examples if e.get_attribute("data-name") == "tasks-by-organisation")
    chosen.click()
    wait_for(driver, ".yasqe .CodeMirror")
    query = driver.execute_script("return window.plankgYasgui.getTab().getQuery();")
    assert query.startswith(f"BASE <{BASE}>")
    # The parameters' examples bound in the text where the query's own lookup sees them: an alias.
    assert 'VALUES (?org ?plan) { ("中科院" ' in query
    assert 'FILTER (STR(?label) = "中科院")' in query
    # 中科院 is an alias of 中国科学院; the tasks that mention it, asked of /sparql here.
    mentioning = sparql(
        origin,
        f"SELECT DISTINCT ?task WHERE {{ ?task pk:mentions <{BASE}id/org/chinese-academy-of-sciences> }}",
    )
    expected = sorted("/".join(row["task"].rsplit("/", 2)[1:]) for row in mentioning)
    assert expected
    driver.execute_script("window.plankgYasgui.getTab().query();")
    rows = wait_for(driver, ".yasr table tbody tr", len(expected))
    assert sorted(re.search(r"task/\d+", r.text).group(0) for r in rows) == expected  # type: ignore[union-attr]
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
    needs_assets()
    driver.get(origin + f"/doc/id/plan/{SLUG}/task/7")
    wait_for(driver, "a.query-this")[0].click()
    wait_for(driver, ".yasqe .CodeMirror")
    query = driver.execute_script("return window.plankgYasgui.getTab().getQuery();")
    assert f"<{BASE}id/plan/{SLUG}/task/7> ?property ?value" in query
    # YASGUI runs a query that arrives in the URL (a shared link) by itself: no click, which
    # would abort it while it runs.
    rows = wait_for(driver, ".yasr table tbody tr", 5)
    assert any("大力培育产业共同体" in r.text for r in rows)


def test_no_page_breaks_the_content_security_policy(origin: str, driver: Any) -> None:
    """The policy (server/ops/security.py) fits the bundled assets: YASGUI runs a query, swagger-ui
    renders the description, and the browser reports no violation on any page."""
    needs_assets()
    driver.get(origin + "/query")
    wait_for(driver, ".yasqe .CodeMirror")
    driver.execute_script("window.plankgYasgui.getTab().query();")
    wait_for(driver, ".yasr table tbody tr")
    assert driver.execute_script("return window.plankgCsp;") == []
    driver.get(origin + "/docs")
    wait_for(driver, ".opblock-summary-path", 5)
    assert driver.execute_script("return window.plankgCsp;") == []
    for path in ("/", "/doc/id/task/7", "/search?q=%E7%BB%BF%E8%89%B2", "/dumps/"):
        driver.get(origin + path)
        wait_for(driver, "body")
        assert driver.execute_script("return window.plankgCsp;") == [], path
    # The recorder does see a violation: an inline script is refused.
    driver.get(origin + "/")
    driver.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.appendChild(s);"
    )
    assert driver.execute_script("return window.ran;") is None
    assert any("script-src" in v for v in driver.execute_script("return window.plankgCsp;"))
