import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { LoadCommon, LoadReply, LoadSummary, LoadTarget } from './load-protocol.ts';

/** Drives the load-generator child process (one, reused for every run). */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (s: LoadSummary) => void; reject: (e: Error) => void }
  >();

  constructor() {
    this.child = fork(fileURLToPath(new URL('./load-child.ts', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (raw) => {
      const reply = raw as LoadReply;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.summary);
      else waiter.reject(new Error(reply.error));
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.pending.values()) {
        waiter.reject(new Error(`load generator exited (${String(code)})`));
      }
      this.pending.clear();
    });
  }

  async run(common: LoadCommon, target: LoadTarget): Promise<LoadSummary> {
    const id = this.nextId++;
    return new Promise<LoadSummary>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, common, target });
    });
  }

  close(): void {
    this.child.disconnect();
  }
}
