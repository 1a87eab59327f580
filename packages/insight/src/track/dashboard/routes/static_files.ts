// GET /, /assets/<file>, /vendor/uplot.{js,css}: the page and everything it loads, from this process only
// (no CDN). Asset names are checked against the web folder's own listing, so no path ever reaches the disk
// unvetted. Sent with no-cache so an upgraded dashboard is picked up on reload.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { FastifyInstance } from 'fastify';

import { ruleError } from '../../../errors';
import { CONTENT_TYPES, uplotFiles, webDir } from '../web_assets';

export function staticFilesRoute(app: FastifyInstance): void {
  const dir = webDir();
  const assets = new Set(fs.readdirSync(dir).filter((name) => path.extname(name) in CONTENT_TYPES));
  const uplot = uplotFiles();
  const vendor: Record<string, string> = { 'uplot.js': uplot.js, 'uplot.css': uplot.css };
  const send = (file: string) => ({ type: CONTENT_TYPES[path.extname(file)], body: fs.readFileSync(file) });

  app.get('/', async (_request, reply) => {
    const { type, body } = send(path.join(dir, 'index.html'));
    return reply.type(type).header('cache-control', 'no-cache').send(body);
  });
  app.get('/favicon.ico', async (_request, reply) => reply.status(204).send());
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const { name } = request.params;
    if (!assets.has(name)) {
      throw ruleError('SERVE_E_NOT_FOUND', 'No such dashboard asset.', { name }, 'Reload the page.');
    }
    const { type, body } = send(path.join(dir, name));
    return reply.type(type).header('cache-control', 'no-cache').send(body);
  });
  app.get<{ Params: { name: string } }>('/vendor/:name', async (request, reply) => {
    const file = vendor[request.params.name];
    if (!file) {
      throw ruleError('SERVE_E_NOT_FOUND', 'No such vendor file.', { name: request.params.name }, 'Reload the page.');
    }
    const { type, body } = send(file);
    return reply.type(type).header('cache-control', 'max-age=3600').send(body);
  });
}
