/** A port this process must listen on is taken; the message says which, whose and what to do. */
export class PortInUseError extends Error {
  readonly code = 'port_in_use';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PortInUseError';
  }
}

/**
 * Runs `listen(port)`, turning EADDRINUSE into a PortInUseError with `message`: Node's own
 * names only the address, not which of the process's listeners it was or which setting
 * moves it.
 */
export async function listenOrExplain<T>(
  port: number,
  message: string,
  listen: (port: number) => Promise<T>,
): Promise<T> {
  try {
    return await listen(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new PortInUseError(message, { cause: error });
  }
}

/** The message for a port set directly by `setting` (PORT, METRICS_PORT). */
export function settingInUse(setting: string, port: number): string {
  return `${setting} ${String(port)} is in use by another process: stop it, or choose another port.`;
}
