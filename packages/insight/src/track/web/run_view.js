// A run's page (#/run/<id>): status (and why it ended: failed, interrupted, crashed) and summary metrics, its
// learning curves (live while it trains), the config, the final report (confusion matrix image, or a table drawn from
// report/metrics.json; per-class precision, recall, F1), the sample predictions grid and the explanations panel
// (explanations_view.js). A run deleted while the page is open says so instead of going blank.
import { ApiError, getJson } from './api.js';
import { LineChart, colorOf, seriesOf } from './chart.js';
import { fill, h } from './dom.js';
import { mountExplanations } from './explanations_view.js';
import * as fmt from './format.js';
import { store, subscribe, watchRuns } from './store.js';

/** How a run's error reads by its status: stopped at a signal, its process gone without a word, or failed. */
function errorLabel(status) {
  return { interrupted: 'Interrupted', crashed: 'Crashed' }[status] ?? 'Failed';
}

/**
 * The status to show: the live one from the stream (which, like the run's detail, says 'crashed' for a 'running' run
 * whose process is gone: run/liveness.ts), else the detail's.
 */
function shownStatus(id, run) {
  return store.status.get(id) ?? run.status;
}

function metricsTable(run) {
  const names = [...new Set([...Object.keys(run.final), ...Object.keys(run.best)])].sort();
  if (names.length === 0) return h('p', { class: 'muted' }, 'No metrics logged yet.');
  return h('table', { class: 'compact', id: 'summary-metrics' },
    h('thead', {}, h('tr', {}, h('th', {}, 'metric'), h('th', { class: 'num' }, 'final'), h('th', { class: 'num' }, 'best'))),
    h('tbody', {}, names.map((name) => h('tr', {}, h('td', {}, name), h('td', { class: 'num' }, fmt.metric(run.final[name])), h('td', { class: 'num' }, fmt.metric(run.best[name]))))));
}

function configTable(run) {
  const keys = Object.keys(run.params);
  if (keys.length === 0) return h('p', { class: 'muted' }, 'No config.json.');
  return h('table', { class: 'compact', id: 'config' }, h('tbody', {}, keys.map((key) => h('tr', {}, h('th', {}, key), h('td', {}, fmt.param(run.params[key]))))));
}

/** The confusion matrix as a shaded table, when report/confusion.png is missing but metrics.json has the counts. */
function confusionTable(report) {
  const names = report.classNames ?? report.confusion.map((_, i) => String(i));
  return h('table', { class: 'confusion', id: 'confusion-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'true \\ predicted'), names.map((n) => h('th', {}, n)))),
    h('tbody', {}, report.confusion.map((row, t) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      return h('tr', {}, h('th', {}, names[t]), row.map((count) => {
        const share = count / total;
        return h('td', { style: `background: rgba(8, 48, 107, ${share.toFixed(3)}); color: ${share > 0.5 ? 'white' : 'inherit'}` }, String(count));
      }));
    })));
}

function perClassTable(report) {
  return h('table', { class: 'compact', id: 'per-class' },
    h('thead', {}, h('tr', {}, ['class', 'precision', 'recall', 'F1', 'support'].map((t, i) => h('th', { class: i ? 'num' : '' }, t)))),
    h('tbody', {}, report.perClass.map((c) => h('tr', {}, h('td', {}, c.name), h('td', { class: 'num' }, fmt.metric(c.precision)),
      h('td', { class: 'num' }, fmt.metric(c.recall)), h('td', { class: 'num' }, fmt.metric(c.f1)), h('td', { class: 'num' }, String(c.support))))));
}

function reportSection(id, detail) {
  const { report, images } = detail;
  const parts = [];
  if (report && typeof report === 'object') {
    const top = Object.entries(report.topK ?? {}).filter(([k]) => k !== '1').map(([k, v]) => ` · top-${k} ${fmt.metric(v)}`).join('');
    parts.push(h('p', {}, `${report.split ?? 'evaluation'}: ${report.count ?? '?'} images · loss ${fmt.metric(report.loss)} · accuracy ${fmt.metric(report.accuracy)}${top}`));
  }
  const matrix = images.confusion
    ? h('img', { id: 'confusion-image', class: 'report-image', alt: 'confusion matrix', src: `/api/runs/${encodeURIComponent(id)}/files/confusion.png?t=${Date.now()}` })
    : Array.isArray(report?.confusion) ? confusionTable(report) : null;
  const perClass = Array.isArray(report?.perClass) ? perClassTable(report) : null;
  if (!matrix && !perClass) return h('p', { class: 'muted', id: 'no-report' }, 'No report yet: it is written when training completes.');
  return h('div', {}, parts, h('div', { class: 'report' }, h('div', {}, h('h3', {}, 'Confusion matrix'), matrix ?? h('p', { class: 'muted' }, 'Not in the report.')),
    h('div', {}, h('h3', {}, 'Per class'), perClass ?? h('p', { class: 'muted' }, 'Not in the report.'))));
}

export function mountRunView(root, id) {
  let disposed = false;
  let detail = null;
  let lastStatus = null;
  let stopExplanations = null;
  const lossChart = h('div', { class: 'chart', id: 'loss-chart' });
  const accuracyChart = h('div', { class: 'chart', id: 'accuracy-chart' });
  const charts = [new LineChart(lossChart, { height: 260, empty: 'No loss logged yet.' }), new LineChart(accuracyChart, { height: 260, empty: 'No accuracy logged yet.' })];
  const banner = h('div', { class: 'notices', id: 'run-notices' });
  const body = h('div', { id: 'run-body' }, h('p', { class: 'muted' }, 'Loading...'));
  fill(root, h('p', {}, h('a', { href: '#/' }, '← all runs')), banner, body);

  /** The run is gone: deleted under an open page (its last state stays), or never there. */
  function showGone() {
    const message = detail
      ? `Run ${id} was deleted while this page was open; what is shown is the last state seen.`
      : `Run ${id} does not exist (it may have been deleted).`;
    fill(banner, h('div', { class: 'notice gone', id: 'run-gone' }, message, ' ', h('a', { href: '#/' }, 'Back to the runs table.')));
  }

  async function load() {
    try {
      detail = await getJson(`/api/runs/${encodeURIComponent(id)}`);
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && error.status === 404) {
        showGone();
        if (!detail) fill(body);
      } else {
        fill(banner, h('div', { class: 'notice' }, error.message));
      }
      return;
    }
    if (disposed) return;
    lastStatus = detail.run.status;
    render();
  }

  function render() {
    const { run } = detail;
    const explanations = h('div', { id: 'explanations-panel' });
    fill(body,
      h('section', { class: 'card' },
        h('h1', { class: 'run-title' }, run.name ? [h('span', { id: 'run-name' }, run.name), ' ', h('span', { class: 'muted run-id' }, run.id)] : run.id, ' ',
          h('span', { class: `badge ${shownStatus(id, run)}`, id: 'run-status' }, shownStatus(id, run))),
        h('p', { class: 'muted' }, `${run.kind === 'finetune' ? 'fine-tune' : 'train'} run · created ${fmt.created(run.createdAt)} UTC · ${run.epochs} epoch${run.epochs === 1 ? '' : 's'} · ${run.steps} steps`,
          run.tags.length ? [' · ', run.tags.map((t) => h('span', { class: 'tag' }, t))] : null,
          detail.eventFiles.length ? ` · TensorBoard: ${detail.eventFiles.length} event file${detail.eventFiles.length === 1 ? '' : 's'}` : ''),
        run.error ? h('p', { class: 'error', id: 'run-error' }, `${errorLabel(shownStatus(id, run))}: ${run.error}`) : null,
        run.problems.length ? h('div', { class: 'problems', id: 'problems' }, run.problems.map((p) => h('div', { class: 'warning' }, `⚠ ${p}`))) : null),
      h('section', { class: 'card grid2' },
        h('div', {}, h('h2', {}, 'Loss'), lossChart),
        h('div', {}, h('h2', {}, 'Accuracy'), accuracyChart)),
      h('section', { class: 'card grid2' },
        h('div', {}, h('h2', {}, 'Metrics'), metricsTable(run)),
        h('div', {}, h('h2', {}, 'Config'), configTable(run))),
      h('section', { class: 'card', id: 'report-section' }, h('h2', {}, 'Report'), reportSection(id, detail)),
      h('section', { class: 'card', id: 'predictions-section' }, h('h2', {}, 'Sample predictions'),
        detail.images.predictions
          ? h('img', { id: 'predictions-image', class: 'report-image', alt: 'sample predictions', src: `/api/runs/${encodeURIComponent(id)}/files/predictions.png?t=${Date.now()}` })
          : h('p', { class: 'muted' }, 'None yet: written at the end of training (with TensorBoard logging on).')),
      h('section', { class: 'card', id: 'explanations-section' }, h('h2', {}, 'Explanations'), explanations));
    stopExplanations?.();
    stopExplanations = mountExplanations(explanations, id);
    drawCharts();
  }

  function drawCharts() {
    const records = store.records.get(id) ?? [];
    const hasEpochs = records.some((r) => (r.type ?? 'epoch') === 'epoch');
    const xAxis = hasEpochs ? 'epoch' : 'step';
    const make = (metrics) => metrics.map((m, i) => ({ label: m, color: colorOf(i), ...seriesOf(records, m, xAxis) }));
    charts[0].update(make(['loss', 'val_loss']), { xLabel: xAxis, yLabel: 'loss' });
    charts[1].update(make(['accuracy', 'val_accuracy', 'val_robust_accuracy']), { xLabel: xAxis, yLabel: 'accuracy' }); // robust: --adversarial runs
  }

  const unsubscribe = subscribe(() => {
    if (disposed) return;
    if (store.deleted.has(id)) {
      showGone();
      if (!detail) fill(body);
      return;
    }
    const status = store.status.get(id);
    if (status && lastStatus && status !== lastStatus) {
      // The run finished (or failed): its report and images are on disk now.
      lastStatus = status;
      void load();
      return;
    }
    if (detail) drawCharts();
  });
  watchRuns([id]);
  void load();

  return () => {
    disposed = true;
    stopExplanations?.();
    unsubscribe();
    charts.forEach((c) => c.destroy());
  };
}
