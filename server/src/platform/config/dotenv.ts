/**
 * Reads `.env` from the working directory into `process.env`, as `.env.example` promises.
 * Variables already in the environment win (the process manager's or the shell's settings
 * override the file). A missing file is fine; returns whether one was read.
 */
export function loadDotEnv(file = '.env'): boolean {
  try {
    process.loadEnvFile(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
