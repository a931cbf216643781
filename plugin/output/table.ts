// kubectl's table look: upper-case headers, columns separated by three spaces, "<none>" for
// empty cells. StreamingTable prints rows as they arrive with widths fixed up front.

export interface Column {
  header: string;
  /** Minimum width for streaming (a wider cell just pushes the rest of its row right). */
  width?: number;
}

const GAP = '   ';

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
      .join(GAP)
      .trimEnd();
  return [line(headers), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

export class StreamingTable {
  private headerPrinted = false;
  constructor(
    private readonly columns: Column[],
    private readonly write: (s: string) => void,
  ) {}

  row(cells: string[]): void {
    if (!this.headerPrinted) {
      this.headerPrinted = true;
      this.write(`${this.format(this.columns.map((c) => c.header))}\n`);
    }
    this.write(`${this.format(cells)}\n`);
  }

  private format(cells: string[]): string {
    return cells
      .map((c, i) => {
        const col = this.columns[i];
        const width = Math.max(col?.header.length ?? 0, col?.width ?? 0);
        return i === cells.length - 1 ? c : pad(c, width);
      })
      .join(GAP)
      .trimEnd();
  }
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
