/* A team's inbox, live.
 *
 * services.inbox announces every new item and every change of state as an `inbox.update` event on
 * the members' user streams.  The page fetches the item as the server renders it
 * (/teams/<handle>/inbox/items/<id>, the same macro as the page's items, with the filters' counts),
 * parses it inertly and puts it in place: an item shown is replaced (what was being typed into it is
 * kept), a new one that fits the filter is placed by id where this page covers it.  A polite
 * aria-live note says what changed.  Without JavaScript the page works the same, a reload behind.
 */
(function () {
  "use strict";
  var _ = window.MicroblogI18n.gettext;
  var root = document.querySelector("[data-inbox]");
  var live = window.MicroblogLive;
  if (!root || !live) return;
  var list = root.querySelector("[data-inbox-items]");
  var note = root.querySelector("[data-inbox-note]");
  var empty = root.querySelector("[data-inbox-empty]");
  var me = document.body.dataset.userId;
  var newest = root.dataset.order === "newest";
  var filter = root.dataset.filter;
  var connectedBefore = false;

  function fits(item) {
    var state = item.state;
    if (filter === "all") return true;
    if (filter === "open") return state === "open" || state === "assigned";
    if (filter === "unassigned") return state === "open";
    if (filter === "mine") return state === "assigned" && !!item.assignee && item.assignee.id === me;
    return state === filter;
  }

  function shownItems() { return list.querySelectorAll("article.inbox-item"); }

  // A new item belongs on the first page (newest first) or the last (oldest first), placed by id.
  function insert(el) {
    if (newest ? root.dataset.after : "more" in root.dataset) return false;
    var id = Number(el.dataset.itemId);
    var shown = shownItems();
    var before = null;
    for (var i = 0; i < shown.length; i++) {
      var other = Number(shown[i].dataset.itemId);
      if (newest ? other < id : other > id) { before = shown[i]; break; }
    }
    list.insertBefore(el, before);
    return true;
  }

  // Keep what the member was typing (an answer, a reason) and which part was open, and the focus.
  function carryOver(from, to) {
    from.querySelectorAll("textarea[id], input[type=text][id]").forEach(function (field) {
      var twin = to.querySelector("#" + CSS.escape(field.id));
      if (twin && field.value !== field.defaultValue) twin.value = field.value;
    });
    from.querySelectorAll("details[open]").forEach(function (details) {
      var twin = to.querySelector("details." + (details.className || "").split(" ")[0]);
      if (twin) twin.open = true;
    });
    var focused = document.activeElement;
    return focused && from.contains(focused) && focused.id ? focused.id : null;
  }

  function setCounts(counts) {
    Object.keys(counts).forEach(function (name) {
      var el = root.querySelector('[data-count="' + name + '"]');
      if (el) el.textContent = String(counts[name]);
    });
  }

  function say(text) {
    note.textContent = text;
  }

  function fragmentUrl(id) {
    var url = new URL(
      "/teams/" + encodeURIComponent(root.dataset.team) + "/inbox/items/" + encodeURIComponent(id),
      window.location.origin
    );
    url.searchParams.set("fragment", "1");
    if (filter !== "open") url.searchParams.set("filter", filter);
    if (newest) url.searchParams.set("order", "newest");
    return url;
  }

  function refresh(item) {
    return fetch(fragmentUrl(item.id), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html"); // inert: nothing runs while parsing
        var wrapper = doc.querySelector("[data-inbox-fragment]");
        if (!wrapper) return;
        setCounts(JSON.parse(wrapper.dataset.counts || "{}"));
        var fresh = wrapper.querySelector("article.inbox-item");
        if (!fresh) return;
        fresh = document.adoptNode(fresh);
        var shown = document.getElementById("item-" + item.id);
        var asker = "@" + (item.status && item.status.account ? item.status.account.username : "");
        var state = fresh.querySelector("[data-item-state]").textContent.trim();
        if (shown) {
          var before = shown.dataset.state + " " + shown.querySelector("[data-assignee]").dataset.assignee;
          var after = fresh.dataset.state + " " + fresh.querySelector("[data-assignee]").dataset.assignee;
          var focusId = carryOver(shown, fresh);
          shown.replaceWith(fresh);
          if (focusId) { var again = document.getElementById(focusId); if (again) again.focus(); }
          if (before === after) return; // nothing a member would notice (a count changed)
          say(_("The item from %(person)s is now: %(state)s", { person: asker, state: state }));
        } else if (fits(item) && insert(fresh)) {
          say(_("New in the inbox: a post from %(person)s", { person: asker }));
        } else {
          return;
        }
        fresh.classList.add("fresh");
        if (window.microblogTimes) window.microblogTimes.refresh();
        empty.hidden = shownItems().length > 0;
      })
      .catch(function () {});
  }

  live.socket.on("inbox.update", function (data) {
    var item = data && data.payload;
    if (!item || String(item.team_id) !== root.dataset.teamId) return;
    refresh(item);
  });

  // After a reconnect, what changed meanwhile: the items shown, each as the server has it now.
  live.socket.on("connect", function () {
    if (connectedBefore) {
      shownItems().forEach(function (el) { refresh({ id: el.dataset.itemId, state: el.dataset.state }); });
    }
    connectedBefore = true;
  });
})();
