// A run's config as flat hyperparameters, the columns of the runs table: nested objects become dotted keys
// ({ schedule: { warmup: 1 } } → 'schedule.warmup'), lists of plain values become comma-separated text as the CLI
// writes them (['crop', 'flip'] → 'crop,flip'; [] → 'none'), anything else is kept as JSON text.

export type ParamValue = string | number | boolean | null;

export function flattenConfig(config: Record<string, unknown>, prefix = '', out: Record<string, ParamValue> = {}): Record<string, ParamValue> {
  for (const [key, value] of Object.entries(config)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out[name] = value;
    } else if (Array.isArray(value)) {
      const plain = value.every((item) => item === null || ['string', 'number', 'boolean'].includes(typeof item));
      out[name] = !plain ? JSON.stringify(value) : value.length === 0 ? 'none' : value.join(',');
    } else if (typeof value === 'object') {
      flattenConfig(value as Record<string, unknown>, name, out);
    }
  }
  return out;
}

/** A parameter value as text ('null' for null), as the index stores and `--where` compares it. */
export function paramText(value: ParamValue | undefined): string {
  return value === undefined ? '' : value === null ? 'null' : String(value);
}
