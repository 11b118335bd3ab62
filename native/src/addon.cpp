// Module entry: tensor creation from JS typed arrays, autograd, grad mode, seeds, threads, devices.
#include <napi.h>
#include <torch/torch.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <dlfcn.h>
#include "errors.h"
#include "grad_hooks.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include "adam.h"
#include "conv_transpose.h"
#include "cpu_allocator.h"
#include "cuda_memory.h"
#include "dist.h"
#include "instance_norm.h"
#include "narrow_conv.h"
#include "onehot_conv.h"
#include "op_profile.h"
#include "ops.h"
#include "tensor_wrap.h"

namespace {

std::vector<int64_t> shapeFrom(const Napi::Value& v) {
  if (!v.IsArray()) throw std::invalid_argument("shape must be an array of integers");
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < a.Length(); i++) {
    double d = a.Get(i).As<Napi::Number>().DoubleValue();
    if (d < 0 || std::floor(d) != d) throw std::invalid_argument("shape entries must be non-negative integers");
    shape.push_back((int64_t)d);
  }
  return shape;
}



// fromArray(typedArray, shape, dtype, device?) copies the array's elements into a new tensor.
Napi::Value FromArray(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw std::invalid_argument("fromArray: data must be a typed array");
    auto arr = info[0].As<Napi::TypedArray>();
    auto shape = shapeFrom(info[1]);
    auto dtype = dtypeFromName(info[2].As<Napi::String>().Utf8Value());
    int64_t numel = 1;
    for (auto s : shape) numel *= s;
    size_t bytes = (size_t)numel * c10::elementSize(dtype);
    if (arr.ByteLength() != bytes) {
      throw std::invalid_argument("fromArray: shape [" + c10::Join(", ", shape) + "] of " + dtypeName(dtype) + " needs " +
                                  std::to_string(bytes) + " bytes, the array has " + std::to_string(arr.ByteLength()));
    }
    auto t = torch::empty(shape, at::TensorOptions().dtype(dtype));
    if (bytes) std::memcpy(t.data_ptr(), static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), bytes);
    if (info.Length() > 3 && info[3].IsString()) {
      auto device = c10::Device(info[3].As<Napi::String>().Utf8Value());
      if (device != t.device()) t = t.to(device);
    }
    return TensorWrap::Wrap(env, t);
  });
}

// copyFromArray(tensor, typedArray, dtype) copies the array's elements (of `dtype`, laid out as
// the tensor's shape, row-major) into an existing tensor on any device, converting the dtype if
// it differs: loading a checkpoint straight into a module's parameters, with no intermediate tensor.
Napi::Value CopyFromArray(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const at::Tensor& dst = TensorWrap::From(env, info[0], "copyFromArray");
    if (!info[1].IsTypedArray()) throw std::invalid_argument("copyFromArray: data must be a typed array");
    auto arr = info[1].As<Napi::TypedArray>();
    auto dtype = dtypeFromName(info[2].As<Napi::String>().Utf8Value());
    size_t bytes = (size_t)dst.numel() * c10::elementSize(dtype);
    if (arr.ByteLength() != bytes) {
      throw std::invalid_argument("copyFromArray: a tensor of shape [" + c10::Join(", ", dst.sizes()) + "] needs " + std::to_string(bytes) +
                                  " bytes of " + dtypeName(dtype) + ", the array has " + std::to_string(arr.ByteLength()));
    }
    if (bytes == 0) return env.Undefined();
    at::NoGradGuard noGrad;
    void* data = static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
    auto src = torch::from_blob(data, dst.sizes(), at::TensorOptions().dtype(dtype));
    dst.copy_(src);
    return env.Undefined();
  });
}

// backward(tensors[], grads[] | null, retainGraph, createGraph, inputs[]?, onGrad?): with inputs,
// only their gradients are computed and accumulated (torch.autograd.backward(..., inputs=...));
// with onGrad(index, grad) as well, each input's gradient is handed to it once complete instead
// of being left in .grad (inputs must then be CPU leaf tensors that require grad).
Napi::Value Backward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto ts = info[0].As<Napi::Array>();
    std::vector<at::Tensor> outputs, grads;
    for (uint32_t i = 0; i < ts.Length(); i++) outputs.push_back(TensorWrap::From(env, ts.Get(i), "backward"));
    if (info[1].IsArray()) {
      auto gs = info[1].As<Napi::Array>();
      for (uint32_t i = 0; i < gs.Length(); i++) grads.push_back(TensorWrap::From(env, gs.Get(i), "backward grad"));
    }
    bool retain = info[2].ToBoolean().Value();
    bool create = info[3].ToBoolean().Value();
    std::vector<at::Tensor> inputs;
    if (info.Length() > 4 && info[4].IsArray()) {
      auto is = info[4].As<Napi::Array>();
      for (uint32_t i = 0; i < is.Length(); i++) inputs.push_back(TensorWrap::From(env, is.Get(i), "backward inputs"));
    }
    if (info.Length() <= 5 || !info[5].IsFunction()) {
      torch::autograd::backward(outputs, grads, retain, create, inputs);
      return env.Undefined();
    }
    if (inputs.empty()) throw std::invalid_argument("backward: a gradient callback needs the inputs it receives gradients for");
    auto callback = info[5].As<Napi::Function>();
    ScopedGradHooks hooks;
    for (uint32_t i = 0; i < inputs.size(); i++) {
      const auto& p = inputs[i];
      if (!p.device().is_cpu()) throw std::invalid_argument("backward: a gradient callback needs CPU tensors (input " + std::to_string(i) + " is on " + p.device().str() + ")");
      // The engine runs CPU nodes on the thread that called backward: the JS thread here.
      hooks.add(p, i, [env, callback, i](at::Tensor grad) {
        Napi::HandleScope scope(env);
        auto wrapped = TensorWrap::Wrap(env, grad);
        grad = at::Tensor();
        // Release even when the callback throws: the gradient must not outlive this call.
        struct ReleaseOnExit {
          Napi::Object object;
          ~ReleaseOnExit() { TensorWrap::Release(object); }
        } release{wrapped};
        callback.Call({Napi::Number::New(env, i), wrapped});
      });
    }
    torch::autograd::backward(outputs, grads, retain, create, inputs);
    return env.Undefined();
  });
}

// Autocast regions (torch.autocast's __enter__ and __exit__): ATen's autocasting for a device
// type on this thread. Every op call goes through the dispatcher, so the Autocast keys cast
// exactly as they do under Python.
namespace autocast_state {
at::DeviceType typeOf(const std::string& device) {
  if (device != "cuda" && device != "cpu") throw std::invalid_argument("autocast: device type must be cuda or cpu, got " + device);
  return device == "cuda" ? at::kCUDA : at::kCPU;
}
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool enabled(at::DeviceType t) { return at::autocast::is_autocast_enabled(t); }
at::ScalarType dtype(at::DeviceType t) { return at::autocast::get_autocast_dtype(t); }
void set(at::DeviceType t, bool on, at::ScalarType d) {
  at::autocast::set_autocast_enabled(t, on);
  at::autocast::set_autocast_dtype(t, d);
}
#else
bool enabled(at::DeviceType t) { return t == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
at::ScalarType dtype(at::DeviceType t) { return t == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype(); }
void set(at::DeviceType t, bool on, at::ScalarType d) {
  if (t == at::kCUDA) {
    at::autocast::set_enabled(on);
    at::autocast::set_autocast_gpu_dtype(d);
  } else {
    at::autocast::set_cpu_enabled(on);
    at::autocast::set_autocast_cpu_dtype(d);
  }
}
#endif
}  // namespace autocast_state

// autocastEnter(device, dtype, enabled) → [wasEnabled, previousDtype], to give back to
// autocastExit (enabled false: a region where autocasting is off, torch.autocast(enabled=False)).
Napi::Value AutocastEnter(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto type = autocast_state::typeOf(info[0].As<Napi::String>().Utf8Value());
    auto dtype = dtypeFromName(info[1].As<Napi::String>().Utf8Value());
    auto previous = Napi::Array::New(env, 2);
    previous.Set(0u, Napi::Boolean::New(env, autocast_state::enabled(type)));
    previous.Set(1u, Napi::String::New(env, dtypeName(autocast_state::dtype(type))));
    autocast_state::set(type, info[2].ToBoolean().Value(), dtype);
    at::autocast::increment_nesting();
    return previous;
  });
}

// autocastExit(device, wasEnabled, previousDtype): restores the state; leaving the outermost
// region drops the cached low-precision copies of the weights, as torch.autocast does.
Napi::Value AutocastExit(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto type = autocast_state::typeOf(info[0].As<Napi::String>().Utf8Value());
    autocast_state::set(type, info[1].ToBoolean().Value(), dtypeFromName(info[2].As<Napi::String>().Utf8Value()));
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    return env.Undefined();
  });
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    bool lossless;
    uint64_t seed = info[0].IsBigInt() ? info[0].As<Napi::BigInt>().Uint64Value(&lossless)
                                       : (uint64_t)info[0].As<Napi::Number>().Int64Value();
    torch::manual_seed(seed);
    return env.Undefined();
  });
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    int n = info[0].As<Napi::Number>().Int32Value();
    if (n < 1) throw std::invalid_argument("thread count must be at least 1");
    at::set_num_threads(n);
    // OpenBLAS (libtorch's BLAS here: its GEMMs, and the GEMM path of the largest convolutions)
    // keeps its own thread pool, which at::set_num_threads leaves at one thread per core.
    using SetBlasThreads = void (*)(int);
    static const SetBlasThreads setBlasThreads = [] {
      void* blas = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
      return blas ? reinterpret_cast<SetBlasThreads>(dlsym(blas, "openblas_set_num_threads")) : nullptr;
    }();
    if (setBlasThreads) setBlasThreads(n);
    return env.Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), torch::cuda::is_available() ? (double)torch::cuda::device_count() : 0);
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)TensorWrap::LiveCount());
}

// Bytes the C/C++ heap has handed out and not had back (glibc's mallinfo2: all arenas, plus
// blocks mapped on their own), or null where that is not known. For leak tests: unlike the
// resident size, which this allocator tuning makes a high-water mark (the heap is not trimmed),
// it goes down again when memory is freed.
Napi::Value HeapInUse(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return Napi::Number::New(info.Env(), (double)(mi.uordblks + mi.hblkhd + CachingCpuAllocatorBytesInUse()));
#else
  return info.Env().Null();
#endif
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("torchVersion", TORCH_VERSION);
  o.Set("parallel", at::get_parallel_info());
  o.Set("cuda", torch::cuda::is_available());
  return o;
}

}  // namespace

// Training allocates and frees the same large activation buffers every iteration. glibc serves
// blocks above its mmap threshold with fresh mappings, so each iteration page-faults tens of MB
// of new memory (measured: 2× the page faults of the same loop in Python, 10–25% slower
// backward passes). Blocks up to 16 MB stay in the heap, and the heap is not trimmed, so they
// are reused; larger blocks are still mapped, which keeps fragmentation, and so peak memory,
// down. Measured on bench/train's configuration (peak resident memory): 64 MB 5.9 GB, 32 MB
// 4.5 GB, 16 MB 4.4 GB (the official code: 4.4 GB), 8 MB 4.2 GB but slower convolutions.
// Since then tensors of 1 MiB and more come from the caching allocator (cpu_allocator.cpp), and
// glibc serves the smaller ones and everything else. The usual MALLOC_*_ environment variables
// still take precedence.
static void tuneAllocator() {
#if defined(__GLIBC__)
  if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 16 << 20);
  if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneAllocator();
  InstallCachingCpuAllocator();
  auto* data = new AddonData();
  data->tensorCtor = Napi::Persistent(TensorWrap::Define(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("NativeTensor", data->tensorCtor.Value());
  exports.Set("fromArray", Napi::Function::New(env, FromArray));
  exports.Set("copyFromArray", Napi::Function::New(env, CopyFromArray));
  exports.Set("resolveOp", Napi::Function::New(env, ResolveOp));
  exports.Set("opSchema", Napi::Function::New(env, OpSchema));
  exports.Set("callOp", Napi::Function::New(env, CallOp));
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount));
  exports.Set("liveTensors", Napi::Function::New(env, LiveTensors));
  exports.Set("heapInUse", Napi::Function::New(env, HeapInUse));
  exports.Set("cpuAllocatorStats", Napi::Function::New(env, CpuAllocatorStats));
  exports.Set("profileStart", Napi::Function::New(env, ProfileStart));
  exports.Set("profileStop", Napi::Function::New(env, ProfileStop));
  exports.Set("cpuAllocatorRelease", Napi::Function::New(env, CpuAllocatorRelease));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate));
  exports.Set("onehotConv2d", Napi::Function::New(env, OnehotConv2d));
  exports.Set("reflectConvNarrow", Napi::Function::New(env, ReflectConvNarrow));
  exports.Set("convTranspose2dMkldnn", Napi::Function::New(env, ConvTranspose2dMkldnn));
  exports.Set("instanceNormInPlace", Napi::Function::New(env, InstanceNormInPlace));
  exports.Set("adamBackward", Napi::Function::New(env, AdamBackward));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep));
  exports.Set("adamUpdateCounts", Napi::Function::New(env, AdamUpdateCounts));
  exports.Set("adamPath", Napi::Function::New(env, AdamPathSelect));
  exports.Set("cudaMemoryStats", Napi::Function::New(env, CudaMemoryStats));
  exports.Set("cudaResetPeakMemoryStats", Napi::Function::New(env, CudaResetPeakMemoryStats));
  exports.Set("autocastEnter", Napi::Function::New(env, AutocastEnter));
  exports.Set("autocastExit", Napi::Function::New(env, AutocastExit));
  RegisterDist(env, exports);
  return exports;
}

NODE_API_MODULE(torch_addon, Init)
