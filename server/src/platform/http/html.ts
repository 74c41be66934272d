/**
 * A tiny auto-escaping HTML template: every interpolated value is escaped unless it is
 * itself the result of `html` (or explicitly `raw`), so pages cannot be injected into.
 */
const SAFE = Symbol('safe-html');

export interface SafeHtml {
  readonly [SAFE]: true;
  readonly value: string;
}

function isSafe(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && SAFE in value;
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

type Interpolation =
  SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((v: Interpolation) => render(v)).join('');
  if (isSafe(value)) return value.value;
  if (typeof value === 'string') return escapeHtml(value);
  return escapeHtml(typeof value === 'number' ? value.toString() : 'true');
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return { [SAFE]: true, value: out };
}

/** Marks trusted markup (constants only, never user data). */
export function raw(value: string): SafeHtml {
  return { [SAFE]: true, value };
}
