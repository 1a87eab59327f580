// The deployment files under deploy/ are checked against the code they deploy: the Kubernetes and KServe manifests
// parse and carry their required fields, their `insight serve` arguments are a valid serve config, their probes
// and scrape paths are real key-free routes, the HPA's metric, the alert rules' and the Grafana panels' metric
// names are all in a real server's /metrics (the primary's autoscaling series from the elastic pool's registry),
// and `promtool check rules` accepts the alert rules and `promtool test rules` (prometheus/alerts.test.yml) shows each fire.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

import { Registry } from 'prom-client';
import { parse, parseAllDocuments } from 'yaml';

import { flagOf } from '../../src/run/config_schema';
import { resolveServeConfig, SERVE_SCHEMA } from '../../src/serve/config';
import type { ServeContext } from '../../src/serve/http/context';
import { ROUTES } from '../../src/serve/routes';
import { AUTOSCALE_DEFAULTS } from '../../src/serve/scaling/autoscaler';
import { ElasticPool } from '../../src/serve/scaling/elastic_pool';
import { saveVersion, tempRepository, testServer } from './helpers';

const REPO = path.join(__dirname, '..', '..', '..', '..');
const DEPLOY = path.join(REPO, 'deploy');
const read = (file: string) => fs.readFileSync(path.join(DEPLOY, file), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

/** The one document of a manifest, parsed strictly. */
function manifest(file: string): Doc {
  const docs = parseAllDocuments(read(file));
  assert.ok(!Array.isArray(docs) || docs.length === 1, `${file}: one document`);
  const doc = (Array.isArray(docs) ? docs[0] : docs);
  assert.deepEqual(doc.errors, [], `${file} parses`);
  return doc.toJS();
}

/** The key-free GET routes of the server (probes cannot send keys) and every route's method + url. */
const routes = ROUTES.flatMap((factory) => factory({} as ServeContext));
const publicGets = new Set(routes.filter((r) => r.method === 'GET' && (r.config as { scope?: string } | undefined)?.scope === 'public').map((r) => r.url));
const allGets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));

/** `serve --a b --c d` → the serve config those flags give (throws INSIGHT_E_CONFIG on an unknown flag or bad value). */
function serveConfigOf(args: string[]): ReturnType<typeof resolveServeConfig> {
  assert.equal(args[0], 'serve');
  const byFlag = new Map(Object.keys(SERVE_SCHEMA.properties).map((key) => [flagOf(key), key]));
  const input: Record<string, string> = {};
  for (let i = 1; i < args.length; i += 2) {
    const key = byFlag.get(args[i]);
    assert.ok(key !== undefined, `${args[i]} is a flag of insight serve`);
    assert.ok(i + 1 < args.length, `${args[i]} has a value`);
    input[key] = args[i + 1];
  }
  return resolveServeConfig(input);
}

/** Metric names of a Prometheus text exposition, with the _bucket/_sum/_count series of histograms. */
function metricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

/** The metric names a PromQL expression reads (insight_* identifiers; functions and labels are not). */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(insight_[a-z0-9_]+)\b/g)].map((m) => m[1]);
}

let exported: Set<string>;

before(async () => {
  const root = tempRepository();
  await saveVersion(root, 'tiny', 1);
  const server = await testServer(root);
  const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
  await server.close();
  // The cluster primary's own series (appended to the workers' aggregate) come from the elastic pool's registry.
  const primary = new Registry();
  new ElasticPool({ autoscaler: { ...AUTOSCALE_DEFAULTS, minWorkers: 1, maxWorkers: 2 }, pollMs: 1000, killAfterMs: 1000 }, () => [],
    { info: () => undefined, error: () => undefined }, primary);
  exported = new Set([...metricNames(text), ...metricNames(await primary.metrics())]);
  for (const name of ['insight_queue_depth', 'insight_workers', 'insight_drift_psi', 'insight_serve_requests_total', 'insight_scale_events_total']) {
    assert.ok(exported.has(name), `${name} exported`);
  }
});

describe('deploy/Dockerfile', () => {
  it('is node:20-bookworm + the serving system packages + npm ci, running insight serve on the exposed port with a real health route', () => {
    const text = read('Dockerfile');
    assert.match(text, /^FROM node:20-bookworm$/m);
    // The serving subset of the install script's packages: libtorch and node-gyp's toolchain, not the test tools.
    const installed = /apt-get install -y -qq ([a-z0-9 +.-]+?) >/.exec(text)![1].split(' ');
    const script = /^packages=\(([^)]*)\)$/m.exec(fs.readFileSync(path.join(REPO, 'scripts', 'install-system-packages.sh'), 'utf8'))![1].split(' ');
    assert.deepEqual(installed, ['libtorch-dev', 'g++', 'make', 'python3']);
    for (const name of installed) assert.ok(script.includes(name), `${name} is in scripts/install-system-packages.sh`);
    // npm ci succeeds without the addon (cpu backend): the image build must not.
    assert.match(text, /^RUN npm ci\b.*&& test -f packages\/tfjs-backend-torch\/build\/Release\/tfjs_torch\.node$/m);
    const ignored = read('Dockerfile.dockerignore').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    for (const entry of ['.git', '**/node_modules', '**/build', '**/dist']) assert.ok(ignored.includes(entry), `the context leaves out ${entry}`);
    const entry = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(text)![1]) as string[];
    assert.equal(entry[0], 'node');
    assert.ok(fs.existsSync(path.join(REPO, entry[1])), `${entry[1]} exists`);
    const config = serveConfigOf(JSON.parse(/^CMD (.+)$/m.exec(text)![1]) as string[]);
    assert.equal(String(config.port), /^EXPOSE (\d+)$/m.exec(text)![1]);
    assert.equal(config.host, '0.0.0.0');
    const health = /http:\/\/127\.0\.0\.1:(\d+)(\/\S+?)'/.exec(text)!;
    assert.equal(Number(health[1]), config.port);
    assert.ok(publicGets.has(health[2]), `${health[2]} is a key-free GET route`);
  });
});

describe('deploy/k8s', () => {
  const deployment = manifest('k8s/deployment.yaml');
  const container = deployment.spec.template.spec.containers[0];

  it('deployment.yaml: a Deployment running a valid `insight serve`, with probes on real health routes and resources', () => {
    assert.deepEqual([deployment.apiVersion, deployment.kind, deployment.metadata.name], ['apps/v1', 'Deployment', 'insight-serve']);
    assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
    assert.match(container.image, /^[\w.-]+(\/[\w.-]+)+:[\w.-]+$/);
    const config = serveConfigOf(container.args);
    assert.equal(config.autoscale, true);
    assert.equal(config.host, '0.0.0.0');
    const port = container.ports.find((p: Doc) => p.name === 'http');
    assert.equal(port.containerPort, config.port);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const get = container[probe].httpGet;
      assert.ok(publicGets.has(get.path), `${probe} ${get.path} is a key-free GET route`);
      assert.equal(get.port, 'http');
    }
    assert.equal(container.readinessProbe.httpGet.path, '/v2/health/ready');
    assert.equal(container.livenessProbe.httpGet.path, '/v2/health/live');
    for (const kind of ['requests', 'limits']) assert.ok(container.resources[kind].cpu && container.resources[kind].memory, `resources.${kind}`);
    // Beyond loopback the server refuses to start without keys: they come from a Secret.
    assert.deepEqual(container.env.map((e: Doc) => e.name), ['INSIGHT_API_KEYS', 'INSIGHT_ADMIN_KEYS']);
    assert.ok(container.env.every((e: Doc) => e.valueFrom.secretKeyRef.name));
    const annotations = deployment.spec.template.metadata.annotations;
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(Number(annotations['prometheus.io/port']), config.port);
    assert.ok(allGets.has(annotations['prometheus.io/path']), 'the scrape path is a route');
    // SIGTERM drains within --shutdown-timeout-ms; Kubernetes must wait longer before its SIGKILL.
    assert.ok(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000 > config.shutdownTimeoutMs);
    assert.equal(container.volumeMounts[0].mountPath, config.models);
  });

  it('service.yaml: selects the deployment\'s pods and targets its named port', () => {
    const service = manifest('k8s/service.yaml');
    assert.deepEqual([service.apiVersion, service.kind, service.metadata.name], ['v1', 'Service', 'insight-serve']);
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
    assert.equal(service.spec.ports[0].targetPort, 'http');
    assert.ok(container.ports.some((p: Doc) => p.name === service.spec.ports[0].targetPort));
  });

  it('hpa.yaml: autoscaling/v2 on the Pods metric insight_queue_depth, which the server exports', () => {
    const hpa = manifest('k8s/hpa.yaml');
    assert.deepEqual([hpa.apiVersion, hpa.kind, hpa.metadata.name], ['autoscaling/v2', 'HorizontalPodAutoscaler', 'insight-serve']);
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
    const [metric] = hpa.spec.metrics;
    assert.equal(metric.type, 'Pods');
    assert.equal(metric.pods.metric.name, 'insight_queue_depth');
    assert.ok(exported.has(metric.pods.metric.name));
    assert.equal(metric.pods.target.type, 'AverageValue');
    assert.ok(Number(metric.pods.target.averageValue) > 0);
  });
});

describe('deploy/kserve', () => {
  it('a ServingRuntime running `insight serve` with protocol v2, and an InferenceService that uses it', () => {
    const runtime = manifest('kserve/servingruntime.yaml');
    assert.deepEqual([runtime.apiVersion, runtime.kind, runtime.metadata.name], ['serving.kserve.io/v1alpha1', 'ServingRuntime', 'insight-runtime']);
    assert.deepEqual(runtime.spec.protocolVersions, ['v2']);
    const [container] = runtime.spec.containers;
    assert.equal(container.name, 'kserve-container');
    const config = serveConfigOf(container.args);
    assert.equal(config.models, '/mnt/models'); // where KServe's storage initializer puts the model
    assert.equal(container.ports[0].containerPort, config.port);
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      assert.ok(publicGets.has(container[probe].httpGet.path), `${probe} is a key-free GET route`);
      assert.equal(container[probe].httpGet.port, config.port);
    }
    assert.ok(allGets.has(runtime.spec.annotations['prometheus.kserve.io/path']));
    const service = manifest('kserve/inferenceservice.yaml');
    assert.deepEqual([service.apiVersion, service.kind, service.metadata.name], ['serving.kserve.io/v1beta1', 'InferenceService', 'cifar']);
    const model = service.spec.predictor.model;
    assert.equal(model.runtime, runtime.metadata.name);
    assert.ok(runtime.spec.supportedModelFormats.some((f: Doc) => f.name === model.modelFormat.name));
    assert.ok(runtime.spec.protocolVersions.includes(model.protocolVersion));
    assert.match(model.storageUri, /^(pvc|s3|gs|https?):\/\//);
  });
});

describe('deploy/prometheus/alerts.yml', () => {
  it('passes `promtool check rules`', () => {
    let out: string;
    try {
      out = execFileSync('promtool', ['check', 'rules', path.join(DEPLOY, 'prometheus', 'alerts.yml')], { encoding: 'utf8' });
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
      if (e.code === 'ENOENT') {
        assert.fail('promtool is missing: install Debian\'s prometheus package (bash scripts/install-system-packages.sh); this check is never skipped.');
      }
      assert.fail(`promtool check rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    assert.match(out, /SUCCESS: 5 rules found/);
  });

  it('every alert fires on its synthetic series after its `for:` and not on the near miss (`promtool test rules`)', () => {
    // alerts.test.yml: one case per alert; the load failure's includes the first failure of a new series.
    const tests = (parse(read('prometheus/alerts.test.yml')) as Doc).tests as { alert_rule_test: { alertname: string }[] }[];
    const tested = new Set(tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    const alerts = (parse(read('prometheus/alerts.yml')) as Doc).groups.flatMap((g: Doc) => g.rules.map((r: Doc) => r.alert));
    assert.deepEqual([...tested].sort(), [...alerts].sort());
    let out: string;
    try {
      out = execFileSync('promtool', ['test', 'rules', path.join(DEPLOY, 'prometheus', 'alerts.test.yml')], { encoding: 'utf8' });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      assert.fail(`promtool test rules failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    assert.match(out, /SUCCESS/);
  });

  it('alerts on error rate, p99 over the SLO, drift and failed loads, with metric names the server exports', () => {
    const rules = (parse(read('prometheus/alerts.yml')) as Doc).groups.flatMap((g: Doc) => g.rules) as { alert: string; expr: string }[];
    const byName = new Map(rules.map((r) => [r.alert, r.expr]));
    assert.match(byName.get('InsightServeHighErrorRate')!, /insight_serve_requests_total\{status=~"5\.\."\}/);
    assert.match(byName.get('InsightServeLatencyP99AboveSLO')!, /histogram_quantile\(0\.99,[\s\S]*insight_serve_request_duration_seconds_bucket[\s\S]*> 0\.5/);
    assert.match(byName.get('InsightModelDrift')!, /insight_drift_psi\) > 0\.25/);
    assert.match(byName.get('InsightModelLoadFailed')!, /insight_model_load_failures_total/);
    for (const rule of rules) {
      const names = namesIn(rule.expr);
      assert.ok(names.length > 0, `${rule.alert} reads a metric`);
      for (const name of names) assert.ok(exported.has(name), `${rule.alert}: ${name} is in /metrics`);
    }
  });
});

describe('deploy/grafana/dashboard.json', () => {
  it('has panels for request rate, latency quantiles, queue depth, workers and drift, on exported metrics', () => {
    const dashboard = JSON.parse(read('grafana/dashboard.json')) as { title: string; panels: { title: string; targets: { expr: string }[] }[] };
    assert.equal(dashboard.title, 'insight serve');
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const used = new Set(exprs.flatMap(namesIn));
    for (const name of ['insight_serve_requests_total', 'insight_serve_request_duration_seconds_bucket', 'insight_queue_depth', 'insight_workers', 'insight_drift_psi']) {
      assert.ok(used.has(name), `a panel shows ${name}`);
    }
    assert.ok(exprs.some((e) => /histogram_quantile\(0\.99,/.test(e)) && exprs.some((e) => /histogram_quantile\(0\.5,/.test(e)), 'latency quantiles');
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, `${panel.title} has a query`);
      for (const target of panel.targets) for (const name of namesIn(target.expr)) assert.ok(exported.has(name), `${panel.title}: ${name} is in /metrics`);
    }
  });
});
