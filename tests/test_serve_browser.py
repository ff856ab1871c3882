"""`translation serve`'s page in a real browser: headless Chromium (Debian's /usr/bin/chromium, which `.ci/run`
installs) driven by Playwright, against the real command serving tiny real runs (tests/serve_fixtures.py).

It draws on the canvas, translates by the button and live, uploads a file of an odd size, sees errors in words,
uses StarGAN's target controls, paints a label map with a class of the palette, and saves a screenshot:
$TMPDIR/translation-serve.png, and SERVE_SCREENSHOT=PATH (README's docs/serve.png) as well. SERVE_RUNS=FOLDER
serves that folder instead of the tiny runs (the demos' runs for README's screenshot: `SERVE_RUNS=demo_output/
checkpoints SERVE_SCREENSHOT=docs/serve.png pytest tests/test_serve_browser.py -k screenshot`; a label-map run
and SERVE_LABELS_SCREENSHOT=docs/serve_labels.png for the label map's, -k label_map_screenshot).
"""
from __future__ import annotations

import io
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from serve_fixtures import cyclegan_run, gan_run, inpaint_run, label_map_run, pix2pix_run, stargan_run

CHROMIUM = Path("/usr/bin/chromium")
# no GPU, no sandbox (containers), and nothing fetched from the network by the browser itself
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "page-test-token"
START_TIMEOUT_S = 120  # the server's first line: torch imports and the checkpoints' descriptions
WAIT_MS = 30_000       # one translation of a tiny model, with the machine busy with other tests


def _playwright():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser test runs Debian's chromium, which .ci/run installs "
                    "(apt-get install -y --no-install-recommends chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser test needs Playwright's Python package: pip install -e '.[test]'")
    return sync_playwright


# ---------- the server and the browser, one each for the module ----------

class Server:
    """`python -m translation serve FOLDER --port 0 --token T` as a subprocess; `url` is the page's address with
    the token in its fragment, as the command prints it."""

    def __init__(self, folder: Path):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "translation", "serve", str(folder), "--port", "0", "--token", TOKEN],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        found: queue.Queue = queue.Queue()
        # the reader keeps draining the pipe (access log lines) so the server never blocks on a full one
        threading.Thread(target=self._read, args=(found,), daemon=True).start()
        try:
            url = found.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            url = None
        if url is None:
            self.stop()
            pytest.fail("translation serve printed no URL:\n" + "".join(self.lines))
        self.url = url if "#token=" in url else f"{url.split('#')[0]}#token={TOKEN}"

    def _read(self, found: queue.Queue) -> None:
        announced = False
        for line in self.process.stdout:
            self.lines.append(line)
            match = re.search(r"(http://\S+)", line)
            if match and not announced:
                announced = True
                found.put(match.group(1))
        if not announced:
            found.put(None)  # the server ended first: its output says why

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    if os.environ.get("SERVE_RUNS"):
        return Path(os.environ["SERVE_RUNS"])
    root = tmp_path_factory.mktemp("serve_browser")
    pix2pix_run(root / "runs", root / "data")
    stargan_run(root / "runs", root / "data")  # multi-label: Black_Hair/Blond_Hair exclusive, Young
    cyclegan_run(root / "runs", root / "data")  # AtoB and BtoA
    gan_run(root / "runs", root / "data")  # cgan: classes dark and light
    label_map_run(root / "runs", root / "data")  # pix2pixHD on label maps of 5 classes
    label_map_run(root / "runs", root / "data", name="instances", instance=True)
    inpaint_run(root / "runs", root / "data")  # glcic: fills holes with colours of its own
    return root / "runs"


@pytest.fixture(scope="module")
def server(runs):
    server = Server(runs)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with _playwright()() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    """A fresh page on the served URL, its models listed; a page error (an exception in app.js, a refused
    script or style) fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    page.goto(server.url)
    page.wait_for_selector("[data-testid=model-select]:not([disabled])")
    yield page
    context.close()
    assert not problems, problems


# ---------- what the tests do on the page ----------

def models(page) -> list[dict]:
    return page.evaluate("() => state.models")


def choose(page, model: str) -> dict:
    """Select the first served model of this `model` name ("pix2pix", "stargan"); its entry."""
    entry = next((m for m in models(page) if m["model"] == model), None)
    assert entry is not None, f"no {model} model served: {[m['id'] for m in models(page)]}"
    page.get_by_test_id("model-select").select_option(entry["id"])
    return entry


def set_live(page, on: bool) -> None:
    if page.locator("#live").is_visible():
        page.locator("#live").set_checked(on)


def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Mouse strokes through points given as fractions of the canvas's displayed box."""
    box = page.get_by_test_id("input-canvas").bounding_box()
    at = lambda x, y: (box["x"] + x * box["width"], box["y"] + y * box["height"])
    for stroke in strokes:
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(*point), steps=3)
        page.mouse.up()


SHOE = [[(0.15, 0.70), (0.20, 0.45), (0.35, 0.40), (0.55, 0.55), (0.85, 0.62), (0.88, 0.75), (0.15, 0.75),
         (0.15, 0.70)], [(0.30, 0.42), (0.33, 0.25), (0.45, 0.25), (0.48, 0.48)]]


def bottle(n: int = 24) -> list[list[tuple[float, float]]]:
    """A closed bottle outline, one stroke (the pix2pix demo's photos are bottles, vases and fruit)."""
    def half(t):  # t from the neck's top (0) to the base (1): the half-width and the height
        shoulder = min(1.0, max(0.0, (t - 0.3) / 0.15)) ** 0.7
        return 0.07 + 0.16 * shoulder, 0.12 + 0.76 * t

    points = [half(i / n) for i in range(n + 1)]
    right = [(0.5 + w, y) for w, y in points]
    left = [(0.5 - w, y) for w, y in reversed(points)]
    return [right + left + [right[0]]]


def translate(page, click: bool = True) -> dict:
    """Click translate (or not: live) and wait for a new output image; its size and how many colours it has.
    Fails with the page's error text when one shows instead."""
    before = page.get_by_test_id("output-image").get_attribute("src")
    if click:
        page.get_by_test_id("translate-button").click()
    page.wait_for_function("""before => {
        const img = document.querySelector('[data-testid=output-image]');
        const error = document.querySelector('[data-testid=error]');
        return !error.hidden || (!img.hidden && img.src !== before && img.complete && img.naturalWidth > 0);
    }""", arg=before)
    error = page.get_by_test_id("error")
    assert error.is_hidden(), f"the page shows an error: {error.text_content()}"
    return page.get_by_test_id("output-image").evaluate("""img => {
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set();
        for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        return {width: img.naturalWidth, height: img.naturalHeight, colours: colours.size};
    }""")


def canvas_size(page) -> tuple[int, int]:
    return tuple(page.get_by_test_id("input-canvas").evaluate("c => [c.width, c.height]"))


def dark_pixels(page) -> int:
    return page.get_by_test_id("input-canvas").evaluate("""c => {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) n += data[i] < 128;
        return n;
    }""")


def error_after(page, action) -> str:
    """Run `action` and wait for the error element to show a new text; that text."""
    before = page.get_by_test_id("error").text_content()
    action()
    page.wait_for_function("""before => {
        const error = document.querySelector('[data-testid=error]');
        return !error.hidden && error.textContent !== before;
    }""", arg=before)
    return page.get_by_test_id("error").text_content()


def png(width: int, height: int) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


# ---------- the tests ----------

def test_the_page_lists_the_runs_and_describes_the_chosen_one(page):
    entry = choose(page, "pix2pix")
    assert page.locator("#info-model").text_content() == "pix2pix"
    assert entry["file"] in page.locator("#info-file").text_content()
    chips = page.locator("#info-chips").text_content()
    assert f"step {entry['step']}" in chips and f"size multiple {entry['size_multiple']}" in chips
    if entry["thumbnail"]:  # the training sheet, fetched with the token: a real image
        page.wait_for_selector("#info-thumb-link:not([hidden])")
        assert page.locator("#info-thumb").evaluate("img => img.naturalWidth") > 0
        page.locator("#info-thumb-link").click()  # full size, over the page
        assert page.locator("#sheet-full").is_visible()
        page.keyboard.press("Escape")
        assert page.locator("#sheet-full").is_hidden()
    # the canvas starts at the model's training size
    assert canvas_size(page) == (entry["image_size"] or 256,) * 2


def test_a_drawing_translates_at_the_canvas_size(page):
    choose(page, "pix2pix")
    set_live(page, False)
    draw(page, SHOE)
    assert dark_pixels(page) > 0  # the strokes are on the canvas, black on white
    output = translate(page)
    assert (output["width"], output["height"]) == canvas_size(page)
    assert output["colours"] > 1, "the translated image is blank (one colour)"
    assert "ms" in page.locator("#output-meta").text_content()  # the time it took
    assert page.locator("#download").get_attribute("href").startswith("blob:")


def test_undo_and_clear_change_the_canvas(page):
    choose(page, "pix2pix")
    set_live(page, False)
    draw(page, SHOE[:1])
    one = dark_pixels(page)
    draw(page, SHOE[1:])
    assert dark_pixels(page) > one
    page.locator("#undo").click()
    assert dark_pixels(page) == one
    page.locator("#clear").click()
    assert dark_pixels(page) == 0
    page.locator("#undo").click()
    assert dark_pixels(page) == one


def test_live_drawing_keeps_one_request_in_flight_and_sends_the_newest_drawing_after_it(page):
    """Strokes while a live request is in flight send nothing; when it ends, one request carries the newest
    canvas (never a queue of the strokes in between). The server's answers are held back to make that window."""
    entry = choose(page, "pix2pix")
    assert entry["small"], "the tiny pix2pix should be offered live translation"
    held = []
    page.route("**/api/translate*", lambda route: held.append(route))
    set_live(page, True)
    with page.expect_request("**/api/translate*"):
        draw(page, SHOE[:1])  # no click: the pause after the stroke sends it
    draw(page, SHOE[1:])
    draw(page, bottle())
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Waiting')")
    assert len(held) == 1, f"{len(held)} requests in flight at once"
    with page.expect_request("**/api/translate*") as second:
        held[0].continue_()
    sent = np.asarray(Image.open(io.BytesIO(second.value.post_data_buffer)))
    assert (sent[..., 0] < 128).sum() == dark_pixels(page)  # the canvas as it is now, every stroke on it
    held[1].continue_()
    output = translate(page, click=False)
    assert (output["width"], output["height"]) == canvas_size(page)
    assert page.evaluate("() => [state.busy, state.again]") == [False, False] and len(held) == 2


def test_an_uploaded_image_translates_at_its_own_odd_size(page):
    choose(page, "pix2pix")
    set_live(page, False)
    page.get_by_test_id("file-input").set_input_files(
        {"name": "odd.png", "mimeType": "image/png", "buffer": png(45, 37)})
    assert page.locator("#upload").is_visible()  # the page switched to the image input
    output = translate(page)
    assert (output["width"], output["height"]) == (45, 37)
    assert output["colours"] > 1


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_a_dropped_or_pasted_image_is_the_input(page, how):
    """The browser's own drop and paste events, carrying a file as a user's would."""
    choose(page, "pix2pix")
    set_live(page, False)
    page.evaluate("""([how, bytes]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], "photo.png", {type: "image/png"}));
        const target = document.querySelector(how === "drop" ? "#input-pane" : "body");
        const event = how === "drop" ? new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true})
            : new ClipboardEvent("paste", {clipboardData: transfer, bubbles: true, cancelable: true});
        target.dispatchEvent(event);
    }""", [how, list(png(33, 21))])
    page.wait_for_selector("#input-image:not([hidden])")
    output = translate(page)
    assert (output["width"], output["height"]) == (33, 21)


def test_errors_show_in_words(page):
    choose(page, "pix2pix")
    set_live(page, False)
    page.get_by_test_id("file-input").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image at all"})
    text = error_after(page, lambda: page.get_by_test_id("translate-button").click())
    assert re.match(r"400\b.*: \S.{10,}", text), text  # the status and the server's sentence

    page.get_by_test_id("file-input").set_input_files({"name": "ok.png", "mimeType": "image/png",
                                                       "buffer": png(20, 20)})
    page.route("**/api/translate*", lambda route: route.abort())  # the server gone
    text = error_after(page, lambda: page.get_by_test_id("translate-button").click())
    assert "Could not reach the server" in text
    page.unroute("**/api/translate*")

    page.route("**/api/translate*", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                 body="<p>a proxy's page</p>"))
    text = error_after(page, lambda: page.get_by_test_id("translate-button").click())
    assert "text/html instead of an image" in text


def test_a_page_without_the_token_says_it_needs_one(browser, server):
    page = browser.new_page()
    page.goto(server.url.split("#")[0])
    page.wait_for_selector("[data-testid=error]:not([hidden])")
    text = page.get_by_test_id("error").text_content()
    page.close()
    assert "401" in text and "token" in text


def test_stargan_targets_are_checkboxes_and_exclusive_groups_radio_buttons(page):
    entry = choose(page, "stargan")
    assert entry["label_kind"] == "multi_label" and entry["exclusive"] == [["Black_Hair", "Blond_Hair"]]
    assert page.locator("#ctl-targets").is_visible() and page.locator("#ctl-direction").is_hidden()
    hair = page.locator("#target-choices input[type=radio]")
    assert hair.evaluate_all("inputs => inputs.map(i => i.value)") == ["", "Black_Hair", "Blond_Hair"]
    young = page.locator("#target-choices input[type=checkbox][value=Young]")
    page.locator("#target-choices input[value=Blond_Hair]").check()
    assert not page.locator("#target-choices input[value=Black_Hair]").is_checked()  # one hair colour
    young.check()
    set_live(page, False)
    draw(page, SHOE)
    with page.expect_request("**/api/translate*") as sent:
        output = translate(page)
    assert "to=Blond_Hair%2CYoung" in sent.value.url
    assert (output["width"], output["height"]) == canvas_size(page)
    assert output["colours"] > 1

    page.locator("#target-all").check()  # every domain: a sheet, the input first
    assert young.is_disabled()
    with page.expect_request("**/api/translate*") as sent:
        sheet = translate(page)
    assert "to=all" in sent.value.url
    assert sheet["width"] > canvas_size(page)[0]


def test_cyclegan_translates_the_way_chosen(page):
    choose(page, "cyclegan")
    ways = page.locator("#direction-choices input[type=radio]")
    assert ways.evaluate_all("inputs => inputs.map(i => i.value)") == ["AtoB", "BtoA"]
    assert page.locator("#ctl-targets").is_hidden()
    page.locator("#direction-choices input[value=BtoA]").check()
    set_live(page, False)
    draw(page, SHOE)
    with page.expect_request("**/api/translate*") as sent:
        output = translate(page)
    assert "direction=BtoA" in sent.value.url
    assert (output["width"], output["height"]) == canvas_size(page) and output["colours"] > 1


def test_a_noise_gan_samples_a_grid_with_its_seed_count_and_class(page):
    entry = choose(page, "cgan")
    assert page.locator("#drawing").is_hidden() and page.locator("#ctl-sample").is_visible()
    assert page.get_by_test_id("translate-button").text_content() == "Sample"
    page.locator("#sample-seed").fill("3")
    page.locator("#sample-n").fill("4")
    page.locator("#sample-label").select_option(entry["classes"][1])
    with page.expect_request("**/api/sample*") as sent:
        grid = translate(page)
    assert "seed=3" in sent.value.url and "n=4" in sent.value.url and f"label={entry['classes'][1]}" in sent.value.url
    assert grid["width"] >= 2 * entry["image_size"] and grid["colours"] > 1  # a grid of several images


def label_model(page, instance: bool = False) -> dict:
    """The first served label-map model trained without --instance (or, `instance`, with it)."""
    entry = next((m for m in models(page) if m.get("reads") == "label_map" and m["instance"] == instance), None)
    assert entry is not None, f"no such label-map model served: {[m['id'] for m in models(page)]}"
    page.get_by_test_id("model-select").select_option(entry["id"])
    return entry


def canvas_colours(page) -> dict[str, int]:
    """The canvas's pixels counted by colour (#rrggbb)."""
    return page.get_by_test_id("input-canvas").evaluate("""c => {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const counts = {};
        for (let i = 0; i < data.length; i += 4) {
            const hex = '#' + [0, 1, 2].map(k => data[i + k].toString(16).padStart(2, '0')).join('');
            counts[hex] = (counts[hex] || 0) + 1;
        }
        return counts;
    }""")


def test_a_label_map_is_painted_with_a_class_of_the_palette_and_posted_as_its_ids(page):
    entry = label_model(page)
    colours = entry["label_colours"]
    assert page.get_by_test_id("palette").locator(".swatch").count() == entry["label_nc"]
    assert page.locator("#tool-eraser").is_hidden() and page.locator("#clear").text_content() == "Fill"
    set_live(page, False)
    assert canvas_colours(page) == {colours[0]: canvas_size(page)[0] * canvas_size(page)[1]}  # class 0 to start
    page.get_by_test_id("palette").locator(".swatch[data-id='3']").click()
    assert page.get_by_test_id("class-id").input_value() == "3"
    draw(page, SHOE)
    painted = canvas_colours(page)
    assert set(painted) == {colours[0], colours[3]}, painted  # whole ids: no blended edge
    bodies = []  # read where the request is routed: Chromium reports a Blob's body there only
    page.route("**/api/translate*", lambda route: (bodies.append(route.request.post_data_buffer), route.continue_()))
    output = translate(page)
    posted = Image.open(io.BytesIO(bodies[0]))
    assert (posted.mode, posted.size) == ("L", canvas_size(page))  # 8-bit gray: the class ids
    ids = np.asarray(posted)
    assert set(np.unique(ids)) == {0, 3} and (ids == 3).sum() == painted[colours[3]]
    assert (output["width"], output["height"]) == canvas_size(page) and output["colours"] > 1

    page.locator("#undo").click()  # the strokes one by one, back to class 0 everywhere
    page.locator("#undo").click()
    assert set(canvas_colours(page)) == {colours[0]}
    page.get_by_test_id("class-id").fill("4")
    page.get_by_test_id("class-id").dispatch_event("change")
    page.locator("#clear").click()  # Fill: the whole map one class
    assert set(canvas_colours(page)) == {colours[4]}

    choose(page, "pix2pix")  # an image model again: its own canvas and tools, as before
    assert page.get_by_test_id("palette").is_hidden() and page.locator("#tool-eraser").is_visible()
    assert page.locator("#clear").text_content() == "Clear" and set(canvas_colours(page)) == {"#ffffff"}


def test_an_uploaded_label_map_shows_in_class_colours_paints_over_and_a_colour_image_is_refused(page):
    entry = label_model(page)
    set_live(page, False)
    ids = np.random.default_rng(2).integers(0, entry["label_nc"], (21, 34)).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(ids, mode="L").save(out, format="PNG")
    page.get_by_test_id("file-input").set_input_files({"name": "map.png", "mimeType": "image/png",
                                                       "buffer": out.getvalue()})
    page.wait_for_selector("#input-image:not([hidden])")
    shown = page.locator("#input-image").evaluate("""img => {
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        return Array.from(ctx.getImageData(0, 0, c.width, c.height).data);
    }""")
    rgb = np.asarray(shown, np.uint8).reshape(21, 34, 4)[..., :3]
    table = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in entry["label_colours"]], np.uint8)
    assert np.array_equal(rgb, table[ids])
    assert "class colours" in page.locator("#input-meta").text_content()
    output = translate(page)
    assert (output["width"], output["height"]) == (34, 21)

    page.get_by_test_id("paint-over").click()  # the map into the canvas, at its size, to be painted over
    page.wait_for_function("() => !document.querySelector('#drawing').hidden")
    assert canvas_size(page) == (34, 21)
    pixels = page.get_by_test_id("input-canvas").evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)")
    assert np.array_equal(np.asarray(pixels, np.uint8).reshape(21, 34, 4)[..., :3], table[ids])
    page.get_by_test_id("palette").locator(".swatch[data-id='1']").click()
    draw(page, [[(0.1, 0.5), (0.9, 0.5)]])
    bodies = []
    page.route("**/api/translate*", lambda route: (bodies.append(route.request.post_data_buffer), route.continue_()))
    output = translate(page)
    posted = np.asarray(Image.open(io.BytesIO(bodies[0])))
    changed = posted != ids
    assert changed.any() and (posted[changed] == 1).all() and (output["width"], output["height"]) == (34, 21)
    page.unroute("**/api/translate*")

    text = error_after(page, lambda: page.get_by_test_id("file-input").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": png(20, 20)}))
    assert text.startswith("400") and "not a map of integer ids in one channel" in text, text


def test_the_page_writes_label_maps_as_gray_pngs_the_server_reads(page):
    """8 bits up to 256 classes, 16 above; with the browser's deflate, and without it (stored blocks: a 16-bit
    map of 301 x 150 is more than one 64 KB block)."""
    import base64

    from translation.data.label_maps import decode_id_map

    cases = [(8, True), (16, True), (16, False)]
    written = page.evaluate("""async cases => {
        const saved = window.CompressionStream;
        const out = [];
        for (const [bits, deflate] of cases) {
            const ids = (bits === 8 ? new Uint8Array(150 * 301) : new Uint16Array(150 * 301))
                .map((_, i) => (i * 7919) % 2 ** bits);
            if (!deflate) window.CompressionStream = undefined;
            try {
                const blob = await LabelMaps.grayPng(ids, 301, 150, bits);
                const bytes = new Uint8Array(await blob.arrayBuffer());
                out.push([blob.type, btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))]);
            } finally { window.CompressionStream = saved; }
        }
        return out;
    }""", cases)
    for (bits, deflate), (kind, data) in zip(cases, written):
        png_bytes = base64.b64decode(data)
        assert (png_bytes[41:43] == b"\x78\x01") != deflate  # IDAT's zlib header: 01 is the stored blocks' own
        expected = (np.arange(150 * 301) * 7919 % 2 ** bits).reshape(150, 301)
        assert kind == "image/png" and Image.open(io.BytesIO(png_bytes)).mode == ("L" if bits == 8 else "I;16")
        assert np.array_equal(decode_id_map(png_bytes)[..., 0], expected), bits


def test_an_instance_model_is_painted_as_a_label_map_and_takes_an_optional_instance_map_with_an_upload(page):
    entry = label_model(page, instance=True)
    set_live(page, False)
    assert not entry["unavailable"] and page.get_by_test_id("translate-button").is_enabled()
    assert "class boundaries stand in" in page.get_by_test_id("instance-note").text_content()
    page.get_by_test_id("palette").locator(".swatch[data-id='2']").click()
    draw(page, SHOE)
    sent = []  # (content type, body) where the request is routed: Chromium reports a Blob's body there only
    page.route("**/api/translate*", lambda route: (sent.append((route.request.headers.get("content-type"),
                                                                route.request.post_data_buffer)), route.continue_()))
    output = translate(page)
    posted = Image.open(io.BytesIO(sent[0][1]))  # the painted ids alone: the server takes their boundaries
    assert posted.mode == "L" and set(np.unique(np.asarray(posted))) == {0, 2}
    assert (output["width"], output["height"]) == canvas_size(page) and output["colours"] > 1
    assert "instances: the class boundaries" in page.locator("#output-meta").text_content()

    ids = np.kron(np.array([[1, 2], [3, 1]]), np.ones((11, 17), int))  # 34 x 22
    files = {}
    for name, values, mode in (("map_labelIds.png", ids, "L"), ("map_instanceIds.png", ids * 1000 + 7, "I;16")):
        out = io.BytesIO()
        Image.fromarray(values.astype(np.uint16 if mode == "I;16" else np.uint8)).save(out, format="PNG")
        files[name] = {"name": name, "mimeType": "image/png", "buffer": out.getvalue()}
    page.get_by_test_id("file-input").set_input_files(files["map_labelIds.png"])
    page.wait_for_selector("#input-image:not([hidden])")
    page.get_by_test_id("instance-input").set_input_files(files["map_instanceIds.png"])
    assert "map_instanceIds.png" in page.get_by_test_id("instance-meta").text_content()
    output = translate(page)
    kind, body = sent[-1]
    assert kind.startswith("multipart/form-data") and b'name="label"' in body and b'name="instance"' in body
    assert (output["width"], output["height"]) == (34, 22)
    assert "instances" not in page.locator("#output-meta").text_content()  # its own instance map, sent
    page.unroute("**/api/translate*")


def holes(page) -> np.ndarray:
    """The mask painted on the page (1 = fill), height x width."""
    width, height = canvas_size(page)
    return np.array(page.evaluate("() => Array.from(state.inpaint.mask)"), np.uint8).reshape(height, width)


def output_pixels(page) -> np.ndarray:
    """The output image's RGB samples as the page holds them (a PNG without colour chunks: drawn unchanged)."""
    width, height, data = page.get_by_test_id("output-image").evaluate("""img => {
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        return [c.width, c.height, Array.from(ctx.getImageData(0, 0, c.width, c.height).data)];
    }""")
    return np.asarray(data, np.uint8).reshape(height, width, 4)[..., :3]


def test_holes_painted_over_an_image_are_filled_and_every_other_pixel_is_the_images(page):
    entry = choose(page, "glcic")
    assert entry["inpaints"] and page.locator("#mode-draw").is_hidden()  # nothing to paint on yet
    set_live(page, False)
    source = png(45, 31)  # odd: padded to the net's multiple and cropped back
    page.get_by_test_id("file-input").set_input_files({"name": "photo.png", "mimeType": "image/png", "buffer": source})
    page.wait_for_function("() => state.inpaint !== null && state.input === 'draw'")
    assert canvas_size(page) == (45, 31) and page.locator("#mode-draw").text_content() == "Holes"
    assert "Paint the holes to fill first" in error_after(page, lambda: page.get_by_test_id("translate-button").click())
    draw(page, [[(0.2, 0.3), (0.7, 0.6)]])
    one = holes(page).sum()
    draw(page, [[(0.8, 0.1), (0.9, 0.9)]])
    assert holes(page).sum() > one > 0
    page.locator("#undo").click()
    assert holes(page).sum() == one
    page.locator("#clear").click()
    assert holes(page).sum() == 0
    page.locator("#undo").click()
    mask = holes(page)
    assert mask.sum() == one
    translate(page)
    out, image = output_pixels(page), np.asarray(Image.open(io.BytesIO(source)))
    assert out.shape == image.shape
    assert np.array_equal(out[mask == 0], image[mask == 0])  # the posted file's own samples, every one
    assert not np.array_equal(out[mask == 1], image[mask == 1])


def test_screenshot(page):
    """The page as README shows it: a drawing on the first pix2pix model, translated."""
    choose(page, "pix2pix")
    draw(page, bottle())  # live, as a user draws: the click then waits for or follows the live request
    output = translate(page)
    assert output["colours"] > 1
    page.wait_for_function("() => !state.busy && !state.again")  # the last answer shown, no spinner
    page.mouse.move(0, 0)  # no hover highlight in the picture
    assert save_screenshot(page, "translation-serve.png", "SERVE_SCREENSHOT").stat().st_size < 150_000


def save_screenshot(page, name: str, variable: str) -> Path:
    """The page saved to $TMPDIR/NAME, and also where the environment variable says (README's copy); returns the
    last path written."""
    paths = [Path(tempfile.gettempdir()) / name]
    if os.environ.get(variable):
        paths.append(Path(os.environ[variable]))
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a palette PNG: the page is a few flat colours and two small pictures, and README's copy stays small
        shot.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return paths[-1]


def test_label_map_screenshot(page):
    """README's picture of a label map painted from the palette and translated: sky (class 0), a mountain range,
    grass, a lake with a shore and trees, as the classes of tools/label_scenes.py's scenes. Saved to
    $TMPDIR/translation-serve-labels.png, and where SERVE_LABELS_SCREENSHOT says (docs/serve_labels.png, with
    SERVE_RUNS a folder holding a run trained on those scenes); the tiny test run has fewer classes, whose
    ids the strokes are clamped to."""
    entry = label_model(page)
    set_live(page, False)
    page.locator("#canvas-size").select_option("128")  # README's model trained at 64 px: twice that reads better
    scale = canvas_size(page)[0] / 64

    def paint(label: int, width: int, strokes) -> None:
        page.get_by_test_id("palette").locator(f".swatch[data-id='{min(label, entry['label_nc'] - 1)}']").click()
        page.locator("#stroke-width").fill(str(max(1, round(width * scale))))
        draw(page, strokes)

    def ridge(x: float) -> float:
        return 0.42 - 0.2 * abs(np.sin(x * 7.0 + 0.6)) * (0.6 + 0.4 * np.cos(x * 3.0))

    def ellipse(cx: float, cy: float, rx: float, ry: float, step: float) -> list:
        rows = np.arange(cy - ry + step / 2, cy + ry, step)
        return [[(cx - rx * np.sqrt(max(0.0, 1 - ((y - cy) / ry) ** 2)), y),
                 (cx + rx * np.sqrt(max(0.0, 1 - ((y - cy) / ry) ** 2)), y)] for y in rows]

    paint(1, 4, [[(x, ridge(x)), (x, 0.56)] for x in np.linspace(0, 1, 33)])
    paint(2, 8, [[(0.0, y), (1.0, y)] for y in (0.6, 0.68, 0.76, 0.84, 0.92, 0.985)])
    paint(5, 3, ellipse(0.42, 0.8, 0.27, 0.1, 0.03))
    paint(3, 3, ellipse(0.42, 0.8, 0.22, 0.075, 0.03))
    paint(4, 6, [[(x, y)] for x, y in ((0.82, 0.66), (0.9, 0.74), (0.08, 0.7), (0.16, 0.95), (0.76, 0.92))])
    output = translate(page)
    assert output["colours"] > 1
    page.mouse.move(0, 0)
    assert save_screenshot(page, "translation-serve-labels.png", "SERVE_LABELS_SCREENSHOT").stat().st_size < 200_000
