/* Keyboard shortcuts: j and k move to the next and previous post (those that arrived live
 * too), Enter opens the post, l likes it, n goes to the composer, / to the search box, and
 * ? opens the help, a <dialog> the server renders in base.html (its text is translated
 * there).  None fires while typing in a field or with Ctrl, Alt or Meta held, so
 * Ctrl+Enter still posts and letters typed into the composer stay letters.
 */
(function () {
  "use strict";
  var help = document.querySelector("dialog[data-shortcuts-help]");
  var returnTo = null;
  var last = null; // the post moved to last: focus may since have gone to one of its links, or away

  function typing(target) {
    return target instanceof Element &&
      (target.isContentEditable || target.closest("input, textarea, select") !== null);
  }

  // The posts a reader can see, in page order (a live post waiting behind the "new posts" bar is hidden).
  function posts() {
    return Array.prototype.filter.call(document.querySelectorAll("article.post"), function (post) {
      return !post.hidden && post.getClientRects().length > 0;
    });
  }

  function currentPost() {
    var here = document.activeElement && document.activeElement.closest("article.post");
    if (here) return here;
    return last && last.isConnected && !last.hidden ? last : null;
  }

  // Without a current post, the first one whose top is in view (or the last above it).
  function firstInView(list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].getBoundingClientRect().bottom > 0) return i;
    }
    return list.length - 1;
  }

  function move(step) {
    var list = posts();
    if (!list.length) return false;
    var index = list.indexOf(currentPost());
    index = index < 0 ? firstInView(list) : Math.min(Math.max(index + step, 0), list.length - 1);
    var post = list[index];
    if (!post.hasAttribute("tabindex")) post.setAttribute("tabindex", "-1");
    post.focus({ preventScroll: true });
    post.scrollIntoView({ block: "nearest" }); // scroll-margin in site.css keeps it clear of the sticky bar
    last = post;
    return true;
  }

  function focusField(field) {
    if (!field) return false;
    field.focus();
    field.scrollIntoView({ block: "nearest" });
    return true;
  }

  function compose() {
    var textarea = document.querySelector("form.composer textarea[name=text]");
    if (!focusField(textarea)) return false;
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    return true;
  }

  function search() {
    var input = document.getElementById("topsearch-q");
    if (!focusField(input)) return false;
    input.select();
    return true;
  }

  function like() {
    var post = currentPost();
    var form = post && post.querySelector("form[data-like]");
    if (!form) return false;
    form.requestSubmit(); // site.js likes in place
    return true;
  }

  function openPost(target) {
    var link = target.matches && target.matches("article.post") ? target.querySelector("a.time") : null;
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  }

  function openHelp() {
    if (!help || help.open) return false;
    returnTo = document.activeElement;
    help.showModal();
    return true;
  }

  if (help) {
    help.addEventListener("close", function () {
      if (returnTo && returnTo.isConnected && returnTo !== document.body) returnTo.focus();
      returnTo = null;
    });
    // A click on the backdrop (the dialog itself, outside its content) closes it too.
    help.addEventListener("click", function (event) { if (event.target === help) help.close(); });
    document.querySelectorAll("[data-shortcuts-open]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", openHelp);
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    // Not behind an open dialog (the help, an image's lightbox): its keys are its own.
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    var done;
    switch (event.key) {
      case "j": done = move(1); break;
      case "k": done = move(-1); break;
      case "n": done = compose(); break;
      case "/": done = search(); break;
      case "?": done = openHelp(); break;
      case "l": done = like(); break;
      case "Enter": done = openPost(event.target); break;
      default: done = false;
    }
    if (done) event.preventDefault(); // "/" is not typed into the search box it opens
  });
})();
