// Adam's update of one parameter, PyTorch 1.13's single-tensor arithmetic, in one pass.
//
// PyTorch runs the update as eight tensor operations (mul_, add_, mul_, addcmul_, sqrt, div_,
// add_, addcdiv_), each a full pass over parameter-sized memory: for pix2pixHD's generator
// (167M parameters) about 13 GB of memory traffic per step, 0.74 s on the 2-core machine. Here
// each element is read and written once. The arithmetic is the same, rounding included: every
// operation rounds to the tensor's type where PyTorch's kernel does, with a fused multiply-add
// exactly where ATen's vectorized CPU kernels use one (add with alpha; addcmul, whose
// `self + value * t1 * t2` the compiler contracts in ATen's AVX2 build) and nowhere else — this
// file is compiled without contraction, so only the explicit std::fma calls fuse. The tests
// compare it bit for bit with the op sequence.
#include "adam.h"
#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <atomic>
#include <cmath>
#include "cpu_features.h"
#include "errors.h"
#include "grad_hooks.h"
#include "tensor_wrap.h"

namespace {

// Parameters updated by the fused kernel since the addon was loaded (adamFusedUpdates()): lets the
// tests check which path an update took. One relaxed increment per parameter update, next to a
// pass over the parameter's memory.
std::atomic<int64_t> fusedUpdates{0};

template <typename T>
struct AdamConstants {
  T oneMinusBeta1, beta1, oneMinusBeta2, beta2, bc2Sqrt, eps, negStepSize, weightDecay;
  bool decay;
};

// With `Fused`, the multiply-adds are single-rounding fmas (ATen's AVX2/AVX-512 kernels);
// without, each multiply and add rounds separately (ATen's default-capability kernels).
template <typename T, bool Fused>
inline void adamElements(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, int64_t n, const AdamConstants<T>& c) {
  for (int64_t i = 0; i < n; i++) {
    T grad = g[i];
    if (c.decay) grad = Fused ? std::fma(p[i], c.weightDecay, grad) : grad + c.weightDecay * p[i];
    T m1 = m[i] * c.beta1;
    m1 = Fused ? std::fma(grad, c.oneMinusBeta1, m1) : m1 + c.oneMinusBeta1 * grad;
    T v1 = v[i] * c.beta2;
    v1 = Fused ? std::fma(c.oneMinusBeta2 * grad, grad, v1) : v1 + c.oneMinusBeta2 * grad * grad;
    T denom = std::sqrt(v1) / c.bc2Sqrt + c.eps;
    p[i] = p[i] + c.negStepSize * m1 / denom;
    m[i] = m1;
    v[i] = v1;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
template <typename T>
__attribute__((target("avx2,fma"))) void adamElementsFma(T* p, const T* g, T* m, T* v, int64_t n, const AdamConstants<T>& c) {
  adamElements<T, true>(p, g, m, v, n, c);
}
#endif

template <typename T>
void adamKernel(at::Tensor& p, const at::Tensor& g, at::Tensor& m, at::Tensor& v, const AdamConstants<T>& c) {
  T* pp = p.data_ptr<T>();
  const T* gp = g.data_ptr<T>();
  T* mp = m.data_ptr<T>();
  T* vp = v.data_ptr<T>();
  at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (cpuHasAvx2Fma()) return adamElementsFma<T>(pp + begin, gp + begin, mp + begin, vp + begin, end - begin, c);
#endif
    adamElements<T, false>(pp + begin, gp + begin, mp + begin, vp + begin, end - begin, c);
  });
}

template <typename T>
AdamConstants<T> constantsFor(double step, double lr, double beta1, double beta2, double eps, double weightDecay) {
  // As PyTorch's Python side: scalars computed in double, cast to the tensor's type by the kernel.
  double biasCorrection1 = 1 - std::pow(beta1, step);
  double biasCorrection2 = 1 - std::pow(beta2, step);
  return {(T)(1 - beta1), (T)beta1, (T)(1 - beta2), (T)beta2, (T)std::sqrt(biasCorrection2), (T)eps,
          (T)(-(lr / biasCorrection1)), (T)weightDecay, weightDecay != 0};
}

struct AdamArgs {
  double step, lr, beta1, beta2, eps, weightDecay;
};

AdamArgs argsFrom(const double* a) { return {a[0], a[1], a[2], a[3], a[4], a[5]}; }

// The one-pass kernel, where it applies (CPU, float or double, contiguous, one dtype): false
// otherwise, and nothing is done.
bool adamStepFused(at::Tensor& p, const at::Tensor& g, at::Tensor& m, at::Tensor& v, const AdamArgs& a) {
  auto dtype = p.scalar_type();
  bool applies = (dtype == at::kFloat || dtype == at::kDouble);
  for (const at::Tensor* t : {static_cast<const at::Tensor*>(&p), &g, static_cast<const at::Tensor*>(&m), static_cast<const at::Tensor*>(&v)}) {
    applies = applies && t->device().is_cpu() && t->scalar_type() == dtype && t->is_contiguous() && t->numel() == p.numel() &&
              t->layout() == at::kStrided;
  }
  if (!applies) return false;
  // The parameter is updated in place as under torch.no_grad(): its version counter moves, so
  // a graph that saved it still refuses to back-propagate with the new values.
  at::NoGradGuard noGrad;
  if (dtype == at::kFloat) {
    adamKernel<float>(p, g, m, v, constantsFor<float>(a.step, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay));
  } else {
    adamKernel<double>(p, g, m, v, constantsFor<double>(a.step, a.lr, a.beta1, a.beta2, a.eps, a.weightDecay));
  }
  for (auto* t : {&p, &m, &v}) t->unsafeGetTensorImpl()->bump_version();
  fusedUpdates.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Everywhere else (CUDA, half types): PyTorch 1.13's single-tensor Adam, op for op, as the
// TypeScript fallback in src/torch/optim/adam.ts runs it.
void adamStepOps(at::Tensor& p, const at::Tensor& g, at::Tensor& m, at::Tensor& v, const AdamArgs& a) {
  at::NoGradGuard noGrad;
  at::Tensor grad = a.weightDecay != 0 ? g.add(p, a.weightDecay) : g;
  m.mul_(a.beta1).add_(grad, 1 - a.beta1);
  v.mul_(a.beta2).addcmul_(grad, grad, 1 - a.beta2);
  double biasCorrection1 = 1 - std::pow(a.beta1, a.step);
  double biasCorrection2 = 1 - std::pow(a.beta2, a.step);
  at::Tensor denom = v.sqrt().div_(std::sqrt(biasCorrection2)).add_(a.eps);
  p.addcdiv_(m, denom, -(a.lr / biasCorrection1));
}


}  // namespace

Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor p = TensorWrap::From(env, info[0], "adamUpdate param");
    at::Tensor g = TensorWrap::From(env, info[1], "adamUpdate grad");
    at::Tensor m = TensorWrap::From(env, info[2], "adamUpdate exp_avg");
    at::Tensor v = TensorWrap::From(env, info[3], "adamUpdate exp_avg_sq");
    double args[6];
    for (int i = 0; i < 6; i++) args[i] = info[4 + i].As<Napi::Number>().DoubleValue();
    return Napi::Boolean::New(env, adamStepFused(p, g, m, v, argsFrom(args)));
  });
}

Napi::Value AdamBackward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto outputs = TensorWrap::ListFrom(env, info[0], "adamBackward outputs");
    std::vector<at::Tensor> grads;
    if (info[1].IsArray()) grads = TensorWrap::ListFrom(env, info[1], "adamBackward grads");
    bool retain = info[2].ToBoolean().Value();
    auto params = TensorWrap::ListFrom(env, info[3], "adamBackward params");
    auto expAvg = TensorWrap::ListFrom(env, info[4], "adamBackward exp_avg");
    auto expAvgSq = TensorWrap::ListFrom(env, info[5], "adamBackward exp_avg_sq");
    if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      throw std::invalid_argument("adamBackward: the hyper-parameters must be a Float64Array");
    }
    auto hyper = info[6].As<Napi::Float64Array>();
    size_t n = params.size();
    if (expAvg.size() != n || expAvgSq.size() != n || hyper.ElementLength() != 6 * n) {
      throw std::invalid_argument("adamBackward: " + std::to_string(n) + " parameters need as many moments and 6 numbers each");
    }
    auto updated = Napi::Uint8Array::New(env, n);
    std::fill(updated.Data(), updated.Data() + n, 0);
    {
      ScopedGradHooks hooks;
      for (size_t i = 0; i < n; i++) {
        const double* a = hyper.Data() + 6 * i;
        // Pure C++, so it runs on whichever thread the engine finishes the gradient on (CUDA's
        // device threads included, where a JS callback could not run), in the stream it set.
        hooks.add(params[i], (uint32_t)i, [p = params[i], m = expAvg[i], v = expAvgSq[i], args = argsFrom(a), flag = updated.Data() + i](at::Tensor grad) mutable {
          if (!adamStepFused(p, grad, m, v, args)) adamStepOps(p, grad, m, v, args);
          *flag = 1;
        });
      }
      torch::autograd::backward(outputs, grads, retain, false, params);
    }
    return updated;
  });
}

Napi::Value AdamFusedUpdates(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(fusedUpdates.load(std::memory_order_relaxed)));
}
