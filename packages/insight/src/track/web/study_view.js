// The hyperparameter studies (`insight tune`): #/studies lists the studies of the dashboard's study storage
// (objective, budget, counts by state, best value); #/study/<name> shows one: the best-so-far curve over trial
// numbers (uPlot: the best value after each completed trial, beside each trial's own value), parallel coordinates
// (SVG: one axis per parameter and one for the metric, a line per finished trial coloured by its value from worst to
// best, pruned and paused trials dashed), and the trials table, each trial linking to its run. Refreshes while trials run.
import { ApiError, getJson } from './api.js';
import { LineChart } from './chart.js';
import { fill, h } from './dom.js';
import * as fmt from './format.js';

const REFRESH_MS = 4000;
/** The SVG namespace, as the HTML parser assigns it to an <svg> tag (the page names no URL: tests check it loads nothing remote). */
const SVG = (() => {
  const template = document.createElement('template');
  template.innerHTML = '<svg></svg>';
  return template.content.firstChild.namespaceURI;
})();
/** Viridis stops, worst (0) to best (1). */
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/** The colour of goodness t in [0, 1] on the viridis scale, as 'rgb(r, g, b)'. */
export function colourOf(t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * f)).join(', ')})`;
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  for (const child of children.flat()) if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** Position in [0, 1] (0 = bottom) of every value on an axis: numeric (linear or log) or categorical (evenly spaced). */
function scaleOf(axis, values) {
  if (axis.kind === 'categorical') {
    const n = axis.choices.length;
    return { at: (v) => (n <= 1 ? 0.5 : axis.choices.findIndex((c) => String(c) === String(v)) / (n - 1)), ticks: axis.choices.map((c) => [c, n <= 1 ? 0.5 : axis.choices.indexOf(c) / (n - 1)]) };
  }
  const f = axis.log ? (v) => Math.log10(v) : (v) => v;
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v) && (!axis.log || v > 0));
  const [lo, hi] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const [a, b] = [f(lo), f(hi)];
  const at = (v) => (b === a ? 0.5 : (f(v) - a) / (b - a));
  return { at, ticks: lo === hi ? [[lo, 0.5]] : [[lo, 0], [hi, 1]] };
}

/**
 * Parallel coordinates of the trials with a value (completed, pruned and paused): one axis per parameter, then the metric (its
 * better end on top); a trial missing a conditional parameter skips that axis.
 */
function parallelCoordinates(detail) {
  const { study, axes, trials } = detail;
  const finished = trials.filter((t) => (t.state === 'completed' || t.state === 'pruned' || t.state === 'paused') && typeof t.value === 'number');
  if (finished.length === 0) return h('p', { class: 'muted chart-empty', id: 'parallel-empty' }, 'No finished trials yet.');
  const metricAxis = { name: study.metric, kind: 'numeric', log: false, choices: [] };
  const all = [...axes, metricAxis];
  const width = Math.max(640, 150 * all.length);
  const [height, top, bottom, left, right] = [320, 34, 30, 60, 60];
  const x = (i) => left + (all.length === 1 ? 0 : (i * (width - left - right)) / (all.length - 1));
  const y = (p) => top + (1 - p) * (height - top - bottom);
  const scales = all.map((axis, i) => scaleOf(axis, i === all.length - 1 ? finished.map((t) => t.value) : finished.map((t) => t.params[axis.name])));
  const metricScale = scales[scales.length - 1];
  const maximize = study.direction === 'maximize';
  const goodness = (v) => (maximize ? metricScale.at(v) : 1 - metricScale.at(v));
  const plot = svg('svg', { id: 'parallel-coordinates', width, height, viewBox: `0 0 ${width} ${height}`, 'data-axes': all.length, 'data-lines': finished.length });
  // Lines first (under the axes), the best last (on top).
  const ordered = [...finished].sort((a, b) => goodness(a.value) - goodness(b.value));
  for (const trial of ordered) {
    const points = [];
    all.forEach((axis, i) => {
      const value = i === all.length - 1 ? trial.value : trial.params[axis.name];
      if (value === undefined) return;
      const p = i === all.length - 1 ? (maximize ? metricScale.at(value) : 1 - metricScale.at(value)) : scales[i].at(value);
      points.push(`${x(i).toFixed(1)},${y(p).toFixed(1)}`);
    });
    const line = svg('polyline', {
      class: `pc-line ${trial.state}`, points: points.join(' '), fill: 'none', stroke: colourOf(goodness(trial.value)), 'stroke-width': 2,
      'stroke-dasharray': trial.state === 'completed' ? null : '5 4', 'data-trial': trial.number, 'data-value': trial.value,
    }, svg('title', {}, `trial ${trial.number}: ${study.metric} ${fmt.metric(trial.value)} (${trial.state})`));
    plot.append(line);
  }
  all.forEach((axis, i) => {
    const flip = i === all.length - 1 && !maximize; // a minimised metric: its lowest (best) value on top
    plot.append(svg('line', { class: 'pc-axis', x1: x(i), x2: x(i), y1: y(0), y2: y(1), stroke: '#1d2330', 'stroke-width': 1 }));
    plot.append(svg('text', { class: 'pc-label', x: x(i), y: 16, 'text-anchor': 'middle', 'data-axis': axis.name }, `${axis.name}${axis.log ? ' (log)' : ''}`));
    const last = i === all.length - 1; // the metric's labels go right of its axis, the others left of theirs
    for (const [value, p] of scales[i].ticks) {
      plot.append(svg('text', { class: 'pc-tick', x: x(i) + (last ? 6 : -6), y: y(flip ? 1 - p : p) + 4, 'text-anchor': last ? 'start' : 'end' },
        typeof value === 'number' ? fmt.metric(value) : String(value)));
    }
  });
  return plot;
}

function countsText(counts) {
  return ['completed', 'pruned', 'failed', 'running', 'paused', 'waiting'].map((s) => `${counts[s]} ${s}`).join(' · ');
}

function trialsTable(detail) {
  const { study, axes, trials } = detail;
  const best = study.best?.number;
  return h('table', { class: 'runs', id: 'trials' },
    h('thead', {}, h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, 'state'), h('th', { class: 'num' }, study.metric), h('th', { class: 'num' }, 'epochs'),
      axes.map((a) => h('th', {}, a.name)), h('th', {}, 'run'))),
    h('tbody', {}, trials.map((t) => h('tr', { class: t.number === best ? 'selected' : '', 'data-trial': t.number },
      h('td', { class: 'num' }, String(t.number)), h('td', {}, h('span', { class: `badge ${t.state === 'pruned' || t.state === 'paused' ? 'interrupted' : t.state}`, title: t.error ?? '' }, t.state)),
      h('td', { class: 'num' }, fmt.metric(t.value)), h('td', { class: 'num' }, String(t.epochs)),
      axes.map((a) => h('td', { class: 'param' }, fmt.param(t.params[a.name]))),
      h('td', { class: 'id' }, t.runId ? h('a', { href: `#/run/${encodeURIComponent(t.runId)}` }, t.runId) : (t.runDir ?? '-'))))));
}

export function mountStudyView(root, name) {
  let disposed = false;
  let timer = null;
  const chartBox = h('div', { class: 'chart', id: 'best-so-far' });
  const chart = new LineChart(chartBox, { height: 260, empty: 'No completed trials yet.' });
  const header = h('div', { id: 'study-header' }, h('p', { class: 'muted' }, 'Loading...'));
  const parallel = h('div', { class: 'table-wrap', id: 'parallel' });
  const table = h('div', { class: 'table-wrap' });
  fill(root, h('p', {}, h('a', { href: '#/studies' }, '← all studies')), h('section', { class: 'card' }, header),
    h('section', { class: 'card' }, h('h2', {}, 'Best so far'), chartBox),
    h('section', { class: 'card' }, h('h2', {}, 'Parallel coordinates'), parallel),
    h('section', { class: 'card' }, h('h2', {}, 'Trials'), table));

  async function load() {
    let detail;
    try {
      detail = await getJson(`/api/studies/${encodeURIComponent(name)}`);
    } catch (error) {
      if (disposed) return;
      fill(header, h('div', { class: 'notice gone', id: 'study-problem' }, error instanceof ApiError && error.status === 404 ? `No study ${name} in the dashboard's study storage.` : error.message));
      return;
    }
    if (disposed) return;
    const { study, bestSoFar } = detail;
    fill(header, h('h1', { class: 'run-title' }, study.name), h('p', {},
      `${study.direction} ${study.metric} · sampler ${study.sampler.name} · pruner ${study.pruner.name} · budget ${study.maxTrials} trials`),
    h('p', { id: 'study-counts' }, countsText(study.counts)),
    study.best ? h('p', { id: 'study-best' }, `Best: trial ${study.best.number}, ${study.metric} ${fmt.metric(study.best.value)} (`,
      Object.entries(study.best.params).map(([k, v]) => `${k}=${fmt.param(v)}`).join(', '), ')') : h('p', { class: 'muted', id: 'study-best' }, 'No completed trial yet.'));
    const xs = bestSoFar.map((p) => p.number);
    chart.update([ // each trial's value under the best-so-far line, which is drawn last (on top)
      { label: `trial ${study.metric}`, color: '#9aa4b2', xs, ys: bestSoFar.map((p) => p.value) },
      { label: `best ${study.metric}`, color: '#1f77b4', xs, ys: bestSoFar.map((p) => p.best) },
    ], { xLabel: 'trial', yLabel: study.metric });
    fill(parallel, parallelCoordinates(detail));
    fill(table, trialsTable(detail));
    if (study.counts.running + study.counts.waiting + study.counts.paused > 0) timer = setTimeout(load, REFRESH_MS);
  }
  load();
  return () => {
    disposed = true;
    clearTimeout(timer);
  };
}

export function mountStudiesView(root) {
  let disposed = false;
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading studies...'));
  fill(root, h('section', { class: 'card' }, h('h1', {}, 'Studies'), body));
  getJson('/api/studies').then((list) => {
    if (disposed) return;
    if (list.studies.length === 0) {
      fill(body, h('p', { class: 'muted', id: 'no-studies' }, list.storage === null
        ? 'No study storage: run `insight tune` (its studies go to <runs dir>/tune.db), or pass `insight dashboard --storage <url>`.'
        : `No studies in ${list.storage} yet.`));
      return;
    }
    fill(body, h('p', { class: 'muted' }, list.storage), h('table', { class: 'runs', id: 'studies' },
      h('thead', {}, h('tr', {}, ['study', 'objective', 'sampler', 'pruner', 'trials', 'best'].map((t, i) => h('th', { class: i >= 4 ? 'num' : '' }, t)))),
      h('tbody', {}, list.studies.map((s) => h('tr', {},
        h('td', { class: 'name' }, h('a', { href: `#/study/${encodeURIComponent(s.name)}` }, s.name)), h('td', {}, `${s.direction} ${s.metric}`),
        h('td', {}, s.sampler.name), h('td', {}, s.pruner.name),
        h('td', { class: 'num', title: countsText(s.counts) }, `${s.counts.completed + s.counts.pruned + s.counts.running + s.counts.waiting + s.counts.paused}/${s.maxTrials}`),
        h('td', { class: 'num' }, s.best ? fmt.metric(s.best.value) : '-'))))));
  }, (error) => {
    if (!disposed) fill(body, h('div', { class: 'notice' }, error.message));
  });
  return () => {
    disposed = true;
  };
}
