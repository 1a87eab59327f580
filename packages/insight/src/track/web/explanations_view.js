// A run page's explanations panel: a few validation images (a fine-tuning run's held-out images), each with its
// Grad-CAM and Integrated Gradients overlays (for the predicted class) and its nearest training images. The server
// computes it on the first view of a run (202 while it works: the panel shows a loading state and asks again every
// second) and keeps it in the run.
import { ApiError, getJson } from './api.js';
import { fill, h } from './dom.js';

const POLL_MS = 1000;

/** 'validation', 'held-out' (a fine-tuning run) or 'training' (a run without validation images): the split's first word. */
function splitKind(split) {
  return /^training set/.test(split) ? 'training' : split.split(' ')[0];
}

function sampleRow(sample, methods, kind) {
  const correct = sample.label === sample.predicted;
  return h('div', { class: 'explain-row', dataset: { index: String(sample.index) } },
    h('div', { class: 'explain-caption' },
      h('div', {}, `${kind} #${sample.index}`),
      h('div', {}, 'true: ', h('strong', {}, sample.label)),
      h('div', { class: correct ? 'ok' : 'bad' }, `predicted: ${sample.predicted} (${(100 * sample.probability).toFixed(1)}%)`)),
    methods.map((method) => h('img', { class: 'explain-overlay', alt: `${method} of ${kind} image ${sample.index}`, src: sample.overlays[method], dataset: { method } })),
    h('div', { class: 'explain-neighbours' },
      h('img', { class: 'explain-strip', alt: `nearest training images of ${kind} image ${sample.index}`, src: sample.neighboursImage }),
      h('div', { class: 'muted' }, 'nearest training images: ',
        sample.neighbours.map((n, i) => `${i ? ', ' : ''}${n.label} (d = ${n.distance.toFixed(3)})`))));
}

function readyView(panel) {
  return h('div', { id: 'explanations', dataset: { samples: String(panel.samples.length) } },
    h('p', { class: 'muted' }, `${panel.samples.length} images of the ${panel.split}; maps of ${panel.methods.join(' and ')} for the predicted class; `,
      `neighbours by cosine distance of the ${panel.memory.layer} embedding among ${panel.memory.count} training images. Computed ${panel.computedAt.replace('T', ' ').slice(0, 16)} UTC in ${panel.seconds.toFixed(1)} s.`),
    panel.samples.map((s) => sampleRow(s, panel.methods, splitKind(panel.split))));
}

/** Mounts the panel into `root` for run `id`; returns the function that stops it. */
export function mountExplanations(root, id) {
  let disposed = false;
  let timer = null;
  const url = `/api/runs/${encodeURIComponent(id)}/explanations`;

  async function load(retry = false) {
    let panel;
    try {
      panel = await getJson(retry ? `${url}?retry=1` : url);
    } catch (error) {
      if (disposed) return;
      const gone = error instanceof ApiError && error.status === 404;
      fill(root, h('p', { class: gone ? 'muted' : 'error', id: 'explanations-error' }, error.message));
      return;
    }
    if (disposed) return;
    if (panel.status === 'computing') {
      fill(root, h('p', { class: 'loading', id: 'explanations-loading' }, h('span', { class: 'pulse' }),
        'Computing explanations: Grad-CAM, Integrated Gradients and the nearest training images (first view of this run; kept for later).'));
      timer = setTimeout(() => void load(), POLL_MS);
    } else if (panel.status === 'ready') {
      fill(root, readyView(panel));
    } else if (panel.status === 'unavailable') {
      fill(root, h('p', { class: 'muted', id: 'explanations-unavailable' }, panel.message));
    } else {
      fill(root, h('div', { id: 'explanations-failed' }, h('p', { class: 'error' }, `${panel.code}: ${panel.message}`),
        h('button', { type: 'button', onclick: () => void load(true) }, 'Try again')));
    }
  }

  fill(root, h('p', { class: 'muted' }, 'Loading explanations...'));
  void load();
  return () => {
    disposed = true;
    clearTimeout(timer);
  };
}
