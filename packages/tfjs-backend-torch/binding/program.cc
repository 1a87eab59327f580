// A recorded list of ATen operator calls, run in one call from JS (src/capture/): what a tfjs function did through
// the kernels, replayed with no JS work per operator. Tensors live in numbered slots: the program's inputs, its
// captured constants (weights, constants made while recording) and every operator's results. Arguments are
// converted once, when the program is made; a slot is released after its last use, so a replay holds no more memory
// than the eager run did.
//   programCreate({ numSlots, inputs, outputs, constants: [slot, handle][], steps: [{ op, args, keep, outs }] })
//     args: JS values as for call(), with tensors given as { slot: n } and tensor lists as { slots: (n | null)[] };
//     outs: the slots of the results, flattened in order (tensor lists and tuples element by element; -1 for none).
//   programRun(program, inputs: handle[]) -> handle[] (the output slots' tensors)
//   programRunAsync(program, inputs: handle[]) -> Promise<handle[]>: the same run on the addon's compute thread, so
//     the JS thread goes on meanwhile (a server parses the next requests while a batch computes); the inputs and the
//     program are held until it has run, whatever JS disposes meanwhile
//   programFree(program): releases its constants and steps once no run uses them (the garbage collector frees the rest)
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "dispatch.h"

namespace tfjs_torch {
namespace {

const napi_type_tag kProgramTag = {0x5d2e8f0a7c6b4e31ULL, 0x9a8b7c6d5e4f3021ULL};

enum class ArgKind { kConstant, kSlot, kSlotList, kOptionalSlotList };

struct Arg {
  ArgKind kind = ArgKind::kConstant;
  c10::IValue value;           // kConstant
  int slot = -1;               // kSlot
  std::vector<int> slots;      // kSlotList / kOptionalSlotList (-1: none)
};

struct Step {
  std::shared_ptr<const ResolvedOp> op;  // a copy: Ops() may grow (and move) while the compute thread runs
  std::vector<Arg> args;
  bool keepDtype = false;
  std::vector<int> outs;       // result slots, flattened; -1 where a result is dropped or none
  std::vector<int> release;    // slots whose last use is this step
};

struct Program {
  int numSlots = 0;
  std::vector<int> inputs;
  std::vector<int> outputs;
  std::vector<std::pair<int, at::Tensor>> constants;
  std::vector<Step> steps;
};

int SlotIndex(const Napi::Value& v, int numSlots, const std::string& what) {
  if (!v.IsNumber()) throw ArgError{what + " must be a slot number"};
  int s = v.As<Napi::Number>().Int32Value();
  if (s < 0 || s >= numSlots) throw ArgError{what + " is out of range: " + std::to_string(s)};
  return s;
}

// A marker object { slot } or { slots } (not an array, not a tensor handle).
bool IsMarker(const Napi::Value& v, const char* key) {
  return v.IsObject() && !v.IsArray() && !IsTensorHandle(v) && v.As<Napi::Object>().Has(key);
}

Arg ConvertArg(const Napi::Value& v, const c10::Argument& param, int numSlots) {
  Arg arg;
  if (IsMarker(v, "slot")) {
    arg.kind = ArgKind::kSlot;
    arg.slot = SlotIndex(v.As<Napi::Object>().Get("slot"), numSlots, "argument '" + param.name() + "'");
    return arg;
  }
  if (IsMarker(v, "slots")) {
    const auto& list = param.type()->kind() == c10::TypeKind::OptionalType
        ? param.type()->expectRef<c10::OptionalType>().getElementType() : param.type();
    if (list->kind() != c10::TypeKind::ListType) throw ArgError{"argument '" + param.name() + "' is not a tensor list"};
    bool optional = list->expectRef<c10::ListType>().getElementType()->kind() == c10::TypeKind::OptionalType;
    arg.kind = optional ? ArgKind::kOptionalSlotList : ArgKind::kSlotList;
    auto arr = v.As<Napi::Object>().Get("slots").As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value e = arr.Get(i);
      if (e.IsNull() || e.IsUndefined()) {
        if (!optional) throw ArgError{"argument '" + param.name() + "' cannot hold none"};
        arg.slots.push_back(-1);
      } else {
        arg.slots.push_back(SlotIndex(e, numSlots, "argument '" + param.name() + "'"));
      }
    }
    return arg;
  }
  arg.value = ToIValue(v, param.type(), param.name());
  return arg;
}

// What a JS program value holds: the program, shared with the runs in flight; null once freed.
struct ProgramHolder {
  std::shared_ptr<const Program> program;
};

void Finalize(Napi::Env, ProgramHolder* h) { delete h; }

Napi::Value ProgramCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto spec = info[0].As<Napi::Object>();
  auto program = std::make_unique<Program>();
  program->numSlots = spec.Get("numSlots").As<Napi::Number>().Int32Value();
  const int n = program->numSlots;
  if (n < 0) throw Napi::RangeError::New(env, "tfjs-backend-torch: programCreate: numSlots must be >= 0");
  std::string where = "programCreate";
  try {
    auto inputs = spec.Get("inputs").As<Napi::Array>();
    for (uint32_t i = 0; i < inputs.Length(); ++i) program->inputs.push_back(SlotIndex(inputs.Get(i), n, "input"));
    auto outputs = spec.Get("outputs").As<Napi::Array>();
    for (uint32_t i = 0; i < outputs.Length(); ++i) program->outputs.push_back(SlotIndex(outputs.Get(i), n, "output"));
    auto constants = spec.Get("constants").As<Napi::Array>();
    for (uint32_t i = 0; i < constants.Length(); ++i) {
      auto pair = constants.Get(i).As<Napi::Array>();
      program->constants.emplace_back(SlotIndex(pair.Get(0u), n, "constant"), UnwrapTensor(pair.Get(1u), "constant"));
    }
    auto steps = spec.Get("steps").As<Napi::Array>();
    for (uint32_t k = 0; k < steps.Length(); ++k) {
      auto s = steps.Get(k).As<Napi::Object>();
      Step step;
      uint32_t id = s.Get("op").As<Napi::Number>().Uint32Value();
      if (id >= Ops().size()) throw ArgError{"unknown operator id " + std::to_string(id)};
      step.op = std::make_shared<const ResolvedOp>(Ops()[id]);
      const ResolvedOp& op = *step.op;
      where = op.name;
      const auto& params = op.handle.schema().arguments();
      auto args = s.Get("args").As<Napi::Array>();
      if (args.Length() > params.size()) throw ArgError{"too many arguments"};
      for (size_t i = 0; i < params.size(); ++i) {
        if (i < args.Length()) {
          step.args.push_back(ConvertArg(args.Get(static_cast<uint32_t>(i)), params[i], n));
        } else {
          Arg arg;
          arg.value = DefaultArgument(params[i]);
          step.args.push_back(arg);
        }
      }
      step.keepDtype = s.Get("keep").ToBoolean().Value();
      auto outs = s.Get("outs").As<Napi::Array>();
      for (uint32_t i = 0; i < outs.Length(); ++i) {
        int slot = outs.Get(i).As<Napi::Number>().Int32Value();
        step.outs.push_back(slot < 0 ? -1 : SlotIndex(outs.Get(i), n, "result"));
      }
      program->steps.push_back(std::move(step));
    }
  } catch (const ArgError& e) {
    throw Napi::TypeError::New(env, "tfjs-backend-torch: programCreate: " + where + ": " + e.message + ".");
  }
  // Liveness: each slot is released after the last step that reads or writes it, unless it is an output.
  std::vector<int> last(n, -1);
  for (size_t k = 0; k < program->steps.size(); ++k) {
    const Step& step = program->steps[k];
    for (const Arg& a : step.args) {
      if (a.kind == ArgKind::kSlot) last[a.slot] = static_cast<int>(k);
      for (int s : a.slots) if (s >= 0) last[s] = static_cast<int>(k);
    }
    for (int s : step.outs) if (s >= 0) last[s] = static_cast<int>(k);
  }
  for (int s : program->outputs) last[s] = -2;  // kept to the end
  for (int s = 0; s < n; ++s) {
    if (last[s] >= 0) program->steps[last[s]].release.push_back(s);
  }
  auto external = Napi::External<ProgramHolder>::New(env, new ProgramHolder{std::move(program)}, Finalize);
  external.TypeTag(&kProgramTag);
  return external;
}

// The holder behind a JS value; throws a TypeError for anything else (a tensor handle is an External too).
ProgramHolder& HolderOf(const Napi::Value& v, const char* what) {
  if (!v.IsExternal() || !v.As<Napi::External<ProgramHolder>>().CheckTypeTag(&kProgramTag)) {
    throw Napi::TypeError::New(v.Env(), std::string("tfjs-backend-torch: ") + what + " needs a program");
  }
  return *v.As<Napi::External<ProgramHolder>>().Data();
}

// A run's program and inputs, taken on the JS thread: (program, inputs: handle[]).
struct RunArgs {
  std::shared_ptr<const Program> program;
  std::vector<at::Tensor> inputs;
};

RunArgs TakeRunArgs(const Napi::CallbackInfo& info, const char* what) {
  Napi::Env env = info.Env();
  RunArgs run{HolderOf(info[0], what).program, {}};
  if (run.program == nullptr) throw Napi::Error::New(env, std::string("tfjs-backend-torch: ") + what + ": the program was freed");
  auto inputs = info[1].As<Napi::Array>();
  if (inputs.Length() != run.program->inputs.size()) {
    throw Napi::TypeError::New(env, std::string("tfjs-backend-torch: ") + what + " takes " + std::to_string(run.program->inputs.size()) +
                                        " inputs; received " + std::to_string(inputs.Length()) + ".");
  }
  run.inputs.reserve(inputs.Length());
  for (uint32_t i = 0; i < inputs.Length(); ++i) run.inputs.push_back(UnwrapTensor(inputs.Get(i), what));
  return run;
}

// Results of one call, flattened as the JS side sees them (dispatch.cc FromIValue): tensors and none one each,
// tensor lists and tuples element by element.
void Flatten(const c10::IValue& v, bool keepDtype, std::vector<at::Tensor>& out, const std::string& opName) {
  if (v.isTensor()) {
    out.push_back(v.toTensor().defined() ? ResultTensor(v.toTensor(), keepDtype) : at::Tensor());
  } else if (v.isTensorList()) {
    for (const at::Tensor& t : v.toTensorList().vec()) out.push_back(ResultTensor(t, keepDtype));
  } else if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements()) Flatten(e, keepDtype, out, opName);
  } else if (v.isNone()) {
    out.push_back(at::Tensor());
  } else {
    throw std::runtime_error(opName + " returned a " + v.tagKind() + ", which a program cannot hold");
  }
}

// Runs the steps on any thread (no JS here); a failure throws std::runtime_error with what went wrong.
std::vector<at::Tensor> Run(const Program& p, const std::vector<at::Tensor>& inputs) {
  c10::InferenceMode guard;
  std::vector<at::Tensor> slots(p.numSlots);
  for (const auto& [slot, t] : p.constants) slots[slot] = t;
  for (size_t i = 0; i < inputs.size(); ++i) slots[p.inputs[i]] = inputs[i];
  torch::jit::Stack stack;
  std::vector<at::Tensor> results;
  for (const Step& step : p.steps) {
    const ResolvedOp& op = *step.op;
    stack.clear();
    for (const Arg& a : step.args) {
      switch (a.kind) {
        case ArgKind::kConstant: stack.push_back(a.value); break;
        case ArgKind::kSlot: stack.push_back(slots[a.slot]); break;
        case ArgKind::kSlotList: {
          std::vector<at::Tensor> xs;
          xs.reserve(a.slots.size());
          for (int s : a.slots) xs.push_back(slots[s]);
          stack.push_back(c10::IValue(xs));
          break;
        }
        case ArgKind::kOptionalSlotList: {
          c10::List<c10::optional<at::Tensor>> xs;
          for (int s : a.slots) xs.push_back(s < 0 ? c10::optional<at::Tensor>() : c10::optional<at::Tensor>(slots[s]));
          stack.push_back(c10::IValue(xs));
          break;
        }
      }
    }
    CallBoxedOffThread(op, stack);
    results.clear();
    for (const auto& v : stack) Flatten(v, step.keepDtype, results, op.name);
    if (results.size() != step.outs.size()) {
      throw std::runtime_error(op.name + " gave " + std::to_string(results.size()) + " results where the recording had " +
                               std::to_string(step.outs.size()));
    }
    for (size_t i = 0; i < results.size(); ++i) {
      if (step.outs[i] >= 0) slots[step.outs[i]] = std::move(results[i]);
    }
    for (int s : step.release) slots[s].reset();
  }
  std::vector<at::Tensor> out;
  out.reserve(p.outputs.size());
  for (int s : p.outputs) out.push_back(slots[s]);
  return out;
}

Napi::Array WrapAll(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  auto out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(static_cast<uint32_t>(i), WrapTensor(env, tensors[i]));
  return out;
}

Napi::Value ProgramRun(const Napi::CallbackInfo& info) {
  RunArgs run = TakeRunArgs(info, "programRun");
  try {
    return WrapAll(info.Env(), Run(*run.program, run.inputs));
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("tfjs-backend-torch: programRun: ") + e.what() + ".");
  }
}

// programRunAsync's runs execute in order on one compute thread of the process: not on libuv's pool, which file, DNS
// and zlib work share, and whose four threads would each build an OpenMP team and a malloc arena of their own. Each
// run settles its promise on its own JS thread (main or worker_threads) through that environment's thread-safe
// function, which keeps the event loop alive only while runs are pending.

// Per JS environment: the thread-safe function runs settle through, whether it still exists (its finalizer, at the
// environment's teardown, clears `alive` under the lock the compute thread calls it under), and the pending count
// (JS thread only).
struct EnvRuns {
  Napi::ThreadSafeFunction settle;
  std::shared_ptr<std::pair<std::mutex, bool>> alive = std::make_shared<std::pair<std::mutex, bool>>();
  int pending = 0;
};

struct AsyncRun {
  RunArgs run;
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction settle;                      // its environment's; acquired for this run
  std::shared_ptr<std::pair<std::mutex, bool>> alive;   // that function's liveness
  std::vector<at::Tensor> results;
  std::string error;
};

void Settle(Napi::Env env, Napi::Function, AsyncRun* raw) {
  std::unique_ptr<AsyncRun> r(raw);
  auto* runs = env.GetInstanceData<EnvRuns>();
  if (runs != nullptr && --runs->pending == 0) runs->settle.Unref(env);
  if (r->error.empty()) r->deferred.Resolve(WrapAll(env, r->results));
  else r->deferred.Reject(Napi::Error::New(env, r->error).Value());
}

class ComputeThread {
 public:
  static ComputeThread& Get() {
    static ComputeThread* thread = new ComputeThread();  // never destroyed: its thread runs until the process ends
    return *thread;
  }

  void Post(AsyncRun* r) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      runs_.push_back(r);
    }
    ready_.notify_one();
  }

 private:
  ComputeThread() { std::thread([this] { Loop(); }).detach(); }

  void Loop() {
    for (;;) {
      AsyncRun* r;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !runs_.empty(); });
        r = runs_.front();
        runs_.pop_front();
      }
      try {
        int threads = RequestedThreads();
        if (threads > 0 && at::get_num_threads() != threads) at::set_num_threads(threads);
        r->results = Run(*r->run.program, r->run.inputs);
      } catch (const std::exception& e) {
        r->error = std::string("tfjs-backend-torch: programRunAsync: ") + e.what() + ".";
      } catch (...) {
        r->error = "tfjs-backend-torch: programRunAsync: the run failed with an unknown error.";
      }
      r->run = RunArgs{};  // the program and inputs are let go here, not when the promise settles
      auto alive = r->alive;
      Napi::ThreadSafeFunction settle = r->settle;  // once queued, Settle owns (and frees) r
      std::lock_guard<std::mutex> lock(alive->first);
      // Queued (napi_ok): the run's thread count is released; otherwise (the environment is closing, which also
      // drops the count, or gone) nobody is left to tell.
      bool queued = alive->second && settle.BlockingCall(r, Settle) == napi_ok;
      if (queued) settle.Release();
      else delete r;
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<AsyncRun*> runs_;
};

Napi::Value ProgramRunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RunArgs run = TakeRunArgs(info, "programRunAsync");
  auto* runs = env.GetInstanceData<EnvRuns>();
  if (runs == nullptr) {
    runs = new EnvRuns();
    auto alive = runs->alive;
    alive->second = true;
    runs->settle = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
        "tfjs-torch program", 0, 1, [alive](Napi::Env) {
          std::lock_guard<std::mutex> lock(alive->first);
          alive->second = false;
        });
    runs->settle.Unref(env);
    env.SetInstanceData(runs);
  }
  auto r = std::make_unique<AsyncRun>(AsyncRun{std::move(run), Napi::Promise::Deferred::New(env), runs->settle, runs->alive, {}, {}});
  if (runs->settle.Acquire() != napi_ok) throw Napi::Error::New(env, "tfjs-backend-torch: programRunAsync: the environment is closing");
  if (runs->pending++ == 0) runs->settle.Ref(env);
  auto promise = r->deferred.Promise();
  ComputeThread::Get().Post(r.release());
  return promise;
}

Napi::Value ProgramFree(const Napi::CallbackInfo& info) {
  HolderOf(info[0], "programFree").program.reset();  // runs in flight keep their own reference
  return info.Env().Undefined();
}

}  // namespace

void InitProgram(Napi::Env env, Napi::Object exports) {
  exports.Set("programCreate", Napi::Function::New(env, ProgramCreate));
  exports.Set("programRun", Napi::Function::New(env, ProgramRun));
  exports.Set("programRunAsync", Napi::Function::New(env, ProgramRunAsync));
  exports.Set("programFree", Napi::Function::New(env, ProgramFree));
}

}  // namespace tfjs_torch
