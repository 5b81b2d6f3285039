/* Images in the composer (partials/composer.html): "Add image", a drop onto the composer, or a paste.
 *
 * Each image uploads at once to POST /media (the form's CSRF token, the session's cookie) and shows
 * in the list: the local file while it uploads, then the server's preview; a description field
 * (posted as description_<id>, with a gentle reminder while it is empty: a reminder, never a block),
 * a remove button, and its id in a hidden media_ids field, so that the form posts everything as it
 * always did.  At most `data-max` images; an upload the server refuses shows its reason in place of
 * the image and is not posted.  While an upload runs the post button waits (site.js asks
 * `form.dataset.uploading`).  The items are copies of the server-rendered <template>, filled by
 * DOM methods; the page may also hold uploads it sent back with an error (composer_attachments).
 */
(function () {
  "use strict";
  var _ = window.MicroblogI18n.gettext;
  var ngettext = window.MicroblogI18n.ngettext;
  var made = 0; // numbers the fields of the items made here, for their labels' ids

  function setup(form) {
    var box = form.querySelector("[data-attachments]");
    var template = form.querySelector("template[data-attachment-template]");
    var button = form.querySelector("[data-attach-button]");
    var input = form.querySelector("[data-attach-input]");
    if (!box || !template || !button || !input) return;
    var list = box.querySelector("[data-attachment-list]");
    var note = box.querySelector("[data-attachment-note]");
    var max = Number(box.dataset.max) || 4;
    var maxBytes = Number(box.dataset.maxBytes) || 0;
    var token = form.querySelector("input[name=csrf_token]");

    function items() { return Array.from(list.querySelectorAll("[data-attachment]")); }
    // What counts against the limit: uploads done or under way (a refused one is not posted).
    function held() { return items().filter(function (li) { return !li.hasAttribute("data-failed"); }); }

    function busy() {
      var uploading = items().filter(function (li) { return li.hasAttribute("data-uploading"); }).length;
      form.dataset.uploading = String(uploading);
      form.dispatchEvent(new Event("microblog:attachments")); // site.js: the post button waits for uploads
    }

    function say(text) { note.textContent = text; }

    function remind(li) {
      var field = li.querySelector("[data-attachment-description]");
      var done = !li.hasAttribute("data-uploading") && !li.hasAttribute("data-failed");
      li.querySelector("[data-attachment-reminder]").hidden = !done || field.value.trim() !== "";
    }

    // A refused upload: its reason where the image was; it is not posted, the remove button dismisses it.
    function fail(li, message, name) {
      li.removeAttribute("data-uploading");
      li.setAttribute("data-failed", "");
      var error = li.querySelector("[data-attachment-error]");
      error.textContent = name ? name + ": " + message : message;
      error.hidden = false;
      li.querySelector("[data-attachment-state]").hidden = true;
      li.querySelector("[data-attachment-progress]").hidden = true;
      li.querySelector("[data-attachment-label]").hidden = true;
      li.querySelector("[data-attachment-description]").hidden = true;
      var id = li.querySelector("[data-attachment-id]");
      id.disabled = true;
      id.value = "";
      li.querySelector("[data-attachment-remove]").setAttribute("aria-label", _("Dismiss"));
      li.querySelector("[data-attachment-remove]").title = _("Dismiss");
      forget(li);
      remind(li);
      busy();
    }

    function forget(li) {
      if (li.previewUrl) URL.revokeObjectURL(li.previewUrl);
      li.previewUrl = null;
    }

    // The upload answered with a MediaAttachment: post its id, and show the server's preview once loaded.
    function uploaded(li, attachment) {
      li.removeAttribute("data-uploading");
      li.dataset.mediaId = attachment.id;
      var id = li.querySelector("[data-attachment-id]");
      id.value = attachment.id;
      id.disabled = false;
      var field = li.querySelector("[data-attachment-description]");
      field.name = "description_" + attachment.id;
      li.querySelector("[data-attachment-state]").hidden = true;
      li.querySelector("[data-attachment-progress]").hidden = true;
      var img = li.querySelector("[data-attachment-image]");
      var preview = new Image();
      preview.onload = function () {
        img.src = preview.src;
        forget(li);
      };
      preview.src = new URL(attachment.preview_url, window.location.origin).pathname;
      remind(li);
      busy();
    }

    function reason(request) {
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (error) { answer = null; }
      if (answer && typeof answer.error === "string" && answer.error) return answer.error;
      if (request.status === 413) return _("That was too much to send at once.");
      if (request.status === 0) return _("The upload failed: check the connection and try again.");
      return _("The upload failed. Try again.");
    }

    function upload(li, file) {
      var data = new FormData();
      data.append("file", file, file.name || "image");
      if (token) data.append("csrf_token", token.value);
      // XMLHttpRequest rather than fetch: it reports the upload's progress.
      var request = new XMLHttpRequest();
      li.request = request;
      request.open("POST", box.dataset.uploadUrl);
      request.setRequestHeader("Accept", "application/json");
      var progress = li.querySelector("[data-attachment-progress]");
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
      });
      request.addEventListener("load", function () {
        li.request = null;
        var answer = null;
        try { answer = JSON.parse(request.responseText); } catch (error) { answer = null; }
        if (request.status === 200 && answer && answer.id) uploaded(li, answer);
        else fail(li, reason(request), file.name);
      });
      request.addEventListener("error", function () { li.request = null; fail(li, reason(request), file.name); });
      request.send(data);
    }

    function wire(li) {
      var field = li.querySelector("[data-attachment-description]");
      var label = li.querySelector("[data-attachment-label]");
      if (!field.id) {
        made += 1;
        field.id = "attachment-" + made + "-description";
        label.htmlFor = field.id;
      }
      field.addEventListener("input", function () { remind(li); });
      li.querySelector("[data-attachment-remove]").addEventListener("click", function () { remove(li); });
      remind(li);
    }

    function remove(li) {
      if (li.request) li.request.abort();
      forget(li);
      var all = items();
      var next = all[all.indexOf(li) + 1] || all[all.indexOf(li) - 1];
      li.remove();
      busy();
      say("");
      // Focus stays in the list (on the next image's remove button), or goes back to "Add image".
      (next ? next.querySelector("[data-attachment-remove]") : button).focus();
    }

    function add(file) {
      var li = template.content.firstElementChild.cloneNode(true);
      li.setAttribute("data-uploading", "");
      var img = li.querySelector("[data-attachment-image]");
      img.addEventListener("error", function () { img.hidden = true; }); // not an image: no picture
      li.previewUrl = URL.createObjectURL(file);
      img.src = li.previewUrl;
      li.querySelector("[data-attachment-state]").hidden = false;
      li.querySelector("[data-attachment-progress]").hidden = false;
      wire(li);
      list.appendChild(li);
      if (maxBytes && file.size > maxBytes) {
        fail(li, _("The file is too large: at most %(megabytes)s MB.", { megabytes: Math.floor(maxBytes / 1048576) }), file.name);
        return;
      }
      busy();
      upload(li, file);
    }

    // Take up to the limit, and say what was left out.
    function attach(files) {
      files = Array.from(files || []);
      if (!files.length) return;
      var room = Math.max(0, max - held().length);
      var taken = files.slice(0, room);
      var left = files.length - taken.length;
      say(left ? _("A post has at most %(max)s images.", { max: max }) + " " +
        ngettext("%(num)s image was not added.", "%(num)s images were not added.", left) : "");
      taken.forEach(add);
    }

    button.hidden = false;
    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      attach(input.files);
      input.value = ""; // the same file again is a change again
    });

    function hasFiles(transfer) {
      return !!transfer && Array.prototype.indexOf.call(transfer.types || [], "Files") >= 0;
    }
    form.addEventListener("dragover", function (event) {
      if (!hasFiles(event.dataTransfer)) return; // dragged text goes into the text as usual
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("dropping");
    });
    form.addEventListener("dragleave", function (event) {
      if (!event.relatedTarget || !form.contains(event.relatedTarget)) form.classList.remove("dropping");
    });
    form.addEventListener("drop", function (event) {
      form.classList.remove("dropping");
      if (!hasFiles(event.dataTransfer)) return;
      event.preventDefault();
      attach(event.dataTransfer.files);
    });
    // A pasted screenshot.  What also holds text (cells copied from a spreadsheet come with a picture
    // of themselves) pastes its text, as before.
    form.addEventListener("paste", function (event) {
      var clipboard = event.clipboardData;
      if (!clipboard || !clipboard.files || !clipboard.files.length) return;
      if (Array.prototype.indexOf.call(clipboard.types || [], "text/plain") >= 0) return;
      event.preventDefault();
      attach(clipboard.files);
    });

    items().forEach(wire); // sent back by the server with an error: kept, as they were
    busy();
  }

  document.querySelectorAll("form.composer").forEach(setup);
})();
