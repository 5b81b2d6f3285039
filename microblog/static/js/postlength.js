/* The post length rule, shared with the server (microblog/text.py):
 * grapheme clusters of the NFC-normalized text, every http(s) URL counting 23.
 * Both sides are tested against ../shared/vectors/post_length.json. */
(function (global) {
  "use strict";
  var MAX = 140;
  var URL_LENGTH = 23;
  var COUNTED_URL = /https?:\/\/\S+/gi;
  // Control characters other than tab and newline (a CR LF pair is a newline).
  var FORBIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
  // Nothing visible: white space and format characters only (same as the server's _BLANK).
  var BLANK = /^[\p{White_Space}\p{Cf}]*$/u;
  var segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

  function graphemes(text) {
    var n = 0;
    for (var _ of segmenter.segment(text)) n++;
    return n;
  }

  function postLength(text) {
    text = text.normalize("NFC");
    var length = 0, start = 0, m;
    COUNTED_URL.lastIndex = 0;
    while ((m = COUNTED_URL.exec(text)) !== null) {
      length += graphemes(text.slice(start, m.index)) + URL_LENGTH;
      start = m.index + m[0].length;
    }
    return length + graphemes(text.slice(start));
  }

  function checkPost(text) {
    if (!text || BLANK.test(text)) return { valid: false, length: 0, reason: "empty" };
    var length = postLength(text);
    if (FORBIDDEN.test(text.replace(/\r\n/g, "\n"))) return { valid: false, length: length, reason: "control" };
    return { valid: length <= MAX, length: length, reason: length <= MAX ? null : "long" };
  }

  global.MicroblogText = { MAX: MAX, postLength: postLength, checkPost: checkPost };
})(window);
