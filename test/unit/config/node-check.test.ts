import { describe, expect, it } from 'vitest';

import { nodeVersionProblem } from '../../../scripts/node-check.mjs';

/** The npm scripts' preflight accepts exactly the Node versions `engines` names. */
describe('node-check', () => {
  it.each(['v24.0.0', 'v24.22.3', 'v26.1.0', 'v22.18.0', 'v22.21.1'])('accepts %s', (version) => {
    expect(nodeVersionProblem(version)).toBeUndefined();
  });

  it.each(['v20.20.2', 'v22.12.0', 'v22.17.1', 'v23.11.0', 'v18.20.8'])(
    'names what to install on %s',
    (version) => {
      const problem = nodeVersionProblem(version);
      expect(problem).toContain(`found ${version}`);
      expect(problem).toContain('nvm install');
    },
  );
});
