/* Images in feeds: the lightbox and the "ALT" badges (partials/post.html render_media).
 *
 * An image's link leads to its original; here a click on it (or Enter) shows the original in the
 * page's <dialog data-lightbox-dialog> (templates/base.html) instead, as large as the window allows
 * and never larger than it is, its preview standing in while it loads, its description as the
 * caption.  Escape, the close button or a click beside the image closes it, and focus goes back to
 * the link (of the image shown last); the arrows (buttons and keys) step through the post's other images.  A click with a
 * modifier key, or a middle click, still opens the link as a link.  Everything is delegated, so
 * images of posts that arrive live work too.
 *
 * The "ALT" badge shows its image's description on hover and focus by CSS alone; a click (a tap,
 * where there is no hover) keeps it shown until Escape, another click or a click elsewhere.
 */
(function () {
  "use strict";
  var _ = window.MicroblogI18n.gettext;
  var dialog = document.querySelector("dialog[data-lightbox-dialog]");

  function closeBadges(except) {
    document.querySelectorAll("[data-alt][aria-expanded=true]").forEach(function (badge) {
      if (badge !== except) badge.setAttribute("aria-expanded", "false");
    });
  }

  document.addEventListener("click", function (event) {
    var badge = event.target.closest && event.target.closest("[data-alt]");
    closeBadges(badge);
    if (badge) badge.setAttribute("aria-expanded", badge.getAttribute("aria-expanded") === "true" ? "false" : "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (document.querySelector("[data-alt][aria-expanded=true]")) { closeBadges(null); return; }
    // Shown by hover or focus alone: hidden without moving either (WCAG 1.4.13, dismissible).
    var shown = document.querySelector("[data-alt]:hover, [data-alt]:focus-visible");
    if (shown) shown.dataset.dismissed = "";
  });
  ["focusout", "mouseout"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var badge = event.target.closest && event.target.closest("[data-alt]");
      if (badge) delete badge.dataset.dismissed;
    });
  });

  if (!dialog) return;
  var image = dialog.querySelector("[data-lightbox-image]");
  var stage = dialog.querySelector("[data-lightbox-stage]");
  var caption = dialog.querySelector("[data-lightbox-caption]");
  var count = dialog.querySelector("[data-lightbox-count]");
  var original = dialog.querySelector("[data-lightbox-original]");
  var steps = dialog.querySelectorAll("[data-lightbox-step]");
  var links = [];
  var index = 0;
  var returnTo = null;

  // The largest size within the stage that keeps the image's shape and never enlarges it.
  function fit() {
    var link = links[index];
    if (!link || !dialog.open) return;
    var width = Number(link.dataset.width) || 1;
    var height = Number(link.dataset.height) || 1;
    var scale = Math.min(1, stage.clientWidth / width, stage.clientHeight / height);
    image.style.width = Math.max(1, Math.floor(width * scale)) + "px";
    image.style.height = Math.max(1, Math.floor(height * scale)) + "px";
  }

  function show(at) {
    index = (at + links.length) % links.length;
    var link = links[index];
    var thumbnail = link.querySelector("img");
    var description = thumbnail ? thumbnail.getAttribute("alt") : "";
    // The preview (loaded already) stands in, blurred by its scale, until the original has arrived.
    image.style.backgroundImage = thumbnail ? 'url("' + (thumbnail.currentSrc || thumbnail.src).replace(/["\\]/g, "\\$&") + '")' : "";
    image.removeAttribute("src");
    image.src = link.getAttribute("href");
    image.alt = description || _("Image without a description");
    caption.textContent = description || "";
    caption.hidden = !description;
    original.setAttribute("href", link.getAttribute("href"));
    count.textContent = links.length > 1 ? _("Image %(num)s of %(count)s", { num: index + 1, count: links.length }) : "";
    steps.forEach(function (button) { button.hidden = links.length < 2; });
    fit();
  }

  function open(link) {
    var grid = link.closest("[data-media]");
    links = grid ? Array.from(grid.querySelectorAll("a[data-lightbox]")) : [link];
    returnTo = link;
    closeBadges(null);
    dialog.showModal();
    show(Math.max(0, links.indexOf(link)));
    dialog.querySelector("[data-lightbox-close]").focus();
  }

  image.addEventListener("load", function () { image.style.backgroundImage = ""; });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-lightbox]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    open(link);
  });

  dialog.querySelector("[data-lightbox-close]").addEventListener("click", function () { dialog.close(); });
  steps.forEach(function (button) {
    button.addEventListener("click", function () { show(index + Number(button.dataset.lightboxStep)); });
  });
  // A click beside the image (the dark backdrop, the empty stage) closes it; on the image, caption or buttons not.
  dialog.addEventListener("click", function (event) {
    if (event.target.closest("img, button, a, figcaption")) return;
    dialog.close();
  });
  dialog.addEventListener("keydown", function (event) {
    if (links.length < 2 || event.target.closest("a")) return;
    if (event.key === "ArrowRight") { show(index + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { show(index - 1); event.preventDefault(); }
  });
  dialog.addEventListener("close", function () {
    image.removeAttribute("src"); // a large original is not kept decoded behind a closed dialog
    image.style.backgroundImage = "";
    // Back to the link of the image shown last (the reader may have stepped to another of the post's).
    var back = links[index] && links[index].isConnected ? links[index] : returnTo;
    if (back && back.isConnected) back.focus();
    returnTo = null;
  });
  window.addEventListener("resize", fit);
})();
