"""Each page's main flow in headless Chromium (Debian's ``/usr/bin/chromium`` driven by Selenium through
``/usr/bin/chromedriver``; nothing is downloaded), against a real uvicorn server the test starts itself.

Screenshots of every page are saved to ``$LATENTSTUDIO_SCREENSHOTS`` (default: ``out/screenshots/`` of the
repository): ``soundscape.png``, ``beatbox.png``, ``dj.png``, ``dream.png``, ``perceive.png``, ``seeing.png``,
``gan.png``, ``gallery.png``, ``index.png``. The booth records through Chromium's fake microphone, fed a synthetic beatbox recording.
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip(f"headless browser tests need Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): "
                "apt-get install chromium chromium-driver", allow_module_level=True)
import soundfile as sf  # noqa: E402
from selenium import webdriver  # noqa: E402  (the test extra installs it: a missing selenium is a failure)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from latentstudio.web.app import create_app  # noqa: E402

_spec = importlib.util.spec_from_file_location("_studio", Path(__file__).with_name("_studio.py"))
S = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(S)

SHOTS = Path(os.environ.get("LATENTSTUDIO_SCREENSHOTS", Path(__file__).resolve().parents[2] / "out" / "screenshots"))
TINY_BUDGET = {"small": dict(candidates=4, es_iters=3, grad_steps=8, views=1, population=6, restarts=1,
                             scout_steps=0)}


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    app = create_app(tmp / "data", max_upload_bytes=2_000_000, perceive_budgets=TINY_BUDGET, **S.settings(tmp))
    S.slow_steps(app.state.studio, 0.02)          # a dream the page can cancel mid-run on any machine
    voice = tmp / "voice.wav"
    sf.write(voice, S.voice(0), S.SR, subtype="PCM_16")
    with S.Server(app) as srv:
        srv.tmp, srv.voice = tmp, voice
        yield srv


@pytest.fixture(scope="module")
def browser(studio):
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1400", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={studio.voice}", "--autoplay-policy=no-user-gesture-required",
                "--disable-background-networking", "--no-first-run"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait(driver, cond, timeout=30.0, what="the page"):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        lambda d: cond(d), message=f"waiting for {what}: {error_text(driver)!r}")


def error_text(driver) -> str:
    boxes = driver.find_elements(By.ID, "error")
    return boxes[0].text if boxes else ""


def shoot(driver, name: str) -> Path:
    """The whole page (the window grown to the page's height, up to 4000 px) to ``SHOTS/name.png``."""
    path = SHOTS / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(800, min(4000, int(height) + 140)))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1400)
    assert path.stat().st_size > 1000
    return path


def script_errors(driver) -> list[str]:
    """The page's JavaScript errors since the last call (failed requests with a 4xx answer are expected)."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "the server responded with a status of 4" not in e["message"]]


def open_page(driver, studio, path: str) -> None:
    assert not script_errors(driver)                       # nothing went wrong on the page before
    driver.get(studio.url + path)
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")


def choose_sample(driver, name: str) -> None:
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "select.sample option")) > 1, what="samples")
    Select(driver.find_element(By.CSS_SELECTOR, "select.sample")).select_by_value(name)


def fill(driver, value: str, *, name: str | None = None, css: str | None = None) -> None:
    """Replace the text of the input named ``name`` (or matching ``css``) with ``value``."""
    field = driver.find_element(By.NAME, name) if name else driver.find_element(By.CSS_SELECTOR, css)
    field.clear()
    field.send_keys(value)


def wait_image(driver, element_id: str, *, what: str) -> None:
    """Wait until the ``<img id=element_id>`` exists and has loaded a picture."""
    wait(driver, lambda d: d.execute_script(f"const i = document.getElementById({element_id!r}); "
                                            "return !!i && i.complete && i.naturalWidth > 0"), what=what)


def test_soundscape_explorer(browser, studio):
    open_page(browser, studio, "/soundscape")
    bad = studio.tmp / "notes.png"
    bad.write_text("not a picture")
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(bad))
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: "not an image" in error_text(d), what="the 415 message")
    big = studio.tmp / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3_000_000))
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(big))
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: "upload limit" in error_text(d), what="the 413 message")
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").clear()
    choose_sample(browser, "chelsea")
    fill(browser, "3", name="seconds")
    Select(browser.find_element(By.NAME, "headings")).select_by_visible_text("3")
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#labels li"), what="the teacher's labels")
    assert error_text(browser) == ""
    assert "cat" in browser.find_element(By.ID, "labels").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#matches tr")) == 1 + 3
    wait(browser, lambda d: d.execute_script("return document.getElementById('mix').readyState") >= 1,
         what="the soundscape's audio")
    assert browser.execute_script("return document.getElementById('mix').duration") == pytest.approx(3, abs=0.2)
    # look around the picture: three headings, the slider turns the listener
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-heading") == "1"
    browser.execute_script("const h = document.getElementById('heading'); h.value = 0; "
                           "h.dispatchEvent(new Event('input'))")
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-heading") == "0"
    assert "facing pan -1.00" in browser.find_element(By.ID, "heading-pan").text
    assert "hears:" in browser.find_element(By.ID, "heading-info").text
    shoot(browser, "soundscape")


def test_beatbox_booth_upload_then_microphone(browser, studio):
    open_page(browser, studio, "/beatbox")
    browser.find_element(By.ID, "reset").click()
    wait(browser, lambda d: "0 beat(s)" in d.find_element(By.ID, "turns").text, what="a fresh session")
    browser.find_element(By.ID, "file").send_keys(str(studio.voice))
    browser.find_element(By.ID, "upload").click()
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-turn") == "1",
         what="the first turn")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#hit-table tr.hit")) >= 3
    browser.find_element(By.ID, "play").click()
    wait(browser, lambda d: (d.find_element(By.TAG_NAME, "body").get_attribute("data-playing") or "").endswith(
        "beat_0001.wav"), what="the beat playing (Web Audio)")
    # the second visitor records through the (fake) microphone: MediaRecorder -> WAV -> the booth
    fill(browser, "3", css="#rec-seconds")
    browser.find_element(By.ID, "record").click()
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-turn") == "2",
         what="the recorded turn")
    assert error_text(browser) == ""
    assert len(browser.find_elements(By.CSS_SELECTOR, "#turns .turn")) == 2
    # the looper hands over to the new beat at its loop boundary
    wait(browser, lambda d: (d.find_element(By.TAG_NAME, "body").get_attribute("data-playing") or "").endswith(
        "beat_0002.wav"), what="the new beat taking over")
    assert "kit holds" in browser.find_element(By.ID, "turns").text
    shoot(browser, "beatbox")
    browser.find_element(By.ID, "stop").click()


def test_dj_back_to_back(browser, studio):
    open_page(browser, studio, "/dj")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "button.pick"), what="the record box")
    rows = browser.find_elements(By.CSS_SELECTOR, "#library tr.track")
    assert len(rows) == 3 and "bpm" in browser.find_element(By.ID, "library").text
    browser.find_element(By.CSS_SELECTOR, "button.pick[data-track='01-house-120bpm-Am.wav']").click()
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ai"), what="the AI's answer")
    turns = browser.find_elements(By.CSS_SELECTOR, "#turns li")
    assert len(turns) == 2 and "you" in turns[0].text and "AI" in turns[1].text
    assert "tempo" in turns[1].text and "key" in turns[1].text
    wait(browser, lambda d: d.execute_script("return document.getElementById('mix').currentTime") > 2.0,
         what="the mix playing")
    # the human plays the last track; no track is left for the AI; the longer mix goes on from where it was
    browser.find_element(By.CSS_SELECTOR, "button.pick[data-track='03-halftime-62bpm-C.wav']").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#turns li")) == 3, what="the third turn")
    assert "Every track has been played" in browser.find_element(By.ID, "set").text
    resumed = wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-resumed-at"),
                   what="the new mix going on, not from its start")
    assert float(resumed) >= 2.0
    assert browser.execute_script("return document.getElementById('mix').currentTime") >= float(resumed)
    shoot(browser, "dj")


def test_dream_with_progress_cancel_and_a_bad_layer(browser, studio):
    open_page(browser, studio, "/dream")
    choose_sample(browser, "coffee")
    layer = browser.find_element(By.NAME, "layer")
    layer.send_keys("no.such.layer")
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: "no.such.layer" in error_text(d), what="the bad layer's message")
    layer.clear()
    fill(browser, "3", name="octaves")
    fill(browser, "50", name="steps")
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#job .cancel"), what="the progress bar")
    browser.find_element(By.CSS_SELECTOR, "#job .cancel").click()
    wait(browser, lambda d: "cancelled" in error_text(d), what="the cancellation")
    fill(browser, "2", name="octaves")
    fill(browser, "3", name="steps")
    browser.find_element(By.ID, "go").click()
    wait_image(browser, "dreamed", what="the dream")
    assert browser.find_element(By.CSS_SELECTOR, "#job progress").get_attribute("value") == "1"
    assert "deepdream(6)" in browser.find_element(By.ID, "result").text
    shoot(browser, "dream")


def test_perceive(browser, studio):
    open_page(browser, studio, "/perceive")
    fill(browser, "no such class xyz", name="target")
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: "no such class xyz" in error_text(d), what="the unknown class message")
    fill(browser, "goldfish", name="target")
    fill(browser, "3", name="strokes")
    browser.find_element(By.ID, "go").click()
    wait_image(browser, "drawing", what="the drawing")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#judges tr")) == 1 + 3
    shoot(browser, "perceive")



def test_learning_to_see(browser, studio):
    open_page(browser, studio, "/seeing")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "input.model")) >= 2, what="the shipped models")
    bad = studio.tmp / "notes.png"
    bad.write_text("not a picture")
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(bad))
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: "not an image" in error_text(d), what="the 415 message")
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").clear()
    choose_sample(browser, "chelsea")
    for box in browser.find_elements(By.CSS_SELECTOR, "input.model"):
        if box.get_attribute("value") in ("flowers", "water") and not box.is_selected():
            box.click()
    Select(browser.find_element(By.ID, "pre")).select_by_visible_text("canny")
    fill(browser, "64", name="size")
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "figure.seen")) == 2, what="two worlds")
    for model in ("flowers", "water"):
        wait(browser, lambda d: d.execute_script(
            f"const i = document.querySelector('figure[data-model={model}] img'); "
            "return !!i && i.complete && i.naturalWidth > 0"), what=f"the picture re-seen as {model}")
    assert error_text(browser) == "" and "pre-filter canny" in browser.find_element(By.ID, "result").text
    shoot(browser, "seeing")


def test_gan_walks(browser, studio):
    open_page(browser, studio, "/gan")
    wait(browser, lambda d: d.find_element(By.ID, "model").text == "gan", what="the generator's name")
    browser.find_element(By.ID, "music").send_keys(str(studio.tmp / "notes.png"))
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: "not audio" in error_text(d), what="the 415 message")
    browser.find_element(By.ID, "music").clear()
    Select(browser.find_element(By.ID, "mode")).select_by_value("loop")
    for name, value in (("keys", "3"), ("seconds", "1.5"), ("fps", "8"), ("size", "32")):
        fill(browser, value, name=name)
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: d.find_elements(By.ID, "walk"), what="the loop")
    assert "12 frames" in browser.find_element(By.ID, "result").text
    wait(browser, lambda d: d.execute_script("return document.getElementById('walk').readyState") >= 1,
         what="the loop's video")
    assert browser.execute_script("return document.getElementById('walk').duration") == pytest.approx(1.5, abs=0.2)
    Select(browser.find_element(By.ID, "mode")).select_by_value("grid")
    assert browser.find_element(By.NAME, "n").is_displayed()
    assert not browser.find_element(By.NAME, "fps").is_displayed()
    fill(browser, "4", name="n")
    browser.find_element(By.ID, "go").click()
    wait_image(browser, "grid", what="the sample grid")
    assert error_text(browser) == "" and "4 pictures" in browser.find_element(By.ID, "result").text
    shoot(browser, "gan")


def test_latent_map_and_film(browser, studio):
    open_page(browser, studio, "/latent")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#source option")) == 3, what="the sources")
    Select(browser.find_element(By.ID, "source")).select_by_value("fortunes")
    fill(browser, "50", name="steps")
    fill(browser, "2", name="seconds")
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: d.find_elements(By.ID, "pulse"), what="the film")
    wait_image(browser, "map", what="the latent map")
    wait(browser, lambda d: d.execute_script("return document.getElementById('pulse').readyState") >= 1,
         what="the film's video")
    assert browser.execute_script("return document.getElementById('pulse').duration") == pytest.approx(2.0, abs=0.2)
    assert error_text(browser) == "" and "trained here" in browser.find_element(By.ID, "result").text
    wait(browser, lambda d: d.find_element(By.ID, "models").text == "fortunes-s0-50", what="the trained VAE listed")
    Select(browser.find_element(By.ID, "film")).select_by_value("false")
    assert not browser.find_element(By.ID, "music").is_displayed()
    shoot(browser, "latent")


def test_funk_dreams_play(browser, studio):
    open_page(browser, studio, "/funk")
    wait(browser, lambda d: d.find_element(By.ID, "model").text == "shipped SampleVAE", what="the VAE's name")
    Select(browser.find_element(By.ID, "drum")).select_by_value("snare")
    fill(browser, "2", name="n")
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#result audio")) == 2, what="two dreams")
    wait(browser, lambda d: d.execute_script(
        "return [...document.querySelectorAll('#result audio')].every(a => (a.load(), true))"), what="players")
    text = browser.find_element(By.ID, "result").text
    assert error_text(browser) == "" and "snare_00" in text and "heard as its class" in text
    Select(browser.find_element(By.ID, "mode")).select_by_value("reimagine")
    assert browser.find_element(By.ID, "file").is_displayed() and not browser.find_element(By.NAME, "n").is_displayed()
    shoot(browser, "funk")


def test_gallery_and_home(browser, studio):
    open_page(browser, studio, "/gallery")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "figure.item")) >= 5, what="the gallery")
    text = browser.find_element(By.ID, "items").text
    for command in ("latentstudio studio soundscape", "beatbox session", "latentstudio studio dj",
                    "latentstudio studio dream", "latentstudio studio perceive", "latentstudio studio seeing",
                    "latentstudio studio gan walk", "latentstudio studio gan sample", "latentstudio studio funk dream",
                    "latentstudio studio latent landscape", "latentstudio studio latent pulsations"):
        assert command in text
    first = browser.find_element(By.CSS_SELECTOR, "figure.item details")
    first.find_element(By.TAG_NAME, "summary").click()
    wait(browser, lambda d: '"command"' in first.find_element(By.TAG_NAME, "pre").text, what="a provenance record")
    shoot(browser, "gallery")
    # a picture of the gallery goes back in: dream on the drawing Perception Engines made
    drawing = next(a for a in browser.find_elements(By.CSS_SELECTOR, "a.reuse")
                   if "perceive%2F" in a.get_attribute("href"))
    drawing.click()
    wait(browser, lambda d: d.find_elements(By.ID, "go"), what="the dream page")
    fill(browser, "2", name="steps")
    browser.find_element(By.ID, "go").click()
    wait_image(browser, "dreamed", what="the dream")
    assert error_text(browser) == ""
    open_page(browser, studio, "/")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#jobs tr")) > 1, what="the job list")
    shoot(browser, "index")
    assert not script_errors(browser)
    assert shutil.which("chromium") or os.path.exists(CHROMIUM)
