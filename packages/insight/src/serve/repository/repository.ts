// The model repository as served: which versions of which models are loaded, kept in line with the disk.
//
// Policy (like TF Serving's "latest N"): each model serves its `keepVersions` highest loadable versions; the
// highest is the default. A poll every `pollMs` rescans the disk; a new or rewritten version is loaded once its
// files have been unchanged for one interval (a copy in progress is not loaded half-written), warmed up, and
// swapped in atomically (one Map.set); the version it replaces is retired after its last request. A version that
// fails to load leaves the serving one in place, is reported (status, log, metric) and is retried only when its
// files change. Admins can pin a version (rollback), unload a model, or force a reload.
// All changes run one at a time through one queue, so the poll and admin calls never interleave.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ruleError, serveError } from '../../errors';
import type { TtaSettings } from '../../models/metadata';
import { ModelFileError, type ModelFileProblem, type ModelReadOptions } from '../../run/safe_files';
import type { BatchObserver, BatcherOptions } from '../batching/batcher';
import { loadOnnxServable } from './onnx_servable';
import { isOnnxVersion, scanRepository, type DiskVersion } from './scan';
import { loadServable, type Servable } from './servable';

/** TF Serving's version states. */
export type VersionState = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

export interface VersionStatus {
  version: number;
  state: VersionState;
  /** The last load failure of this version (null = OK). A failed new load of a serving version keeps it AVAILABLE. */
  error: string | null;
}

export interface ModelSnapshot {
  name: string;
  servingVersions: number[];
  diskVersions: number[];
  pinnedVersion: number | null;
  unloaded: boolean;
  versions: VersionStatus[];
}

export interface RepositoryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RepositoryOptions {
  root: string;
  keepVersions: number;
  /** Poll interval and stability window for new files; 0 = no polling (admin reload only). */
  pollMs: number;
  /** Longest a version's file reads may take (--load-timeout-ms); default 60 s. */
  loadTimeoutMs?: number;
  batcher: BatcherOptions;
  /** Intra-op threads of ONNX Runtime sessions (.onnx versions; --compute-threads); undefined = its default (every core). */
  computeThreads?: number;
  /** Test-time augmentation of every version (--tta), overriding their stored setting; null/undefined = each version's own. */
  tta?: TtaSettings | null;
  logger: RepositoryLogger;
  /** Per-model batch metrics. */
  observer?: (model: string) => BatchObserver;
  /** Called after every load attempt; `reason` says why one failed (the metric label). */
  onLoad?: (event: LoadEvent) => void;
}

/** Why a load failed: a refused file (safe_files.ts) or `invalid` (a model that is not servable: shapes, metadata, warm-up). */
export type LoadFailureReason = ModelFileProblem | 'invalid';

export interface LoadEvent {
  model: string;
  version: number;
  ok: boolean;
  seconds: number;
  reason?: LoadFailureReason;
}

interface ModelEntry {
  name: string;
  serving: Map<number, Servable>;
  status: Map<number, VersionStatus>;
  /** version → fingerprint that failed to load (not retried until the files change). */
  failed: Map<number, string>;
  /** version → the fingerprint last seen and since when (stability window). */
  seen: Map<number, { fingerprint: string; sinceMs: number }>;
  onDisk: DiskVersion[];
  pinned: number | null;
  unloaded: boolean;
}

interface ReconcileOptions {
  /** Load what is on disk without waiting for the stability window: every model (startup) or these (admin calls). */
  immediate?: boolean | Set<string>;
  /** Reload these models' desired versions even if their files did not change, and retry their failures. */
  force?: Set<string>;
}

export class ModelRepository {
  private readonly entries = new Map<string, ModelEntry>();
  private chain: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | null = null;
  private pollPending = false;
  private started = false;
  private closed = false;
  private readonly retiring = new Set<Promise<void>>();

  constructor(readonly options: RepositoryOptions) {}

  /** Loads what is on disk now, then starts polling. Throws INSIGHT_E_CONFIG when the root is not a directory. */
  async start(): Promise<void> {
    if (!fs.existsSync(this.options.root) || !fs.statSync(this.options.root).isDirectory()) {
      throw ruleError('INSIGHT_E_CONFIG', 'The model repository must be a directory of <model>/<version>/ model directories.',
        { models: this.options.root, exists: fs.existsSync(this.options.root) },
        'Create it, e.g. copy runs/<run-id>/model to models/<name>/1/, and pass --models models.');
    }
    await this.enqueue({ immediate: true });
    this.started = true;
    if (this.entries.size === 0) this.options.logger.warn({ models: this.options.root }, 'the model repository has no models yet; polling for them');
    if (this.options.pollMs > 0) this.schedulePoll();
  }

  /** Initial load done, not closing, and at least one model has a loaded version. */
  isReady(): boolean {
    return this.started && !this.closed && [...this.entries.values()].some((e) => e.serving.size > 0);
  }

  modelNames(): string[] {
    return [...this.entries.keys()].sort();
  }

  /**
   * The servable for a request, with a lease the caller must release (servable.release()) when done.
   * version undefined = the default (highest served) version. Throws the 404/503 ServeErrors.
   */
  acquire(model: string, version?: number): Servable {
    const servable = this.resolve(model, version);
    servable.acquire();
    return servable;
  }

  /** The servable a request would get, without a lease (for metadata). */
  resolve(model: string, version?: number): Servable {
    const entry = this.entry(model);
    if (version !== undefined) {
      const servable = entry.serving.get(version);
      if (servable === undefined) {
        throw serveError('SERVE_E_VERSION_NOT_FOUND', 'A request may name only a version that is being served.',
          { model, version, served: [...entry.serving.keys()].sort((a, b) => b - a), onDisk: entry.onDisk.map((v) => v.version) },
          'Omit the version for the default (highest) one, pick a served version, or serve more with --keep-versions.');
      }
      return servable;
    }
    if (entry.serving.size === 0) throw this.unavailable(entry);
    return entry.serving.get(Math.max(...entry.serving.keys()))!;
  }

  /** TF Serving-style statuses of a model's versions (or of one version), highest first. */
  versionStatuses(model: string, version?: number): VersionStatus[] {
    const entry = this.entry(model);
    const all = [...entry.status.values()].sort((a, b) => b.version - a.version);
    if (version === undefined) return all;
    const one = all.filter((s) => s.version === version);
    if (one.length === 0) {
      throw serveError('SERVE_E_VERSION_NOT_FOUND', 'A status request may name only a version the server knows.',
        { model, version, known: all.map((s) => s.version) }, 'Ask for GET /v1/models/<model> to list them.');
    }
    return one;
  }

  snapshot(): ModelSnapshot[] {
    return this.modelNames().map((name) => {
      const e = this.entries.get(name)!;
      return {
        name,
        servingVersions: [...e.serving.keys()].sort((a, b) => b - a),
        diskVersions: e.onDisk.map((v) => v.version),
        pinnedVersion: e.pinned,
        unloaded: e.unloaded,
        versions: [...e.status.values()].sort((a, b) => b.version - a.version),
      };
    });
  }

  /** Every servable currently serving (for queue-depth metrics). */
  servables(): Servable[] {
    return [...this.entries.values()].flatMap((e) => [...e.serving.values()]);
  }

  /** Admin: serve `model` again (after unload) following the latest versions, or pinned to `version`. */
  async load(model: string, version: number | null): Promise<ModelSnapshot> {
    return this.admin(model, async (entry) => {
      const previous = { pinned: entry.pinned, unloaded: entry.unloaded };
      entry.unloaded = false;
      entry.pinned = version;
      if (version !== null) {
        if (!entry.onDisk.some((v) => v.version === version)) {
          Object.assign(entry, previous);
          throw serveError('SERVE_E_VERSION_NOT_FOUND', 'An admin load may pin only a version that exists on disk.',
            { model, version, onDisk: entry.onDisk.map((v) => v.version) }, 'Pick one of the versions on disk, or omit version to follow the latest.');
        }
        entry.failed.delete(version);
      }
      await this.reconcileOnce({ immediate: new Set([model]) });
      if (version !== null && !entry.serving.has(version)) {
        const error = entry.status.get(version)?.error ?? 'unknown error';
        Object.assign(entry, previous);
        await this.reconcileOnce({ immediate: new Set([model]) });
        throw serveError('SERVE_E_LOAD_FAILED', 'An admin load must be able to load the version from disk.',
          { model, version, error }, 'Fix or replace the version\'s files; the previously served version stays.');
      }
    });
  }

  /** Admin: stop serving `model` (every version) until load() is called. */
  async unload(model: string): Promise<ModelSnapshot> {
    return this.admin(model, async (entry) => {
      entry.unloaded = true;
      await this.reconcileOnce({ immediate: new Set([model]) });
    });
  }

  /** Admin: reload the model's versions from disk now (even unchanged), retrying failed ones. */
  async reload(model: string): Promise<ModelSnapshot> {
    return this.admin(model, async (entry) => {
      entry.failed.clear();
      await this.reconcileOnce({ immediate: new Set([model]), force: new Set([model]) });
      const failed = [...entry.status.values()].filter((s) => s.error !== null);
      if (failed.length > 0) {
        throw serveError('SERVE_E_LOAD_FAILED', 'An admin reload must be able to load every version it reloads.',
          { model, failed: failed.map((s) => ({ version: s.version, error: s.error })) },
          'Fix the files of those versions; versions that loaded before stay served.');
      }
    });
  }

  /** Rescans the disk now (tests and the poll timer). */
  refresh(): Promise<void> {
    return this.enqueue({});
  }

  /** Stops polling and disposes every model once its requests are done. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    await this.chain;
    for (const entry of this.entries.values()) {
      for (const servable of entry.serving.values()) this.retire(entry, servable);
      entry.serving.clear();
    }
    await Promise.all([...this.retiring]);
  }

  private entry(model: string): ModelEntry {
    const entry = this.entries.get(model);
    if (entry === undefined) {
      // The names of the other models are not given away: a client lists what it may see (GET /v2/repository/index).
      throw serveError('SERVE_E_MODEL_NOT_FOUND', 'A request must name a model of the repository.', { model },
        `List the models with POST /v2/repository/index (an admin key), or add <models>/${/^[A-Za-z0-9._-]+$/.test(model) ? model : '<name>'}/1/ to the repository.`);
    }
    return entry;
  }

  private unavailable(entry: ModelEntry): Error {
    const retryAfter = Math.max(1, this.options.pollMs / 1000);
    if (entry.unloaded) {
      return serveError('SERVE_E_MODEL_UNAVAILABLE', 'A model unloaded by an admin serves no requests.',
        { model: entry.name, unloaded: true }, `Ask an admin to POST /admin/models/${entry.name}/load.`, { retryAfter });
    }
    const errors = [...entry.status.values()].filter((s) => s.error !== null).map((s) => `v${s.version}: ${s.error}`);
    return serveError('SERVE_E_MODEL_UNAVAILABLE', 'A model serves requests only once one of its versions has loaded.',
      { model: entry.name, onDisk: entry.onDisk.map((v) => v.version), ...(errors.length ? { errors } : { state: 'loading' }) },
      errors.length ? 'Fix the version files (see GET /v1/models/<model>); the server retries when they change.' : 'Retry shortly.', { retryAfter });
  }

  private async admin(model: string, action: (entry: ModelEntry) => Promise<void>): Promise<ModelSnapshot> {
    let result: ModelSnapshot | undefined;
    const run = async () => {
      this.syncDisk();
      await action(this.entry(model));
      result = this.snapshot().find((s) => s.name === model);
    };
    const next = this.chain.then(run);
    this.chain = next.catch(() => undefined);
    await next;
    return result!;
  }

  private enqueue(options: ReconcileOptions): Promise<void> {
    const next = this.chain.then(() => this.reconcileOnce(options));
    this.chain = next.catch((error) => this.options.logger.error({ err: error }, 'repository reconcile failed'));
    return next;
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(() => {
      if (!this.pollPending) {
        this.pollPending = true;
        this.enqueue({}).catch(() => undefined).finally(() => {
          this.pollPending = false;
        });
      }
      this.schedulePoll();
    }, this.options.pollMs);
    this.pollTimer.unref();
  }

  /** Reads the disk into the entries (new models get an entry; stability windows are updated). */
  private syncDisk(): void {
    const disk = scanRepository(this.options.root);
    const nowMs = Date.now();
    for (const [name, versions] of disk) {
      let entry = this.entries.get(name);
      if (entry === undefined) {
        entry = { name, serving: new Map(), status: new Map(), failed: new Map(), seen: new Map(), onDisk: [], pinned: null, unloaded: false };
        this.entries.set(name, entry);
      }
      entry.onDisk = versions;
      for (const v of versions) {
        const seen = entry.seen.get(v.version);
        if (seen === undefined || seen.fingerprint !== v.fingerprint) entry.seen.set(v.version, { fingerprint: v.fingerprint, sinceMs: nowMs });
      }
    }
    for (const entry of this.entries.values()) if (!disk.has(entry.name)) entry.onDisk = [];
  }

  private async reconcileOnce(options: ReconcileOptions): Promise<void> {
    if (this.closed) return;
    this.syncDisk();
    for (const entry of [...this.entries.values()]) {
      await this.reconcileModel(entry, options);
      if (entry.onDisk.length === 0 && entry.serving.size === 0) this.entries.delete(entry.name);
    }
  }

  private async reconcileModel(entry: ModelEntry, options: ReconcileOptions): Promise<void> {
    const nowMs = Date.now();
    const immediate = options.immediate === true || (options.immediate instanceof Set && options.immediate.has(entry.name));
    const stable = (v: DiskVersion) => immediate || this.options.pollMs === 0
      || nowMs - (entry.seen.get(v.version)?.sinceMs ?? nowMs) >= this.options.pollMs;
    const loadable = (v: DiskVersion) => entry.failed.get(v.version) !== v.fingerprint && stable(v);
    let force = options.force?.has(entry.name) ?? false;
    // Each round either loads what is desired or marks a version failed, which changes what is desired: at most
    // (versions on disk + 1) rounds.
    for (let round = 0; round <= entry.onDisk.length + 1; round++) {
      const desired = this.desired(entry, loadable);
      const toLoad = desired.filter((v) => {
        const current = entry.serving.get(v.version);
        return current === undefined || force || (current.fingerprint !== v.fingerprint && loadable(v));
      });
      force = false;
      if (toLoad.length === 0) break;
      for (const v of toLoad) await this.loadVersion(entry, v);
    }
    const keep = new Set(this.desired(entry, loadable).map((v) => v.version));
    const anyDesiredServing = [...keep].some((v) => entry.serving.has(v));
    for (const [version, servable] of [...entry.serving]) {
      if (keep.has(version) || (keep.size > 0 && !anyDesiredServing)) continue;
      entry.serving.delete(version);
      this.retire(entry, servable);
    }
    for (const [version, status] of [...entry.status]) {
      if (status.state === 'END' && !entry.onDisk.some((v) => v.version === version)) entry.status.delete(version);
    }
  }

  /**
   * The versions the model should serve now (highest first): among those serving or loadable (files stable and
   * not known to fail), the pinned one or the keepVersions highest.
   */
  private desired(entry: ModelEntry, loadable: (v: DiskVersion) => boolean): DiskVersion[] {
    if (entry.unloaded) return [];
    const candidates = entry.onDisk.filter((v) => entry.serving.has(v.version) || loadable(v));
    if (entry.pinned !== null) {
      const pinned = candidates.find((v) => v.version === entry.pinned);
      if (pinned !== undefined) return [pinned];
    }
    return candidates.slice(0, this.options.keepVersions);
  }

  private async loadVersion(entry: ModelEntry, v: DiskVersion): Promise<void> {
    const { logger } = this.options;
    const current = entry.serving.get(v.version);
    entry.status.set(v.version, { version: v.version, state: current ? 'AVAILABLE' : 'LOADING', error: null });
    const started = performance.now();
    // Files must stay inside the repository (the root as given: a repository, one model or one run directory).
    const read: ModelReadOptions = { root: this.options.root, shownFrom: this.options.root, timeoutMs: this.options.loadTimeoutMs };
    try {
      const observer = this.options.observer?.(entry.name) ?? {};
      const servable = isOnnxVersion(v.dir)
        ? await loadOnnxServable(entry.name, v.version, v.dir, v.fingerprint, this.options.batcher, observer, this.options.computeThreads, read, this.options.tta)
        : await loadServable(entry.name, v.version, v.dir, v.fingerprint, this.options.batcher, observer, read, this.options.tta);
      entry.serving.set(v.version, servable);
      entry.failed.delete(v.version);
      entry.status.set(v.version, { version: v.version, state: 'AVAILABLE', error: null });
      const seconds = (performance.now() - started) / 1000;
      this.options.onLoad?.({ model: entry.name, version: v.version, ok: true, seconds });
      logger.info({ model: entry.name, version: v.version, dir: v.dir, seconds: Number(seconds.toFixed(3)), replaced: current !== undefined },
        'model version loaded');
      if (current !== undefined) this.retire(entry, current, false);
    } catch (error) {
      // Logged once: the version is retried only when its files change (its fingerprint), so a poll never repeats it.
      const message = (error as Error).message;
      const reason: LoadFailureReason = error instanceof ModelFileError ? error.problem : 'invalid';
      entry.failed.set(v.version, v.fingerprint);
      entry.status.set(v.version, { version: v.version, state: current ? 'AVAILABLE' : 'END', error: message });
      this.options.onLoad?.({ model: entry.name, version: v.version, ok: false, seconds: (performance.now() - started) / 1000, reason });
      logger.warn({ model: entry.name, version: v.version, dir: path.relative(this.options.root, v.dir) || '.', reason, error: message },
        'model version failed to load; the served versions stay');
    }
  }

  /** Disposes `servable` after its last request. `mark`: record the version as ended (it is not being replaced). */
  private retire(entry: ModelEntry, servable: Servable, mark = true): void {
    if (mark) entry.status.set(servable.version, { version: servable.version, state: 'UNLOADING', error: entry.status.get(servable.version)?.error ?? null });
    const done = servable.retire().then(() => {
      this.retiring.delete(done);
      if (mark && !entry.serving.has(servable.version)) {
        const status = entry.status.get(servable.version);
        if (status?.state === 'UNLOADING') entry.status.set(servable.version, { ...status, state: 'END' });
      }
      this.options.logger.info({ model: entry.name, version: servable.version }, 'model version unloaded');
    }).catch((error: unknown) => {
      this.retiring.delete(done);
      this.options.logger.error({ model: entry.name, version: servable.version, error: (error as Error).message }, 'model version failed to unload');
    });
    this.retiring.add(done);
  }
}
