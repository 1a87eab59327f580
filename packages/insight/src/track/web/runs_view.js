// The runs page (#/): the runs table (sortable by any column, filterable by text or by `key=value` /
// `metric>0.5` conditions as `insight runs --where` takes them), metrics first, then the hyperparameters that differ
// among the runs they apply to (each run says which of its params apply: `hyperparameters` from the API), run names
// and, when train and fine-tune runs are mixed, their kind; below it the learning curves of the selected runs, one
// panel per metric in a grid (TensorBoard-style: several at once, a filter over metric names, shared x axis,
// smoothing and log scale), and a live panel for selected runs still training. The table refreshes every few
// seconds; curves come from the live stream.
import { ApiError, getJson } from './api.js';
import { LineChart, colorOf, metricNames, seriesOf } from './chart.js';
import { fill, h } from './dom.js';
import * as fmt from './format.js';
import { store, subscribe, watchRuns } from './store.js';

const REFRESH_MS = 3000;
const HEADLINE = ['val_accuracy', 'val_robust_accuracy', 'val_loss', 'accuracy', 'loss'];
const OPERATOR = /(!=|>=|<=|=|>|<|~)/;

/** Page state that survives re-renders (and navigating to a run page and back). */
const state = {
  selected: new Set(),
  sort: { key: 'created', descending: true },
  filter: '',
  allParams: false,
  metricFilter: '',
  xAxis: 'epoch',
  smoothing: 0,
  log: false,
};

/** Whether `key` is one of the run's applying hyperparameters (older servers: every param). */
function applies(run, key) {
  return (run.hyperparameters ?? Object.keys(run.params)).includes(key);
}

/** Hyperparameters whose values differ among the runs they apply to (epochs has its own column). */
function varyingParams(runs) {
  const keys = [...new Set(runs.flatMap((run) => run.hyperparameters ?? Object.keys(run.params)))].filter((key) => key !== 'epochs');
  return keys.filter((key) => new Set(runs.filter((run) => applies(run, key)).map((run) => String(run.params[key]))).size > 1);
}

function sortValue(run, key) {
  if (key === 'id') return run.id;
  if (key === 'name') return run.name;
  if (key === 'kind') return run.kind;
  if (key === 'status') return run.status;
  if (key === 'created') return run.createdAt;
  if (key === 'epochs') return run.epochs;
  if (key === 'tags') return run.tags.join(',');
  if (key.startsWith('metric:')) {
    const name = key.slice(7);
    return run.best[name] ?? run.final[name];
  }
  const param = key.slice(6);
  return applies(run, param) ? run.params[param] : undefined;
}

function compare(a, b) {
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Splits the filter box into server conditions (`key<op>value`) and free text. */
function parseFilter(text) {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  return { where: tokens.filter((t) => OPERATOR.test(t)), words: tokens.filter((t) => !OPERATOR.test(t)).map((t) => t.toLowerCase()) };
}

function matchesWords(run, words) {
  const haystack = [run.id, run.name ?? '', run.kind ?? '', run.status, ...run.tags, ...Object.entries(run.params).map(([k, v]) => `${k}=${v}`)].join(' ').toLowerCase();
  return words.every((word) => haystack.includes(word));
}

/** How a run is called in legends and the live panel: its name, else its id. */
function labelOf(run, id) {
  return run?.name ?? id;
}

/** The metric-name filter as a test: a case-insensitive regular expression, or plain text when it is not one. */
function metricMatcher(text) {
  if (!text.trim()) return () => true;
  try {
    const re = new RegExp(text.trim(), 'i');
    return (name) => re.test(name);
  } catch {
    const lower = text.trim().toLowerCase();
    return (name) => name.toLowerCase().includes(lower);
  }
}

/** Headline metrics first (validation before training), then the others by name. */
function orderMetrics(names) {
  return [...HEADLINE.filter((m) => names.includes(m)), ...names.filter((m) => !HEADLINE.includes(m))];
}

export function mountRunsView(root) {
  let data = null;
  let lastJson = '';
  let timer = null;
  let disposed = false;
  const notices = new Map();
  /** metric → { el, chart }: one panel per metric shown. */
  const panels = new Map();

  const filterInput = h('input', {
    type: 'search', id: 'filter', placeholder: 'Filter: text, or optimizer=adamw  val_accuracy>0.5  kind=finetune', value: state.filter,
    oninput: () => {
      state.filter = filterInput.value;
      void refresh();
    },
  });
  const filterError = h('div', { class: 'filter-error', id: 'filter-error', hidden: true });
  const count = h('span', { class: 'muted', id: 'run-count' });
  const allParams = h('input', { type: 'checkbox', id: 'all-params', checked: state.allParams, onchange: () => { state.allParams = allParams.checked; renderTable(); } });
  const table = h('table', { class: 'runs', id: 'runs-table' });
  const metricFilter = h('input', {
    type: 'search', id: 'metric-filter', placeholder: 'Filter metrics (regex), e.g. ^val_', value: state.metricFilter,
    oninput: () => { state.metricFilter = metricFilter.value; renderCurves(); },
  });
  const xSelect = h('select', { id: 'x-axis', onchange: () => { state.xAxis = xSelect.value; renderCurves(); } },
    h('option', { value: 'epoch' }, 'epoch'), h('option', { value: 'step' }, 'step'));
  xSelect.value = state.xAxis;
  const smoothingOut = h('output', { id: 'smoothing-value' }, state.smoothing.toFixed(2));
  const smoothing = h('input', {
    type: 'range', id: 'smoothing', min: '0', max: '0.99', step: '0.01', value: String(state.smoothing),
    oninput: () => { state.smoothing = Number(smoothing.value); smoothingOut.textContent = state.smoothing.toFixed(2); renderCurves(); },
  });
  const logScale = h('input', { type: 'checkbox', id: 'log-scale', checked: state.log, onchange: () => { state.log = logScale.checked; renderCurves(); } });
  const curves = h('div', { class: 'panels', id: 'curves', dataset: { panels: '0' } });
  const chartNote = h('div', { class: 'muted chart-note', id: 'curves-note' });
  const live = h('div', { class: 'live', id: 'live' });
  const noticeBox = h('div', { class: 'notices', id: 'notices' });

  fill(root,
    h('section', { class: 'card' },
      h('div', { class: 'toolbar' }, filterInput, count, h('label', { class: 'toggle' }, allParams, ' all hyperparameters')),
      filterError, noticeBox,
      h('div', { class: 'table-wrap' }, table)),
    h('section', { class: 'card' },
      h('div', { class: 'toolbar' },
        h('h2', {}, 'Learning curves'),
        metricFilter, h('label', {}, 'x ', xSelect),
        h('label', { class: 'slider' }, 'smoothing ', smoothing, ' ', smoothingOut),
        h('label', { class: 'toggle' }, logScale, ' log scale')),
      curves, chartNote, live));

  /** Shows (or with text null, clears) the notice `key` above the table. */
  function notice(key, text) {
    if (text === null) notices.delete(key);
    else notices.set(key, text);
    fill(noticeBox, [...notices.values()].map((t) => h('div', { class: 'notice' }, t)));
  }

  async function refresh() {
    if (disposed) return;
    clearTimeout(timer);
    const { where, words } = parseFilter(state.filter);
    const query = where.map((w) => `where=${encodeURIComponent(w)}`).join('&');
    try {
      const body = await getJson(`/api/runs${query ? `?${query}` : ''}`);
      filterError.hidden = true;
      if (notices.has('load')) notice('load', null);
      document.getElementById('runs-dir').textContent = body.runsDir;
      body.runs = body.runs.filter((run) => matchesWords(run, words));
      const json = JSON.stringify(body);
      if (json !== lastJson) {
        lastJson = json;
        // Without a filter, a selected run missing from the list has been deleted.
        if (!where.length && !words.length) {
          const present = new Set(body.runs.map((r) => r.id));
          for (const id of [...state.selected]) {
            if (present.has(id)) continue;
            state.selected.delete(id);
            notice(`deleted:${id}`, `Run ${id} was deleted; it is no longer shown.`);
          }
        }
        data = body;
        renderTable();
        renderCurves();
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        filterError.textContent = error.message;
        filterError.hidden = false;
      } else {
        notice('load', error.message);
      }
    } finally {
      if (!disposed) timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  /** Identity, metrics, then hyperparameters, then created and tags: the metrics stay in view however many params follow. */
  function columns() {
    const runs = data?.runs ?? [];
    const params = state.allParams ? data.params.filter((p) => p !== 'epochs' && runs.some((r) => applies(r, p))) : varyingParams(runs);
    const metrics = HEADLINE.filter((m) => runs.some((r) => m in r.best || m in r.final));
    return [
      { key: 'select', label: '' },
      { key: 'id', label: 'run' },
      ...(runs.some((r) => r.name) ? [{ key: 'name', label: 'name' }] : []),
      ...(new Set(runs.map((r) => r.kind)).size > 1 ? [{ key: 'kind', label: 'kind' }] : []),
      { key: 'status', label: 'status' }, { key: 'epochs', label: 'epochs', num: true },
      ...metrics.map((m) => ({ key: `metric:${m}`, label: m, num: true, metric: m })),
      ...params.map((p) => ({ key: `param:${p}`, label: p, param: true })),
      { key: 'created', label: 'created' },
      { key: 'tags', label: 'tags' },
    ];
  }

  function renderTable() {
    if (!data) return;
    const cols = columns();
    const runs = [...data.runs].sort((a, b) => {
      const c = compare(sortValue(a, state.sort.key), sortValue(b, state.sort.key));
      return state.sort.descending ? -c : c;
    });
    count.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
    const head = h('tr', {}, cols.map((col) => {
      if (col.key === 'select') return h('th', { class: 'select' });
      const active = state.sort.key === col.key;
      return h('th', {
        class: `${col.num ? 'num' : ''} sortable ${active ? 'sorted' : ''}`, title: col.metric ? `best ${col.label} (click to sort)` : 'click to sort',
        onclick: () => {
          if (state.sort.key === col.key) state.sort.descending = !state.sort.descending;
          else state.sort = { key: col.key, descending: col.metric ? fmt.higherIsBetter(col.metric) === true : col.key === 'created' };
          renderTable();
        },
      }, col.label, active ? (state.sort.descending ? ' ▾' : ' ▴') : '');
    }));
    const rows = runs.map((run) => h('tr', { dataset: { run: run.id }, class: state.selected.has(run.id) ? 'selected' : '' }, cols.map((col) => {
      switch (col.key) {
        case 'select':
          return h('td', { class: 'select' }, h('input', {
            type: 'checkbox', 'aria-label': `select ${run.id}`, checked: state.selected.has(run.id),
            onchange: (event) => {
              if (event.target.checked) state.selected.add(run.id);
              else state.selected.delete(run.id);
              renderTable();
              renderCurves();
            },
          }));
        case 'id':
          return h('td', { class: 'id' }, h('a', { href: `#/run/${encodeURIComponent(run.id)}` }, run.id),
            run.problems.length ? h('span', { class: 'warn-dot', title: run.problems.join('\n') }, ' ⚠') : null);
        case 'name':
          return h('td', { class: 'name' }, run.name ?? '');
        case 'kind':
          return h('td', {}, h('span', { class: `kind ${run.kind}` }, run.kind));
        case 'status':
          return h('td', {}, h('span', { class: `badge ${run.status}` }, run.status));
        case 'created':
          return h('td', { class: 'created' }, fmt.created(run.createdAt));
        case 'epochs':
          return h('td', { class: 'num' }, fmt.epochs(run));
        case 'tags':
          return h('td', {}, run.tags.map((t) => h('span', { class: 'tag' }, t)));
        default:
          if (col.metric) return h('td', { class: 'num' }, fmt.metric(run.best[col.metric] ?? run.final[col.metric]));
          // '-': the hyperparameter does not apply to this run (a LoRA rank of a full fine-tune).
          return applies(run, col.label)
            ? h('td', { class: 'param' }, fmt.param(run.params[col.label]))
            : h('td', { class: 'param na', title: `${col.label} does not apply to this run` }, '-');
      }
    })));
    fill(table, h('thead', {}, head), h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: cols.length, class: 'muted empty' },
      data.runs.length === 0 && !state.filter ? 'No runs yet: start one with `insight train`.' : 'No runs match the filter.'))));
  }

  /** The panel of `metric`, created on first use. */
  function panelOf(metric) {
    let panel = panels.get(metric);
    if (!panel) {
      const box = h('div', { class: 'chart', dataset: { series: '0', points: '0' } });
      const el = h('div', { class: 'panel', dataset: { metric } }, h('h3', {}, metric), box);
      panel = { el, box, chart: null };
      panels.set(metric, panel);
    }
    return panel;
  }

  function renderCurves() {
    if (!data) return;
    const byId = new Map(data.runs.map((run) => [run.id, run]));
    const selected = [...state.selected];
    watchRuns(selected);
    const names = orderMetrics(metricNames(selected.map((id) => store.records.get(id) ?? [])));
    const shown = names.filter(metricMatcher(state.metricFilter));
    for (const [metric, panel] of [...panels]) {
      if (shown.includes(metric)) continue;
      panel.chart?.destroy();
      panel.el.remove();
      panels.delete(metric);
    }
    if (shown.length === 0) {
      const text = selected.length === 0 ? 'Select runs in the table to overlay their learning curves, one panel per metric.'
        : names.length === 0 ? 'No metrics logged yet for the selected runs.' : `No metric matches "${state.metricFilter}".`;
      fill(curves, h('p', { class: 'muted chart-empty' }, text));
    } else {
      curves.querySelector('.chart-empty')?.remove();
      // Panels in metric order; a panel that exists is moved, not rebuilt.
      shown.forEach((metric, i) => {
        const { el } = panelOf(metric);
        if (curves.children[i] !== el) curves.insertBefore(el, curves.children[i] ?? null);
      });
      for (const metric of shown) {
        const panel = panels.get(metric);
        panel.chart ??= new LineChart(panel.box, { height: 220, empty: `No ${metric} yet.` });
        const series = selected.map((id, i) => ({ label: labelOf(byId.get(id), id), color: colorOf(i), ...seriesOf(store.records.get(id), metric, state.xAxis) }));
        panel.chart.update(series, { xLabel: state.xAxis, yLabel: '', log: state.log, smoothing: state.smoothing });
      }
    }
    curves.dataset.panels = String(shown.length);
    const waiting = selected.filter((id) => !store.records.get(id)?.length);
    const warnings = selected.flatMap((id) => (store.warnings.get(id) ?? []).map((w) => `${id}: ${w}`));
    fill(chartNote,
      waiting.length ? h('div', {}, `No metrics yet for ${waiting.join(', ')}.`) : null,
      warnings.map((w) => h('div', { class: 'warning' }, `⚠ ${w}`)));
    renderLive(selected, byId);
  }

  function renderLive(selected, byId) {
    const running = selected.filter((id) => (store.status.get(id) ?? byId.get(id)?.status) === 'running' && !store.deleted.has(id));
    fill(live, running.map((id) => {
      const records = store.records.get(id) ?? [];
      const last = records[records.length - 1];
      const when = store.lastUpdate.get(id);
      const parts = last ? Object.entries(last).filter(([k, v]) => typeof v === 'number' && k !== 'epoch' && k !== 'step').slice(0, 6).map(([k, v]) => `${k} ${fmt.metric(v)}`) : [];
      return h('div', { class: 'live-run', dataset: { run: id } },
        h('span', { class: 'pulse' }), h('strong', {}, labelOf(byId.get(id), id)), ' ',
        last ? `epoch ${last.epoch ?? '-'} · step ${last.step ?? '-'} · ${parts.join(' · ')}` : 'waiting for the first metrics...',
        when ? h('span', { class: 'muted' }, ` (updated ${fmt.ago(Date.now() - when)} ago)`) : null);
    }));
  }

  // "updated ... ago" keeps counting between records.
  const clock = setInterval(() => {
    if (data) renderLive([...state.selected], new Map(data.runs.map((run) => [run.id, run])));
  }, 1000);
  const unsubscribe = subscribe(() => {
    for (const id of store.deleted) {
      if (state.selected.has(id)) {
        state.selected.delete(id);
        notice(`deleted:${id}`, `Run ${id} was deleted; it is no longer shown.`);
        lastJson = '';
        void refresh();
      }
    }
    renderCurves();
  });
  void refresh();

  return () => {
    disposed = true;
    clearTimeout(timer);
    clearInterval(clock);
    unsubscribe();
    for (const panel of panels.values()) panel.chart?.destroy();
  };
}
