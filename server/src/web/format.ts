/** Times on the pages: UTC, as text, to the minute (`2026-12-02 00:31 UTC`). */
export function utc(date: Date | string | number | null | undefined, seconds = false): string {
  if (date === null || date === undefined) return '—';
  const value = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(value.getTime())) return '—';
  return `${value
    .toISOString()
    .slice(0, seconds ? 19 : 16)
    .replace('T', ' ')} UTC`;
}
