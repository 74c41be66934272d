// Runs before any TypeScript file is loaded (`npm start`, `npm test`, ...): on a Node that
// cannot run `.ts` files as they are, the entry point would fail with a stack trace
// (ERR_UNKNOWN_FILE_EXTENSION) instead of saying what to do. Plain JavaScript, so that any
// Node can run it. Keep the accepted versions in step with `engines` in package.json.
import process from 'node:process';
import { pathToFileURL } from 'node:url';

/** Node runs `.ts` without flags (type stripping) from 22.18 in the 22 line, and from 24. */
export function nodeVersionProblem(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  if (major >= 24 || (major === 22 && minor >= 18)) return undefined;
  return (
    'LexiContract needs Node 24 (or 22.18 or later), found ' +
    version +
    '.\n' +
    'Install Node 24 with nvm: `nvm install` (reads .nvmrc), or see "Requirements" in ' +
    'README.md for a way without nvm.\n'
  );
}

/** Prints the problem and exits 1 when this Node is too old. */
export function checkNode() {
  const problem = nodeVersionProblem(process.version);
  if (problem !== undefined) {
    process.stderr.write(problem);
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  checkNode();
}
