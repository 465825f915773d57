/** One line of a panel: y values at x positions (non-finite values are gaps). */
export interface PlotSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** One chart: a title and its lines, sharing the x axis label. */
export interface PlotPanel {
  readonly title: string;
  readonly series: readonly PlotSeries[];
}

/** Options of `plotSvg`. */
export interface PlotOptions {
  /** Label under every panel's x axis; default "epoch". */
  xLabel?: string;
  /** Width of the picture in pixels; default 720. */
  width?: number;
  /** Height of one panel in pixels; default 240. */
  panelHeight?: number;
}

/** Line colours, one per series in order (colour-blind-safe Tableau-like palette). */
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const MARGIN = { left: 78, right: 20, top: 48, bottom: 46 };

/**
 * Draws panels of line charts stacked vertically as a standalone SVG document (no
 * dependency): per panel a frame, "nice" ticks on both axes, a polyline with dots per series
 * and a legend. Used for metrics.svg (reconstruction error, free energy train vs held-out,
 * pseudo-log-likelihood over epochs).
 */
export function plotSvg(panels: readonly PlotPanel[], options: PlotOptions = {}): string {
  const width = options.width ?? 720;
  const panelHeight = options.panelHeight ?? 240;
  const xLabel = options.xLabel ?? 'epoch';
  const height = Math.max(1, panels.length) * panelHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  panels.forEach((panel, i) => parts.push(drawPanel(panel, 0, i * panelHeight, width, panelHeight, xLabel)));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function drawPanel(panel: PlotPanel, x0: number, y0: number, width: number, height: number, xLabel: string): string {
  const left = x0 + MARGIN.left;
  const right = x0 + width - MARGIN.right;
  const top = y0 + MARGIN.top;
  const bottom = y0 + height - MARGIN.bottom;
  const finite = panel.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)));
  const out = [`<g>`, `<text x="${x0 + width / 2}" y="${y0 + 18}" text-anchor="middle" font-size="14" font-weight="bold">${escape(panel.title)}</text>`];
  out.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#444"/>`);
  if (finite.length === 0) {
    out.push(`<text x="${(left + right) / 2}" y="${(top + bottom) / 2}" text-anchor="middle" fill="#888">no data</text>`, '</g>');
    return out.join('\n');
  }
  const [xMin, xMax] = padRange(Math.min(...finite.map((p) => p[0])), Math.max(...finite.map((p) => p[0])));
  const [yMin, yMax] = padRange(Math.min(...finite.map((p) => p[1])), Math.max(...finite.map((p) => p[1])));
  const xTicks = niceTicks(xMin, xMax, 8, true);
  const yTicks = niceTicks(yMin, yMax, 5, false);
  const xLo = Math.min(xMin, xTicks[0]!);
  const xHi = Math.max(xMax, xTicks[xTicks.length - 1]!);
  const yLo = Math.min(yMin, yTicks[0]!);
  const yHi = Math.max(yMax, yTicks[yTicks.length - 1]!);
  const sx = (x: number) => left + ((x - xLo) / (xHi - xLo)) * (right - left);
  const sy = (y: number) => bottom - ((y - yLo) / (yHi - yLo)) * (bottom - top);

  for (const t of yTicks) {
    const y = round(sy(t));
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${formatTick(t, yTicks)}</text>`);
  }
  for (const t of xTicks) {
    const x = round(sx(t));
    out.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#444"/>`);
    out.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${formatTick(t, xTicks)}</text>`);
  }
  out.push(`<text x="${(left + right) / 2}" y="${bottom + 36}" text-anchor="middle">${escape(xLabel)}</text>`);

  // Legend above the frame, right-aligned, in series order, so it never covers a line.
  const legendY = top - 9;
  const widths = panel.series.map((s) => 28 + 7 * s.name.length);
  let x = right - widths.reduce((a, w) => a + w + 12, -12);
  panel.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    out.push(`<line x1="${x}" y1="${legendY - 4}" x2="${x + 20}" y2="${legendY - 4}" stroke="${colour}" stroke-width="2"/>`);
    out.push(`<text x="${x + 24}" y="${legendY}">${escape(s.name)}</text>`);
    x += widths[i]! + 12;
  });
  panel.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    // Non-finite values split the line into runs.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${run.join(' ')}"/>`);
      run = [];
    };
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        flush();
        continue;
      }
      run.push(`${round(sx(x))},${round(sy(y))}`);
      out.push(`<circle cx="${round(sx(x))}" cy="${round(sy(y))}" r="3" fill="${colour}"/>`);
    }
    flush();
  });
  out.push('</g>');
  return out.join('\n');
}

/** Widens an empty range so a single value sits in the middle of the axis. */
function padRange(lo: number, hi: number): [number, number] {
  if (hi > lo) return [lo, hi];
  const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** Round numbers (1, 2 or 5 times a power of ten) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count: number, integers: boolean): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  if (integers) step = Math.max(1, Math.round(step));
  const first = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  for (let t = first; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1]! < hi) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

function formatTick(t: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  const magnitude = Math.max(...ticks.map(Math.abs));
  if (magnitude >= 1e5 || (magnitude > 0 && magnitude < 1e-3)) return t.toExponential(1);
  return t.toFixed(decimals);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
