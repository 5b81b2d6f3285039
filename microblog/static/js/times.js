/* Times in the reader's language and time zone, ageing in the page: "for 3 minutter siden" becomes
 * "for 4 minutter siden" without a reload.  The server renders the first text (Babel) and the exact
 * time in the title; this keeps the text current, and gives live posts the same two. */
(function () {
  "use strict";

  var JUST_NOW = 45; // seconds, as the server's timeago
  var RELATIVE_FOR = 7 * 86400; // older: the server's date stays
  var UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];

  function language() {
    return document.documentElement.lang || "en";
  }

  function relative(iso, now) {
    var seconds = ((now || Date.now()) - new Date(iso).getTime()) / 1000;
    if (!(seconds >= 0) || seconds >= RELATIVE_FOR) return null;
    if (seconds < JUST_NOW) return document.body.dataset.justNow || window.MicroblogI18n.gettext("just now");
    var format = new Intl.RelativeTimeFormat(language(), { numeric: "always" });
    for (var i = 0; i < UNITS.length; i++) {
      var size = UNITS[i][1];
      if (seconds >= size) return format.format(-Math.round(seconds / size), UNITS[i][0]);
    }
    return null;
  }

  function exact(iso) {
    var options = { dateStyle: "long", timeStyle: "short" };
    var zone = document.body.dataset.timeZone;
    if (zone) options.timeZone = zone;
    try {
      return new Intl.DateTimeFormat(language(), options).format(new Date(iso));
    } catch (error) {
      return iso; // an unknown zone name: the ISO time says it all the same
    }
  }

  function refresh() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      var text = relative(el.getAttribute("datetime"), now);
      if (text && el.textContent !== text) el.textContent = text;
    });
  }

  window.microblogTimes = { exact: exact, relative: relative, refresh: refresh };
  setInterval(refresh, 30000);
})();
