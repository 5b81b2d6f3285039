/* @mention and #tag completion in the composer.  The textarea stays a multi-line text box (ARIA
 * allows no combobox role on a <textarea>); it says it completes from a list (aria-autocomplete,
 * aria-controls: the list under it, partials/composer.html), and the option being chosen is its
 * aria-activedescendant, so focus stays in the text.
 *
 * Arrow keys move, Enter or Tab chooses, Escape closes, a click chooses.  Choosing
 * replaces the word being typed with "@handle " or "#tag ".  The server decides what
 * may be offered (GET /suggestions/accounts and /suggestions/tags, read only); requests
 * wait for a pause in typing, and an answer to an earlier question is dropped.  Every
 * text shown comes from the page (translated there), never from this file.
 */
(function () {
  "use strict";
  // A mention or tag being typed just before the caret; the characters before the sigil are
  // the ones microblog.text accepts before one (so "me@home" or "a#b" start nothing).
  var MENTION = /(^|[^\p{L}\p{N}_.@/-])@([A-Za-z0-9_.-]{1,30})$/u;
  var TAG = /(^|[^\p{L}\p{N}_&/#-])#([\p{L}\p{N}_-]{1,100})$/u;
  var REST = { "@": /^[A-Za-z0-9_.-]*/, "#": /^[\p{L}\p{N}_-]*/u };
  var DELAY = 150;

  function setup(form) {
    var textarea = form.querySelector("textarea[name=text]");
    var box = form.querySelector("[data-suggest]");
    if (!textarea || !box || typeof fetch !== "function") return;
    var list = box.querySelector("[role=listbox]");
    var empty = box.querySelector("[data-suggest-empty]");
    var timer = null;
    var asked = 0; // the number of the latest question; answers to older ones are dropped
    var controller = null;
    var options = [];
    var active = -1;

    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);

    // The word being typed at the caret: its sigil, what follows it, and where it lies.
    function wordAtCaret() {
      if (textarea.selectionStart !== textarea.selectionEnd) return null;
      var caret = textarea.selectionEnd;
      var before = textarea.value.slice(0, caret);
      var sigil = "@";
      var match = MENTION.exec(before);
      if (!match) {
        sigil = "#";
        match = TAG.exec(before);
      }
      if (!match) return null;
      var rest = REST[sigil].exec(textarea.value.slice(caret))[0]; // the caret may be inside the word
      return { sigil: sigil, prefix: match[2], start: caret - match[2].length - 1, end: caret + rest.length };
    }

    function close() {
      clearTimeout(timer);
      asked += 1;
      if (controller) controller.abort();
      box.hidden = true;
      list.replaceChildren();
      options = [];
      active = -1;
      textarea.removeAttribute("aria-activedescendant");
    }

    function schedule() {
      clearTimeout(timer);
      var word = wordAtCaret();
      if (!word) {
        close();
        return;
      }
      var question = ++asked;
      timer = setTimeout(function () { ask(word, question); }, DELAY);
    }

    function ask(word, question) {
      if (controller) controller.abort();
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var url = new URL(word.sigil === "@" ? box.dataset.accountsUrl : box.dataset.tagsUrl, window.location.origin);
      url.searchParams.set("q", word.prefix);
      fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined,
      }).then(function (response) {
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.json();
      }).then(function (answer) {
        if (question !== asked) return;
        show(word.sigil, (word.sigil === "@" ? answer.accounts : answer.tags) || []);
      }).catch(function () {
        if (question === asked) close(); // logged out, offline: type on without help
      });
    }

    function text(className, value) {
      var span = document.createElement("span");
      span.className = className;
      span.textContent = value;
      return span;
    }

    function option(sigil, item, index) {
      var li = document.createElement("li");
      li.id = list.id + "-" + index;
      li.className = "suggest-option";
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      if (sigil === "@") {
        li.dataset.insert = "@" + item.username;
        var img = document.createElement("img");
        img.className = "avatar avatar-sm";
        img.src = item.avatar;
        img.alt = "";
        img.width = 26;
        img.height = 26;
        li.append(img, text("suggest-name", item.name), text("handle", "@" + item.username));
        if (item.community) li.append(text("pill", box.dataset.communityLabel || ""));
      } else {
        li.dataset.insert = "#" + item;
        li.append(text("suggest-name hashtag", "#" + item));
      }
      return li;
    }

    function show(sigil, items) {
      options = items.map(function (item, index) { return option(sigil, item, index); });
      list.replaceChildren.apply(list, options);
      box.hidden = false;
      list.hidden = options.length === 0;
      empty.hidden = options.length > 0;
      select(options.length ? 0 : -1);
      var rect = box.getBoundingClientRect();
      var bottom = rect.top + (options.length ? list.offsetHeight : empty.offsetHeight) + 8;
      if (bottom > window.innerHeight) window.scrollBy({ top: bottom - window.innerHeight });
    }

    function select(index) {
      active = index;
      options.forEach(function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index < 0) {
        textarea.removeAttribute("aria-activedescendant");
        return;
      }
      textarea.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }

    function choose(li) {
      var word = wordAtCaret();
      close();
      if (!word) return;
      textarea.focus();
      textarea.setRangeText(li.dataset.insert + " ", word.start, word.end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true })); // the counter counts it
    }

    textarea.addEventListener("input", schedule);
    textarea.addEventListener("blur", close);
    textarea.addEventListener("click", function () { if (!box.hidden && !wordAtCaret()) close(); });
    textarea.addEventListener("keydown", function (event) {
      if (box.hidden || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
      if (event.key === "Escape") {
        close();
        event.stopPropagation(); // the Escape was for the list, not for the page
      } else if (!options.length) {
        return;
      } else if (event.key === "ArrowDown") {
        select((active + 1) % options.length);
      } else if (event.key === "ArrowUp") {
        select((active - 1 + options.length) % options.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && active >= 0) {
        choose(options[active]);
      } else {
        return;
      }
      event.preventDefault();
    });
    // Clicking an option must not take focus from the text (that would close the list first).
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      var li = event.target.closest("[role=option]");
      if (li) choose(li);
    });
    list.addEventListener("mousemove", function (event) {
      var li = event.target.closest("[role=option]");
      if (li && options.indexOf(li) !== active) select(options.indexOf(li));
    });
  }

  document.querySelectorAll("form.composer").forEach(setup);
})();
