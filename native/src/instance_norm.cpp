// Instance normalisation and the ReLU after it, in place, in three passes over each plane.
//
// In synthesis every convolution of the generators is followed by an instance norm (no affine,
// statistics of the input) and most by a ReLU. ATen runs that as batch_norm over a reshaped view:
// a pass for the mean, one for the variance, one writing a new output tensor, then relu_ reading
// and writing it again — five passes over the activation and a fresh allocation. Here: the mean,
// the variance around it (both accumulated in double: at 2048×1024 a plane has 2M elements), and
// one pass normalising and clamping in place. Used only without autograd (no graph saves the
// input), on activations the caller owns (nn.Sequential's intermediates).
#include "instance_norm.h"
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/torch.h>
#include <cmath>
#include "errors.h"
#include "tensor_wrap.h"

namespace {

template <typename T>
void normalisePlane(T* __restrict x, int64_t n, double eps, bool relu) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; i++) sum += x[i];
  const double mean = sum / n;
  double squares = 0;
#pragma omp simd reduction(+ : squares)
  for (int64_t i = 0; i < n; i++) {
    double d = x[i] - mean;
    squares += d * d;
  }
  // As ATen's batch_norm: invstd = 1 / sqrt(var + eps), in the accumulation type, then
  // y = (x - mean) * invstd in the tensor's type.
  const T invStd = static_cast<T>(1 / std::sqrt(squares / n + eps));
  const T m = static_cast<T>(mean);
  if (relu) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
      T y = (x[i] - m) * invStd;
      x[i] = y > 0 ? y : T(0);
    }
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) x[i] = (x[i] - m) * invStd;
  }
}

template <typename T>
void normalise(at::Tensor& x, double eps, bool relu) {
  const int64_t planes = x.size(0) * x.size(1);
  const int64_t n = x.numel() / planes;
  T* data = x.data_ptr<T>();
  at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; p++) normalisePlane<T>(data + p * n, n, eps, relu);
  });
}

}  // namespace

Napi::Value InstanceNormInPlace(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor x = TensorWrap::From(env, info[0], "instanceNormInPlace input");
    double eps = info[1].As<Napi::Number>().DoubleValue();
    bool relu = info[2].ToBoolean().Value();
    if (x.dim() != 4 || !x.device().is_cpu() || !x.is_contiguous() || x.numel() == 0 ||
        (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble)) {
      throw std::invalid_argument("instanceNormInPlace: needs a non-empty contiguous float or double CPU tensor [N, C, H, W]");
    }
    if (x.requires_grad() && at::GradMode::is_enabled()) {
      throw std::invalid_argument("instanceNormInPlace: for inference only (the input requires grad)");
    }
    RECORD_FUNCTION("pix2pixhd::instance_norm_in_place", std::vector<c10::IValue>());
    if (x.scalar_type() == at::kFloat) {
      normalise<float>(x, eps, relu);
    } else {
      normalise<double>(x, eps, relu);
    }
    x.unsafeGetTensorImpl()->bump_version();
    return info[0];
  });
}
