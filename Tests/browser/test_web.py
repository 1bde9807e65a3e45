"""The web page in a real headless browser (Debian's chromium and chromedriver, driven by
Selenium): sign in, preview and upload through the form and watch the bar reach 100%, download
the results, cancel a running job, see a malformed file's line-numbered error, sign in as
another user and see none of the first user's jobs, and submit a job with the keyboard alone.
Screenshots of each page at desktop and phone width go to SCREENSHOTS (git-ignored).

The server's address and two users' keys come from SLUICE_URL, ALICE_KEY and BOB_KEY
(scripts/system-test.sh); the server routes jobs to a slow fake provider by default and to the
built-in one when the form picks provider "builtin".
"""

import json
import os
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get("SLUICE_URL", "http://127.0.0.1:8080")
ALICE = os.environ["ALICE_KEY"]
BOB = os.environ["BOB_KEY"]
SHOTS = os.environ.get("SCREENSHOTS", "out/screenshots")
FILES = tempfile.mkdtemp(prefix="sluice-browser-")
DESKTOP = (1280, 900)
PHONE = (390, 844)
FINAL = {"completed", "completed with errors", "failed", "cancelled", "expired"}


def write(name, text):
    path = os.path.join(FILES, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(*DESKTOP)
    return driver


# What chromedriver says when a node or script context it was reading went away with the page.
RELOADED = ("does not belong to the document", "no such execution context", "Execution context was destroyed",
            "document unloaded", "Cannot find context with specified id")


def read_through_reloads(condition):
    """A live page reloads itself when its job's status changes: a read that met the old page going away
    is just not true yet, and the wait reads again; any other browser error still fails the test."""
    def attempt(driver):
        try:
            return condition(driver)
        except StaleElementReferenceException:
            return False
        except WebDriverException as error:
            if any(words in (error.msg or "") for words in RELOADED):
                return False
            raise
    return attempt


def wait(driver, condition, seconds=60, what="the page"):
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(read_through_reloads(condition), f"waiting for {what}")


def shoot(driver, name):
    """Saves the page at desktop and at phone width, and checks nothing spills sideways on a phone."""
    os.makedirs(SHOTS, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        driver.set_window_size(*size)
        if label == "phone":
            wait(driver, lambda d: d.execute_script("return window.innerWidth") <= PHONE[0], what="the phone width")
        driver.save_screenshot(os.path.join(SHOTS, f"{name}-{label}.png"))
        if label == "phone":
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name}: the page is {overflow}px wider than a phone"
    driver.set_window_size(*DESKTOP)


def no_policy_violations(driver):
    """The Content-Security-Policy forbids inline code: the console must not report it blocked anything."""
    problems = [e["message"] for e in driver.get_log("browser")
                if "Content Security Policy" in e["message"] or e["level"] == "SEVERE"]
    assert not problems, problems


def sign_in(driver, key, screenshot=None):
    driver.get(BASE + "/")
    wait(driver, lambda d: "/sign-in" in d.current_url, what="the sign-in page")
    if screenshot:
        shoot(driver, screenshot)
    field = driver.find_element(By.ID, "key")
    assert field.get_attribute("type") == "password"
    field.send_keys(key)
    field.send_keys(Keys.ENTER)
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "h1") and d.find_element(By.TAG_NAME, "h1").text == "Jobs",
         what="the jobs list")
    # The key is nowhere the page or the browser keeps things.
    assert key not in driver.page_source
    assert key not in driver.current_url
    stored = driver.execute_script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie")
    assert key not in stored
    assert "sluice_session" not in stored, "the session cookie must be HttpOnly"


def sign_out(driver):
    driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
    wait(driver, lambda d: "/sign-in" in d.current_url, what="signed out")


def job_status(driver):
    """The status the server rendered the page with, so its buttons are that status's: the live script
    may show a newer one in the heading for the moment before the page reloads."""
    return driver.find_element(By.CSS_SELECTOR, "[data-job]").get_attribute("data-status")


def test_upload_preview_and_watch_the_bar(driver):
    rows = "".join(f"{n},Review number {n}: {'great' if n % 2 else 'awful'} product\n" for n in range(60))
    path = write("reviews.csv", "id,text\n" + rows)
    driver.get(BASE + "/jobs/new")
    shoot(driver, "new-job")
    driver.find_element(By.ID, "file").send_keys(path)
    Select(driver.find_element(By.ID, "preset")).select_by_value("text-classify")
    Select(driver.find_element(By.ID, "provider")).select_by_value("builtin")
    driver.find_element(By.ID, "name").send_keys("browser reviews")
    driver.find_element(By.CSS_SELECTOR, "[data-preview-button]").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-preview-target] table"), what="the preview")
    preview = driver.find_element(By.CSS_SELECTOR, "[data-preview-target]").text
    assert "Review number 0: awful product" in preview, preview
    assert "The prompt the first row would get" in preview
    assert "/jobs/new" in driver.current_url, "the preview stays on the form"
    shoot(driver, "new-job-preview")
    driver.find_element(By.CSS_SELECTOR, "button.primary[type=submit]").click()
    wait(driver, lambda d: "/jobs/job_" in d.current_url, what="the job page")
    wait(driver, lambda d: job_status(d) == "completed", what="the job to complete")
    bar = driver.find_element(By.CSS_SELECTOR, "[data-job] progress")
    assert bar.get_attribute("aria-label") == "Progress of browser reviews"
    assert bar.get_attribute("value") == bar.get_attribute("max") == "60", (bar.get_attribute("value"), bar.get_attribute("max"))
    assert driver.find_element(By.CSS_SELECTOR, "[data-job] .bar [data-field=percent]").text == "100%"
    assert driver.find_element(By.CSS_SELECTOR, "svg.chart").get_attribute("aria-label").startswith("Peak")
    shoot(driver, "job-completed")
    return driver.current_url.rsplit("/", 1)[1]


def test_download_results(driver, job_id):
    links = {a.text: a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".downloads a")}
    assert set(links) >= {"CSV", "JSONL", "Excel"}, links
    fetched = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        Promise.all([arguments[0], arguments[1]].map(u => fetch(u).then(r => r.text()))).then(done, e => done(String(e)));""",
        links["CSV"], links["JSONL"])
    csv_text, jsonl_text = fetched
    lines = [line for line in csv_text.splitlines() if line]
    assert len(lines) == 61, len(lines)
    assert lines[0].startswith("id,text,sentiment,confidence,keywords,sluice_status"), lines[0]
    assert all(",succeeded," in line for line in lines[1:]), lines[1]
    records = [json.loads(line) for line in jsonl_text.splitlines() if line]
    assert [r["index"] for r in records] == list(range(60))
    assert all(r["status"] == "succeeded" and r["output"]["sentiment"] in ("positive", "neutral", "negative") for r in records)


def test_cancel_a_running_job(driver):
    path = write("many.csv", "id,text\n" + "".join(f"{n},slow row {n}\n" for n in range(400)))
    driver.get(BASE + "/jobs/new")
    driver.find_element(By.ID, "file").send_keys(path)
    Select(driver.find_element(By.ID, "preset")).select_by_value("text-classify")
    driver.find_element(By.ID, "name").send_keys("to cancel")
    driver.find_element(By.CSS_SELECTOR, "button.primary[type=submit]").click()
    wait(driver, lambda d: job_status(d) == "running", what="the job to run")
    shoot(driver, "job-running")
    assert not driver.find_elements(By.CSS_SELECTOR, "form[action$='/resume']"), "no Resume while running"
    driver.find_element(By.CSS_SELECTOR, "form[action$='/cancel'] button").click()
    wait(driver, lambda d: job_status(d) == "cancelled", what="the job to be cancelled")
    assert not driver.find_elements(By.CSS_SELECTOR, "form[action$='/cancel']"), "no Cancel once cancelled"
    succeeded = int(driver.find_element(By.CSS_SELECTOR, "[data-field=succeeded]").text)
    cancelled = int(driver.find_element(By.CSS_SELECTOR, "[data-field=cancelled]").text)
    assert cancelled > 0 and succeeded + cancelled <= 400, (succeeded, cancelled)
    shoot(driver, "job-cancelled")


def test_malformed_file(driver):
    path = write("broken.csv", 'id,text\n1,fine\n2,"never closed\n3,after\n')
    driver.get(BASE + "/jobs/new")
    driver.find_element(By.ID, "file").send_keys(path)
    Select(driver.find_element(By.ID, "preset")).select_by_value("text-classify")
    driver.find_element(By.CSS_SELECTOR, "[data-preview-button]").click()
    problem = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-preview-problem]"), what="the preview's problem")
    assert "line 3" in problem[0].text, problem[0].text
    driver.find_element(By.CSS_SELECTOR, "button.primary[type=submit]").click()
    wait(driver, lambda d: "/jobs/job_" in d.current_url and job_status(d) == "failed", what="the job to fail")
    errors = driver.find_element(By.CSS_SELECTOR, "[data-errors]").text
    assert "line 3, column 3: unclosed quote" in errors, errors
    shoot(driver, "job-failed")


def test_keyboard_only_submission(driver):
    path = write("keyboard.csv", "id,text\n1,typed without a mouse\n2,still no mouse\n")
    driver.get(BASE + "/jobs/new")
    # Choosing a file opens the system's dialog, which a test cannot drive; everything else is keys.
    driver.find_element(By.ID, "file").send_keys(path)
    driver.execute_script("document.activeElement.blur(); document.body.focus();")
    reached = []
    actions = ActionChains(driver)
    for _ in range(40):
        actions.send_keys(Keys.TAB).perform()
        active = driver.switch_to.active_element
        ident = active.get_attribute("id") or active.get_attribute("name") or active.text
        reached.append(ident)
        outline = driver.execute_script("const s = getComputedStyle(arguments[0]); return s.outlineStyle + ' ' + s.outlineWidth;", active)
        assert not outline.startswith("none"), f"{ident} has no visible focus ({outline})"
        if ident == "preset":
            active.send_keys("text-classify")
        if ident == "provider":
            # Pick the built-in provider from the keyboard: type its name into the focused select.
            active.send_keys("builtin")
        if active.tag_name == "button" and active.text == "Start job":
            break
    else:
        raise AssertionError(f"Start job was never reached by Tab: {reached}")
    for needed in ("file", "name", "mode-preset", "preset", "provider", "model"):
        assert needed in reached, f"{needed} is not reachable by Tab: {reached}"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(driver, lambda d: "/jobs/job_" in d.current_url and job_status(d) == "completed", what="the keyboard job to complete")


def test_another_user_sees_none_of_them(driver, names):
    sign_out(driver)
    sign_in(driver, BOB)
    listing = driver.find_element(By.TAG_NAME, "main").text
    for name in names:
        assert name not in listing, f"bob sees {name}"
    assert "No jobs yet" in listing
    shoot(driver, "jobs-other-user")


def main():
    driver = browser()
    try:
        steps = []
        sign_in(driver, ALICE, screenshot="sign-in")
        job_id = test_upload_preview_and_watch_the_bar(driver)
        steps.append("upload, preview, bar to 100%")
        test_download_results(driver, job_id)
        steps.append("download CSV and JSONL")
        test_cancel_a_running_job(driver)
        steps.append("cancel a running job")
        test_malformed_file(driver)
        steps.append("malformed file: line-numbered error")
        test_keyboard_only_submission(driver)
        steps.append("keyboard-only submission")
        driver.get(BASE + "/")
        listing = driver.find_element(By.TAG_NAME, "main").text
        assert "browser reviews" in listing and "to cancel" in listing, listing
        shoot(driver, "jobs")
        no_policy_violations(driver)
        test_another_user_sees_none_of_them(driver, ["browser reviews", "to cancel", "broken.csv", "keyboard.csv"])
        steps.append("another user sees none of them")
        driver.get(BASE + "/sign-in")
        for step in steps:
            print(f"ok: {step}")
        print(f"screenshots in {SHOTS}")
    except Exception:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, "failure.png"))
        print(f"failed on {driver.current_url}; screenshot {SHOTS}/failure.png", file=sys.stderr)
        raise
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
