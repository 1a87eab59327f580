// A line chart of several series over a shared numeric x axis, drawn by uPlot (served locally). Series with
// different x values are aligned with uPlot.join; gaps are bridged. Epochs, steps and trial numbers are counts, so the
// x axis puts ticks on whole numbers only (1, 2, 5, 10 ... apart; never 1.5). The container's data-series, data-points
// and data-x-ticks attributes say what is drawn (handy for tests and for the empty-state text).
import { smooth } from './smoothing.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
/** Tick spacings of a count axis: whole numbers only. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2500, 5e3, 1e4, 2e4, 25e3, 5e4, 1e5, 2e5, 25e4, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9];

export function colorOf(index) {
  return PALETTE[index % PALETTE.length];
}

/** A y tick as text with as many decimals as the tick spacing needs (0.0005 apart: 0.0010, 0.0015; not 0.001, 0.002). */
function yTick(value, incr) {
  if (value === 0) return '0';
  const size = Math.abs(value);
  if (size >= 1e6 || size < 1e-4) return value.toExponential(1);
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(incr || size) + 1e-9)));
  return value.toFixed(decimals);
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
    const counts = ['epoch', 'step', 'trial'].includes(xLabel);
    const xAxis = { label: xLabel };
    if (counts) {
      xAxis.incrs = WHOLE_STEPS;
      xAxis.values = (u, splits) => {
        this.container.dataset.xTicks = splits.join(',');
        return splits.map((v) => String(v));
      };
    }
    this.plot = new uPlot({
      width: this.width(),
      height: this.height,
      // A count axis spans whole numbers (one epoch alone: that epoch to the next).
      scales: {
        x: { time: false, ...(counts ? { range: (u, min, max) => [Math.floor(min), Math.max(Math.ceil(max), Math.floor(min) + 1)] } : {}) },
        // A (nearly) constant series on a log scale gets decades around it, not a range it sits on the edge of.
        y: { distr: log ? 3 : 1, ...(log ? { range: (u, min, max) => (max / min < 1.5 ? uPlot.rangeLog(min / 2, max * 2, 10, true) : uPlot.rangeLog(min, max, 10, true)) } : {}) },
      },
      axes: [xAxis, { label: yLabel, size: 60, values: (u, splits, axis, space, incr) => splits.map((v) => (v === null ? '' : log ? yTick(v, v) : yTick(v, incr))) }],
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
