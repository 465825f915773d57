/** Where a command writes text: stdout for results, stderr for progress and errors. */
export interface TextSink {
  write(chunk: string): unknown;
  /** Whether it is a terminal (the progress bar redraws in place only there). */
  readonly isTTY?: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

/** The outside world of one CLI invocation, so commands run in-process in tests. */
export interface CliIO {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Relative paths (spec, plugins, --out) start here. */
  readonly cwd: string;
  /** Aborted on Ctrl-C: `train` stops between two steps and keeps its last checkpoint. */
  readonly signal?: AbortSignal;
}

/** The real process's streams and working directory. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}
