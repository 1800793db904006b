"""Team curation in a real browser, on two app servers sharing one PostgreSQL: an admin asks for k = 2 and blind
labelling on server A; ann labels on A and bea on B, in two browser contexts, and both are served the same image;
a reviewer on B sees both labels (the one given on A included) and settles the disagreement; the admin's export
on A shows the reviewer's label with its source."""
import json
import uuid

import pytest
from browser_support import ARTIFACTS, require_browser

from fer_core.app.browser import CHROMIUM, CHROMIUM_FLAGS, exception_text, serve_app, wait_until_idle
from fer_core.logins import add_user

pytestmark = pytest.mark.browser  # layer (the folder says the subject)

USERS = {"ann": "annotator", "bea": "annotator", "rev": "reviewer", "adm": "admin"}


@pytest.fixture
def two_servers(tmp_path, pg_url):
    require_browser()
    auth = tmp_path / "auth.yaml"
    for user, role in USERS.items():
        add_user(auth, user, user, f"{user}-secret-pw", role=role)
    project = f"team-{uuid.uuid4().hex[:8]}"
    env = {"FER_AUTH_FILE": str(auth), "FER_DATABASE_URL": pg_url, "FER_RELABEL_DIR": str(tmp_path / "relabel")}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve_app(env, log_path=ARTIFACTS / "streamlit-team-a.log") as a, \
            serve_app(env, log_path=ARTIFACTS / "streamlit-team-b.log") as b:
        yield a, b, project
    from fer_core.relabel.database import PostgresDatabase
    PostgresDatabase(pg_url, project).drop()
    for log in ("a", "b"):
        assert "Traceback" not in (ARTIFACTS / f"streamlit-team-{log}.log").read_text()


def relabel_as(browser, url: str, user: str, project: str):
    """A new browser context (its own cookies: one person) signed in as `user` on the Relabel page of `project`."""
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(url + "/Relabel")
    wait_until_idle(page)
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(f"{user}-secret-pw")
    page.get_by_role("button", name="Login").click()
    wait_until_idle(page)
    box = page.get_by_label("Project")
    box.fill(project)
    box.press("Enter")
    wait_until_idle(page)
    assert not exception_text(page), exception_text(page)
    return page


def view(page, name: str) -> None:
    page.locator('[data-testid="stRadio"]').first.get_by_text(name, exact=True).click()
    wait_until_idle(page)


def caption(page) -> str:
    return page.locator('[data-testid="stImageCaption"]').first.inner_text().split(" ")[0]


def label_with_key(page, key: str) -> None:
    before = caption(page)
    page.locator("h1").first.click()  # focus out of the text boxes so the key reaches the shortcuts
    page.keyboard.press(key)
    page.wait_for_function("prev => { const c = document.querySelector('[data-testid=\"stImageCaption\"]');"
                           " return c && !c.innerText.startsWith(prev + ' '); }", arg=before, timeout=30000)
    wait_until_idle(page)


def test_two_annotators_blind_k2_on_two_servers_a_reviewer_decides_and_the_export_says_so(two_servers, tmp_path):
    from playwright.sync_api import sync_playwright
    a, b, project = two_servers
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        adm = relabel_as(browser, a, "adm", project)
        view(adm, "Team")
        adm.get_by_role("spinbutton", name="Labels per image (k)").fill("2")
        adm.get_by_text("Blind labelling: annotators").click()
        adm.get_by_role("button", name="Save team settings").click()
        wait_until_idle(adm)
        assert adm.get_by_text("Saved: every annotator").count()

        ann, bea = relabel_as(browser, a, "ann", project), relabel_as(browser, b, "bea", project)
        assert ann.get_by_text("Blind labelling: votes, suggestions").count()
        image = caption(ann)
        assert caption(bea) == image  # the same image for its second label, on the other server
        label_with_key(ann, "4")  # happy
        label_with_key(bea, "7")  # neutral
        assert not exception_text(ann) and not exception_text(bea)

        rev = relabel_as(browser, b, "rev", project)
        view(rev, "Review")
        assert rev.get_by_text("1 image waits for a decision").count()
        table = rev.locator('[data-testid="stDataFrame"]').first
        table.scroll_into_view_if_needed()
        rev.screenshot(path=str(ARTIFACTS / "team-review.png"), full_page=True)
        rev.locator(".st-key-decide_6 button").click()  # neutral, as bea said
        wait_until_idle(rev)
        assert rev.get_by_text(f"Decided {image}").count() and rev.get_by_text("Nothing to review").count()

        view(adm, "Export / import")
        folder = tmp_path / "export"
        adm.get_by_label("Export folder").fill(str(folder))
        adm.get_by_label("Export folder").press("Enter")
        wait_until_idle(adm)
        adm.get_by_role("button", name="Export FER2024 dataset").click()
        wait_until_idle(adm)
        assert not exception_text(adm)
        assert adm.get_by_text("Where each label came from: 1 reviewer").count()
        adm.screenshot(path=str(ARTIFACTS / "team-export.png"), full_page=True)
        browser.close()
    meta = json.loads(next(folder.glob("*.meta.json")).read_text())
    assert meta["policy"] == "resolved" and meta["source_counts"] == {"reviewer": 1}
    assert dict(zip(meta["ids"], meta["label_sources"])) == {image.lstrip("#"): "reviewer"}
