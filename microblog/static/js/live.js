/* Live feeds over Socket.IO.
 *
 * Events are pokes; the server-rendered page is the source of truth.  When a
 * post arrives (or the connection comes back), the page fetches the posts
 * newer than the newest it shows (?min_id=...&fragment=1), rendered by the same
 * template as the page itself, and inserts the ones it does not have yet, in
 * order.  So nothing is lost across a disconnect and nothing is shown twice.
 * Deletes remove posts, count updates change counts, notifications raise the badge.
 */
(function () {
  "use strict";
  var body = document.body;
  var feed = document.querySelector("[data-live-feed]");
  if (!body.dataset.userId || typeof io === "undefined") return;

  var stream = feed ? feed.dataset.liveStream : null; // "public" | "hashtag:<tag>" | null (home)
  // Websocket first (no sticky routing needed); long-polling if a proxy blocks websockets.
  var socket = io({ transports: ["websocket", "polling"], tryAllTransports: true });
  var loggedOut = false;
  var fetching = null;
  var again = false;
  var bar = document.querySelector("[data-new-posts]");
  var pending = [];

  function newestId() {
    var max = 0;
    document.querySelectorAll("article.post[data-post-id]").forEach(function (el) {
      max = Math.max(max, Number(el.dataset.postId));
    });
    return max;
  }

  function showPending() {
    if (!bar) return;
    bar.hidden = pending.length === 0;
    bar.textContent = pending.length === 1 ? "1 new post" : pending.length + " new posts";
  }

  function reveal() {
    pending.forEach(function (el) { el.hidden = false; el.classList.add("fresh"); });
    pending = [];
    showPending();
  }

  function atTop() { return window.scrollY < 120; }

  function insert(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html; // server-rendered by templates/partials/post.html
    var list = feed.querySelector("[data-posts]");
    var empty = feed.querySelector(".empty");
    var added = 0;
    // The fragment is newest first; insert oldest first at the top, so order holds.
    Array.prototype.slice.call(holder.querySelectorAll("article.post")).reverse().forEach(function (el) {
      if (document.getElementById(el.id)) return;
      if (empty) { empty.remove(); empty = null; }
      el.hidden = !atTop();
      if (el.hidden) pending.push(el); else el.classList.add("fresh");
      list.insertBefore(el, list.firstChild);
      added++;
    });
    showPending();
    return added;
  }

  // Fetch what is newer than the newest post shown, page by page, until nothing is left.
  function catchUp() {
    if (!feed) return;
    if (fetching) { again = true; return; }
    var url = new URL(feed.dataset.liveUrl, window.location.origin);
    url.searchParams.set("fragment", "1");
    url.searchParams.set("limit", "40");
    url.searchParams.set("min_id", String(newestId()));
    fetching = fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var count = (html.match(/<article /g) || []).length;
        insert(html);
        fetching = null;
        if (count >= 40 || again) { again = false; catchUp(); }
      })
      .catch(function () { fetching = null; });
  }

  function subscribe() {
    if (!stream) return;
    var parts = stream.split(":");
    socket.emit("subscribe", parts[0] === "hashtag" ? { stream: "hashtag", tag: parts[1] } : { stream: parts[0] });
  }

  function wanted(data) {
    if (!feed) return false;
    var label = data.stream.join(":");
    var author = feed.dataset.liveAuthor;
    if (author && data.payload.account && data.payload.account.id !== author) return false;
    return label === (stream || "user");
  }

  socket.on("connect", function () {
    body.dataset.live = "connected";
    subscribe();
    catchUp(); // whatever came while we were away
  });

  socket.on("disconnect", function (reason) {
    body.dataset.live = "disconnected";
    // The server ended the connection (logged out elsewhere, or it lost its message
    // queue): try once more; a refused reconnect means we are logged out.
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
    if (wanted(data)) catchUp();
  });

  socket.on("delete", function (data) {
    var el = document.getElementById("post-" + data.payload.id);
    if (!el) return;
    var index = pending.indexOf(el);
    if (index >= 0) { pending.splice(index, 1); showPending(); }
    el.remove();
  });

  socket.on("status.update", function (data) {
    var status = data.payload;
    var el = document.getElementById("post-" + status.id);
    if (!el) return;
    var likes = el.querySelector("[data-like-count]");
    var replies = el.querySelector("[data-reply-count]");
    if (likes) likes.textContent = status.favourites_count ? String(status.favourites_count) : "";
    if (replies) replies.textContent = status.replies_count ? String(status.replies_count) : "";
  });

  socket.on("notification", function () {
    var badge = document.querySelector("[data-notification-badge]");
    if (!badge) return;
    var count = Number(badge.dataset.count || "0") + 1;
    badge.dataset.count = String(count);
    badge.textContent = String(count);
    badge.hidden = false;
  });

  if (bar) bar.addEventListener("click", function () { reveal(); window.scrollTo({ top: 0 }); });
  window.addEventListener("scroll", function () { if (atTop() && pending.length) reveal(); }, { passive: true });
})();
