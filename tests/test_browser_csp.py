"""No page breaks under the Content-Security-Policy (issue 13): in real Chromium, every page
loads and runs with no CSP violation reported."""

from __future__ import annotations

import pytest

from tests.live_support import add_server_user, sign_in

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.browser_support"]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def test_no_page_reports_a_csp_violation(live_server, offline_page):
    add_server_user(live_server, "chief", "commander")
    offline_page.context.add_init_script(RECORD_VIOLATIONS)
    sign_in(offline_page, live_server, "chief")
    offline_page.wait_ready()  # the map's inline (nonce) scripts ran: its layers are drawn
    seen = {"/": offline_page.evaluate("window.__csp")}
    for path in ("/report", "/review", "/account", "/login"):
        offline_page.goto(live_server.url + path)
        offline_page.wait_for_load_state("networkidle")
        seen[path] = offline_page.evaluate("window.__csp")
    assert all(v == [] for v in seen.values()), seen
    csp_console = [m for m in offline_page.console_errors if "Content Security Policy" in m]
    assert csp_console == [] and offline_page.page_errors == []
