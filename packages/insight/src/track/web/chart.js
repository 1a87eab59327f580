// A line chart of several series over a shared numeric x axis, drawn by uPlot (served locally). Series with
// different x values are aligned with uPlot.join; gaps are bridged. The container's data-series and data-points
// attributes say what is drawn (handy for tests and for the empty-state text).
import { smooth } from './smoothing.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

export function colorOf(index) {
  return PALETTE[index % PALETTE.length];
}

/** Sorted, one y per x (the last one wins), non-finite y dropped; with log, y <= 0 dropped too. */
function clean(xs, ys, log) {
  const byX = new Map();
  xs.forEach((x, i) => {
    const y = ys[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || typeof y !== 'number' || !Number.isFinite(y) || (log && y <= 0)) return;
    byX.set(x, y);
  });
  const sorted = [...byX.entries()].sort((a, b) => a[0] - b[0]);
  return [sorted.map((p) => p[0]), sorted.map((p) => p[1])];
}

export class LineChart {
  constructor(container, { height = 320, empty = 'No data yet.' } = {}) {
    this.container = container;
    this.height = height;
    this.empty = empty;
    this.plot = null;
    this.shape = '';
    this.resize = () => this.plot?.setSize({ width: this.width(), height: this.height });
    window.addEventListener('resize', this.resize);
  }

  width() {
    return Math.max(300, this.container.clientWidth || 600);
  }

  /** series: [{ label, color, xs, ys }]; options: { xLabel, yLabel, log, smoothing (0..0.99) }. */
  update(series, { xLabel = 'x', yLabel = '', log = false, smoothing = 0 } = {}) {
    const drawn = series.map((s) => {
      const [xs, ys] = clean(s.xs, s.ys, log);
      return { ...s, data: [xs, smooth(ys, smoothing)] };
    }).filter((s) => s.data[0].length > 0);
    const points = drawn.reduce((n, s) => n + s.data[0].length, 0);
    this.container.dataset.series = String(drawn.length);
    this.container.dataset.points = String(points);
    if (drawn.length === 0) {
      this.destroyPlot();
      this.container.replaceChildren(Object.assign(document.createElement('p'), { className: 'muted chart-empty', textContent: this.empty }));
      return;
    }
    const data = drawn.length === 1 ? [drawn[0].data[0], drawn[0].data[1]] : uPlot.join(drawn.map((s) => s.data));
    const shape = JSON.stringify([drawn.map((s) => [s.label, s.color]), xLabel, yLabel, log]);
    if (this.plot && shape === this.shape) {
      this.plot.setData(data);
      return;
    }
    this.destroyPlot();
    this.container.replaceChildren();
    this.shape = shape;
    const manyPoints = points / drawn.length > 60;
    this.plot = new uPlot({
      width: this.width(),
      height: this.height,
      scales: { x: { time: false }, y: { distr: log ? 3 : 1 } },
      axes: [{ label: xLabel }, { label: yLabel, size: 60 }],
      series: [
        { label: xLabel },
        ...drawn.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true, points: { show: !manyPoints, size: 5 } })),
      ],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    }, data, this.container);
  }

  destroyPlot() {
    this.plot?.destroy();
    this.plot = null;
    this.shape = '';
  }

  destroy() {
    window.removeEventListener('resize', this.resize);
    this.destroyPlot();
  }
}

/** xs/ys of `metric` in a run's records: x = epoch (epoch records) or step (every record with a step). */
export function seriesOf(records, metric, xAxis) {
  const xs = [];
  const ys = [];
  for (const record of records ?? []) {
    const value = record[metric];
    if (typeof value !== 'number') continue;
    if (xAxis === 'epoch') {
      if ((record.type ?? 'epoch') !== 'epoch' || typeof record.epoch !== 'number') continue;
      xs.push(record.epoch);
    } else {
      if (typeof record.step !== 'number') continue;
      xs.push(record.step);
    }
    ys.push(value);
  }
  return { xs, ys };
}

/** Numeric fields of records that are metrics (not counters), sorted. */
export function metricNames(recordLists) {
  const names = new Set();
  for (const records of recordLists) {
    for (const record of records ?? []) {
      for (const [key, value] of Object.entries(record)) {
        if (typeof value === 'number' && !['epoch', 'step', 'type', 'time'].includes(key)) names.add(key);
      }
    }
  }
  return [...names].sort();
}
