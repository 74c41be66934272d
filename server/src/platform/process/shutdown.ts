/**
 * One orderly stop for a process that owns servers, pools and child processes. SIGTERM (a
 * process manager) and SIGINT (Ctrl-C) are the same request: run the registered steps in
 * reverse order of registration (the last thing started stops first, the database last),
 * log one line saying how long it took, exit 0. A step that fails is logged and the rest
 * still run (exit 1). The same steps run when startup fails part-way, so a failed start
 * stops what it started.
 *
 * `npm start` forwards the terminal's SIGINT to us while the terminal sends it to us as
 * well, so a signal within DUPLICATE_WINDOW_MS of the first is the same request; a later one
 * means "stop now" and exits at once (the embedded Postgres is told to stop on exit).
 */
export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const DUPLICATE_WINDOW_MS = 2_000;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export class Shutdown {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = [];
  private stopping: Promise<never> | undefined;
  private firstSignalAt = 0;
  private readonly log: ShutdownLogger;
  private readonly options: { deadlineMs: number };

  constructor(log: ShutdownLogger, options: { deadlineMs: number }) {
    this.log = log;
    this.options = options;
    for (const signal of SIGNALS) {
      process.on(signal, () => {
        this.onSignal(signal);
      });
    }
    process.on('uncaughtException', (err) => {
      this.onError(err);
    });
    process.on('unhandledRejection', (err) => {
      this.onError(err);
    });
  }

  /** Registers a stop step; steps run last-registered first. */
  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Runs every step once, then exits (0 when every step succeeded and `failed` is false). */
  stop(reason: { signal?: NodeJS.Signals; failed?: boolean }): Promise<never> {
    this.stopping ??= this.runSteps(reason);
    return this.stopping;
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.stopping === undefined) {
      this.firstSignalAt = Date.now();
      this.log.info({ signal }, 'shutting down');
      void this.stop({ signal });
    } else if (Date.now() - this.firstSignalAt > DUPLICATE_WINDOW_MS) {
      this.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
  }

  private onError(err: unknown): void {
    if (this.stopping === undefined) {
      this.log.error({ err }, 'shutting down after an error');
      void this.stop({ failed: true });
    } else {
      this.log.error({ err }, 'error while shutting down');
    }
  }

  private async runSteps(reason: { signal?: NodeJS.Signals; failed?: boolean }): Promise<never> {
    const startedAt = Date.now();
    const deadline = setTimeout(() => {
      this.log.error(
        { deadlineMs: this.options.deadlineMs },
        'shutdown did not finish in time; exiting',
      );
      process.exit(1);
    }, this.options.deadlineMs);
    deadline.unref();
    let failed = reason.failed === true;
    // How long each step took, in the final line: where a slow stop spent its time.
    const stepsMs: Record<string, number> = {};
    for (const step of this.steps.toReversed()) {
      const stepStartedAt = Date.now();
      try {
        await step.run();
      } catch (err) {
        failed = true;
        this.log.error({ err, step: step.name }, 'a shutdown step failed');
      }
      stepsMs[step.name] = Date.now() - stepStartedAt;
    }
    const durationMs = Date.now() - startedAt;
    this.log.info(
      { durationMs, stepsMs, ...(reason.signal ? { signal: reason.signal } : {}) },
      `stopped in ${(durationMs / 1000).toFixed(1)} s`,
    );
    process.exit(failed ? 1 : 0);
  }
}
