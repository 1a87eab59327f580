// Insight's errors: one catalogue of codes (./codes.ts), one base class (./insight_error.ts) and the house message
// builders (./message.ts). Bottom of the dependency graph: imports nothing from Insight and nothing heavy, since
// the CLI loads it at start-up.
export { ERROR_CODES, type ErrorCode, type ErrorCodeInfo, type ServeErrorCode } from './codes';
export { InsightError, ServeError } from './insight_error';
export { ruleError, ruleMessage, serveError, show, typeOf } from './message';
