// The inference server as a library: build one in-process (createServe, for app.inject or your own listen) or
// start it like `insight serve` does (startServe). See the README's "insight serve" section for the protocols.
//
//   const config = resolveServeConfig({ models: 'models', port: 0 });
//   const server = await startServe(config, readKeySources(config));
//   console.log(server.url); ... await server.close();
export { resolveServeConfig, SERVE_SCHEMA, isLoopback, type ServeConfig } from './config';
export { ServeError, type ServeErrorCode } from '../errors';
export { readKeySources, API_KEYS_ENV, ADMIN_KEYS_ENV, type KeySources } from './auth/key_source';
export { createServe, startServe, checkExposure, type ServeInstance } from './start';
export { DynamicBatcher, type BatcherOptions, type BatchOutput, type ForwardFn } from './batching/batcher';
export { ModelRepository, type ModelSnapshot, type VersionStatus } from './repository/repository';
