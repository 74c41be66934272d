/** A port this process must listen on is taken; the message says which, whose and what to do. */
export class PortInUseError extends Error {
  readonly code = 'port_in_use';
  readonly port: number;
  constructor(port: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.port = port;
    this.name = 'PortInUseError';
  }
}

/**
 * Runs `listen(port)`, turning EADDRINUSE into a PortInUseError
 * whose message is `explain(port)`: Node's own names only the address, not which of the
 * process's listeners it was or which setting moves it.
 */
export async function listenOrExplain<T>(
  port: number,
  explain: (port: number) => string,
  listen: (port: number) => Promise<T>,
): Promise<T> {
  try {
    return await listen(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new PortInUseError(port, explain(port), { cause: error });
  }
}
