#include "tensor_handle.h"

#include <c10/core/InferenceMode.h>

#include <cstring>
#include <sstream>
#include <unordered_set>

namespace tfjs_torch {
namespace {

// Distinguishes our Externals from any other napi External.
const napi_type_tag kTensorTag = {0x7f3c2a1d9e8b4c50ULL, 0xa1b2c3d4e5f60718ULL};

// Live holders (those whose tensor is not released yet), for leak checks and byte counts.
std::unordered_set<TensorHolder*>& LiveHolders() {
  static std::unordered_set<TensorHolder*> live;
  return live;
}

void Release(TensorHolder* holder) {
  if (holder->tensor.defined()) {
    holder->tensor = at::Tensor();
    LiveHolders().erase(holder);
  }
}

TensorHolder* HolderOf(const Napi::Value& value) {
  if (!value.IsExternal()) return nullptr;
  auto ext = value.As<Napi::External<TensorHolder>>();
  if (!ext.CheckTypeTag(&kTensorTag)) return nullptr;
  return ext.Data();
}

const char* DtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kInt: return "int32";
    case at::kBool: return "bool";
    case at::kLong: return "int64";
    case at::kDouble: return "float64";
    case at::kComplexFloat: return "complex64";
    case at::kByte: return "uint8";
    default: return c10::toString(t);
  }
}

at::ScalarType DtypeFromCode(Napi::Env env, int code) {
  switch (code) {
    case static_cast<int>(at::kFloat): return at::kFloat;
    case static_cast<int>(at::kInt): return at::kInt;
    case static_cast<int>(at::kBool): return at::kBool;
    default:
      throw Napi::TypeError::New(env, "tfjs-backend-torch: unsupported dtype code " + std::to_string(code) +
                                          "; expected float32 (6), int32 (3) or bool (11).");
  }
}

std::vector<int64_t> ShapeFrom(Napi::Env env, const Napi::Value& value) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, "tfjs-backend-torch: shape must be an array of integers.");
  auto arr = value.As<Napi::Array>();
  std::vector<int64_t> shape(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    double d = arr.Get(i).As<Napi::Number>().DoubleValue();
    if (d < 0 || d != static_cast<int64_t>(d)) {
      throw Napi::TypeError::New(env, "tfjs-backend-torch: shape entries must be non-negative integers.");
    }
    shape[i] = static_cast<int64_t>(d);
  }
  return shape;
}

// fromTypedArray(values: Float32Array|Int32Array|Uint8Array, shape: number[], dtypeCode: number) -> handle
Napi::Value FromTypedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(env, "tfjs-backend-torch: fromTypedArray(values, shape, dtype) needs a typed array.");
  }
  auto array = info[0].As<Napi::TypedArray>();
  auto shape = ShapeFrom(env, info[1]);
  at::ScalarType dtype = DtypeFromCode(env, info[2].As<Napi::Number>().Int32Value());
  c10::InferenceMode guard;
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t nbytes = t.numel() * t.element_size();
  if (array.ByteLength() != nbytes) {
    std::ostringstream msg;
    msg << "tfjs-backend-torch: " << array.ByteLength() << " bytes of data do not fill a " << DtypeName(dtype)
        << " tensor of " << t.numel() << " elements (" << nbytes << " bytes).";
    throw Napi::RangeError::New(env, msg.str());
  }
  if (nbytes > 0) {
    const uint8_t* src = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    std::memcpy(t.data_ptr(), src, nbytes);
  }
  return WrapTensor(env, std::move(t));
}

// toTypedArray(handle) -> Float32Array | Int32Array | Uint8Array (a copy, row-major)
Napi::Value ToTypedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  c10::InferenceMode guard;
  at::Tensor t = NormalizeDtype(UnwrapTensor(info[0], "toTypedArray")).contiguous();
  size_t nbytes = t.numel() * t.element_size();
  auto buffer = Napi::ArrayBuffer::New(env, nbytes);
  if (nbytes > 0) std::memcpy(buffer.Data(), t.data_ptr(), nbytes);
  switch (t.scalar_type()) {
    case at::kFloat: return Napi::Float32Array::New(env, t.numel(), buffer, 0);
    case at::kInt: return Napi::Int32Array::New(env, t.numel(), buffer, 0);
    case at::kBool: return Napi::Uint8Array::New(env, t.numel(), buffer, 0);
    default: throw Napi::TypeError::New(env, std::string("tfjs-backend-torch: cannot read a tensor of dtype ") +
                                                 DtypeName(t.scalar_type()));
  }
}

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  TensorHolder* holder = HolderOf(info[0]);
  if (holder != nullptr) Release(holder);
  return info.Env().Undefined();
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const at::Tensor& t = UnwrapTensor(info[0], "shape");
  auto out = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.size(i)));
  return out;
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(UnwrapTensor(info[0], "dtype").scalar_type()));
}

Napi::Value Describe(const Napi::CallbackInfo& info) {
  const at::Tensor& t = UnwrapTensor(info[0], "describe");
  std::ostringstream s;
  s << DescribeTensor(t) << " strides=" << t.strides() << (t.is_contiguous() ? " contiguous" : "")
    << (t.is_contiguous(at::MemoryFormat::ChannelsLast) && t.dim() == 4 ? " channels_last" : "");
  return Napi::String::New(info.Env(), s.str());
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(LiveHolders().size()));
}

// Bytes of the distinct storages behind live handles (views share storage and count once).
Napi::Value NativeBytes(const Napi::CallbackInfo& info) {
  std::unordered_set<const void*> seen;
  double bytes = 0;
  for (TensorHolder* h : LiveHolders()) {
    const auto& storage = h->tensor.storage();
    if (seen.insert(storage.unsafeGetStorageImpl()).second) bytes += static_cast<double>(storage.nbytes());
  }
  return Napi::Number::New(info.Env(), bytes);
}

}  // namespace

std::string DescribeTensor(const at::Tensor& t) {
  std::ostringstream s;
  s << DtypeName(t.scalar_type()) << "[";
  for (int64_t i = 0; i < t.dim(); ++i) s << (i ? "," : "") << t.size(i);
  s << "]";
  return s.str();
}

at::Tensor NormalizeDtype(at::Tensor t) {
  switch (t.scalar_type()) {
    case at::kFloat:
    case at::kInt:
    case at::kBool:
    case at::kComplexFloat:
      return t;
    case at::kDouble:
    case at::kHalf:
    case at::kBFloat16:
      return t.to(at::kFloat);
    case at::kComplexDouble:
      return t.to(at::kComplexFloat);
    default:
      return t.to(at::kInt);
  }
}

Napi::Value WrapTensor(Napi::Env env, at::Tensor tensor) {
  auto* holder = new TensorHolder{std::move(tensor)};
  LiveHolders().insert(holder);
  auto ext = Napi::External<TensorHolder>::New(env, holder, [](Napi::Env, TensorHolder* h) {
    Release(h);
    delete h;
  });
  ext.TypeTag(&kTensorTag);
  return ext;
}

bool IsTensorHandle(const Napi::Value& value) { return HolderOf(value) != nullptr; }

const at::Tensor& UnwrapTensor(const Napi::Value& value, const char* what) {
  TensorHolder* holder = HolderOf(value);
  if (holder == nullptr) {
    throw Napi::TypeError::New(value.Env(), std::string("tfjs-backend-torch: ") + what +
                                                " expects a tensor handle made by this addon.");
  }
  if (!holder->tensor.defined()) {
    throw Napi::Error::New(value.Env(), std::string("tfjs-backend-torch: ") + what +
                                            " was given a tensor handle that was already disposed.");
  }
  return holder->tensor;
}

void InitTensorHandle(Napi::Env env, Napi::Object exports) {
  exports.Set("fromTypedArray", Napi::Function::New(env, FromTypedArray));
  exports.Set("toTypedArray", Napi::Function::New(env, ToTypedArray));
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("shape", Napi::Function::New(env, Shape));
  exports.Set("dtype", Napi::Function::New(env, Dtype));
  exports.Set("describe", Napi::Function::New(env, Describe));
  exports.Set("liveTensors", Napi::Function::New(env, LiveTensors));
  exports.Set("nativeBytes", Napi::Function::New(env, NativeBytes));
}

}  // namespace tfjs_torch
