/** Types of node-check.mjs (plain JavaScript so that any Node can run it). */
export function nodeVersionProblem(version: string): string | undefined;
export function checkNode(): void;
