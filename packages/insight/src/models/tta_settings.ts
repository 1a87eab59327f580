// Test-time augmentation settings ({ flip, shift }, models/metadata.ts TtaSettings) without tensors: the one parser
// of the `--tta` flag of evaluate, predict and serve, its inverse, and the check against a model's input size. Kept
// apart from the views (models/tta.ts) so the CLI validates `--tta` before TensorFlow.js loads.
import { ruleError, type ErrorCode } from '../errors';
import type { TtaSettings } from './metadata';

/** No augmentation: the original image only. */
export const NO_TTA: Readonly<TtaSettings> = Object.freeze({ flip: false, shift: 0 });

/** The shift `--tta shift` and `--tta flip-shift` use without `=N` (airbench's one pixel). */
export const DEFAULT_TTA_SHIFT = 1;

/** The `--tta` values, for help lines and messages. */
export const TTA_SYNTAX = 'none | flip | shift[=N] | flip-shift[=N]';

/**
 * The one parser of `--tta` (evaluate, predict, serve): 'none' (also turns off TTA stored in the model's metadata),
 * 'flip', 'shift' or 'shift=N', 'flip-shift' or 'flip-shift=N' (N pixels, default 1). Case and spaces are ignored.
 * Example: parseTta('flip-shift=2') → { flip: true, shift: 2 }. Throws INSIGHT_E_CONFIG on anything else.
 * The shift's upper bound depends on the model's input size: checkTta, once the model is known.
 */
export function parseTta(text: string): TtaSettings {
  const match = /^(none|flip|shift|flip-shift)(?:=(\d+))?$/.exec(text.trim().toLowerCase().replace(/\s+/g, ''));
  const kind = match?.[1];
  if (match === null || (match[2] !== undefined && (kind === 'none' || kind === 'flip'))) {
    throw ruleError('INSIGHT_E_CONFIG', `tta must be one of: ${TTA_SYNTAX} (N: pixels of the translations, an integer >= 1).`, { tta: text },
      'Pass e.g. --tta flip, --tta flip-shift (one pixel) or --tta flip-shift=2; --tta none turns test-time augmentation off.');
  }
  const shift = kind === 'shift' || kind === 'flip-shift' ? (match[2] === undefined ? DEFAULT_TTA_SHIFT : Number(match[2])) : 0;
  if ((kind === 'shift' || kind === 'flip-shift') && shift < 1) {
    throw ruleError('INSIGHT_E_CONFIG', 'The shift of --tta shift=N / flip-shift=N must be an integer >= 1.', { tta: text },
      'Pass e.g. --tta flip-shift=1, or --tta flip for no translations.');
  }
  return { flip: kind === 'flip' || kind === 'flip-shift', shift };
}

/** The flag's spelling of `tta` (inverse of parseTta), e.g. 'flip-shift=2' or 'none'. */
export function formatTta(tta: TtaSettings): string {
  if (tta.shift === 0) return tta.flip ? 'flip' : 'none';
  return `${tta.flip ? 'flip-shift' : 'shift'}=${tta.shift}`;
}

/** Largest shift for an input of [height, width]: a quarter of the smaller side (and always below it, as reflection needs). */
export function maxTtaShift(height: number, width: number): number {
  return Math.floor(Math.min(height, width) / 4);
}

/**
 * `tta` checked for a model of `inputShape` [H, W, C]: flip a boolean, shift an integer 0..floor(min(H, W) / 4).
 * `code`/`source` say where it came from in the error: INSIGHT_E_CONFIG for a flag, INSIGHT_E_MODEL for metadata.
 */
export function checkTta(tta: unknown, inputShape: readonly number[], code: ErrorCode = 'INSIGHT_E_CONFIG', source = '--tta'): TtaSettings {
  const [height, width] = inputShape;
  const max = maxTtaShift(height, width);
  const t = tta as Partial<TtaSettings> | null;
  const ok = typeof t === 'object' && t !== null && typeof t.flip === 'boolean' && Number.isInteger(t.shift) && t.shift! >= 0 && t.shift! <= max;
  if (!ok) {
    throw ruleError(code, `Test-time augmentation must be { flip: true|false, shift: an integer 0..${max} } for a ${height}x${width} input ` +
      '(shifts up to a quarter of the image side).', { source, tta },
    code === 'INSIGHT_E_MODEL'
      ? 'Fix `inference.tta` in model.json\'s userDefinedMetadata.insight, or override it with --tta (e.g. --tta none).'
      : `Pass --tta with a shift of at most ${max}, e.g. --tta flip-shift=${Math.max(1, Math.min(DEFAULT_TTA_SHIFT, max))}${max === 0 ? ' (no shift fits: use --tta flip)' : ''}.`);
  }
  return { flip: t!.flip!, shift: t!.shift! };
}
