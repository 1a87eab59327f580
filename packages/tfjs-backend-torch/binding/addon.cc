// The native half of @insight/tfjs-backend-torch: a narrow, handle-based API over libtorch.
//   tensors:   fromTypedArray, toTypedArray, dispose, shape, dtype, describe, liveTensors, nativeBytes
//   operators: resolveOp, schemaOf, call            (any ATen operator, by schema name)
//   programs:  programCreate, programRun, programRunAsync, programFree   (recorded operator lists run at once: src/capture/)
//   runtime:   setNumThreads, getNumThreads, version, mallocTuning
//   collectives: distInit, distAllreduce, distBroadcast, distAllgather, distBarrier, distSend, distRecv, distClose
// Every entry point turns C++ exceptions into JS Errors (NODE_ADDON_API_CPP_EXCEPTIONS_ALL); nothing aborts.
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <malloc.h>
#include <napi.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <string>

#include "dispatch.h"

namespace tfjs_torch {
void InitDispatch(Napi::Env env, Napi::Object exports);
void InitDistributed(Napi::Env env, Napi::Object exports);
void InitProgram(Napi::Env env, Napi::Object exports);

namespace {

std::atomic<int> requestedThreads{0};

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "tfjs-backend-torch: thread count must be >= 1.");
  at::set_num_threads(n);
  requestedThreads.store(n);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

// glibc gives blocks above its mmap threshold (128 KiB, rising to at most 32 MiB) their own mappings and returns
// heap tops above 128 KiB to the kernel, so a training step's activations and gradients (MBs each) are unmapped and
// faulted in again every step: a third of the time in the kernel on these VMs. Keeping them, as PyTorch users do with
// MALLOC_* variables, costs resident memory up to the peak of a step. Off with INSIGHT_MALLOC_TUNING=0; a process that
// sets glibc's own variables keeps them. Returns what was done, for malloc().
std::string TuneMalloc() {
  const char* setting = std::getenv("INSIGHT_MALLOC_TUNING");
  if (setting != nullptr && std::string(setting) == "0") return "off (INSIGHT_MALLOC_TUNING=0)";
  for (const char* own : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES"}) {
    if (std::getenv(own) != nullptr) return std::string("the environment's (") + own + " is set)";
  }
#ifdef __GLIBC__
  bool ok = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;  // glibc's largest allowed value on 64-bit
  ok = mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1 && ok;
  ok = mallopt(M_TOP_PAD, 512 << 20) == 1 && ok;
  return ok ? "tuned (mmap threshold 32 MiB, trim threshold 2 GiB, top pad 512 MiB)" : "glibc refused the tuning";
#else
  return "not glibc: left alone";
#endif
}

std::string& MallocTuning() {
  static std::string state = TuneMalloc();
  return state;
}

Napi::Value MallocState(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), MallocTuning());
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

int RequestedThreads() { return requestedThreads.load(); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  MallocTuning();  // before the first tensor
  InitTensorHandle(env, exports);
  InitDispatch(env, exports);
  InitProgram(env, exports);
  InitDistributed(env, exports);
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("mallocTuning", Napi::Function::New(env, MallocState));
  return exports;
}

}  // namespace tfjs_torch

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return tfjs_torch::Init(env, exports); }
NODE_API_MODULE(tfjs_torch, InitAddon)
