"""Every page type, admin included, in Chromium with the CSP enforced: zero violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

# Collects what the browser refused, before any of the page's own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""
ADMIN_PASSWORD = "a-long-test-password-1"


@pytest.fixture
def csp_page(page: Page) -> Page:
    page.add_init_script(RECORD_VIOLATIONS)
    page.failed_assets = []
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and r.request.resource_type != "document"
            and page.failed_assets.append(f"{r.status} {r.url}")
        ),
    )
    return page


def visit(page: Page, path: str, status: int = 200) -> list[str]:
    """Open ``path``, check the policy is enforced, return the violations and errors."""
    page.failed_assets.clear()
    response = page.goto(path)
    assert response is not None and response.status == status, path
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "script-src 'self'" in policy, path
    page.wait_for_load_state("networkidle")
    if status != 200:
        # Chromium logs the page's own status as a console error; its assets must load.
        page.problems.remove(
            f"Failed to load resource: the server responded with a status of {status} (Not Found)"
        )
        assert page.failed_assets == [], path
    return violations(page)


def violations(page: Page) -> list[str]:
    found = page.evaluate("window.__cspViolations") + page.problems
    page.problems.clear()
    return found


def test_site_pages_load_without_a_csp_violation(csp_page: Page, course: list[str]):
    section = "/" + course[0].strip("/").split("/")[0] + "/"
    problems = {}
    for path, status in [
        ("/", 200),
        (section, 200),
        *[(lesson, 200) for lesson in course],
        ("/search/?q=receiver", 200),
        ("/source/signals/", 200),
        ("/no-such-page/", 404),
    ]:
        problems[path] = visit(csp_page, path, status)
    assert {path: found for path, found in problems.items() if found} == {}


def test_site_scripts_run_under_the_policy(csp_page: Page, course: list[str]):
    """Scripts are allowed, not just silently blocked: the theme toggle works."""
    csp_page.goto(course[0])
    html = csp_page.locator("html")
    before = html.get_attribute("data-bs-theme")
    csp_page.locator("[data-theme-toggle]").first.click()
    expect(html).not_to_have_attribute("data-bs-theme", before or "")
    assert violations(csp_page) == []


def test_running_a_sample_on_a_cached_lesson_stays_within_the_policy(
    csp_page: Page, course: list[str]
):
    """The runner posts with a CSRF token fetched from /csrf-token/ (a cached page
    carries none) to a same-origin URL, and builds its output without inline styles."""
    for lesson in course:
        csp_page.goto(lesson)
        if csp_page.locator(".runner-run").count():
            break
    else:
        pytest.fail("no lesson has a runnable sample")
    csp_page.reload()  # now from the page cache
    assert "csrftoken" not in {c["name"] for c in csp_page.context.cookies()}
    csp_page.locator(".runner-run").first.click()
    block = csp_page.locator("[data-runnable]").first
    expect(block).not_to_have_class(re.compile("runner-busy"), timeout=30_000)
    expect(block.locator(".runner-status")).not_to_have_text(re.compile("Could not|failed|busy"))
    assert "csrftoken" in {c["name"] for c in csp_page.context.cookies()}
    assert violations(csp_page) == []


def test_phone_menu_opens_without_a_csp_violation(browser, live_server, course):
    from tests.browser import PHONE

    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.add_init_script(RECORD_VIOLATIONS)
    try:
        page.goto(course[0])
        page.locator(".site-menu-button").click()
        expect(page.locator("#roadmap-menu")).to_be_visible()
        page.wait_for_timeout(400)  # ms: the offcanvas animation sets inline styles
        assert violations(page) == []
    finally:
        context.close()


def test_admin_pages_load_without_a_csp_violation(
    csp_page: Page, course: list[str], django_user_model
):
    from tutorials.models import Section, Tutorial

    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", ADMIN_PASSWORD)
    problems = {"/admin/login/": visit(csp_page, "/admin/login/")}
    csp_page.fill("#id_username", "admin")
    csp_page.fill("#id_password", ADMIN_PASSWORD)
    csp_page.click("input[type=submit]")
    expect(csp_page.locator("#site-name")).to_be_visible()
    tutorial, section = Tutorial.objects.first(), Section.objects.first()
    for path in [
        "/admin/",
        "/admin/tutorials/tutorial/",
        "/admin/tutorials/tutorial/?published__exact=1&q=signal",
        f"/admin/tutorials/tutorial/{tutorial.pk}/change/",
        f"/admin/tutorials/tutorial/{tutorial.pk}/history/",
        "/admin/tutorials/tutorial/add/",
        "/admin/tutorials/section/",
        f"/admin/tutorials/section/{section.pk}/change/",
        f"/admin/tutorials/section/{section.pk}/delete/",
        "/admin/auth/user/",
        f"/admin/auth/user/{admin.pk}/change/",
        "/admin/auth/user/add/",
        "/admin/password_change/",
    ]:
        problems[path] = visit(csp_page, path)
    problems.update(use_admin_scripts(csp_page, admin.pk))
    assert {path: found for path, found in problems.items() if found} == {}


def use_admin_scripts(page: Page, user_id: int) -> dict[str, list[str]]:
    """The admin's scripted widgets, each of which builds or restyles elements."""
    problems = {}
    page.goto("/admin/tutorials/tutorial/")
    page.check("#action-toggle")
    expect(page.locator(".action-counter")).to_contain_text("selected")
    problems["changelist: select all"] = violations(page)

    page.goto("/admin/tutorials/section/add/")
    page.locator("#id_title").press_sequentially("Typed title")
    expect(page.locator("#id_slug")).to_have_value("typed-title")
    problems["add form: slug prepopulated from the title"] = violations(page)

    page.goto(f"/admin/auth/user/{user_id}/change/")
    page.click("#calendarlink0")
    expect(page.locator("#calendarbox0")).to_be_visible()
    page.click("#clocklink0")
    expect(page.locator("#clockbox0")).to_be_visible()
    page.click("#id_user_permissions_add_all")
    expect(page.locator("#id_user_permissions_to option").first).to_be_attached()
    problems["user form: calendar and select filter"] = violations(page)

    page.goto("/admin/tutorials/tutorial/add/")
    with page.expect_popup() as opened:
        page.click("#add_id_section")
    popup = opened.value
    popup.add_init_script(RECORD_VIOLATIONS)
    popup.reload()
    popup.locator("#id_title").press_sequentially("From a popup")
    popup.click("input[name=_save]")
    expect(page.locator("#id_section option:checked")).to_have_text("From a popup")
    problems["related-object popup"] = violations(page)
    return problems
