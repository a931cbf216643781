// kubectl's table look: upper-case headers, columns separated by three spaces, "<none>" for
// empty cells, each column as wide as its widest cell (what kubectl's tabwriter does).
// StreamingTable prints rows as they arrive, so it can only size by what it has seen.

export interface Column {
  header: string;
  /** Starting width for streaming, sized for the usual content (36 for a UUID). */
  width?: number;
}

const GAP = '   ';

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  return [headers, ...rows].map((cells) => `${formatLine(cells, widths)}\n`).join('');
}

/**
 * A table whose rows are printed the moment they arrive (discover's rows, which come in over
 * seconds) when someone watches them (`live`: a terminal, or --watch); otherwise (a pipe, a
 * file) they are kept and printed aligned by end(), as kubectl's tabwriter does, since nobody
 * reads a pipe's rows as they come and a script wants columns it can cut.
 * Live, widths are the widest cell seen so far: a wider cell widens its column for that row
 * and every later one, and the header is printed with the first row, sized by it too. Lines
 * already written are not re-aligned: on a terminal rewriting them would fight the spinner and
 * the picker that share the screen and fail as soon as a long line wraps; so a late wide cell
 * moves only what follows it, and the starting widths keep usual tables aligned from the top.
 */
export class StreamingTable {
  private headerPrinted = false;
  private readonly widths: number[];
  private readonly held: string[][] = [];

  constructor(
    private readonly columns: Column[],
    private readonly write: (s: string) => void,
    private readonly live = true,
  ) {
    this.widths = columns.map((c) => Math.max(c.header.length, c.width ?? 0));
  }

  /** Prints the rows held back (not live); nothing when there were none. */
  end(): void {
    if (this.live || this.held.length === 0) return;
    this.write(
      formatTable(
        this.columns.map((c) => c.header),
        this.held.splice(0),
      ),
    );
  }

  row(cells: string[]): void {
    if (!this.live) {
      this.held.push(cells);
      return;
    }
    cells.forEach((c, i) => {
      this.widths[i] = Math.max(this.widths[i] ?? 0, visibleLength(c));
    });
    if (!this.headerPrinted) {
      this.headerPrinted = true;
      this.write(
        `${formatLine(
          this.columns.map((c) => c.header),
          this.widths,
        )}\n`,
      );
    }
    this.write(`${formatLine(cells, this.widths)}\n`);
  }
}

/** One line: every cell but the last padded to its column's width. */
function formatLine(cells: string[], widths: number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
    .join(GAP)
    .trimEnd();
}

export function cell(value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null || value === '') return '<none>';
  return String(value);
}

/** kubectl's AGE: 45s, 12m, 5h, 3d, 2y. */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const secs = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (Number.isNaN(secs)) return '<unknown>';
  if (secs < 120) return `${secs}s`;
  const mins = Math.floor(secs / 60);
  if (mins < 120) return `${mins}m`;
  const hours = Math.floor(mins / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  return days < 730 ? `${days}d` : `${Math.floor(days / 365)}y`;
}

// ANSI colour codes take no room on screen.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
function visibleLength(s: string): number {
  return s.replace(ANSI, '').length;
}
function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - visibleLength(s)));
}
