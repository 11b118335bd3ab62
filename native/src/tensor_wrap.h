// A JS object that owns one at::Tensor handle. Disposing it drops the handle (the storage is
// freed when no other handle or autograd node holds it); the GC finalizer does the same as a
// backstop for handles that were never disposed.
#pragma once
#include <napi.h>
#include <vector>
#include <torch/torch.h>
#include <atomic>

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, at::Tensor tensor);
  static bool Is(Napi::Env env, const Napi::Value& value);
  // The tensor behind a JS value; throws a JS-visible error for non-tensors and disposed handles.
  static const at::Tensor& From(Napi::Env env, const Napi::Value& value, const char* what);
  // The tensors of a JS array of tensors (errors name `what`).
  static std::vector<at::Tensor> ListFrom(Napi::Env env, const Napi::Value& value, const char* what);
  static int64_t LiveCount() { return live_.load(); }
  // Drops the handle of a wrapper made by Wrap (as dispose() does): for tensors lent to a JS
  // callback only for the duration of the call.
  static void Release(const Napi::Object& object);

  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Strides(const Napi::CallbackInfo& info);
  Napi::Value DType(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value RequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value IsLeaf(const Napi::CallbackInfo& info);
  Napi::Value Grad(const Napi::CallbackInfo& info);
  Napi::Value SetGrad(const Napi::CallbackInfo& info);
  Napi::Value RetainGrad(const Napi::CallbackInfo& info);
  Napi::Value ToArray(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info);
  Napi::Value SameStorage(const Napi::CallbackInfo& info);
  Napi::Value DataPtr(const Napi::CallbackInfo& info);

  at::Tensor tensor_;
  bool disposed_ = false;
  static std::atomic<int64_t> live_;
};

struct AddonData {
  Napi::FunctionReference tensorCtor;
};

std::string dtypeName(at::ScalarType t);
at::ScalarType dtypeFromName(const std::string& name);
