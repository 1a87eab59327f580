// The runs page (#/): the runs table (sortable by any column, filterable by text or by `key=value` /
// `metric>0.5` conditions as `insight runs --where` takes them, hyperparameters that differ as columns), the
// learning curves of the selected runs overlaid (metric, x axis, smoothing, log scale), and a live panel for
// selected runs still training. The table refreshes every few seconds; curves come from the live stream.
import { ApiError, getJson } from './api.js';
import { LineChart, colorOf, metricNames, seriesOf } from './chart.js';
import { fill, h } from './dom.js';
import * as fmt from './format.js';
import { store, subscribe, watchRuns } from './store.js';

const REFRESH_MS = 3000;
const HEADLINE = ['val_accuracy', 'val_loss', 'accuracy', 'loss'];
const NOT_HYPERPARAMETERS = new Set(['runsDir', 'progress', 'workers', 'logEverySteps', 'tensorboard', 'backend']);
const OPERATOR = /(!=|>=|<=|=|>|<|~)/;

/** Page state that survives re-renders (and navigating to a run page and back). */
const state = {
  selected: new Set(),
  sort: { key: 'created', descending: true },
  filter: '',
  allParams: false,
  metric: null,
  xAxis: 'epoch',
  smoothing: 0,
  log: false,
};

function varyingParams(runs) {
  const keys = [...new Set(runs.flatMap((run) => Object.keys(run.params)))];
  // epochs is shown in the epochs column (logged/planned).
  return keys.filter((key) => !NOT_HYPERPARAMETERS.has(key) && key !== 'epochs' && new Set(runs.map((run) => (key in run.params ? String(run.params[key]) : '\0'))).size > 1);
}

function sortValue(run, key) {
  if (key === 'id') return run.id;
  if (key === 'status') return run.status;
  if (key === 'created') return run.createdAt;
  if (key === 'epochs') return run.epochs;
  if (key === 'tags') return run.tags.join(',');
  if (key.startsWith('metric:')) {
    const name = key.slice(7);
    return run.best[name] ?? run.final[name];
  }
  return run.params[key.slice(6)];
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
  const haystack = [run.id, run.status, ...run.tags, ...Object.entries(run.params).map(([k, v]) => `${k}=${v}`)].join(' ').toLowerCase();
  return words.every((word) => haystack.includes(word));
}

export function mountRunsView(root) {
  let data = null;
  let lastJson = '';
  let timer = null;
  let disposed = false;
  const notices = new Map();

  const filterInput = h('input', {
    type: 'search', id: 'filter', placeholder: 'Filter: text, or optimizer=adamw  val_accuracy>0.5', value: state.filter,
    oninput: () => {
      state.filter = filterInput.value;
      void refresh();
    },
  });
  const filterError = h('div', { class: 'filter-error', id: 'filter-error', hidden: true });
  const count = h('span', { class: 'muted', id: 'run-count' });
  const allParams = h('input', { type: 'checkbox', id: 'all-params', checked: state.allParams, onchange: () => { state.allParams = allParams.checked; renderTable(); } });
  const table = h('table', { class: 'runs', id: 'runs-table' });
  const metricSelect = h('select', { id: 'metric', onchange: () => { state.metric = metricSelect.value; renderCurves(); } });
  const xSelect = h('select', { id: 'x-axis', onchange: () => { state.xAxis = xSelect.value; renderCurves(); } },
    h('option', { value: 'epoch' }, 'epoch'), h('option', { value: 'step' }, 'step'));
  xSelect.value = state.xAxis;
  const smoothingOut = h('output', { id: 'smoothing-value' }, state.smoothing.toFixed(2));
  const smoothing = h('input', {
    type: 'range', id: 'smoothing', min: '0', max: '0.99', step: '0.01', value: String(state.smoothing),
    oninput: () => { state.smoothing = Number(smoothing.value); smoothingOut.textContent = state.smoothing.toFixed(2); renderCurves(); },
  });
  const logScale = h('input', { type: 'checkbox', id: 'log-scale', checked: state.log, onchange: () => { state.log = logScale.checked; renderCurves(); } });
  const chartBox = h('div', { class: 'chart', id: 'curves', dataset: { series: '0', points: '0' } });
  const chartNote = h('div', { class: 'muted chart-note', id: 'curves-note' });
  const live = h('div', { class: 'live', id: 'live' });
  const noticeBox = h('div', { class: 'notices', id: 'notices' });
  const chart = new LineChart(chartBox, { height: 340, empty: 'Select runs in the table to overlay their learning curves.' });

  fill(root,
    h('section', { class: 'card' },
      h('div', { class: 'toolbar' }, filterInput, count, h('label', { class: 'toggle' }, allParams, ' all hyperparameters')),
      filterError, noticeBox,
      h('div', { class: 'table-wrap' }, table)),
    h('section', { class: 'card' },
      h('div', { class: 'toolbar' },
        h('h2', {}, 'Learning curves'),
        h('label', {}, 'metric ', metricSelect), h('label', {}, 'x ', xSelect),
        h('label', { class: 'slider' }, 'smoothing ', smoothing, ' ', smoothingOut),
        h('label', { class: 'toggle' }, logScale, ' log scale')),
      chartBox, chartNote, live));

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

  function columns() {
    const runs = data?.runs ?? [];
    const params = state.allParams ? data.params.filter((p) => p !== 'epochs' && runs.some((r) => p in r.params)) : varyingParams(runs);
    const metrics = HEADLINE.filter((m) => runs.some((r) => m in r.best || m in r.final));
    return [
      { key: 'select', label: '' },
      { key: 'id', label: 'run' }, { key: 'status', label: 'status' }, { key: 'created', label: 'created' }, { key: 'epochs', label: 'epochs', num: true },
      ...params.map((p) => ({ key: `param:${p}`, label: p, param: true })),
      ...metrics.map((m) => ({ key: `metric:${m}`, label: m, num: true, metric: m })),
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
        case 'status':
          return h('td', {}, h('span', { class: `badge ${run.status}` }, run.status));
        case 'created':
          return h('td', {}, fmt.created(run.createdAt));
        case 'epochs':
          return h('td', { class: 'num' }, fmt.epochs(run));
        case 'tags':
          return h('td', {}, run.tags.map((t) => h('span', { class: 'tag' }, t)));
        default:
          if (col.metric) return h('td', { class: 'num' }, fmt.metric(run.best[col.metric] ?? run.final[col.metric]));
          return h('td', { class: 'param' }, fmt.param(run.params[col.label]));
      }
    })));
    fill(table, h('thead', {}, head), h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: cols.length, class: 'muted empty' },
      data.runs.length === 0 && !state.filter ? 'No runs yet: start one with `insight train`.' : 'No runs match the filter.'))));
  }

  function renderCurves() {
    if (!data) return;
    const byId = new Map(data.runs.map((run) => [run.id, run]));
    const selected = [...state.selected];
    watchRuns(selected);
    const recordLists = selected.map((id) => store.records.get(id) ?? []);
    const names = metricNames(recordLists);
    if (!state.metric || (names.length && !names.includes(state.metric))) {
      state.metric = ['val_accuracy', 'accuracy', 'val_loss', 'loss'].find((m) => names.includes(m)) ?? names[0] ?? state.metric;
    }
    const options = names.length ? names : state.metric ? [state.metric] : [];
    if (metricSelect.options.length !== options.length || [...metricSelect.options].some((o, i) => o.value !== options[i])) {
      fill(metricSelect, options.map((name) => h('option', { value: name }, name)));
    }
    if (state.metric) metricSelect.value = state.metric;
    const series = selected.map((id, i) => ({ label: id, color: colorOf(i), ...seriesOf(store.records.get(id), state.metric, state.xAxis) }));
    chart.update(series, { xLabel: state.xAxis, yLabel: state.metric ?? '', log: state.log, smoothing: state.smoothing });
    const waiting = selected.filter((id) => !store.records.get(id)?.length);
    const warnings = selected.flatMap((id) => (store.warnings.get(id) ?? []).map((w) => `${id}: ${w}`));
    fill(chartNote,
      waiting.length ? h('div', {}, `No ${state.metric ?? 'metrics'} yet for ${waiting.join(', ')}.`) : null,
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
        h('span', { class: 'pulse' }), h('strong', {}, id), ' ',
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
    chart.destroy();
  };
}
