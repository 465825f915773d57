import type { EpochReport } from '@boltzmann/core';
import { InvalidValueError } from '@boltzmann/tensor';
import type { Observer } from 'rxjs';
import type { BatchEndEvent, StartedEvent, TrainingEvent } from '../events.js';

/** Where a progress bar writes: process.stderr, a file stream, or anything with `write`. */
export interface TextSink {
  write(text: string): unknown;
  /** A terminal: the bar redraws one line in place; otherwise one line per epoch. */
  isTTY?: boolean;
  /** Terminal width in characters (lines are cut to it). */
  columns?: number;
}

/** Options of `ProgressBar`. */
export interface ProgressBarOptions {
  /** Where to write; default process.stderr. */
  stream?: TextSink;
  /** Cells of the bar; default 24. */
  width?: number;
  /** Milliseconds between redraws of the live line; default 100. */
  minIntervalMs?: number;
  /** The clock in milliseconds (tests pass a fake one); default performance.now. */
  now?: () => number;
  /** Draw the live line even when the sink is not a terminal; default: only on a terminal. */
  live?: boolean;
}

/**
 * A text progress bar for a run, no dependency: on a terminal a live line
 *   epoch 3/10 [#########...............] 45/100  380 steps/s  ETA 0:12  window recon 0.0213
 * redrawn in place (at most every `minIntervalMs`), and on every sink one line per epoch with its
 * metrics, plus lines for checkpoints, early stopping and the end. Subscribe it to a run.
 */
export class ProgressBar implements Observer<TrainingEvent> {
  private readonly stream: TextSink;
  private readonly width: number;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  private readonly live: boolean;
  private start: StartedEvent | undefined;
  private startedAt = 0;
  private lastDraw = -Infinity;
  private liveShown = false;
  private lastReport: EpochReport | undefined;

  constructor(options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.width = options.width ?? 24;
    this.minIntervalMs = options.minIntervalMs ?? 100;
    this.now = options.now ?? (() => performance.now());
    this.live = options.live ?? this.stream.isTTY === true;
    if (!Number.isInteger(this.width) || this.width < 1) throw new InvalidValueError(`ProgressBar width must be a positive integer, got ${String(options.width)}`);
  }

  next(event: TrainingEvent): void {
    switch (event.type) {
      case 'started':
        this.start = event;
        this.startedAt = this.now();
        if (event.epoch > 0) this.line(`resuming at epoch ${event.epoch}, step ${event.step}`);
        break;
      case 'batch-end':
        if (this.live && this.now() - this.lastDraw >= this.minIntervalMs) this.drawLive(event);
        break;
      case 'epoch-end':
        this.lastReport = event.report;
        this.line(`epoch ${event.report.epoch}${finite(event.epochs) ? `/${event.epochs}` : ''}  ${formatReport(event.report)}`);
        break;
      case 'checkpoint-written':
        this.line(`checkpoint ${event.path} (epoch ${event.epoch}, step ${event.step})`);
        break;
      case 'early-stop':
        this.line(`early stop at epoch ${event.epoch}: ${event.reason}${event.restoredBest ? `; restored epoch ${event.bestEpoch}` : ''}`);
        break;
      case 'finished': {
        const s = event.summary;
        this.line(`done: ${s.reason}, ${s.epochs} epochs, ${s.steps} steps in ${formatDuration(s.seconds)}`);
        break;
      }
      default:
        break;
    }
  }

  error(error: unknown): void {
    this.line(`failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }

  complete(): void {
    this.clearLive();
  }

  /** The live line for a step (exposed for tests and custom renderers). */
  render(event: BatchEndEvent): string {
    const spe = this.start?.stepsPerEpoch;
    const epochs = this.start?.epochs ?? Infinity;
    let text = `epoch ${event.epoch}${finite(epochs) ? `/${epochs}` : ''}`;
    if (spe !== undefined) {
      const filled = Math.min(this.width, Math.round((event.batch / spe) * this.width));
      text += ` [${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${event.batch}/${spe}`;
    } else {
      text += ` batch ${event.batch}`;
    }
    const stepsRun = event.step - (this.start?.step ?? 0);
    const seconds = (this.now() - this.startedAt) / 1000;
    if (stepsRun > 0 && seconds > 0) {
      const rate = stepsRun / seconds;
      text += `  ${rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3)} steps/s`;
      if (spe !== undefined && finite(epochs)) text += `  ETA ${formatDuration(Math.max(0, epochs * spe - event.step) / rate)}`;
    }
    if (event.window) text += `  window recon ${fmt(event.window.reconstructionError)} F ${fmt(event.window.freeEnergy)}`;
    else if (this.lastReport) text += `  recon ${fmt(this.lastReport.reconstructionError)} (epoch ${this.lastReport.epoch})`;
    return text;
  }

  private drawLive(event: BatchEndEvent): void {
    this.lastDraw = this.now();
    this.stream.write(`\r\x1b[2K${this.fit(this.render(event))}`);
    this.liveShown = true;
  }

  private clearLive(): void {
    if (this.liveShown) this.stream.write('\r\x1b[2K');
    this.liveShown = false;
  }

  private line(text: string): void {
    this.clearLive();
    this.stream.write(`${text}\n`);
    this.lastDraw = -Infinity;
  }

  private fit(text: string): string {
    const columns = this.stream.columns;
    return columns !== undefined && columns > 1 && text.length >= columns ? text.slice(0, columns - 1) : text;
  }
}

/** An epoch report in one line: reconstruction error, free energy and PLL (train/held-out), hidden activity, time. */
export function formatReport(r: EpochReport): string {
  const parts = [`recon ${fmt(r.reconstructionError)}`];
  if (r.freeEnergy) parts.push(`F ${fmt(r.freeEnergy.train)}${r.freeEnergy.validation === undefined ? '' : `/${fmt(r.freeEnergy.validation)}`}`);
  if (r.pseudoLogLikelihood) parts.push(`PLL ${fmt(r.pseudoLogLikelihood.train)}${r.pseudoLogLikelihood.validation === undefined ? '' : `/${fmt(r.pseudoLogLikelihood.validation)}`}`);
  parts.push(`hidden ${fmt(r.meanHiddenActivation)}`, `lr ${fmt(r.learningRate)}`, `${r.seconds.toFixed(2)}s`);
  return parts.join('  ');
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? x.toExponential(3) : Number(x.toPrecision(4)).toString();
}

function finite(n: number): boolean {
  return Number.isFinite(n);
}
