/* Live feeds over Socket.IO.
 *
 * A new post arrives as a Status in an `update` event and is built from the
 * page's <template data-post-template>, which the server rendered with the same
 * macro as every post on the page; the post text is the server's own HTML
 * (microblog.text.render_html).  Posts are placed by id, so out-of-order
 * arrivals land where they belong.  After a (re)connect the page fetches the
 * server-rendered posts newer than its newest (?fragment=1&min_id=...), page by
 * page, so nothing is lost and nothing is shown twice.  A post's images are built from
 * the template's one image (render_media), one copy each.  Deletes remove posts,
 * `status.update` changes counts and text (never the images: an edit keeps them),
 * notifications raise the badge, and a saved search's match (`signals`) raises the
 * Signals badge.  Who wrote a team account's post comes in a `status.posted_by` event,
 * which the server sends only to the team's members and site administrators (a Status
 * never says it).
 */
(function () {
  "use strict";
  var _ = window.MicroblogI18n.gettext;
  var ngettext = window.MicroblogI18n.ngettext;
  var body = document.body;
  if (!body.dataset.userId || typeof io === "undefined") return;

  var feed = document.querySelector("[data-live-feed]");
  // Pages without a live feed still follow the company stream: deletes and counts.
  var stream = feed ? (feed.dataset.liveStream || null) : "public";
  // A page may follow several streams (the Signals page: each saved search's list), space-separated.
  var streams = stream ? stream.split(" ") : [];
  // Websocket first (no sticky routing needed); long-polling if a proxy blocks websockets.
  var socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
  // Other scripts of the page (inbox.js) listen on this one connection rather than opening their own.
  window.MicroblogLive = { socket: socket };
  var template = document.querySelector("template[data-post-template]");
  var bar = document.querySelector("[data-new-posts]");
  var pending = [];
  var deleted = new Set();
  var writers = new Map(); // post id -> status.posted_by payload, kept for posts still to arrive
  var loggedOut = false;
  var fetching = false;
  var again = false;
  var retryDelay = 1000;

  function atTop() { return window.scrollY < 120; }

  function postsShown() { return feed ? feed.querySelectorAll("[data-posts] > article.post") : []; }

  function newestId() {
    var first = postsShown()[0];
    return first ? Number(first.dataset.postId) : 0;
  }

  function showPending() {
    if (!bar) return;
    bar.hidden = pending.length === 0;
    bar.textContent = ngettext("%(num)s new post", "%(num)s new posts", pending.length);
  }

  function reveal() {
    pending.forEach(function (el) { el.hidden = false; el.classList.add("fresh"); });
    pending = [];
    showPending();
  }

  // Put a post where its id belongs; a reader who scrolled down gets the bar instead.
  function place(el) {
    var id = Number(el.dataset.postId);
    if (deleted.has(String(id)) || document.getElementById(el.id)) return;
    var shown = postsShown();
    var before = null;
    for (var i = 0; i < shown.length; i++) {
      if (Number(shown[i].dataset.postId) < id) { before = shown[i]; break; }
    }
    if (!before && shown.length) return; // older than the whole page: it belongs to older pages
    // A post newer than where the reader was goes above the "you were here" line, not under it.
    var line = before && before.previousElementSibling;
    if (line && line.hasAttribute("data-read-marker")) before = line;
    var empty = feed.querySelector(".empty");
    if (empty) empty.remove();
    el.hidden = !atTop();
    if (el.hidden) pending.push(el); else el.classList.add("fresh");
    feed.querySelector("[data-posts]").insertBefore(el, before);
    showPending();
  }

  function swap(value, id, replyTo, username) {
    return value.split("1111111111").join(id).split("2222222222").join(replyTo).split("__username__").join(username);
  }

  // "in reply to @name": the parent's author is among the mentions (a reply mentions whom it answers).
  function nameParent(link, status) {
    var parent = (status.mentions || []).filter(function (m) { return m.id === status.in_reply_to_account_id; })[0];
    if (parent) link.querySelector("[data-reply-to]").textContent = "@" + parent.acct;
    else link.textContent = "\u21b3 " + _("in reply"); // as the page says it (partials/post.html)
  }

  // The post's text from a Status's HTML (the server's one renderer), parsed inertly; "edited" if it was.
  function fillText(el, status) {
    var content = new DOMParser().parseFromString(status.content, "text/html").body.firstElementChild;
    var text = el.querySelector(".post-text");
    text.replaceChildren.apply(text, Array.from(content.childNodes));
    var edited = el.querySelector("[data-edited]");
    if (edited && status.edited_at) {
      edited.hidden = false;
      edited.title = window.microblogTimes ? window.microblogTimes.exact(status.edited_at) : status.edited_at;
    }
  }

  // A path on this page's site from a payload's absolute URL (made through whichever host the post came).
  function here(url) {
    var found = new URL(url, window.location.origin);
    return found.pathname + found.search;
  }

  // How large a feed draws one of a post's images: web/media.py image_box, the same rule.
  var SINGLE_IMAGE_BOX = [560, 420];
  var GRID_CELL_WIDTH = 280;
  function imageBox(meta, count) {
    if (count !== 1) return { width: meta.small.width, height: meta.small.height, sizes: GRID_CELL_WIDTH + "px" };
    var scale = Math.min(1, SINGLE_IMAGE_BOX[0] / meta.original.width, SINGLE_IMAGE_BOX[1] / meta.original.height);
    var width = Math.max(1, Math.floor(meta.original.width * scale));
    return { width: width, height: Math.max(1, Math.floor(meta.original.height * scale)), sizes: width + "px" };
  }

  // The post's images, as partials/post.html render_media draws them: copies of the template's one image.
  function fillMedia(el, status) {
    var grid = el.querySelector("[data-media]");
    var images = (status.media_attachments || []).filter(function (m) { return m.type === "image" && m.meta; });
    if (!grid) return;
    if (!images.length) { grid.remove(); return; }
    var pattern = grid.querySelector(".media-item");
    grid.replaceChildren();
    grid.className = "media-grid media-" + images.length;
    images.forEach(function (media) {
      var item = pattern.cloneNode(true);
      var link = item.querySelector("a[data-lightbox]");
      var img = link.querySelector("img");
      var original = here(media.url);
      var small = here(media.preview_url);
      var box = imageBox(media.meta, images.length);
      link.href = original;
      link.dataset.width = media.meta.original.width;
      link.dataset.height = media.meta.original.height;
      img.src = small;
      if (media.meta.original.width > media.meta.small.width) {
        img.srcset = small + " " + media.meta.small.width + "w, " + original + " " + media.meta.original.width + "w";
        img.sizes = box.sizes;
      } else {
        img.removeAttribute("srcset");
        img.removeAttribute("sizes");
      }
      img.width = box.width;
      img.height = box.height;
      img.alt = media.description || "";
      var badge = item.querySelector("[data-alt]");
      var text = item.querySelector("[data-alt-text]");
      if (media.description) {
        link.removeAttribute("aria-label");
        text.id = "alt-post-" + status.id + "-" + media.id;
        text.textContent = media.description;
        badge.setAttribute("aria-describedby", text.id);
      } else {
        link.setAttribute("aria-label", _("Image without a description"));
        badge.remove();
        text.remove();
      }
      grid.appendChild(item);
    });
  }

  // Fill the server-rendered template with a Status; text via textContent, post HTML parsed inertly.
  function build(status) {
    var el = template.content.firstElementChild.cloneNode(true);
    var account = status.account;
    el.querySelectorAll("[href], [action], [id], [data-post-id]").forEach(function (node) {
      ["href", "action", "id", "data-post-id"].forEach(function (name) {
        var value = node.getAttribute(name);
        if (value) node.setAttribute(name, swap(value, status.id, status.in_reply_to_id || "", account.username));
      });
    });
    if (el.dataset.postId !== String(status.id)) { el.id = "post-" + status.id; el.dataset.postId = status.id; }
    // The payload's URLs name the host the post was made through: keep their path, on this page's site.
    el.querySelector("img.avatar").src = here(account.avatar);
    el.querySelector(".author strong").textContent = account.display_name || account.username;
    el.querySelector(".author .handle").textContent = "@" + account.username;
    var time = el.querySelector("time");
    time.setAttribute("datetime", status.created_at);
    time.title = window.microblogTimes ? window.microblogTimes.exact(status.created_at) : status.created_at;
    time.textContent = document.body.dataset.justNow || _("just now");
    fillText(el, status);
    fillMedia(el, status);
    el.querySelector("[data-reply-count]").textContent = status.replies_count || "";
    el.querySelector("[data-like-count]").textContent = status.favourites_count || "";
    MicroblogLikes.label(el.querySelector("button.like"), status.favourites_count);
    if (!status.in_reply_to_id) el.querySelector("[data-in-reply]").remove();
    else nameParent(el.querySelector("[data-in-reply] a"), status);
    nameCommunity(el.querySelector("[data-in-community]"), status);
    // A team's post carries the site-verified "Official" field (entities.account), as the page shows it.
    var official = (account.fields || []).some(function (f) { return f.name === "Official" && f.verified_at; });
    if (!official) el.querySelector("[data-official]").remove();
    showQuestion(el, status);
    el.querySelector("[data-posted-by]").remove();
    if (writers.has(String(status.id))) showWriter(el, writers.get(String(status.id)));
    // Delete: the author's and admins'; pin and edit: the author's only.
    if (account.id !== body.dataset.userId) {
      el.querySelectorAll("[data-author-only]").forEach(function (node) { node.remove(); });
      if (!("admin" in body.dataset)) el.querySelector("[data-owner-only]").remove();
    }
    return el;
  }

  // "by @bob for @it-support" under the head, as partials/post.html shows it to the team and admins.
  function showWriter(el, writer) {
    if (!template || el.querySelector("[data-posted-by]")) return; // the server's own, or shown already
    var line = template.content.querySelector("[data-posted-by]").cloneNode(true);
    var member = line.querySelector("[data-posted-by-member]");
    member.setAttribute("href", "/@" + encodeURIComponent(writer.posted_by.username));
    member.textContent = "@" + writer.posted_by.username;
    line.querySelector("[data-posted-by-team]").textContent = writer.account.username;
    el.querySelector(".post-head").after(line);
  }

  // "Question" or "Answered" as partials/post.html shows it; an accepted answer that changed is
  // linked (its text comes with the next page load: a Status names the answer, not its content).
  function showQuestion(el, status) {
    var state = el.querySelector("[data-question-state]");
    var question = status.question;
    if (!question) { if (state) state.remove(); return; }
    if (!state) return;
    state.querySelector("[data-question-open]").hidden = question.answered;
    state.querySelector("[data-question-answered]").hidden = !question.answered;
    var block = el.querySelector("[data-accepted-answer]");
    if (block && block.dataset.acceptedAnswer !== question.accepted_answer_id) { block.remove(); block = null; }
    if (question.answered && !block) {
      block = document.createElement("aside");
      block.className = "accepted-answer";
      block.dataset.acceptedAnswer = question.accepted_answer_id;
      var head = document.createElement("p");
      head.className = "accepted-head";
      var link = document.createElement("a");
      link.href = "/posts/" + encodeURIComponent(question.accepted_answer_id) + "#post-" + encodeURIComponent(question.accepted_answer_id);
      link.textContent = "\u2713 " + _("Accepted answer");
      head.appendChild(link);
      block.appendChild(head);
      el.querySelector(".post-text").after(block);
    }
  }

  // A post's community is the one of its mentions that is a community (entities._mentions): the
  // page lists the viewer's communities and its own; a post in another one is shown without it.
  function communityOf(status) {
    var known = feed && feed.dataset.liveCommunities ? JSON.parse(feed.dataset.liveCommunities) : [];
    var ids = (status.mentions || []).map(function (m) { return String(m.id); });
    return known.filter(function (c) { return ids.indexOf(c.id) >= 0; })[0] || null;
  }

  function nameCommunity(link, status) {
    if (!link) return;
    var community = communityOf(status);
    // No community, or the one whose page this is (its posts do not name it each time).
    if (!community || community.id === (feed && feed.dataset.liveCommunity)) { link.remove(); return; }
    link.setAttribute("href", "/@" + encodeURIComponent(community.username));
    link.querySelector("[data-community-name]").textContent = community.name;
    if (!community.locked) link.querySelector("[data-community-lock]").remove();
  }

  // Fetch the posts newer than the newest shown, page by page, until none are left.
  function catchUp() {
    if (!feed) return;
    if (fetching) { again = true; return; }
    fetching = true;
    var url = new URL(feed.dataset.liveUrl, window.location.origin);
    url.searchParams.set("fragment", "1");
    url.searchParams.set("limit", "40");
    url.searchParams.set("min_id", String(newestId()));
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected) { loggedOut = true; throw new Error("logged out"); }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html"); // inert: nothing runs while parsing
        var posts = Array.from(doc.querySelectorAll("article.post"));
        posts.reverse().forEach(function (el) { place(document.adoptNode(el)); });
        fetching = false;
        retryDelay = 1000;
        if (posts.length >= 40 || again) { again = false; catchUp(); }
      })
      .catch(function () {
        fetching = false;
        if (loggedOut) return;
        setTimeout(catchUp, retryDelay); // the server may be restarting: try again, less often
        retryDelay = Math.min(retryDelay * 2, 30000);
      });
  }

  function refreshBadge() {
    fetch("/notifications/unread", { credentials: "same-origin" })
      .then(function (response) { return response.ok && !response.redirected ? response.json() : null; })
      .then(function (data) { if (data) setBadge(data.count); })
      .catch(function () {});
  }

  function setBadge(count) {
    var badge = document.querySelector("[data-notification-badge]");
    if (!badge) return;
    badge.dataset.count = String(count);
    badge.textContent = String(count);
    badge.hidden = count === 0;
  }

  function wanted(data) {
    if (!feed || !template) return false;
    var author = feed.dataset.liveAuthor;
    if (author && data.payload.account && data.payload.account.id !== author) return false;
    // A community's page: the member's home stream (or the company's), its own posts only.
    var community = feed.dataset.liveCommunity;
    if (community && !(data.payload.mentions || []).some(function (m) { return String(m.id) === community; })) return false;
    var name = data.stream.join(":");
    return stream ? streams.indexOf(name) !== -1 : name === "user";
  }

  socket.on("connect", function () {
    body.dataset.live = "connected";
    refreshBadge();
    if (!stream) { catchUp(); return; }
    var joined = 0;
    streams.forEach(function (name) {
      var parts = name.split(":");
      var request = { stream: parts[0] };
      if (parts[0] === "hashtag") request.tag = parts[1];
      if (parts[0] === "list") request.list = parts[1];
      // Catch up once every stream is joined: nothing posted in between can slip through.
      socket.emit("subscribe", request, function () { if (++joined === streams.length) catchUp(); });
    });
  });

  socket.on("disconnect", function (reason) {
    body.dataset.live = "disconnected";
    // The server ended the connection (logged out elsewhere, or it lost its message
    // queue): try again; a refused reconnect means we are logged out.
    if (reason === "io server disconnect" && !loggedOut) {
      setTimeout(function () { socket.connect(); }, 250 + Math.random() * 750);
    }
  });

  socket.on("connect_error", function (error) {
    if (error && error.message === "authentication required") {
      loggedOut = true;
      body.dataset.live = "logged-out";
      var note = document.querySelector("[data-logged-out]");
      if (note) note.hidden = false;
    }
  });

  socket.on("update", function (data) {
    if (wanted(data)) place(build(data.payload));
  });

  // Sent before its post's `update`; the post may also be on the page already (then it gets the line now).
  socket.on("status.posted_by", function (data) {
    var writer = data.payload;
    writers.set(String(writer.id), writer);
    if (writers.size > 200) writers.delete(writers.keys().next().value); // the oldest: long arrived
    var el = document.getElementById("post-" + writer.id);
    if (el) showWriter(el, writer);
  });

  socket.on("delete", function (data) {
    var id = String(data.payload.id);
    deleted.add(id);
    var pinned = document.getElementById("pinned-" + id);
    if (pinned) pinned.remove();
    var el = document.getElementById("post-" + id);
    if (!el) return;
    var index = pending.indexOf(el);
    if (index >= 0) { pending.splice(index, 1); showPending(); }
    el.remove();
  });

  // Counts, the answer, an edit: every copy of the post on the page (a pinned one is shown twice).
  socket.on("status.update", function (data) {
    var status = data.payload;
    document.querySelectorAll('article.post[data-post-id="' + CSS.escape(String(status.id)) + '"]').forEach(function (el) {
      el.querySelectorAll("[data-like-count]").forEach(function (n) { n.textContent = status.favourites_count || ""; });
      el.querySelectorAll("button.like").forEach(function (b) { MicroblogLikes.label(b, status.favourites_count); });
      el.querySelectorAll("[data-reply-count]").forEach(function (n) { n.textContent = status.replies_count || ""; });
      showQuestion(el, status);
      if (status.edited_at) fillText(el, status);
    });
  });

  // A saved search matched a post: the menu's Signals badge counts each post once.
  var signalled = new Set();
  socket.on("signals", function (data) {
    var id = String((data.payload || {}).post_id);
    var badge = document.querySelector("[data-signals-badge]");
    if (!badge || signalled.has(id)) return;
    signalled.add(id);
    var count = Number(badge.dataset.count || "0") + 1;
    badge.dataset.count = String(count);
    badge.textContent = String(count);
    badge.hidden = false;
  });

  socket.on("notification", function () {
    var badge = document.querySelector("[data-notification-badge]");
    setBadge(Number((badge && badge.dataset.count) || "0") + 1);
  });

  if (bar) bar.addEventListener("click", function () { reveal(); window.scrollTo({ top: 0 }); });
  window.addEventListener("scroll", function () { if (atTop() && pending.length) reveal(); }, { passive: true });
})();
