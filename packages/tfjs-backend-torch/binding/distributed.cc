// Collectives over libtorch's c10d: a TCPStore rendezvous and a ProcessGroupGloo, the engine PyTorch DDP uses on CPUs.
//   distInit(options) -> Promise<group>      rank 0 hosts the store; resolves when every rank has joined
//   distAllreduce(group, handles, op)        -> Promise<handles>   (new tensors: inputs are copied, never written)
//   distBroadcast(group, handles, root)      -> Promise<handles>
//   distAllgather(group, handle)             -> Promise<handles>   (one per rank, rank order)
//   distBarrier(group)                       -> Promise<void>
//   distSend(group, handle, dst, tag)        -> Promise<void>
//   distRecv(group, shape, dtype, src, tag)  -> Promise<handle>
//   distClose(group)
// Collectives are issued on the JS thread, in call order (every rank must issue them in the same order), and run on
// Gloo's own threads; a libuv worker waits for each one and the promise settles on the JS thread. Without Gloo
// (USE_C10D_GLOO undefined at build time) every entry point throws and says how to build with it.
#include <napi.h>

#include "tensor_handle.h"

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <atomic>
#include <chrono>
#include <thread>
#include <functional>
#include <string>
#include <vector>

namespace tfjs_torch {
namespace {

#ifdef USE_C10D_GLOO

const napi_type_tag kGroupTag = {0x3d5e8f01c2b4a697ULL, 0x9a0b1c2d3e4f5061ULL};

struct GroupHolder {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  int rank = 0;
  int size = 1;
  // Collectives issued and not yet settled: their waiting threads hold the count.
  std::shared_ptr<std::atomic<int>> pending = std::make_shared<std::atomic<int>>(0);
};

// Leaves the group. ~ProcessGroupGloo waits for its queued collectives, which a stalled peer holds up to the
// timeout: with work pending it is dropped on a thread of its own so the JS thread never blocks on it.
void Leave(GroupHolder* holder) {
  auto group = std::move(holder->group);
  auto store = std::move(holder->store);
  if (!group && !store) return;
  if (holder->pending->load() == 0) return;  // group and store are released here, at once
  std::thread([group = std::move(group), store = std::move(store)]() mutable {
    group.reset();
    store.reset();
  }).detach();
}

std::string FirstLine(const std::string& s) {
  auto end = s.find('\n');
  return end == std::string::npos ? s : s.substr(0, end);
}

std::string Kind(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsExternal()) return "another native handle";
  if (value.IsArray()) return "an array";
  if (value.IsNumber()) return "a number";
  if (value.IsString()) return "a string";
  return "an object";
}

GroupHolder* GroupOf(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (value.IsExternal()) {
    auto ext = value.As<Napi::External<GroupHolder>>();
    if (ext.CheckTypeTag(&kGroupTag)) {
      GroupHolder* holder = ext.Data();
      if (!holder->group) {
        throw Napi::Error::New(env, "tfjs-backend-torch: collectives need an open process group. Received: a group that close() ended. "
                                    "Create a new one with ProcessGroup.init().");
      }
      return holder;
    }
  }
  throw Napi::TypeError::New(env, "tfjs-backend-torch: collectives take the process group handle distInit gave. Received: " + Kind(value) +
                                      ". Pass the handle ProcessGroup holds.");
}

std::string Where(const GroupHolder* g, const std::string& op) {
  return op + " on rank " + std::to_string(g->rank) + " of " + std::to_string(g->size);
}

// What a settled operation gives JavaScript: nothing, one tensor, or an array of tensors.
enum class Gives { kNothing, kTensor, kTensors };
using Job = std::function<std::vector<at::Tensor>()>;

// One pending operation: its job runs on a thread of its own (a Gloo send waits until the peer posts the matching
// recv, so waits must not share a bounded pool such as libuv's four threads: a pipeline's in-flight sends would
// starve the recv that unblocks them), and the promise settles on the JS thread through a thread-safe function.
struct Pending {
  Napi::Promise::Deferred deferred;
  std::string what;
  Job job;
  Gives gives;
  std::vector<at::Tensor> results;
  std::string error;
};

void Settle(Napi::Env env, Napi::Function, Pending* p) {
  if (env != nullptr) {
    if (!p->error.empty()) {
      p->deferred.Reject(Napi::Error::New(env, p->error).Value());
    } else if (p->gives == Gives::kNothing) {
      p->deferred.Resolve(env.Undefined());
    } else if (p->gives == Gives::kTensor) {
      p->deferred.Resolve(WrapTensor(env, p->results.at(0)));
    } else {
      auto out = Napi::Array::New(env, p->results.size());
      for (size_t i = 0; i < p->results.size(); i++) out.Set(i, WrapTensor(env, p->results[i]));
      p->deferred.Resolve(out);
    }
  }
  delete p;
}

Napi::Promise Start(Napi::Env env, const GroupHolder* g, std::string what, Job job, Gives gives) {
  auto* p = new Pending{Napi::Promise::Deferred::New(env), std::move(what), std::move(job), gives, {}, {}};
  auto promise = p->deferred.Promise();
  auto settle = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "tfjs-torch collective", 0, 1);
  auto pending = g->pending;
  pending->fetch_add(1);
  std::thread([p, settle, pending]() mutable {
    try {
      p->results = p->job();
    } catch (const c10::Error& e) {
      p->error = "tfjs-backend-torch: " + p->what + " failed: " + FirstLine(e.what_without_backtrace());
    } catch (const std::exception& e) {
      p->error = "tfjs-backend-torch: " + p->what + " failed: " + FirstLine(e.what());
    }
    p->job = nullptr;  // drops the works and tensors it captured
    pending->fetch_sub(1);
    if (settle.BlockingCall(p, Settle) != napi_ok) delete p;  // the environment is gone: nobody to tell
    settle.Release();
  }).detach();
  return promise;
}

// Gloo wants dense, contiguous CPU tensors; a private copy also keeps the caller's tensor unchanged.
std::vector<at::Tensor> PrivateCopies(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) {
    throw Napi::TypeError::New(value.Env(), std::string("tfjs-backend-torch: ") + what + " takes an array of tensor handles. Received: " + Kind(value) + ". Pass [handle, ...].");
  }
  auto array = value.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) out.push_back(UnwrapTensor(array.Get(i), what).contiguous().clone());
  return out;
}

using Works = std::vector<c10::intrusive_ptr<c10d::Work>>;

void WaitAll(const Works& works) {
  for (const auto& work : works) work->wait();  // rethrows the collective's failure
}

// Issues collectives on the JS thread; libtorch's own errors (bad tensors, a closed connection) become JS Errors
// without libtorch's C++ backtrace.
template <typename F>
auto Issue(Napi::Env env, GroupHolder* g, const std::string& op, F issue) -> decltype(issue()) {
  try {
    return issue();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, "tfjs-backend-torch: " + Where(g, op) + " failed: " + e.what_without_backtrace());
  }
}

// Gloo reduces or broadcasts a list only when every tensor has one dtype: one collective per tensor instead.
Works EachTensor(std::vector<at::Tensor>& tensors, const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&)>& issue) {
  Works works;
  for (auto& t : tensors) {
    std::vector<at::Tensor> one{t};
    works.push_back(issue(one));
  }
  return works;
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string("tfjs-backend-torch: ") + name + " must be an integer. Received: " + name + "=" + Kind(info[i]) + ". Pass a rank or tag number.");
  }
  return info[i].As<Napi::Number>().Int32Value();
}

// options: { host, port, rank, worldSize, timeoutMs, ifname?, hostname? }
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = info[0].As<Napi::Object>();
  std::string host = o.Get("host").As<Napi::String>().Utf8Value();
  int port = o.Get("port").As<Napi::Number>().Int32Value();
  int rank = o.Get("rank").As<Napi::Number>().Int32Value();
  int size = o.Get("worldSize").As<Napi::Number>().Int32Value();
  int64_t timeoutMs = o.Get("timeoutMs").As<Napi::Number>().Int64Value();
  std::string ifname = o.Has("ifname") && o.Get("ifname").IsString() ? o.Get("ifname").As<Napi::String>().Utf8Value() : "";
  std::string hostname = o.Has("hostname") && o.Get("hostname").IsString() ? o.Get("hostname").As<Napi::String>().Utf8Value() : "";

  auto* holder = new GroupHolder();
  holder->rank = rank;
  holder->size = size;
  auto external = Napi::External<GroupHolder>::New(env, holder, [](Napi::Env, GroupHolder* h) {
    Leave(h);
    delete h;
  });
  external.TypeTag(&kGroupTag);
  auto ref = std::make_shared<Napi::Reference<Napi::External<GroupHolder>>>(Napi::Persistent(external));

  // The store's connect and Gloo's full-mesh rendezvous both block: run them on a worker.
  auto deferred = Napi::Promise::Deferred::New(env);
  class Joiner : public Napi::AsyncWorker {
   public:
    Joiner(Napi::Env env, Napi::Promise::Deferred deferred, std::shared_ptr<Napi::Reference<Napi::External<GroupHolder>>> ref,
           GroupHolder* holder, std::string host, int port, int64_t timeoutMs, std::string ifname, std::string hostname)
        : Napi::AsyncWorker(env), deferred_(deferred), ref_(std::move(ref)), holder_(holder), host_(std::move(host)),
          port_(port), timeoutMs_(timeoutMs), ifname_(std::move(ifname)), hostname_(std::move(hostname)) {}
    void Execute() override {
      try {
        c10d::TCPStoreOptions storeOptions;
        storeOptions.port = static_cast<std::uint16_t>(port_);
        storeOptions.isServer = holder_->rank == 0;
        storeOptions.numWorkers = static_cast<std::size_t>(holder_->size);
        storeOptions.waitWorkers = true;
        storeOptions.timeout = std::chrono::milliseconds(timeoutMs_);
        holder_->store = c10::make_intrusive<c10d::TCPStore>(host_, storeOptions);
        auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeoutMs_));
        if (!ifname_.empty()) {
          options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname_));
        } else if (!hostname_.empty()) {
          options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(hostname_));
        } else {
          options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        }
        options->threads = 2;
        holder_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(holder_->store, holder_->rank, holder_->size, options);
      } catch (const std::exception& e) {
        auto* c10error = dynamic_cast<const c10::Error*>(&e);
        std::string s(c10error != nullptr ? c10error->what_without_backtrace() : e.what());
        auto end = s.find('\n');
        SetError("tfjs-backend-torch: joining the process group (rank " + std::to_string(holder_->rank) + " of " +
                 std::to_string(holder_->size) + ", store " + host_ + ":" + std::to_string(port_) + ") failed: " +
                 (end == std::string::npos ? s : s.substr(0, end)));
      }
    }
    void OnOK() override {
      deferred_.Resolve(ref_->Value());
      ref_.reset();
    }
    void OnError(const Napi::Error& e) override {
      holder_->group.reset();
      holder_->store.reset();
      deferred_.Reject(e.Value());
      ref_.reset();
    }

   private:
    Napi::Promise::Deferred deferred_;
    std::shared_ptr<Napi::Reference<Napi::External<GroupHolder>>> ref_;
    GroupHolder* holder_;
    std::string host_;
    int port_;
    int64_t timeoutMs_;
    std::string ifname_, hostname_;
  };
  auto* joiner = new Joiner(env, deferred, ref, holder, host, port, timeoutMs, ifname, hostname);
  joiner->Queue();
  return deferred.Promise();
}

c10d::ReduceOp ReduceOpOf(Napi::Env env, const std::string& op) {
  if (op == "sum" || op == "avg") return c10d::ReduceOp::SUM;
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  throw Napi::TypeError::New(env, "tfjs-backend-torch: allreduce op must be sum, avg, max or min. Received: op=" + op);
}

Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GroupHolder* g = GroupOf(info[0]);
  std::string op = info[2].As<Napi::String>().Utf8Value();
  c10d::AllreduceOptions options;
  options.reduceOp = ReduceOpOf(env, op);
  auto tensors = PrivateCopies(info[1], "allreduce");
  auto works = Issue(env, g, "allreduce", [&] {
    return EachTensor(tensors, [&](std::vector<at::Tensor>& one) { return g->group->allreduce(one, options); });
  });
  int size = g->size;
  return Start(env, g, Where(g, "allreduce"), [works, tensors, op, size]() mutable {
    WaitAll(works);
    if (op == "avg") {
      for (auto& t : tensors) {
        if (at::isFloatingType(t.scalar_type())) t.div_(size);
        else t.div_(size, "trunc");
      }
    }
    return tensors;
  }, Gives::kTensors);
}

Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GroupHolder* g = GroupOf(info[0]);
  c10d::BroadcastOptions options;
  options.rootRank = IntArg(info, 2, "root");
  auto tensors = PrivateCopies(info[1], "broadcast");
  auto works = Issue(env, g, "broadcast", [&] {
    return EachTensor(tensors, [&](std::vector<at::Tensor>& one) { return g->group->broadcast(one, options); });
  });
  return Start(env, g, Where(g, "broadcast"), [works, tensors]() {
    WaitAll(works);
    return tensors;
  }, Gives::kTensors);
}

Napi::Value Allgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GroupHolder* g = GroupOf(info[0]);
  at::Tensor input = UnwrapTensor(info[1], "allgather").contiguous().clone();
  std::vector<at::Tensor> inputs{input};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < g->size; r++) outputs[0].push_back(at::empty_like(input));
  Works works{Issue(env, g, "allgather", [&] { return g->group->allgather(outputs, inputs); })};
  return Start(env, g, Where(g, "allgather"), [works, outputs, inputs]() {
    WaitAll(works);
    return outputs[0];
  }, Gives::kTensors);
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  GroupHolder* g = GroupOf(info[0]);
  Works works{Issue(info.Env(), g, "barrier", [&] { return g->group->barrier(); })};
  return Start(info.Env(), g, Where(g, "barrier"), [works]() {
    WaitAll(works);
    return std::vector<at::Tensor>();
  }, Gives::kNothing);
}

Napi::Value Send(const Napi::CallbackInfo& info) {
  GroupHolder* g = GroupOf(info[0]);
  std::vector<at::Tensor> tensors{UnwrapTensor(info[1], "send").contiguous().clone()};
  int dst = IntArg(info, 2, "dst");
  int tag = IntArg(info, 3, "tag");
  std::string what = "send to rank " + std::to_string(dst);
  Works works{Issue(info.Env(), g, what, [&] { return g->group->send(tensors, dst, tag); })};
  return Start(info.Env(), g, Where(g, what), [works, tensors]() {
    WaitAll(works);
    return std::vector<at::Tensor>();
  }, Gives::kNothing);
}

std::vector<int64_t> ShapeArg(const Napi::Value& value) {
  if (!value.IsArray()) {
    throw Napi::TypeError::New(value.Env(), "tfjs-backend-torch: recv's shape must be an array of integers. Received: shape=" + Kind(value) + ". Pass e.g. [64, 10].");
  }
  auto array = value.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < array.Length(); i++) shape.push_back(array.Get(i).As<Napi::Number>().Int64Value());
  return shape;
}

Napi::Value Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GroupHolder* g = GroupOf(info[0]);
  auto shape = ShapeArg(info[1]);
  int code = IntArg(info, 2, "dtype");
  if (code != static_cast<int>(at::kFloat) && code != static_cast<int>(at::kInt)) {
    throw Napi::TypeError::New(env, "tfjs-backend-torch: recv makes float32 (code 6) or int32 (code 3) tensors. Received: dtype=" + std::to_string(code) + ". Receive float32 or int32.");
  }
  int src = IntArg(info, 3, "src");
  int tag = IntArg(info, 4, "tag");
  std::vector<at::Tensor> tensors{at::empty(shape, at::TensorOptions().dtype(static_cast<at::ScalarType>(code)))};
  std::string what = "recv from rank " + std::to_string(src);
  Works works{Issue(env, g, what, [&] { return g->group->recv(tensors, src, tag); })};
  return Start(env, g, Where(g, what), [works, tensors]() {
    WaitAll(works);
    return tensors;
  }, Gives::kTensor);
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Value value = info[0];
  if (!value.IsExternal() || !value.As<Napi::External<GroupHolder>>().CheckTypeTag(&kGroupTag)) {
    throw Napi::TypeError::New(info.Env(), "tfjs-backend-torch: distClose takes the process group handle distInit gave. Received: " + Kind(value) +
                                               ". Pass the handle ProcessGroup holds.");
  }
  Leave(value.As<Napi::External<GroupHolder>>().Data());
  return info.Env().Undefined();
}

#else

Napi::Value NotBuilt(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(),
                         "tfjs-backend-torch: this addon was built without c10d Gloo, so distributed training is unavailable. "
                         "Install Gloo's headers (Debian: apt-get install libgloo-dev) and rebuild the addon (npm rebuild @insight/tfjs-backend-torch).");
}

#endif

}  // namespace

void InitDistributed(Napi::Env env, Napi::Object exports) {
#ifdef USE_C10D_GLOO
  exports.Set("distInit", Napi::Function::New(env, Init));
  exports.Set("distAllreduce", Napi::Function::New(env, Allreduce));
  exports.Set("distBroadcast", Napi::Function::New(env, Broadcast));
  exports.Set("distAllgather", Napi::Function::New(env, Allgather));
  exports.Set("distBarrier", Napi::Function::New(env, Barrier));
  exports.Set("distSend", Napi::Function::New(env, Send));
  exports.Set("distRecv", Napi::Function::New(env, Recv));
  exports.Set("distClose", Napi::Function::New(env, Close));
  exports.Set("distAvailable", Napi::Boolean::New(env, true));
#else
  for (const char* name : {"distInit", "distAllreduce", "distBroadcast", "distAllgather", "distBarrier", "distSend", "distRecv", "distClose"}) {
    exports.Set(name, Napi::Function::New(env, NotBuilt));
  }
  exports.Set("distAvailable", Napi::Boolean::New(env, false));
#endif
}

}  // namespace tfjs_torch
