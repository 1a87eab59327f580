// `ensemble(config)`: several trained classifiers (run or model directories, or one run's per-epoch snapshots) as
// ONE servable model that averages their probabilities with the given weights (build_model.ts). It is saved as a
// model directory (model.json + weights.bin, atomically) whose Insight metadata is the members' (input shape, class
// names, normalization: checked equal), with `inference.output = 'probabilities'` — so evaluate, predict and serve
// report its output as it is (models/inference_output.ts) — and `ensemble`: the members' paths, weights, fingerprints.
// A member's calibration temperature is applied inside the graph (softmax(logits / T)); a member that is itself an
// ensemble (output probabilities) is nested as it is, its own weights multiplied by its weight. TTA settings are
// carried over when every member has the same, else left out (evaluate/predict/serve --tta still apply).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ruleError } from '../errors';
import type { EnsembleMemberRecord, InsightModelMetadata } from '../models/metadata';
import { setInsightMetadata } from '../models/metadata';
import { startBackend } from '../run/backend_choice';
import { MODEL_JSON, saveModel } from '../run/model_io';
import { RunDir } from '../run/run_dir';
import { buildEnsembleModel } from './build_model';
import { parseWeights, resolveEnsembleConfig, type EnsembleConfig, type EnsembleOptions } from './config';
import { checkMembersAgree, loadMember, weightsFingerprint, type LoadedMember } from './members';
import { chooseSnapshots } from './snapshots';

export interface EnsembleResult {
  /** The model directory written. */
  out: string;
  /** The Insight metadata saved with it (its `ensemble` lists the members). */
  metadata: InsightModelMetadata;
  config: EnsembleConfig;
}

/**
 * Builds and saves the ensemble. Example:
 * `await ensemble({ members: ['runs/a', 'runs/b', 'runs/c'], weights: [1, 2, 1], out: 'ensembles/abc' })`, or
 * `await ensemble({ snapshots: 'runs/a', last: 3, out: 'ensembles/a-snapshots' })`.
 */
export async function ensemble(options: EnsembleOptions, io: { say?: (line: string) => void } = {}): Promise<EnsembleResult> {
  const config = resolveEnsembleConfig(options);
  const say = io.say ?? (() => undefined);
  const targets = config.snapshots === null
    ? config.members.map((dir) => ({ dir, epoch: undefined as number | undefined }))
    : chooseSnapshots(config.snapshots, config).map(({ dir, epoch }) => ({ dir, epoch: epoch as number | undefined }));
  const weights = memberWeights(config.weights, targets.length);
  checkOut(config.out, targets.map((t) => t.dir));
  await startBackend(config.backend);

  const members: LoadedMember[] = [];
  try {
    for (const target of targets) members.push(await loadMember(target.dir, target.epoch));
    checkMembersAgree(members);
    const records: EnsembleMemberRecord[] = [];
    for (const [i, member] of members.entries()) {
      records.push({
        path: member.dir, weight: weights[i], fingerprint: await weightsFingerprint(member.model),
        architecture: member.metadata.architecture, temperature: member.temperature,
        ...(member.epoch === undefined ? {} : { epoch: member.epoch }),
      });
    }
    const first = members[0].metadata;
    const metadata: InsightModelMetadata = {
      formatVersion: 1,
      architecture: 'ensemble',
      architectureOptions: { members: members.length, kind: config.snapshots === null ? 'members' : 'snapshots' },
      inputShape: first.inputShape,
      classNames: first.classNames,
      normalization: first.normalization,
      ...(first.trainingDistribution === undefined ? {} : { trainingDistribution: first.trainingDistribution }),
      inference: { output: 'probabilities', ...sharedTta(members) },
      ensemble: { kind: config.snapshots === null ? 'members' : 'snapshots', members: records },
    };
    const model = buildEnsembleModel(members.map((m, i) => ({ model: m.model, weight: weights[i], output: m.output, temperature: m.temperature })),
      first.inputShape);
    try {
      setInsightMetadata(model, metadata);
      await saveModel(model, config.out);
    } finally {
      model.dispose();
    }
    for (const record of records) {
      say(`  ${record.path}${record.epoch === undefined ? '' : ` (epoch ${record.epoch})`}: weight ${record.weight.toFixed(4)}` +
        `${record.temperature === 1 ? '' : `, temperature ${record.temperature}`}, ${record.architecture}, weights sha256 ${record.fingerprint.slice(0, 12)}`);
    }
    say(`Ensemble of ${members.length} members (average of their probabilities): ${config.out}`);
    return { out: config.out, metadata, config };
  } finally {
    for (const member of members) member.model.dispose();
  }
}

/** The members' weights, normalised to sum 1: --weights (one per member) or equal. */
function memberWeights(text: string | null, count: number): number[] {
  const raw = text === null ? new Array<number>(count).fill(1) : parseWeights(text);
  if (raw.length !== count) {
    throw ruleError('INSIGHT_E_CONFIG', 'weights must give one weight per member.', { weights: text, members: count },
      `Pass ${count} comma-separated weights, e.g. --weights ${new Array(count).fill(1).join(',')}.`);
  }
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / total);
}

/**
 * --out is written as a whole (an existing directory there is replaced), so it must be new, empty, or an earlier
 * model directory — never a member's model or run directory, nor a folder holding other files (e.g. the runs).
 */
function checkOut(out: string, memberDirs: string[]): void {
  const target = path.resolve(out);
  for (const dir of memberDirs) {
    const member = path.resolve(dir);
    const run = RunDir.ofModelDir(RunDir.at(member).modelDir) ?? RunDir.ofModelDir(member);
    if (target === member || target === RunDir.at(member).modelDir || (run !== null && target === path.resolve(run.dir))) {
      throw ruleError('INSIGHT_E_CONFIG', '--out must not be a member\'s model or run directory: the ensemble would replace it.',
        { out, member: dir }, 'Pass a new directory, e.g. --out ensembles/<name>.');
    }
  }
  if (!fs.existsSync(target)) return;
  const isDir = fs.statSync(target).isDirectory();
  const entries = isDir ? fs.readdirSync(target) : [];
  if (!isDir || (entries.length > 0 && !entries.includes(MODEL_JSON))) {
    throw ruleError('INSIGHT_E_CONFIG', `--out is replaced as a whole, so it must be a new or empty directory, or a model directory (with ${MODEL_JSON}).`,
      { out, exists: true, directory: isDir, entries: entries.length }, 'Pass a new directory, e.g. --out ensembles/<name>.');
  }
}

/** { tta } when every member stores the same TTA setting, else {} (differing settings are not carried over). */
function sharedTta(members: LoadedMember[]): { tta?: NonNullable<InsightModelMetadata['inference']>['tta'] } {
  const settings = members.map((m) => m.metadata.inference?.tta);
  const same = settings.every((t) => JSON.stringify(t) === JSON.stringify(settings[0]));
  return same && settings[0] !== undefined ? { tta: settings[0] } : {};
}
