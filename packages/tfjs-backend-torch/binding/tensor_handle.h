// Tensor handles: a JS value owns one at::Tensor through a type-tagged napi External.
// dispose() releases the tensor at once; the GC finalizer only frees the small holder.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

namespace tfjs_torch {

struct TensorHolder {
  at::Tensor tensor;
};

// Wraps a tensor in a new handle (counts it as live).
Napi::Value WrapTensor(Napi::Env env, at::Tensor tensor);
// The tensor behind a handle; throws a JS TypeError if `value` is not a live handle.
const at::Tensor& UnwrapTensor(const Napi::Value& value, const char* what);
bool IsTensorHandle(const Napi::Value& value);

// ATen dtype <-> the small integer codes shared with TypeScript (ATen's own ScalarType numbering).
std::string DescribeTensor(const at::Tensor& t);  // e.g. "float32[2,3]"

// tfjs has float32 / int32 / bool only: results in other dtypes are cast back (int64 -> int32, double -> float32).
at::Tensor NormalizeDtype(at::Tensor t);

// Exports: fromTypedArray, toTypedArray, dispose, shape, dtype, liveTensors, nativeBytes.
void InitTensorHandle(Napi::Env env, Napi::Object exports);

}  // namespace tfjs_torch
