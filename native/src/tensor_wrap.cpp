#include "tensor_wrap.h"
#include "errors.h"

std::atomic<int64_t> TensorWrap::live_{0};

static const std::pair<const char*, at::ScalarType> kDTypes[] = {
    {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf},
    {"bfloat16", at::kBFloat16}, {"int64", at::kLong}, {"int32", at::kInt},
    {"int16", at::kShort}, {"int8", at::kChar}, {"uint8", at::kByte}, {"bool", at::kBool},
};

std::string dtypeName(at::ScalarType t) {
  for (auto& p : kDTypes) if (p.second == t) return p.first;
  return c10::toString(t);
}

at::ScalarType dtypeFromName(const std::string& name) {
  for (auto& p : kDTypes) if (name == p.first) return p.second;
  throw std::invalid_argument("unknown dtype '" + name +
                              "' (expected float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 or bool)");
}

Napi::Function TensorWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeTensor", {
      InstanceMethod("dispose", &TensorWrap::Dispose),
      InstanceAccessor("disposed", &TensorWrap::IsDisposed, nullptr),
      InstanceMethod("shape", &TensorWrap::Shape),
      InstanceMethod("strides", &TensorWrap::Strides),
      InstanceMethod("dtype", &TensorWrap::DType),
      InstanceMethod("device", &TensorWrap::Device),
      InstanceMethod("requiresGrad", &TensorWrap::RequiresGrad),
      InstanceMethod("setRequiresGrad", &TensorWrap::SetRequiresGrad),
      InstanceMethod("isLeaf", &TensorWrap::IsLeaf),
      InstanceMethod("grad", &TensorWrap::Grad),
      InstanceMethod("setGrad", &TensorWrap::SetGrad),
      InstanceMethod("retainGrad", &TensorWrap::RetainGrad),
      InstanceMethod("toArray", &TensorWrap::ToArray),
      InstanceMethod("item", &TensorWrap::Item),
      InstanceMethod("sameStorage", &TensorWrap::SameStorage),
      InstanceMethod("dataPtr", &TensorWrap::DataPtr),
  });
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "NativeTensor is created by the engine, not by `new`");
  }
  tensor_ = *info[0].As<Napi::External<at::Tensor>>().Data();
  live_++;
}

TensorWrap::~TensorWrap() {
  if (!disposed_) live_--;
}

Napi::Object TensorWrap::Wrap(Napi::Env env, at::Tensor tensor) {
  auto* data = env.GetInstanceData<AddonData>();
  return data->tensorCtor.New({Napi::External<at::Tensor>::New(env, &tensor)});
}

bool TensorWrap::Is(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) return false;
  return value.As<Napi::Object>().InstanceOf(env.GetInstanceData<AddonData>()->tensorCtor.Value());
}

const at::Tensor& TensorWrap::From(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!Is(env, value)) throw Napi::TypeError::New(env, std::string(what) + ": expected a tensor");
  auto* self = TensorWrap::Unwrap(value.As<Napi::Object>());
  if (self->disposed_) throw Napi::Error::New(env, std::string(what) + ": the tensor was disposed (used after dispose() or outside its tidy scope)");
  return self->tensor_;
}

std::vector<at::Tensor> TensorWrap::ListFrom(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw Napi::TypeError::New(env, std::string(what) + ": expected an array of tensors");
  auto a = value.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(From(env, a.Get(i), what));
  return out;
}

#define SELF_TENSOR() \
  if (disposed_) throw Napi::Error::New(info.Env(), "the tensor was disposed (used after dispose() or outside its tidy scope)"); \
  const at::Tensor& t = tensor_;

Napi::Value TensorWrap::Dispose(const Napi::CallbackInfo& info) {
  if (!disposed_) {
    tensor_ = at::Tensor();
    disposed_ = true;
    live_--;
  }
  return info.Env().Undefined();
}

void TensorWrap::Release(const Napi::Object& object) {
  auto* self = TensorWrap::Unwrap(object);
  if (!self->disposed_) {
    self->tensor_ = at::Tensor();
    self->disposed_ = true;
    live_--;
  }
}

Napi::Value TensorWrap::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), disposed_);
}

static Napi::Array intArray(Napi::Env env, at::IntArrayRef values) {
  auto arr = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) arr.Set(i, Napi::Number::New(env, (double)values[i]));
  return arr;
}

Napi::Value TensorWrap::Shape(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return intArray(info.Env(), t.sizes());
}

Napi::Value TensorWrap::Strides(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return intArray(info.Env(), t.strides());
}

Napi::Value TensorWrap::DType(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return Napi::String::New(info.Env(), dtypeName(t.scalar_type()));
}

Napi::Value TensorWrap::Device(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return Napi::String::New(info.Env(), t.device().str());
}

Napi::Value TensorWrap::RequiresGrad(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return Napi::Boolean::New(info.Env(), t.requires_grad());
}

Napi::Value TensorWrap::SetRequiresGrad(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return guarded(info.Env(), [&]() -> Napi::Value {
    const_cast<at::Tensor&>(t).requires_grad_(info[0].ToBoolean().Value());
    return info.Env().Undefined();
  });
}

Napi::Value TensorWrap::IsLeaf(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return Napi::Boolean::New(info.Env(), t.is_leaf());
}

Napi::Value TensorWrap::Grad(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  const at::Tensor& g = t.grad();
  if (!g.defined()) return info.Env().Null();
  return Wrap(info.Env(), g);
}

Napi::Value TensorWrap::SetGrad(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (info[0].IsNull() || info[0].IsUndefined()) {
      const_cast<at::Tensor&>(t).mutable_grad().reset();
    } else {
      const_cast<at::Tensor&>(t).mutable_grad() = From(info.Env(), info[0], "setGrad");
    }
    return info.Env().Undefined();
  });
}

Napi::Value TensorWrap::RetainGrad(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return guarded(info.Env(), [&]() -> Napi::Value {
    t.retain_grad();
    return info.Env().Undefined();
  });
}

template <typename T, typename ArrayT>
static Napi::Value copyOut(Napi::Env env, const at::Tensor& c) {
  auto n = c.numel();
  auto arr = ArrayT::New(env, n);
  if (n > 0) std::memcpy(arr.Data(), c.data_ptr(), n * sizeof(T));
  return arr;
}

// Copies the elements (row-major, contiguous) into a new JS typed array of the matching type.
Napi::Value TensorWrap::ToArray(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return guarded(info.Env(), [&]() -> Napi::Value {
    at::NoGradGuard noGrad;
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    auto env = info.Env();
    switch (c.scalar_type()) {
      case at::kFloat: return copyOut<float, Napi::Float32Array>(env, c);
      case at::kDouble: return copyOut<double, Napi::Float64Array>(env, c);
      case at::kLong: return copyOut<int64_t, Napi::BigInt64Array>(env, c);
      case at::kInt: return copyOut<int32_t, Napi::Int32Array>(env, c);
      case at::kShort: return copyOut<int16_t, Napi::Int16Array>(env, c);
      case at::kChar: return copyOut<int8_t, Napi::Int8Array>(env, c);
      case at::kByte: return copyOut<uint8_t, Napi::Uint8Array>(env, c);
      case at::kBool: return copyOut<uint8_t, Napi::Uint8Array>(env, c);
      case at::kHalf: case at::kBFloat16: return copyOut<uint16_t, Napi::Uint16Array>(env, c);
      default: throw std::invalid_argument("toArray: unsupported dtype " + dtypeName(c.scalar_type()));
    }
  });
}

Napi::Value TensorWrap::Item(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (t.numel() != 1) {
      throw std::invalid_argument("item(): the tensor has " + std::to_string(t.numel()) + " elements, not 1");
    }
    auto s = t.item();
    if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
    return Napi::Number::New(info.Env(), s.toDouble());
  });
}

Napi::Value TensorWrap::SameStorage(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  const at::Tensor& other = From(info.Env(), info[0], "sameStorage");
  return Napi::Boolean::New(info.Env(), t.is_alias_of(other));
}

Napi::Value TensorWrap::DataPtr(const Napi::CallbackInfo& info) {
  SELF_TENSOR();
  return Napi::BigInt::New(info.Env(), (uint64_t)(uintptr_t)t.data_ptr());
}
