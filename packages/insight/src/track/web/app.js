// The dashboard's entry point: a hash router between the runs page (#/), run pages (#/run/<id>) and the studies of
// `insight tune` (#/studies, #/study/<name>), the live connection indicator, and a banner for anything unexpected
// (never a blank page).
import { fill } from './dom.js';
import { mountRunView } from './run_view.js';
import { mountRunsView } from './runs_view.js';
import { mountStudiesView, mountStudyView } from './study_view.js';
import { store, subscribe, watchRuns } from './store.js';

const view = document.getElementById('view');
const banner = document.getElementById('banner');
const connection = document.getElementById('connection');
let unmount = null;

function showProblem(message) {
  banner.textContent = `Something went wrong: ${message}. Reload the page; if it persists, check the terminal running \`insight dashboard\`.`;
  banner.hidden = false;
}

function route() {
  unmount?.();
  unmount = null;
  watchRuns([]);
  const match = /^#\/run\/(.+)$/.exec(location.hash);
  const study = /^#\/study\/(.+)$/.exec(location.hash);
  try {
    if (match) unmount = mountRunView(view, decodeURIComponent(match[1]));
    else if (study) unmount = mountStudyView(view, decodeURIComponent(study[1]));
    else if (location.hash === '#/studies') unmount = mountStudiesView(view);
    else unmount = mountRunsView(view);
  } catch (error) {
    fill(view);
    showProblem(error.message);
  }
  window.scrollTo(0, 0);
}

subscribe(() => {
  const labels = { idle: '', live: '● live', reconnecting: '● reconnecting...' };
  connection.textContent = labels[store.connection] ?? '';
  connection.className = `connection ${store.connection}`;
});
window.addEventListener('error', (event) => showProblem(event.message));
window.addEventListener('unhandledrejection', (event) => showProblem(event.reason?.message ?? String(event.reason)));
window.addEventListener('hashchange', route);
route();
