/* The scripts' strings in the reader's language: gettext and ngettext as Python's, with named
 * %(name)s placeholders (never eval).  `make translations-extract` finds the calls (_, gettext,
 * ngettext, as pybabel's javascript extractor knows them) and the catalogs hold their translations.
 *
 * The page carries the translations of exactly these messages, in its own language, as a JSON data
 * block <script type="application/json" id="js-catalog"> (templates/base.html, from
 * microblog.language.script_catalog).  A data block is never executed, so the Content-Security-Policy
 * (script-src 'self', no inline script) holds; the text always matches the page's lang, needs no
 * extra request and no cache rule, and costs a few hundred bytes per page.  Without it, or for a
 * message not translated, the English msgid is shown.
 *
 * Plural forms are chosen by Intl.PluralRules(<html lang>), in gettext's order of the language's
 * categories (en and nb: one, other). */
window.MicroblogI18n = (function () {
  "use strict";
  var catalog = {};
  var block = document.getElementById("js-catalog");
  try {
    catalog = (block && JSON.parse(block.textContent)) || {};
  } catch (error) {
    catalog = {}; // a broken block must not stop the page's scripts: English it is
  }
  var rules;
  try {
    rules = new Intl.PluralRules(document.documentElement.lang || "en");
  } catch (error) {
    rules = new Intl.PluralRules("en");
  }
  var ORDER = ["zero", "one", "two", "few", "many", "other"]; // CLDR order, as gettext numbers forms
  var categories = ORDER.filter(function (c) { return rules.resolvedOptions().pluralCategories.indexOf(c) >= 0; });

  // Python's "%(name)s" % vars: named placeholders only, "%%" is a percent sign.
  function format(text, vars) {
    return text.replace(/%\((\w+)\)s|%%/g, function (match, name) {
      if (match === "%%") return "%";
      return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : match;
    });
  }

  function translated(msgid) {
    return Object.prototype.hasOwnProperty.call(catalog, msgid) ? catalog[msgid] : null;
  }

  // gettext("Hello %(name)s", {name: "Kari"}); without vars the text is returned as it is (as Python's).
  function gettext(msgid, vars) {
    var found = translated(msgid);
    var text = typeof found === "string" ? found : msgid;
    return vars ? format(text, vars) : text;
  }

  // ngettext("%(num)s new post", "%(num)s new posts", n): num is n unless vars say otherwise.
  function ngettext(singular, plural, n, vars) {
    var forms = translated(singular);
    var index = categories.indexOf(rules.select(n));
    var text = Array.isArray(forms) && forms[index] ? forms[index] : n === 1 ? singular : plural;
    var all = { num: n };
    Object.keys(vars || {}).forEach(function (key) { all[key] = vars[key]; });
    return format(text, all);
  }

  return { gettext: gettext, ngettext: ngettext };
})();
