// The CUDA caching allocator's statistics. They live in c10_cuda, which only a CUDA libtorch
// ships, and its header pulls in CUDA's runtime headers: CMake defines PIX2PIXHD_CUDA_ALLOCATOR
// where a test program calling them compiles and links against this libtorch (see
// CMakeLists.txt); elsewhere the functions answer null / false, and the build is unaffected.
#include "cuda_memory.h"
#include <torch/torch.h>
#include "errors.h"

#if defined(PIX2PIXHD_CUDA_ALLOCATOR) && __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<cuda_runtime_api.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define PIX2PIXHD_HAS_CUDA_STATS 1
#else
#define PIX2PIXHD_HAS_CUDA_STATS 0
#endif

namespace {

#if PIX2PIXHD_HAS_CUDA_STATS
// The device index, checked, with CUDA initialised (the allocator has no per-device state before).
int cudaDevice(const Napi::CallbackInfo& info) {
  int device = info[0].As<Napi::Number>().Int32Value();
  if (!torch::cuda::is_available() || device < 0 || device >= static_cast<int>(torch::cuda::device_count())) {
    throw std::invalid_argument("cudaMemoryStats: no CUDA device " + std::to_string(device));
  }
  at::empty({0}, at::TensorOptions().device(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device))));
  return device;
}
#endif

}  // namespace

Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
#if PIX2PIXHD_HAS_CUDA_STATS
    int device = cudaDevice(info);
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    // Index 0 of each statistic is the aggregate over the small and large pools (StatType::AGGREGATE,
    // whose namespace moved between PyTorch versions).
    auto o = Napi::Object::New(env);
    o.Set("allocated", static_cast<double>(stats.allocated_bytes[0].current));
    o.Set("peakAllocated", static_cast<double>(stats.allocated_bytes[0].peak));
    o.Set("reserved", static_cast<double>(stats.reserved_bytes[0].current));
    o.Set("peakReserved", static_cast<double>(stats.reserved_bytes[0].peak));
    return o;
#else
    return env.Null();
#endif
  });
}

Napi::Value CudaResetPeakMemoryStats(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
#if PIX2PIXHD_HAS_CUDA_STATS
    int device = cudaDevice(info);
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
    return Napi::Boolean::New(env, true);
#else
    return Napi::Boolean::New(env, false);
#endif
  });
}
