// Errors over HTTP: JSON `{ code, message }` with the same stable codes as the CLI and a status per code.
import type { FastifyError, FastifyInstance } from 'fastify';

import { InsightError, type ErrorCode } from '../../errors';

const STATUS: Partial<Record<ErrorCode, number>> = {
  INSIGHT_E_RUN_NOT_FOUND: 404,
  INSIGHT_E_RUNS_DIR: 404,
  INSIGHT_E_QUERY: 400,
  INSIGHT_E_USAGE: 400,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** Installs the JSON error and not-found handlers. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | InsightError, _request, reply) => {
    if (error instanceof InsightError) {
      void reply.status(httpStatusOf(error.code)).send({ code: error.code, message: error.message });
      return;
    }
    const status = typeof (error as FastifyError).statusCode === 'number' && (error as FastifyError).statusCode! < 500 ? (error as FastifyError).statusCode! : 500;
    void reply.status(status).send({ code: status < 500 ? 'INSIGHT_E_USAGE' : 'INSIGHT_E_INTERNAL', message: error.message });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'INSIGHT_E_USAGE', message: `No such page or API endpoint. Received: url=${JSON.stringify(request.url)}. Open / for the dashboard.` });
  });
}
