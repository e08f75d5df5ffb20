"""End to end: the real server (`python -m indexer serve`, waitress) in a real headless Chromium.

Checks what only a browser can: the form submits, facet and paging links work when clicked,
the page renders at phone width without sideways scrolling, the CSP blocks nothing we ship
(no console errors, no violations), no request leaves the machine. Screenshots go to
artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from indexer.index import build

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "artifacts" / "screenshots"


def _require_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        msg = f"{CHROMIUM} is missing (install Debian's chromium: make browser)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real CLI server over the demo corpus; yields its base URL."""
    _require_chromium()
    index_dir = tmp_path_factory.mktemp("e2e-index")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        report = build(["samples"], index_dir, workers=1)
    finally:
        os.chdir(cwd)
    assert report.added > 10
    port = _free_port()
    log_path = tmp_path_factory.mktemp("e2e-log") / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer", "serve", "--index", str(index_dir), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(base + "/api/search", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer: {log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class Watch:
    """Console errors, page errors, CSP violations and off-machine requests of one page."""

    def __init__(self) -> None:
        self.console: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []

    def problems(self, page: Any) -> list[str]:
        csp = page.evaluate("window.__csp || []")
        return self.console + self.errors + [f"CSP: {v}" for v in csp] + [f"external: {u}" for u in self.external]


CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def _open(browser: Any, width: int, height: int) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.add_init_script(CSP_LISTENER)
    watch = Watch()

    def route(r: Any) -> None:
        host = urlsplit(r.request.url).hostname
        if host not in ("127.0.0.1", "localhost"):
            watch.external.append(r.request.url)
            r.abort()
        else:
            r.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: watch.console.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    return context, page, watch


def _api(server: str, path: str) -> dict[str, Any]:
    with urllib.request.urlopen(server + path, timeout=30) as resp:
        return json.loads(resp.read().decode("utf-8"))


def _params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _count(page: Any) -> int:
    return int(page.locator(".summary strong").first.inner_text())


WIDTHS = [(1280, 900), (390, 844)]
# WCAG 2.0/2.1 A and AA rules, plus axe's experimental ones (label-content-name-mismatch, a
# WCAG 2.1 A rule, is still tagged experimental in axe-core 4.x and off by default).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "experimental"]},
    "resultTypes": ["violations"],
}
AXE_CHECKED: list[str] = []


def _axe(page: Any, where: str) -> None:
    """axe-core (bundled with axe-playwright-python, no network) on the page as it is now:
    any violation fails, with axe's report of each element."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    AXE_CHECKED.append(where)
    assert results.violations_count == 0, f"{where} ({page.url}):\n" + results.generate_report()


@pytest.mark.parametrize("width,height", WIDTHS)
def test_search_facets_paging_and_document(server: str, browser: Any, width: int, height: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _open(browser, width, height)
    try:
        page.goto(server + "/")
        _axe(page, f"home @{width}")
        # keyboard users land on the skip link first
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "跳到结果"

        # type a query and submit the form
        page.get_by_label("检索词").fill("巡察")
        page.get_by_role("button", name="搜索").click()
        page.wait_for_load_state("load")
        assert _params(page.url).get("q") == "巡察"
        expected = _api(server, "/api/search?q=" + quote("巡察"))
        assert _count(page) == expected["total"] > 10
        assert page.locator(".snippet mark").count() > 0
        assert page.locator(".hit").count() == len(expected["hits"])
        assert page.locator("svg.timeline-svg").count() == 1
        _axe(page, f"results @{width}")
        page.screenshot(path=str(SHOTS / f"results-{width}.png"), full_page=True)

        # drill down by clicking region facets: province -> city -> district
        for level in range(3):
            if width < 600:  # on phones the facets open from the 筛选 button at the top
                assert not page.locator("#facets").is_visible()
                page.locator(".filter-toggle").click()
            facet = page.locator("#facet-region ~ ul.facet-list a").first
            name = facet.locator(".f-name").inner_text()
            count = int(facet.locator(".f-count").inner_text())
            facet.click()
            page.wait_for_load_state("load")
            assert _count(page) == count
            assert name in page.locator(".chips").inner_text()
            _axe(page, f"region level {level + 1} @{width}")
            if not page.locator("#facet-region ~ ul.facet-list a").count():
                break
        district = name
        assert level == 2, "the demo corpus has district-level notices under each city"
        places = page.locator(".hit .m-place").all_inner_texts()
        assert places and all(district in p for p in places)
        assert page.locator(".breadcrumbs [aria-current='location']").inner_text() == district
        assert _params(page.url)["q"] == "巡察"

        # page forward with filters from the form: dates and sort
        page.goto(server + "/?q=" + quote("整改"))
        if width < 600:
            page.locator(".filter-toggle").click()
        page.get_by_label("起始日期").fill("2016/1/1")  # lenient: read as 2016-01-01
        page.get_by_label("截止日期").fill("2025年12月31日")
        page.get_by_role("button", name="搜索").click()
        page.wait_for_load_state("load")
        assert _params(page.url) == {"q": "整改", "from": "2016-01-01", "to": "2025-12-31"}  # clean URL
        page.locator(".sort-links").get_by_role("link", name="日期").click()  # the one sort control
        page.wait_for_load_state("load")
        total = _count(page)
        assert total > 10
        first_page_ids = page.locator(".hit-title a").all_inner_texts()
        page.get_by_role("link", name="下一页").click()
        page.wait_for_load_state("load")
        params = _params(page.url)
        assert params["page"] == "2" and params["from"] == "2016-01-01" and params["to"] == "2025-12-31"
        assert params["sort"] == "date" and params["q"] == "整改"
        assert _count(page) == total
        assert page.locator(".pagination [aria-current='page']").inner_text() == "2"
        assert page.locator("#from").input_value() == "2016-01-01"
        assert page.locator(".hit-title a").all_inner_texts() != first_page_ids
        chips = page.locator(".chips").inner_text()
        assert "2016-01-01" in chips and "2025-12-31" in chips
        _axe(page, f"dates, page 2 @{width}")

        # open a document from a search: title, metadata, highlight
        page.goto(server + "/?q=" + quote("巡察整改"))
        link = page.locator(".hit-title a").first
        title = link.inner_text()
        link.click()
        page.wait_for_load_state("load")
        assert "/doc/" in page.url and _params(page.url)["q"] == "巡察整改"
        assert page.locator("h1").inner_text() == title
        meta = page.locator(".meta-table").inner_text()
        for label in ("日期", "发布机关", "省/市/区县", "文种", "文号", "原文链接"):
            assert label in meta
        assert "samples/" not in page.locator("main").inner_text()  # no internal source path
        doc = _api(server, "/api/doc/" + urlsplit(page.url).path.rsplit("/", 1)[1])
        assert doc["date"] in meta
        assert page.locator(".doc-text mark").count() > 0
        assert page.locator(".doc-text mark").first.inner_text() == "巡察整改"
        _axe(page, f"document @{width}")
        page.screenshot(path=str(SHOTS / f"document-{width}.png"), full_page=True)
        page.get_by_role("link", name="返回检索结果").click()
        page.wait_for_load_state("load")
        assert _params(page.url) == {"q": "巡察整改"}

        assert watch.problems(page) == []
    finally:
        context.close()


def test_phone_width(server: str, browser: Any) -> None:
    """390 px: the first screen holds the query box and two whole results; filters open from
    a button at the top; the year chart is one line until asked for; nothing scrolls sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _open(browser, 390, 844)
    try:
        page.goto(server + "/?q=" + quote("巡察"))
        assert page.locator(".hit").count() > 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        box = page.locator("#q").bounding_box()
        assert box["y"] + box["height"] <= 844
        second = page.locator(".hit").nth(1).bounding_box()
        assert second["y"] + second["height"] <= 844, "two whole results on the first screen"
        page.screenshot(path=str(SHOTS / "results-phone-first-screen.png"), full_page=False)
        # the facets are closed; the 筛选 button near the top opens them and the form's filters
        toggle = page.locator(".filter-toggle")
        assert toggle.is_visible() and toggle.bounding_box()["y"] < 200
        assert not page.locator("#facets").is_visible() and not page.locator("#region").is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert page.locator("#facets").is_visible() and page.locator("#region").is_visible()
        assert page.locator("#facets").bounding_box()["y"] < page.locator("#results").bounding_box()["y"]
        _axe(page, "phone, filters open")
        page.screenshot(path=str(SHOTS / "results-phone-filters.png"), full_page=False)
        toggle.click()
        assert not page.locator("#facets").is_visible()
        # the chart: a one-line summary, the chart itself on request, fitting the screen
        assert page.locator(".chart-brief").is_visible() and "最多为" in page.locator(".chart-brief").inner_text()
        assert not page.locator(".timeline-svg").is_visible()
        page.locator(".chart-toggle").click()
        svg = page.locator(".timeline-svg").bounding_box()
        assert svg["width"] > 200 and svg["x"] + svg["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # metadata lines never start with a separator
        assert page.evaluate("getComputedStyle(document.querySelector('.m-place'), '::before').content") in ("none", "normal")
        page.screenshot(path=str(SHOTS / "results-phone.png"), full_page=True)
        _axe(page, "results, phone")
        page.locator(".hit-title a").first.click()
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "document-phone.png"), full_page=True)
        assert watch.problems(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)])
def test_run_on_query_says_what_it_searched(server: str, browser: Any, width: int, height: int) -> None:
    """A query typed with no spaces finds notices, says how it was loosened, marks hits
    that lack a word, and links to the exact search, which finds nothing."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _open(browser, width, height)
    try:
        page.goto(server + "/?q=" + quote("蚌埠莲湖巡察整改"))
        banner = page.locator(".relaxed")
        assert banner.is_visible()
        assert "蚌埠 莲湖 巡察 整改" in banner.inner_text()
        assert page.locator(".hit").count() > 0
        note = page.locator(".match-note.partial").first
        assert note.is_visible() and "缺少" in note.inner_text() and "蚌埠" in note.inner_text()
        offer = page.locator(".offers a.offer").first
        assert "莲湖区" in offer.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SHOTS / f"relaxed-{width}.png"), full_page=False)
        _axe(page, f"relaxed @{width}")
        page.locator(".relaxed .exact-link").click()
        page.wait_for_load_state("load")
        assert _params(page.url) == {"q": "蚌埠莲湖巡察整改", "exact": "1"}
        assert page.locator(".hit").count() == 0 and page.locator(".relaxed").count() == 0
        assert "精确检索" in page.locator(".chips").inner_text()
        _axe(page, f"nothing found @{width}")
        assert watch.problems(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("width,height", WIDTHS)
def test_regions_and_error_pages_pass_axe(server: str, browser: Any, width: int, height: int) -> None:
    """The pages the walk reaches besides search and document: 地区索引 and the error pages."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _open(browser, width, height)
    try:
        page.goto(server + "/")
        page.get_by_role("link", name="地区索引").click()
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "地区索引"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _axe(page, f"regions @{width}")
        page.screenshot(path=str(SHOTS / f"regions-{width}.png"), full_page=True)
        assert page.goto(server + "/doc/ffff").status == 404
        _axe(page, f"404 @{width}")
        assert page.goto(server + "/?from=2020-13-01").status == 400
        _axe(page, f"400 @{width}")
    finally:
        context.close()


@pytest.mark.parametrize("width,height", WIDTHS)
def test_query_form_tools(server: str, browser: Any, width: int, height: int) -> None:
    """Region suggestions as one types, quick dates, the 标题 scope, 在结果中搜索, jump to page."""
    context, page, watch = _open(browser, width, height)
    try:
        page.goto(server + "/?q=" + quote("巡察"))
        if width < 600:
            page.locator(".filter-toggle").click()
        page.locator("#region").press_sequentially("莲湖", delay=30)
        page.locator("#region-list option").first.wait_for(state="attached")
        assert page.locator("#region-list option").first.get_attribute("value") == "莲湖区"
        _axe(page, f"region suggestions @{width}")
        page.locator("#region").fill("莲湖区")
        page.locator(".apply-filters").click()
        page.wait_for_load_state("load")
        assert _params(page.url) == {"q": "巡察", "region": "莲湖区"}
        assert page.locator("#region").input_value() == "莲湖区"
        # quick dates: 近一年 sets a one-year range ending today
        page.goto(server + "/?q=" + quote("巡察"))
        if width < 600:
            page.locator(".filter-toggle").click()
        page.locator(".quick-dates").get_by_role("link", name="近一年").click()
        page.wait_for_load_state("load")
        p = _params(page.url)
        assert set(p) == {"q", "from", "to"} and p["from"] < p["to"]
        assert page.locator(".quick-dates a.current").inner_text() == "近一年"
        # scope switch: 标题 only
        page.goto(server + "/?q=" + quote("整改"))
        full = _count(page)
        page.get_by_label("标题", exact=True).check()
        page.get_by_role("button", name="搜索").click()
        page.wait_for_load_state("load")
        assert _params(page.url) == {"q": "整改", "scope": "title"} and 0 < _count(page) < full
        # 在结果中搜索
        page.goto(server + "/?q=" + quote("巡察"))
        page.get_by_label("检索词").fill("整改")
        page.get_by_label("在结果中搜索").check()
        page.get_by_role("button", name="搜索").click()
        page.wait_for_load_state("load")
        assert _params(page.url) == {"q": "巡察 整改"}
        # jump to page
        page.goto(server + "/?q=" + quote("巡察"))
        page.get_by_label("跳到第").fill("2")
        page.get_by_role("button", name="跳转").click()
        page.wait_for_load_state("load")
        assert _params(page.url) == {"q": "巡察", "page": "2"}
        assert page.locator(".pagination [aria-current='page']").inner_text() == "2"
        _axe(page, f"page 2 via jump @{width}")
        assert watch.problems(page) == []
    finally:
        context.close()


def test_error_pages_in_browser(server: str, browser: Any) -> None:
    context, page, watch = _open(browser, 1280, 900)
    try:
        resp = page.goto(server + "/?from=2020-13-01")
        assert resp.status == 400
        assert page.locator("[role='alert']").inner_text().startswith("无法完成检索")
        assert page.locator("#from").input_value() == "2020-13-01"  # kept for correcting
        resp = page.goto(server + "/doc/..%2F..%2Fetc")
        assert resp.status == 404
        assert page.locator("h1").inner_text() == "页面不存在"
        assert resp.headers["content-security-policy"].startswith("default-src 'self'")
        problems = watch.problems(page)
        assert all("status of 40" in p for p in problems), problems
    finally:
        context.close()


def test_csp_blocks_inline_script(server: str, browser: Any) -> None:
    """Positive control: the CSP is enforced and the violation watcher sees it."""
    context, page, watch = _open(browser, 1280, 900)
    try:
        page.goto(server + "/?q=" + quote("巡察"))
        assert page.evaluate("window.__csp.length") == 0
        page.evaluate("""() => {
            const s = document.createElement('script');
            s.textContent = 'window.__ran = 1';
            document.body.appendChild(s);
        }""")
        page.wait_for_function("window.__csp.length > 0")
        assert page.evaluate("window.__ran") is None
        assert any("script-src" in v for v in page.evaluate("window.__csp"))
    finally:
        context.close()


# Cumulative layout shift of the page so far (what Lighthouse's CLS measures).
LAYOUT_SHIFT = """() => new Promise(resolve => {
  let cls = 0;
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) cls += e.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(cls), 300);
})"""


@pytest.mark.parametrize("width,height", WIDTHS)
def test_document_reading_tools_and_print_view(server: str, browser: Any, width: int, height: int) -> None:
    """The official-document layout (title centred, 落款 right-aligned), 【字号 大 中 小】, the
    highlight switch, 复制链接 and 【打印】's print view (no navigation or tools)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _open(browser, width, height)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    try:
        hits = _api(server, "/api/search?q=" + quote("巡视") + "&per_page=50")["hits"]
        numbered = next(h for h in (_api(server, "/api/doc/" + h["id"]) for h in hits) if h.get("doc_number"))
        page.goto(server + f"/doc/{numbered['id']}?q=" + quote("巡视"))
        h1 = page.locator("h1")
        assert h1.evaluate("e => getComputedStyle(e).textAlign") == "center"
        number = page.locator(".doc-number")
        assert numbered["doc_number"] in number.inner_text()
        assert number.bounding_box()["y"] > h1.bounding_box()["y"]  # 文号 under the title
        sign = page.locator(".doc-sign")
        assert sign.evaluate("e => getComputedStyle(e).textAlign") == "right"
        date_box = sign.locator("p").last.bounding_box()
        text_box = page.locator("#doc-text").bounding_box()
        assert date_box["x"] + date_box["width"] > text_box["x"] + text_box["width"] * 0.6
        _axe(page, f"document tools @{width}")
        page.screenshot(path=str(SHOTS / f"document-official-{width}.png"), full_page=True)
        # the tools are drawn with the page, not added after it (no layout shift, Lighthouse CLS)
        assert page.evaluate(LAYOUT_SHIFT) < 0.01

        # 字号: 大 makes the text larger, 小 smaller, the pressed state follows
        def size() -> float:
            return page.locator("#doc-text p").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        medium = size()
        page.get_by_role("button", name="大", exact=True).click()
        assert size() > medium
        assert page.get_by_role("button", name="大", exact=True).get_attribute("aria-pressed") == "true"
        page.get_by_role("button", name="小", exact=True).click()
        assert size() < medium
        page.reload()
        assert size() < medium  # remembered, and applied before the page is drawn
        assert page.evaluate(LAYOUT_SHIFT) < 0.01
        page.get_by_role("button", name="中", exact=True).click()
        assert size() == medium

        # the highlight switch
        mark = page.locator(".doc-text mark").first
        lit = mark.evaluate("e => getComputedStyle(e).backgroundColor")
        switch = page.get_by_role("button", name="高亮检索词")
        switch.click()
        assert switch.get_attribute("aria-pressed") == "false"
        assert mark.evaluate("e => getComputedStyle(e).backgroundColor") != lit
        switch.click()
        assert mark.evaluate("e => getComputedStyle(e).backgroundColor") == lit

        # 复制链接: the page's own address, without the search
        page.get_by_role("button", name="复制链接").click()
        page.locator(".tool-status", has_text="已复制链接").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == server + f"/doc/{numbered['id']}"

        # 【打印】: the print view shows the document only
        assert page.get_by_role("button", name="打印").is_visible()
        page.emulate_media(media="print")
        for sel in (".site-header", ".site-footer", ".doc-nav", ".doc-tools", ".related", ".skip-link"):
            assert not page.locator(sel).first.is_visible(), sel
        assert h1.is_visible() and sign.is_visible() and page.locator(".meta-table").is_visible()
        page.screenshot(path=str(SHOTS / f"document-print-{width}.png"), full_page=True)
        page.emulate_media(media="screen")
        assert page.locator(".doc-tools").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert watch.problems(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("width,height", WIDTHS)
def test_subscribe_export_and_developer_links(server: str, browser: Any, width: int, height: int) -> None:
    """订阅 leads to a page that explains the feed and copies its address; 导出 Excel downloads
    a CSV with Chinese headers; JSON, JSONL, CSV and Atom sit in the footer's 开发者 line;
    an untitled notice shows a derived heading, marked."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _open(browser, width, height)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    try:
        page.goto(server + "/?q=" + quote("巡察") + "&region=" + quote("陕西省"))
        tools = page.locator(".result-tools")
        assert "JSON" not in tools.inner_text() and "Atom" not in tools.inner_text()
        dev = page.locator(".site-footer .developer")
        assert "开发者" in dev.inner_text() and "JSON 接口" in dev.inner_text() and "JSONL" in dev.inner_text()
        with page.expect_download() as dl:
            tools.get_by_role("link", name="导出 Excel").click()
        text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("标题,日期,发布机关")
        tools.get_by_role("link", name="订阅").click()
        page.wait_for_load_state("load")
        assert urlsplit(page.url).path == "/subscribe" and _params(page.url) == {"q": "巡察", "region": "陕西省"}
        assert page.locator("h1").inner_text() == "订阅这组检索结果"
        feed = page.get_by_label("订阅地址").input_value()
        assert urlsplit(feed).path == "/feed.atom"
        _axe(page, f"subscribe @{width}")
        page.get_by_role("button", name="复制地址").click()
        page.locator("#feed-status", has_text="已复制订阅地址").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == feed
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(SHOTS / f"subscribe-{width}.png"), full_page=True)

        # the untitled demo notice: a derived heading, styled apart, said to be made up
        page.goto(server + "/?q=" + quote("区委第一轮巡察派出3个巡察组"))
        derived = page.locator(".hit-title .derived-title").first
        assert derived.is_visible() and "巡察整改进展情况" in derived.inner_text()
        assert derived.evaluate("e => getComputedStyle(e).fontWeight") == "400"
        assert "标题为系统生成" in derived.text_content()
        derived.click()
        page.wait_for_load_state("load")
        assert page.locator("h1 .derived-title").is_visible()
        _axe(page, f"untitled document @{width}")
        assert watch.problems(page) == []
    finally:
        context.close()


@pytest.mark.parametrize("width,height", WIDTHS)
def test_demo_corpus_is_marked(server: str, browser: Any, width: int, height: int) -> None:
    """The home page says the bundled corpus is a demo; every demo result and document carries a
    visible 示例 badge; a demo document links to no (real) government site."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, watch = _open(browser, width, height)
    try:
        page.goto(server + "/")
        note = page.locator(".demo-note")
        assert note.is_visible() and "示例数据" in note.inner_text() and "并非真实公告" in note.inner_text()
        hits = page.locator(".hit")
        assert hits.count() > 5
        for i in range(hits.count()):
            badge = hits.nth(i).locator(".demo-badge")
            assert badge.is_visible() and badge.inner_text().startswith("示例")
        page.screenshot(path=str(SHOTS / f"home-demo-{width}.png"), full_page=False)
        _axe(page, f"home with demo note @{width}")
        hits.first.locator(".hit-title a").click()
        page.wait_for_load_state("load")
        banner = page.locator(".demo-banner")
        assert banner.is_visible() and "并非真实公文" in banner.inner_text()
        assert banner.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]
        assert page.title().startswith("【示例】")
        assert page.locator(".meta-table a[target=_blank]").count() == 0
        assert "gov.cn" not in page.locator("main").inner_text()
        assert all("gov.cn" not in (a or "") for a in page.locator("a").evaluate_all("els => els.map(e => e.href)"))
        page.emulate_media(media="print")
        assert banner.is_visible()  # a printout says it too
        page.emulate_media(media="screen")
        _axe(page, f"demo document @{width}")
        page.screenshot(path=str(SHOTS / f"document-demo-{width}.png"), full_page=False)
        assert watch.problems(page) == []
    finally:
        context.close()
