"""The review page in real headless Chromium, on the replayed 2017 flood (`floodpost demo`)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.browser_support import browser, offline_page  # noqa: F401
from tests.test_demo_cli import DemoServer, start_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CANVAS_HAS_INK = """(id) => {
  const c = document.getElementById(id);
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
  return ink;
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[DemoServer]:
    server = start_demo(tmp_path_factory.mktemp("demo-browser"), "--speed", "max")
    yield server
    server.stop()


def sign_in(page, demo: DemoServer, role: str = "viewer") -> None:
    page.goto(demo.url + "/review")
    assert "/login" in page.url  # the page sends a visitor without a session to sign in
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", demo.accounts[role])
    page.click("button[type=submit]")
    page.wait_for_url("**/review")


def test_review_page_charts_map_and_time_slider(demo, offline_page):  # noqa: F811
    page = offline_page
    sign_in(page, demo)
    page.wait_ready()
    page.wait_for_function("() => document.body.dataset.situationHour === '2017-07-01T23'")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("#demo-badge").is_visible()
    assert page.locator("#total-evacuated .rv-num").inner_text() == "59,700"
    assert page.locator("#total-rescued .rv-num").inner_text() == "1,960"
    assert page.locator("#table-township tbody tr:not(.rv-total)").count() == 17
    assert page.locator("#table-zone tr.rv-silent").count() >= 1
    for chart in ("chart-by-day", "chart-by-township"):
        assert page.evaluate(CANVAS_HAS_INK, chart) > 1000, chart
    assert page.locator("#review-map .leaflet-overlay-pane canvas").count() >= 1
    assert page.locator("#sit-evacuated").inner_text() == "59,700"

    # Slide back to the morning of 26 June: the situation then was much smaller.
    page.evaluate(
        """() => { const s = document.getElementById('time-slider');
                   s.value = '57'; s.dispatchEvent(new Event('input')); }"""
    )
    page.wait_for_function("() => document.body.dataset.situationHour === '2017-06-26T09'")
    earlier = int(page.locator("#sit-evacuated").inner_text().replace(",", ""))
    assert 0 < earlier < 59_700
    assert page.locator("#slider-time").inner_text().startswith("2017-06-26 09")

    assert page.page_errors == []
    assert page.console_errors == []
    assert page.blocked == []


def test_review_page_in_english(demo, offline_page):  # noqa: F811
    page = offline_page
    sign_in(page, demo, "staff")
    page.goto(demo.url + "/review?lang=en")
    page.wait_ready()
    assert "Evacuated" in page.locator("#total-evacuated").inner_text()
    assert page.page_errors == []


def test_review_prints_to_a4(demo, offline_page, tmp_path):  # noqa: F811
    # scripts/install.sh installs poppler-utils: fail loudly rather than skip if it is missing.
    assert shutil.which("pdftoppm"), "apt-get install poppler-utils (scripts/install.sh does)"
    page = offline_page
    sign_in(page, demo)
    page.wait_ready()
    page.wait_for_function("() => document.body.dataset.situationHour")
    page.emulate_media(media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    page.wait_for_timeout(300)
    pdf = tmp_path / "review.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    # 8 pages for the report figures, plus the early-warning (issue 9) and orders (issue 10)
    # sections the review gained.
    assert 2 <= len(pages) <= 10
    # The screen-only controls (print button, export links) are not printed.
    assert page.locator(".rv-actions").evaluate("e => getComputedStyle(e).display") == "none"
    assert page.page_errors == []
