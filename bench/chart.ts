/**
 * A dependency-free SVG line chart of HubSpot calls per rolling 10 s against HubSpot's
 * ceiling (110 per portal), from the sandbox's request log: one line per series (a portal,
 * or a group of portals), the ceiling as a dashed line.
 */

export interface ChartSeries {
  readonly name: string;
  /** Call times, ms (any clock; only differences matter). */
  readonly times: readonly number[];
}

export interface WindowChart {
  readonly title: string;
  readonly subtitle: string;
  readonly series: readonly ChartSeries[];
  readonly ceiling: number;
  readonly windowMs?: number;
  /** Sample step, ms. */
  readonly stepMs?: number;
  /** Legend entries shown (the rest are drawn, unnamed). */
  readonly legendLimit?: number;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b'];

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) =>
    c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&quot;',
  );
}

/** Calls in the rolling window ending at each sample time, from `t0`. */
export function rollingCounts(
  sortedTimes: readonly number[],
  t0: number,
  t1: number,
  windowMs: number,
  stepMs: number,
): { t: number; n: number }[] {
  const points: { t: number; n: number }[] = [];
  let start = 0;
  let end = 0;
  for (let t = t0; t <= t1; t += stepMs) {
    while (end < sortedTimes.length && (sortedTimes[end] ?? 0) <= t) end += 1;
    while (start < end && (sortedTimes[start] ?? 0) <= t - windowMs) start += 1;
    points.push({ t, n: end - start });
  }
  return points;
}

export function renderWindowChart(chart: WindowChart): string {
  const windowMs = chart.windowMs ?? 10_000;
  const stepMs = chart.stepMs ?? 250;
  const all = chart.series.flatMap((s) => s.times);
  const t0 = Math.min(...all);
  const t1 = Math.max(...all) + windowMs;
  const curves = chart.series.map((s) =>
    rollingCounts(
      [...s.times].sort((a, b) => a - b),
      t0,
      t1,
      windowMs,
      stepMs,
    ),
  );
  const maxN = Math.max(chart.ceiling, ...curves.flatMap((c) => c.map((p) => p.n)));
  const width = 760;
  const height = 300;
  const left = 48;
  const right = 16;
  const top = 44;
  const bottom = 36;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const yMax = Math.ceil((maxN * 1.1) / 20) * 20;
  const spanS = (t1 - t0) / 1000;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * plotW;
  const y = (n: number) => top + plotH - (n / yMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" viewBox="0 0 ${String(width)} ${String(height)}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${String(left)}" y="16" font-size="13" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text x="${String(left)}" y="32" fill="#555">${escapeXml(chart.subtitle)}</text>`,
  ];
  const yStep = yMax <= 160 ? 20 : Math.ceil(yMax / 8 / 20) * 20;
  for (let n = 0; n <= yMax; n += yStep) {
    parts.push(
      `<line x1="${String(left)}" x2="${String(left + plotW)}" y1="${y(n).toFixed(1)}" y2="${y(n).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${String(left - 6)}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end" fill="#555">${String(Math.round(n))}</text>`,
    );
  }
  const tickS = spanS > 120 ? 30 : spanS > 40 ? 10 : 5;
  for (let s = 0; s <= spanS; s += tickS) {
    const px = x(t0 + s * 1000);
    parts.push(
      `<text x="${px.toFixed(1)}" y="${String(top + plotH + 14)}" text-anchor="middle" fill="#555">${String(s)} s</text>`,
    );
  }
  parts.push(
    `<line x1="${String(left)}" x2="${String(left + plotW)}" y1="${y(chart.ceiling).toFixed(1)}" y2="${y(chart.ceiling).toFixed(1)}" stroke="#000" stroke-dasharray="6 4"/>`,
    `<text x="${String(left + plotW - 4)}" y="${(y(chart.ceiling) - 4).toFixed(1)}" text-anchor="end">HubSpot ceiling: ${String(chart.ceiling)} calls / 10 s per portal</text>`,
    `<text x="${String(left + plotW / 2)}" y="${String(height - 4)}" text-anchor="middle" fill="#555">time since the first call; y: calls in the rolling ${String(windowMs / 1000)} s ending then</text>`,
  );
  curves.forEach((curve, i) => {
    const colour = COLOURS[i % COLOURS.length] ?? '#000';
    const d = curve
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.n).toFixed(1)}`)
      .join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    const limit = chart.legendLimit ?? 8;
    if (i > limit) return;
    const name =
      i === limit
        ? `… and ${String(chart.series.length - limit)} more`
        : (chart.series[i]?.name ?? '');
    parts.push(
      `<rect x="${String(left + 8)}" y="${String(top + 6 + i * 14)}" width="10" height="3" fill="${colour}"/>`,
      `<text x="${String(left + 22)}" y="${String(top + 10 + i * 14)}">${escapeXml(name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
