// TensorBoard's curve smoothing: an exponential moving average, debiased so the first points are not pulled
// towards zero. weight 0 = raw values; 0.99 = very smooth. Missing (null) or non-finite values pass through.

export function smooth(values, weight) {
  if (!(weight > 0)) return values.slice();
  const out = [];
  let last = 0;
  let count = 0;
  for (const value of values) {
    if (value === null || value === undefined || !Number.isFinite(value)) {
      out.push(value ?? null);
      continue;
    }
    last = last * weight + (1 - weight) * value;
    count++;
    out.push(last / (1 - weight ** count));
  }
  return out;
}
