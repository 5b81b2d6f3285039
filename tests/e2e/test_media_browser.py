"""Images in Chromium: attached (button, paste, drop), described, posted, seen live, shown large."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from .conftest import log_in
from .test_live import _connected

pytestmark = pytest.mark.browser

FILE_INPUT = "form.composer [data-attach-input]"

# A PNG drawn in the page and handed to the composer as a paste or a drop would (DataTransfer of a File).
_HAND_OVER = """async ([kind, name]) => {
    const canvas = document.createElement("canvas");
    canvas.width = 480;
    canvas.height = 270;
    const pen = canvas.getContext("2d");
    pen.fillStyle = "#2a6";
    pen.fillRect(0, 0, 480, 270);
    pen.fillStyle = "#fff";
    pen.fillRect(40, 40, 200, 30);
    const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], name, { type: "image/png" }));
    const init = { bubbles: true, cancelable: true };
    if (kind === "paste") {
        const event = new ClipboardEvent("paste", { ...init, clipboardData: transfer });
        document.querySelector("#composer-text").dispatchEvent(event);
        return event.defaultPrevented;
    }
    const form = document.querySelector("form.composer");
    form.dispatchEvent(new DragEvent("dragover", { ...init, dataTransfer: transfer }));
    const dropping = form.classList.contains("dropping");
    const event = new DragEvent("drop", { ...init, dataTransfer: transfer });
    form.dispatchEvent(event);
    return event.defaultPrevented && dropping && !form.classList.contains("dropping");
}"""


def screenshot(name: str = "screenshot.png", size=(1280, 720)) -> dict:
    """Return a PNG that looks like a screenshot, as set_input_files takes a file."""
    image = Image.new("RGB", size, (245, 247, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], 60), fill=(27, 98, 208))
    for row in range(100, size[1] - 40, 50):
        draw.rectangle((60, row, size[0] - 60, row + 30), fill=(60 + row % 120, 160, 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    return {"name": name, "mimeType": "image/png", "buffer": out.getvalue()}


def _uploaded(item) -> None:
    """Wait until an attachment's upload is done: its id is in the form."""
    expect(item.locator("input[name=media_ids]")).to_be_enabled(timeout=10_000)
    expect(item.locator("input[name=media_ids]")).not_to_have_value("")


def test_a_colleague_attaches_a_described_screenshot_that_others_see_live_and_large(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    alice = new_page()
    bob = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(alice, site, "alice")
    log_in(bob, site, "bob")
    bob.goto(f"{site.url}/public")
    _connected(bob)
    bob.evaluate("window.notReloaded = true")

    # The upload is held back until the test lets it go: meanwhile the post button waits.
    held = []
    alice.route("**/media", lambda route: held.append(route))
    add = alice.locator("form.composer [data-attach-button]")
    expect(add).to_be_visible()
    expect(add).to_have_text("Add image")
    alice.set_input_files(FILE_INPUT, [screenshot()])
    item = alice.locator("[data-attachment]")
    expect(item).to_have_count(1)
    expect(item.locator("[data-attachment-state]")).to_have_text("Uploading…")
    alice.fill("#composer-text", "The pipeline after the fix")
    post_button = alice.locator("form.composer button[type=submit]")
    expect(post_button).to_be_disabled()
    assert item.locator("img").evaluate("img => img.src.startsWith('blob:')")  # the local file meanwhile
    while not held:
        alice.wait_for_timeout(50)
    held[0].continue_()
    _uploaded(item)
    expect(post_button).to_be_enabled()
    # Then the server's preview (once loaded, so that nothing flickers).
    expect(item.locator("img")).to_have_attribute("src", re.compile(r"/media/[0-9a-f]{32}/small\.png$"))
    assert item.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    # The description is asked for, and gently reminded of while it is empty.
    field = item.get_by_label("Description (alt text)")
    expect(field).to_have_attribute("placeholder", "Describe the image for people who cannot see it")
    expect(item.locator("[data-attachment-reminder]")).to_be_visible()
    field.fill("Build pipeline: all five stages green")
    expect(item.locator("[data-attachment-reminder]")).to_be_hidden()
    post_button.click()
    alice.wait_for_load_state()

    post = alice.locator("article.post", has_text="The pipeline after the fix")
    image = post.locator(".media-grid.media-1 a[data-lightbox] img")
    expect(image).to_have_attribute("alt", "Build pipeline: all five stages green")
    expect(image).to_have_attribute("width", "560")
    expect(image).to_have_attribute("height", "315")
    expect(post.locator("[data-alt]")).to_have_text("ALT")
    expect(alice.locator("[data-attachment]")).to_have_count(0)  # the composer is empty again

    # The ALT badge shows the description on hover.
    tip = post.locator("[data-alt-text]")
    expect(tip).to_be_hidden()
    post.locator("[data-alt]").hover()
    expect(tip).to_be_visible()
    expect(tip).to_have_text("Build pipeline: all five stages green")
    alice.mouse.move(0, 0)
    expect(tip).to_be_hidden()

    # The lightbox: the original, large, with its description; Escape closes it and focus goes back.
    link = post.locator("a[data-lightbox]")
    link.click()
    dialog = alice.locator("dialog[data-lightbox-dialog]")
    expect(dialog).to_be_visible()
    large = dialog.locator("[data-lightbox-image]")
    expect(large).to_have_attribute("src", link.get_attribute("href") or "")
    expect(dialog.locator("[data-lightbox-caption]")).to_have_text("Build pipeline: all five stages green")
    expect(large).to_have_js_property("complete", True)
    box = large.bounding_box()
    assert box and box["width"] > 560 and abs(box["width"] / box["height"] - 16 / 9) < 0.02, box
    alice.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert link.evaluate("a => document.activeElement === a")
    # By keyboard: Enter on the link opens it, the close button closes it.
    alice.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    assert dialog.locator("[data-lightbox-close]").evaluate("b => document.activeElement === b")
    alice.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    assert link.evaluate("a => document.activeElement === a")

    # Bob, on a phone, saw it arrive live, built as the server draws it.
    live = bob.locator("article.post", has_text="The pipeline after the fix")
    live_image = live.locator(".media-grid.media-1 a[data-lightbox] img")
    expect(live_image).to_have_attribute("alt", "Build pipeline: all five stages green", timeout=5_000)
    assert bob.evaluate("window.notReloaded") is True
    assert live.locator("a[data-lightbox]").get_attribute("href") == link.get_attribute("href")
    assert live_image.get_attribute("width") == "560" and live_image.get_attribute("height") == "315"
    assert live_image.get_attribute("srcset") == image.get_attribute("srcset")
    expect(live_image).to_have_js_property("complete", True)
    assert live_image.evaluate("img => img.naturalWidth > 0")
    shown = live_image.bounding_box()
    assert shown and shown["width"] < 390 and abs(shown["width"] / shown["height"] - 16 / 9) < 0.02, shown
    assert bob.evaluate("document.documentElement.scrollWidth") <= 390
    # A tap on the badge shows the description (no hover on a phone); the lightbox fits the phone.
    live.locator("[data-alt]").tap()
    expect(live.locator("[data-alt-text]")).to_be_visible()
    live.locator("a[data-lightbox]").tap()
    bob_dialog = bob.locator("dialog[data-lightbox-dialog]")
    expect(bob_dialog).to_be_visible()
    expect(live.locator("[data-alt-text]")).to_be_hidden()
    large = bob_dialog.locator("[data-lightbox-image]")
    expect(large).to_have_js_property("complete", True)
    fitted = large.bounding_box()
    assert fitted and fitted["x"] >= 0 and fitted["x"] + fitted["width"] <= 390, fitted
    expect(bob_dialog.locator("[data-lightbox-close]")).to_be_in_viewport()
    # A tap beside the image (above it: the stage centres it) closes it.
    assert fitted["y"] > 120
    bob.mouse.click(195, fitted["y"] - 20)
    expect(bob_dialog).to_be_hidden()

    # An edit changes the text, live, and leaves the images as they are (the edit page has no images).
    live = bob.locator(f"#post-{live.get_attribute('data-post-id')}")
    live_image = live.locator("a[data-lightbox] img")
    alice.locator("article.post", has_text="The pipeline after the fix").locator("a.edit").click()
    expect(alice.locator("#edit [data-attach-button]")).to_have_count(0)
    alice.fill("#edit textarea", "The pipeline after Friday's fix")
    alice.click("#edit button[type=submit]")
    expect(live.locator(".post-text")).to_have_text("The pipeline after Friday's fix", timeout=10_000)
    expect(live.locator("a[data-lightbox] img")).to_have_count(1)
    expect(live_image).to_have_attribute("alt", "Build pipeline: all five stages green")
    assert bob.evaluate("window.notReloaded") is True
    alice.wait_for_url(f"{site.url}/")
    expect(
        alice.locator("article.post", has_text="Friday's fix").locator("a[data-lightbox] img")
    ).to_have_count(1)


def test_paste_drop_the_limit_a_refused_file_and_removing(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    alice = new_page()
    log_in(alice, site, "alice")
    alice.goto(f"{site.url}/")
    items = alice.locator("[data-attachment]")

    assert alice.evaluate(_HAND_OVER, ["paste", "pasted.png"]) is True
    expect(items).to_have_count(1)
    _uploaded(items.nth(0))
    assert alice.evaluate(_HAND_OVER, ["drop", "dropped.png"]) is True
    expect(items).to_have_count(2)
    _uploaded(items.nth(1))
    # Pasted text stays text.
    alice.locator("#composer-text").focus()
    alice.evaluate(
        """() => {
            const transfer = new DataTransfer();
            transfer.setData("text/plain", "hello");
            const init = { bubbles: true, cancelable: true, clipboardData: transfer };
            const event = new ClipboardEvent("paste", init);
            document.querySelector("#composer-text").dispatchEvent(event);
            return event.defaultPrevented;
        }"""
    )
    expect(items).to_have_count(2)

    # What is not an image: the server's reason, beside it, and nothing posted for it.
    alice.set_input_files(FILE_INPUT, [{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"minutes"}])
    refused = items.nth(2)
    expect(refused.locator("[data-attachment-error]")).to_have_text(
        "notes.txt: That is not an image microblog can read: attach a JPEG, PNG, GIF or WebP file."
    )
    expect(refused.locator("input[name=media_ids]")).to_be_disabled()
    expect(refused.locator("textarea")).to_be_hidden()

    # Four at most: three more offered, two taken, and the composer says so.
    alice.set_input_files(FILE_INPUT, [screenshot(f"more-{n}.png", (400, 300)) for n in range(3)])
    expect(items).to_have_count(5)
    expect(alice.locator("[data-attachment-note]")).to_have_text(
        "A post has at most 4 images. 1 image was not added."
    )
    _uploaded(items.nth(3))
    _uploaded(items.nth(4))
    refused.locator("[data-attachment-remove]").click()  # dismissed
    expect(items).to_have_count(4)
    items.nth(3).locator("[data-attachment-remove]").click()  # the last image: focus goes to the one before
    expect(items).to_have_count(3)
    assert items.nth(2).locator("[data-attachment-remove]").evaluate("b => document.activeElement === b")

    items.nth(0).get_by_label("Description (alt text)").fill("Pasted from the clipboard")
    alice.fill("#composer-text", "Three ways in")
    alice.click("form.composer button[type=submit]")
    alice.wait_for_load_state()
    post = alice.locator("article.post", has_text="Three ways in")
    links = post.locator(".media-grid.media-3 a[data-lightbox]")
    expect(links).to_have_count(3)
    expect(links.nth(0).locator("img")).to_have_attribute("alt", "Pasted from the clipboard")
    expect(links.nth(1)).to_have_attribute("aria-label", "Image without a description")
    expect(post.locator("[data-alt]")).to_have_count(1)

    # The lightbox steps through the post's images with the arrow keys.
    links.nth(1).click()
    dialog = alice.locator("dialog[data-lightbox-dialog]")
    expect(dialog.locator("[data-lightbox-count]")).to_have_text("Image 2 of 3")
    expect(dialog.locator("[data-lightbox-caption]")).to_be_hidden()
    alice.keyboard.press("ArrowLeft")
    expect(dialog.locator("[data-lightbox-count]")).to_have_text("Image 1 of 3")
    expect(dialog.locator("[data-lightbox-caption]")).to_have_text("Pasted from the clipboard")
    # A click beside the image closes it.
    alice.mouse.click(5, 450)
    expect(dialog).to_be_hidden()
    assert links.nth(0).evaluate("a => document.activeElement === a")

    # Bob sees the same images when his page loads.
    bob = new_page()
    log_in(bob, site, "bob")
    bob.goto(f"{site.url}/public")
    expect(bob.locator("article.post .media-grid.media-3 img")).to_have_count(3)


def test_the_composer_s_images_speak_norwegian(site, new_page):
    site.create_user("alice")
    alice = new_page(locale="nb-NO")
    log_in(alice, site, "alice")
    expect(alice.locator("form.composer [data-attach-button]")).to_have_text("Legg til bilde")
    alice.set_input_files(FILE_INPUT, [screenshot(f"skjerm-{n}.png", (300, 200)) for n in range(5)])
    expect(alice.locator("[data-attachment-note]")).to_have_text(
        "Et innlegg kan ha høyst 4 bilder. 1 bilde ble ikke lagt til."
    )
    item = alice.locator("[data-attachment]").first
    _uploaded(item)
    expect(item.locator("[data-attachment-reminder]")).to_contain_text("Ingen beskrivelse ennå")
    alice.set_input_files(
        FILE_INPUT, [{"name": "x.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    # Already four: the PDF is not even sent.
    expect(alice.locator("[data-attachment]")).to_have_count(4)
    alice.locator("[data-attachment]").nth(3).locator("[data-attachment-remove]").click()
    alice.set_input_files(
        FILE_INPUT, [{"name": "x.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    refused = alice.locator("[data-attachment]").nth(3).locator("[data-attachment-error]")
    expect(refused).to_contain_text("x.pdf: Det er ikke et bilde microblog kan lese")
