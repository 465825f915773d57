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
  /**
   * Aborted on SIGINT/SIGTERM while a command catches them (see `catchSignals`), with the
   * signal's name as its reason: `train` stops after the step in progress and saves a final
   * checkpoint.
   */
  readonly signal?: AbortSignal;
  /**
   * Routes SIGINT/SIGTERM to `signal` (a second one exits at once) until the returned function
   * is called. Outside such a stretch the signals keep their default action and end the process
   * at once, whatever it is computing (sampling, log Z): nothing is half-written, since every
   * output is written atomically. Absent in-process (tests abort `signal` themselves).
   */
  readonly catchSignals?: () => () => void;
  /** Environment variables the command reads (`BOLTZMANN_TRUSTED_PLUGINS`); absent: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The real process's streams and working directory. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}
