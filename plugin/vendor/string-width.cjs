// A light stand-in for the string-width package (v4 to v8), aliased in by scripts/build.mjs for
// the plugin. CommonJS, because both CommonJS (v4) and ESM (v7, v8) users import it.
// The real one builds an Intl.Segmenter and Unicode-property regexes when it is loaded (~40 ms
// of start-up) to measure text that, in our help and tables, is ASCII. Wide (East Asian) and
// zero-width (combining) characters are still counted right; emoji sequences approximately.

'use strict';

// eslint-disable-next-line no-control-regex
const ANSI = /[\u001B\u009B][[\]()#;?]*(?:\d{1,4}(?:[;:]\d{0,4})*)?[\dA-PR-TZcf-nq-uy=><~]/g;
const PRINTABLE_ASCII = /^[\u0020-\u007E]*$/;

function isZeroWidth(cp) {
  return (
    cp <= 0x1f ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0x300 && cp <= 0x36f) || // combining diacritics
    (cp >= 0x200b && cp <= 0x200f) || // zero-width space, joiners, marks
    (cp >= 0xfe00 && cp <= 0xfe0f) || // variation selectors
    (cp >= 0x20d0 && cp <= 0x20ff)
  );
}

function isWide(cp) {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) || // emoji and pictographs
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function stringWidth(input, options = {}) {
  if (typeof input !== 'string' || input.length === 0) return 0;
  const text = options.countAnsiEscapeCodes ? input : input.replace(ANSI, '');
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (isZeroWidth(cp)) continue;
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

module.exports = stringWidth;
module.exports.default = stringWidth;
