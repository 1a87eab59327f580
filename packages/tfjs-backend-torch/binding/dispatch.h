// What dispatch.cc (one operator call from JS) shares with program.cc (a recorded list of operator calls run at
// once): the resolved operators, the conversion of JS arguments by schema, and the dtype rule for results.
#pragma once
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>

#include <string>
#include <vector>

#include "tensor_handle.h"

namespace tfjs_torch {

struct ResolvedOp {
  c10::OperatorHandle handle;
  std::string name;  // "aten::conv2d" or "aten::max.dim", for error messages
};

// Operators resolved by resolveOp, by id.
std::vector<ResolvedOp>& Ops();

// Thrown while converting arguments; becomes a JS TypeError naming the operator and argument.
struct ArgError {
  std::string message;
};

// A JS argument as the schema type wants it; throws ArgError when it does not fit.
c10::IValue ToIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& argName);

// The schema's default for a parameter the call does not give; throws ArgError when it has none.
c10::IValue DefaultArgument(const c10::Argument& param);

// Runs `op` on `stack` (arguments in, results out); a libtorch error becomes a JS Error
// "tfjs-backend-torch: <context><op> failed: ...".
void CallBoxed(Napi::Env env, const ResolvedOp& op, torch::jit::Stack& stack, const std::string& context);

// The same on any thread (no JS): a libtorch error becomes std::runtime_error("<op> failed: ...").
void CallBoxedOffThread(const ResolvedOp& op, torch::jit::Stack& stack);

// A result in tfjs's dtypes unless keepDtype; bfloat16 stays: it is the compute dtype of mixed precision
// (src/precision.ts), stored under float32 tfjs tensors and widened wherever it is read as float32.
at::Tensor ResultTensor(const at::Tensor& t, bool keepDtype);

// The compute threads setNumThreads asked for (0 before any call). OpenMP keeps the count per calling thread, so work
// run on another thread (programRunAsync) applies it there first.
int RequestedThreads();

}  // namespace tfjs_torch
