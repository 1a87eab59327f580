// Calls any ATen operator by schema name through the c10 dispatcher (boxed calling convention).
// TypeScript resolves an operator once (resolveOp) and then calls it by id; arguments are converted from JS
// according to the operator's schema, missing trailing arguments take the schema's defaults, and results come
// back as tensor handles (int64/double results normalised to int32/float32), numbers, booleans or arrays.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <sstream>

#include "dispatch.h"

#include <stdexcept>

namespace tfjs_torch {

std::vector<ResolvedOp>& Ops() {
  static std::vector<ResolvedOp> ops;
  return ops;
}

namespace {

// A JS value as an error message shows it: numbers as JS prints them (2.5, NaN, Infinity), strings quoted.
std::string DescribeValue(const Napi::Value& v) {
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsNumber() || v.IsBoolean() || v.IsNull() || v.IsUndefined()) return v.ToString().Utf8Value();
  if (IsTensorHandle(v)) return "a tensor handle";
  return v.IsArray() ? "an array" : "an object";
}

// An int64 argument (or element `index` of an int list, named "size[1]" in the message): a boolean or a whole JS
// number within int64's range. Anything else (2.5, NaN, Infinity, 1e19, a string) is refused rather than truncated
// or cast. The message is built only on failure: list elements pass through here on every operator call.
int64_t ToInt(const Napi::Value& v, const std::string& argName, int64_t index = -1) {
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : std::nan("");
  // 2^63 is exact in double; int64's range is [-2^63, 2^63).
  if (!v.IsNumber() || !std::isfinite(d) || d != std::trunc(d) || d < -9223372036854775808.0 ||
      d >= 9223372036854775808.0) {
    const std::string received = index < 0 ? argName : argName + "[" + std::to_string(index) + "]";
    throw ArgError{"argument '" + argName + "' must be an integer (int64). Received: " + received + "=" +
                   DescribeValue(v) + ". Pass a whole number: round it explicitly (Math.round, Math.floor) where the call is built"};
  }
  return static_cast<int64_t>(d);
}

}  // namespace

c10::IValue ToIValue(const Napi::Value& v, const c10::TypePtr& type, const std::string& argName) {
  switch (type->kind()) {
    case c10::TypeKind::OptionalType:
      if (v.IsUndefined() || v.IsNull()) return c10::IValue();
      return ToIValue(v, type->expectRef<c10::OptionalType>().getElementType(), argName);
    case c10::TypeKind::TensorType:
      if (!IsTensorHandle(v)) throw ArgError{"argument '" + argName + "' must be a tensor handle"};
      return c10::IValue(UnwrapTensor(v, argName.c_str()));
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
    case c10::TypeKind::ScalarTypeType:
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::MemoryFormatType:
      return c10::IValue(ToInt(v, argName));
    case c10::TypeKind::FloatType:
      if (!v.IsNumber()) throw ArgError{"argument '" + argName + "' must be a number"};
      return c10::IValue(v.As<Napi::Number>().DoubleValue());
    case c10::TypeKind::BoolType:
      if (v.IsNumber()) return c10::IValue(v.As<Napi::Number>().DoubleValue() != 0);
      if (!v.IsBoolean()) throw ArgError{"argument '" + argName + "' must be a boolean"};
      return c10::IValue(v.As<Napi::Boolean>().Value());
    case c10::TypeKind::NumberType: {  // Scalar: integral JS numbers become integer scalars
      if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
      if (!v.IsNumber()) throw ArgError{"argument '" + argName + "' must be a number"};
      double d = v.As<Napi::Number>().DoubleValue();
      if (std::isfinite(d) && d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9e15) {
        return c10::IValue(static_cast<int64_t>(d));
      }
      return c10::IValue(d);
    }
    case c10::TypeKind::StringType:
      if (!v.IsString()) throw ArgError{"argument '" + argName + "' must be a string"};
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::ListType: {
      if (!v.IsArray()) throw ArgError{"argument '" + argName + "' must be an array"};
      auto arr = v.As<Napi::Array>();
      const auto& elem = type->expectRef<c10::ListType>().getElementType();
      switch (elem->kind()) {
        case c10::TypeKind::IntType:
        case c10::TypeKind::SymIntType: {
          std::vector<int64_t> xs(arr.Length());
          for (uint32_t i = 0; i < arr.Length(); ++i) xs[i] = ToInt(arr.Get(i), argName, i);
          return c10::IValue(xs);
        }
        case c10::TypeKind::FloatType: {
          std::vector<double> xs(arr.Length());
          for (uint32_t i = 0; i < arr.Length(); ++i) xs[i] = arr.Get(i).As<Napi::Number>().DoubleValue();
          return c10::IValue(xs);
        }
        case c10::TypeKind::BoolType: {
          c10::List<bool> xs;
          for (uint32_t i = 0; i < arr.Length(); ++i) xs.push_back(arr.Get(i).ToBoolean().Value());
          return c10::IValue(xs);
        }
        case c10::TypeKind::TensorType: {
          std::vector<at::Tensor> xs;
          xs.reserve(arr.Length());
          for (uint32_t i = 0; i < arr.Length(); ++i) xs.push_back(UnwrapTensor(arr.Get(i), argName.c_str()));
          return c10::IValue(xs);
        }
        case c10::TypeKind::OptionalType: {  // Tensor?[] (index)
          c10::List<c10::optional<at::Tensor>> xs;
          for (uint32_t i = 0; i < arr.Length(); ++i) {
            Napi::Value e = arr.Get(i);
            if (e.IsNull() || e.IsUndefined()) xs.push_back(c10::nullopt);
            else xs.push_back(UnwrapTensor(e, argName.c_str()));
          }
          return c10::IValue(xs);
        }
        default:
          throw ArgError{"argument '" + argName + "' has an unsupported list type " + type->str()};
      }
    }
    default:
      throw ArgError{"argument '" + argName + "' has an unsupported type " + type->str()};
  }
}

c10::IValue DefaultArgument(const c10::Argument& param) {
  if (!param.default_value().has_value()) throw ArgError{"argument '" + param.name() + "' is required"};
  return *param.default_value();
}

void CallBoxedOffThread(const ResolvedOp& op, torch::jit::Stack& stack) {
  try {
    op.handle.callBoxed(&stack);
  } catch (const c10::Error& e) {
    throw std::runtime_error(op.name + " failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(op.name + " failed: " + e.what());
  }
}

void CallBoxed(Napi::Env env, const ResolvedOp& op, torch::jit::Stack& stack, const std::string& context) {
  try {
    CallBoxedOffThread(op, stack);
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, "tfjs-backend-torch: " + context + e.what());
  }
}

at::Tensor ResultTensor(const at::Tensor& t, bool keepDtype) {
  return keepDtype || t.scalar_type() == at::kBFloat16 ? t : NormalizeDtype(t);
}

namespace {

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v, bool keepDtype) {
  if (v.isTensor()) {
    // Masked-out results (e.g. convolution_backward's output_mask) are undefined tensors: null in JS.
    if (!v.toTensor().defined()) return env.Null();
    return WrapTensor(env, ResultTensor(v.toTensor(), keepDtype));
  }
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(static_cast<uint32_t>(i), WrapTensor(env, ResultTensor(list[i], keepDtype)));
    return out;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) out.Set(static_cast<uint32_t>(i), FromIValue(env, elems[i], keepDtype));
    return out;
  }
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isNone()) return env.Null();
  if (v.isIntList()) {
    auto list = v.toIntList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, list[i]));
    return out;
  }
  throw Napi::TypeError::New(env, "tfjs-backend-torch: unsupported result type " + v.tagKind());
}

// resolveOp(name: string, overload: string) -> id
Napi::Value ResolveOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::string overload = info.Length() > 1 ? info[1].As<Napi::String>().Utf8Value() : "";
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle.has_value()) {
    throw Napi::Error::New(env, "tfjs-backend-torch: this libtorch has no operator " + name +
                                    (overload.empty() ? "" : "." + overload) + ".");
  }
  Ops().push_back({*handle, overload.empty() ? name : name + "." + overload});
  return Napi::Number::New(env, static_cast<double>(Ops().size() - 1));
}

// schemaOf(id) -> the operator's schema as text, for error messages and tooling.
Napi::Value SchemaOf(const Napi::CallbackInfo& info) {
  size_t id = info[0].As<Napi::Number>().Uint32Value();
  std::ostringstream s;
  s << Ops().at(id).handle.schema();
  return Napi::String::New(info.Env(), s.str());
}

std::string DescribeInputs(const torch::jit::Stack& stack) {
  std::ostringstream s;
  bool first = true;
  for (const auto& v : stack) {
    if (!v.isTensor()) continue;
    s << (first ? "" : ", ") << DescribeTensor(v.toTensor());
    first = false;
  }
  return first ? "no tensors" : s.str();
}

// call(id, args: any[], keepDtype = false) -> result | result[]
// Tensor results are cast to tfjs's dtypes (int64 -> int32, float64 -> float32) unless keepDtype is true
// (bfloat16 is kept: ResultTensor)
// (e.g. max-pool argmax indices kept for the backward op, which wants int64).
Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= Ops().size()) throw Napi::RangeError::New(env, "tfjs-backend-torch: unknown operator id");
  const ResolvedOp& op = Ops()[id];
  const auto& schema = op.handle.schema();
  const auto& params = schema.arguments();
  Napi::Array args = info[1].As<Napi::Array>();
  uint32_t given = args.Length();
  if (given > params.size()) {
    throw Napi::TypeError::New(env, "tfjs-backend-torch: " + op.name + " takes " + std::to_string(params.size()) +
                                        " arguments; received " + std::to_string(given) + ".");
  }
  c10::InferenceMode guard;
  torch::jit::Stack stack;
  stack.reserve(params.size());
  try {
    for (size_t i = 0; i < params.size(); ++i) {
      stack.push_back(i < given ? ToIValue(args.Get(static_cast<uint32_t>(i)), params[i].type(), params[i].name())
                                : DefaultArgument(params[i]));
    }
  } catch (const ArgError& e) {
    std::ostringstream s;
    s << "tfjs-backend-torch: " << op.name << ": " << e.message << ". Schema: " << schema;
    throw Napi::TypeError::New(env, s.str());
  }
  CallBoxed(env, op, stack, "");
  bool keepDtype = info.Length() > 2 && info[2].ToBoolean().Value();
  if (stack.size() == 1) return FromIValue(env, stack[0], keepDtype);
  auto out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) out.Set(static_cast<uint32_t>(i), FromIValue(env, stack[i], keepDtype));
  return out;
}

}  // namespace

void InitDispatch(Napi::Env env, Napi::Object exports) {
  exports.Set("resolveOp", Napi::Function::New(env, ResolveOp));
  exports.Set("schemaOf", Napi::Function::New(env, SchemaOf));
  exports.Set("call", Napi::Function::New(env, Call));
}

}  // namespace tfjs_torch
