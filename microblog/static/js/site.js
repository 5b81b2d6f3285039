/* Conveniences on top of server-rendered pages: the composer's live counter,
 * Ctrl/Cmd+Enter to post, confirmation before deleting, auto-submitting filters. */
/* The like button's accessible name says what it does, with the count ("Like (3 likes)"); live.js uses it too. */
window.MicroblogLikes = {
  label: function (button, count) {
    if (!button) return;
    var i18n = window.MicroblogI18n;
    var action = button.getAttribute("aria-pressed") === "true" ? i18n.gettext("Unlike") : i18n.gettext("Like");
    count = Number(count) || 0;
    button.title = action;
    button.setAttribute(
      "aria-label",
      count ? i18n.ngettext("%(action)s (%(num)s like)", "%(action)s (%(num)s likes)", count, { action: action }) : action
    );
  },
};

(function () {
  "use strict";
  var _ = window.MicroblogI18n.gettext;
  var ngettext = window.MicroblogI18n.ngettext;

  function setupComposer(form) {
    var textarea = form.querySelector("textarea[name=text]");
    var counter = form.querySelector("[data-counter]");
    var button = form.querySelector("button[type=submit]");
    if (!textarea || !counter) return;
    function update() {
      var check = MicroblogText.checkPost(textarea.value);
      var remaining = MicroblogText.MAX - check.length;
      counter.textContent = String(remaining);
      counter.dataset.remaining = String(remaining);
      counter.classList.toggle("warn", remaining <= 20 && remaining >= 0);
      counter.classList.toggle("over", remaining < 0);
      counter.title = check.reason === "control"
        ? _("The post contains control characters")
        : ngettext("%(num)s character left", "%(num)s characters left", remaining);
      // An image still uploading (attachments.js) holds the post back: its id is not in the form yet.
      button.disabled = !check.valid || Number(form.dataset.uploading || 0) > 0;
    }
    textarea.addEventListener("input", update);
    form.addEventListener("microblog:attachments", update);
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !button.disabled) {
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", function () {
      button.disabled = true; // no double posts on a double click
    });
    update();
    window.addEventListener("pageshow", update); // back button: re-enable after a submit
    if (textarea.value && document.activeElement === document.body && form.id === "reply") {
      textarea.focus();
      textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    }
  }

  document.querySelectorAll("form.composer").forEach(setupComposer);

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // The notifications page (and a saved search's, and home's marker) marks what it shows as seen with a
  // POST (a GET never changes state).
  document.querySelectorAll("form[data-mark-seen]").forEach(function (form) {
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) return;
      return response.json().then(function (answer) {
        var badge = document.querySelector(
          form.dataset.markSeen === "signals" ? "[data-signals-badge]" : "[data-notification-badge]"
        );
        if (badge && typeof answer.unread === "number") {  // home's marker has no badge
          badge.dataset.count = String(answer.unread);
          badge.textContent = String(answer.unread);
          badge.hidden = answer.unread === 0;
        }
        // The Signals page's list of searches: each one's count as it is now (read ones lose theirs).
        Object.keys(answer.searches || {}).forEach(function (id) {
          var count = answer.searches[id];
          var shown = document.querySelector('[data-saved-search="' + id + '"] .badge-count');
          if (shown && !count) shown.remove();
          else if (shown) shown.textContent = count >= 100 ? count + "+" : String(count);
        });
        form.hidden = true;
      });
    });
  });

  // A button's form posted in place, its answer applied by `apply`; the form still works without
  // JavaScript (reloading the page), and a refused or failed post falls back to it, so the page says why.
  function postInPlace(form, button, apply) {
    if (button.disabled) return;
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (answer) {
      form.action = answer.action;
      apply(answer);
      button.disabled = false;
    }).catch(function () {
      form.submit(); // logged out, rate-limited, the pin limit, offline: let the page say so
    });
  }

  // Like and unlike, bookmark and pin in place. Delegated, so posts that arrive live work too.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button;
    if (form.matches("form[data-like]")) {
      button = form.querySelector("button.like");
      event.preventDefault();
      postInPlace(form, button, function (answer) {
        button.setAttribute("aria-pressed", answer.liked ? "true" : "false");
        button.classList.toggle("liked", answer.liked);
        button.querySelector("[data-like-icon]").textContent = answer.liked ? "\u2665" : "\u2661";
        button.querySelector("[data-like-count]").textContent = answer.likes ? String(answer.likes) : "";
        window.MicroblogLikes.label(button, answer.likes);
      });
    } else if (form.matches("form[data-toggle]")) {
      // Bookmark and pin: the server answers the button's new state, action and label.
      button = form.querySelector("button.toggle");
      event.preventDefault();
      postInPlace(form, button, function (answer) {
        button.setAttribute("aria-pressed", answer.on ? "true" : "false");
        button.title = answer.label;
        button.setAttribute("aria-label", answer.label);
      });
    }
  });

  // The account menu (a <details>, so it opens without JavaScript) closes on Escape or a click elsewhere.
  document.querySelectorAll("details[data-menu]").forEach(function (menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });

  document.querySelectorAll("input[data-select-on-click]").forEach(function (input) {
    input.addEventListener("click", function () { input.select(); });
  });

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
