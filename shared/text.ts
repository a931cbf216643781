// Text for messages, one place for all three programs: every line a user reads (an error, a
// status message, a table cell, an admission refusal) is one line, even when it quotes text
// from elsewhere (an API server's Status, a webhook, the kubelet, a peer's TLS error).

// Every kind of line break: CR, LF, VT, FF, NEL, LINE and PARAGRAPH SEPARATOR.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const LINE_BREAKS = /[\r\n\u000b\u000c\u0085\u2028\u2029]+/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]+/g;

export interface OneLineOptions {
  /** What stands between two lines of the text: " " (the default), or "; " to keep them apart. */
  joinWith?: string;
  /** At most this many characters; a longer line is cut and ends with "…". */
  max?: number;
}

/**
 * `text` on one printable line: each line trimmed, empty ones dropped, the rest joined; any
 * other control character becomes a space.
 */
export function oneLine(text: string, options: OneLineOptions = {}): string {
  const { joinWith = ' ', max = Infinity } = options;
  const line = text
    .split(LINE_BREAKS)
    .map((part) => part.replace(CONTROL_CHARACTERS, ' ').trim())
    .filter((part) => part !== '')
    .join(joinWith);
  return line.length > max ? `${line.slice(0, Math.max(0, max - 1))}…` : line;
}
