// Where the page's files come from: src/track/web (the client, plain JS modules and CSS) and uPlot's dist files
// from node_modules, all served by the dashboard itself so it works offline. The web folder is located from this
// module both in the sources and in a compiled dist/ (tsc does not copy it; the package ships src/).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The folder holding index.html and the client modules. */
export function webDir(): string {
  const beside = path.join(__dirname, '..', 'web');
  if (fs.existsSync(path.join(beside, 'index.html'))) return beside;
  // dist/src/track/dashboard → <package>/src/track/web
  let dir = __dirname;
  while (dir !== path.dirname(dir)) {
    const candidate = path.join(dir, 'src', 'track', 'web');
    if (fs.existsSync(path.join(candidate, 'index.html')) && fs.existsSync(path.join(dir, 'package.json'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`The dashboard's web files (src/track/web/index.html) were not found above ${__dirname}; the insight package is incomplete.`);
}

/** uPlot's browser build and stylesheet. */
export function uplotFiles(): { js: string; css: string } {
  const dist = path.join(path.dirname(require.resolve('uplot/package.json')), 'dist');
  return { js: path.join(dist, 'uPlot.iife.min.js'), css: path.join(dist, 'uPlot.min.css') };
}

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};
