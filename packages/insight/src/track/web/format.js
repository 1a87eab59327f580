// How numbers, times and values read on the page (the same conventions as `insight runs`).

export function metric(value) {
  if (value === undefined || value === null) return '-';
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  const size = Math.abs(value);
  if (size >= 1e6 || (size > 0 && size < 1e-3)) return value.toExponential(2);
  return size >= 1000 ? value.toFixed(1) : value.toFixed(4);
}

/** Logged epochs, with the planned count when the config has it: '3/10'. */
export function epochs(run) {
  return typeof run.params.epochs === 'number' ? `${run.epochs}/${run.params.epochs}` : String(run.epochs);
}

export function param(value) {
  if (value === undefined) return '-';
  if (value === null) return 'null';
  return String(value);
}

/** ISO time → 'YYYY-MM-DD HH:MM' (UTC, as the run ids are). */
export function created(iso) {
  return typeof iso === 'string' ? iso.replace('T', ' ').slice(0, 16) : '-';
}

/** Milliseconds → '3 s', '4 min', '2 h'. */
export function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** true: higher is better; false: lower; null: neither (mirrors run_metrics.ts). */
export function higherIsBetter(name) {
  const n = name.toLowerCase();
  if (/loss|error|seconds/.test(n)) return false;
  if (/accuracy|f1|precision|recall|persecond|per_second/.test(n)) return true;
  return null;
}
