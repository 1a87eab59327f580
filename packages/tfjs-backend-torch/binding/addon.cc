// The native half of @insight/tfjs-backend-torch: a narrow, handle-based API over libtorch.
//   tensors:   fromTypedArray, toTypedArray, dispose, shape, dtype, describe, liveTensors, nativeBytes
//   operators: resolveOp, schemaOf, call            (any ATen operator, by schema name)
//   runtime:   setNumThreads, getNumThreads, version
//   collectives: distInit, distAllreduce, distBroadcast, distAllgather, distBarrier, distSend, distRecv, distClose
// Every entry point turns C++ exceptions into JS Errors (NODE_ADDON_API_CPP_EXCEPTIONS_ALL); nothing aborts.
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <napi.h>

#include "tensor_handle.h"

namespace tfjs_torch {
void InitDispatch(Napi::Env env, Napi::Object exports);
void InitDistributed(Napi::Env env, Napi::Object exports);

namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "tfjs-backend-torch: thread count must be >= 1.");
  at::set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
#ifdef TORCH_VERSION
  out.Set("libtorch", TORCH_VERSION);
#endif
  out.Set("config", at::show_config());
  return out;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitTensorHandle(env, exports);
  InitDispatch(env, exports);
  InitDistributed(env, exports);
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace tfjs_torch

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return tfjs_torch::Init(env, exports); }
NODE_API_MODULE(tfjs_torch, InitAddon)
