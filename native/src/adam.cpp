// Adam's update, with PyTorch's arithmetic, on whichever path suits the parameters:
// - CPU, float or double, contiguous: one pass over memory, bit-identical to PyTorch 1.13's
//   single-tensor Adam (below);
// - CUDA: ATen's fused multi-tensor kernel `_fused_adam_` (what torch.optim.Adam(fused=True) runs),
//   where the libtorch has it; else ATen's `_foreach_*` ops in the order of PyTorch 1.13's
//   _multi_tensor_adam (one launch per op for many parameters);
// - everything else (CPU half types, non-contiguous tensors): PyTorch 1.13's single-tensor op
//   sequence.
// `_fused_adam_` computes each element in float (double for its scalars), so on CUDA it is close to
// the op sequence but not bitwise (PyTorch documents the same of its fused Adam); the foreach ops
// are bitwise equal to the op sequence on the CPU, where ATen runs them tensor by tensor.
//
// The one-pass CPU kernel:
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
#include <map>
#include <string>
#include <tuple>
#include <vector>
#include "cpu_features.h"
#include "errors.h"
#include "grad_hooks.h"
#include <ATen/record_function.h>
#include "tensor_wrap.h"

// PyTorch's fused Adam kernel (CUDA only in 1.13; later versions add a CPU one). Older libtorch
// builds have no such op: the foreach path takes its place.
#if __has_include(<ATen/ops/_fused_adam.h>)
#include <ATen/ops/_fused_adam.h>
#define PIX2PIXHD_HAS_FUSED_ADAM 1
#else
#define PIX2PIXHD_HAS_FUSED_ADAM 0
#endif

namespace {

// Parameter updates done on each path since the addon was loaded (adamUpdateCounts()): lets the
// tests and the GPU check see which path an update took. One relaxed increment per parameter
// update, next to a pass over the parameter's memory.
struct PathCounts {
  std::atomic<int64_t> cpuKernel{0}, fusedAdam{0}, foreach{0}, ops{0};
} counts;

// Which path updates take: `Auto` picks as described at the top; the others force one path
// everywhere it can run (adamPath(), for tests and the GPU check, which compare the paths).
enum class AdamPath : int { Auto, Ops, Foreach, Fused };
std::atomic<int> chosenPath{static_cast<int>(AdamPath::Auto)};
AdamPath currentPath() { return static_cast<AdamPath>(chosenPath.load(std::memory_order_relaxed)); }

// Device types whose dispatcher turned out to have no `_fused_adam_` kernel (the first call
// threw): later updates on them go straight to the fallback.
std::atomic<uint64_t> fusedAdamMissing{0};

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
bool adamStepKernel(at::Tensor& p, const at::Tensor& g, at::Tensor& m, at::Tensor& v, const AdamArgs& a) {
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
  counts.cpuKernel.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Everywhere else (CPU half types, non-contiguous tensors, CUDA without the faster paths):
// PyTorch 1.13's single-tensor Adam (_single_tensor_adam), op for op.
void adamStepOps(at::Tensor& p, const at::Tensor& g, at::Tensor& m, at::Tensor& v, const AdamArgs& a) {
  at::NoGradGuard noGrad;
  at::Tensor grad = a.weightDecay != 0 ? g.add(p, a.weightDecay) : g;
  m.mul_(a.beta1).add_(grad, 1 - a.beta1);
  v.mul_(a.beta2).addcmul_(grad, grad, 1 - a.beta2);
  double biasCorrection1 = 1 - std::pow(a.beta1, a.step);
  double biasCorrection2 = 1 - std::pow(a.beta2, a.step);
  at::Tensor denom = v.sqrt().div_(std::sqrt(biasCorrection2)).add_(a.eps);
  p.addcdiv_(m, denom, -(a.lr / biasCorrection1));
  counts.ops.fetch_add(1, std::memory_order_relaxed);
}

// PyTorch 1.13's _multi_tensor_adam (without amsgrad, maximize or capturable), op for op, over
// parameters on one device, of one dtype, with the same hyper-parameters (`a`; the steps may
// differ). Two departures that change no value: the weight decay is added to a copy of the
// gradients (1.13 adds it into .grad in place), and eps is added to the denominators in place
// (1.13 allocates another list). The denominators of the whole group exist at once (a buffer the
// size of its parameters, as in PyTorch's), where `_fused_adam_` needs none: CUDA takes this path
// only where the libtorch lacks the fused kernel.
void adamStepForeach(std::vector<at::Tensor>& p, std::vector<at::Tensor> g, std::vector<at::Tensor>& m, std::vector<at::Tensor>& v,
                     const std::vector<double>& steps, const AdamArgs& a) {
  at::NoGradGuard noGrad;
  if (a.weightDecay != 0) g = at::_foreach_add(g, p, a.weightDecay);
  at::_foreach_mul_(m, a.beta1);
  at::_foreach_add_(m, g, 1 - a.beta1);
  at::_foreach_mul_(v, a.beta2);
  at::_foreach_addcmul_(v, g, g, 1 - a.beta2);
  std::vector<at::Scalar> stepSize, biasCorrection2Sqrt;
  for (double step : steps) {
    stepSize.emplace_back((a.lr / (1 - std::pow(a.beta1, step))) * -1);
    biasCorrection2Sqrt.emplace_back(std::sqrt(1 - std::pow(a.beta2, step)));
  }
  std::vector<at::Tensor> denom = at::_foreach_sqrt(v);
  at::_foreach_div_(denom, at::ArrayRef<at::Scalar>(biasCorrection2Sqrt));
  at::_foreach_add_(denom, a.eps);
  at::_foreach_addcdiv_(p, m, denom, at::ArrayRef<at::Scalar>(stepSize));
  counts.foreach.fetch_add(static_cast<int64_t>(p.size()), std::memory_order_relaxed);
}

// What `_fused_adam_` accepts: the four tensors alike (device, dtype, sizes, strides), strided,
// dense without overlap. `anyDevice`: also off CUDA (a forced fused path, where a libtorch with a
// CPU kernel runs it and one without falls back).
bool fusedAdamTakes(const at::Tensor& p, const at::Tensor& g, const at::Tensor& m, const at::Tensor& v, bool anyDevice) {
  if (!PIX2PIXHD_HAS_FUSED_ADAM || !(anyDevice || p.is_cuda())) return false;
  if (fusedAdamMissing.load(std::memory_order_relaxed) & (uint64_t{1} << (static_cast<int>(p.device().type()) & 63))) return false;
  if (!c10::isFloatingType(p.scalar_type()) || p.layout() != at::kStrided || !p.is_non_overlapping_and_dense()) return false;
  for (const at::Tensor* t : {&g, &m, &v}) {
    if (t->device() != p.device() || t->scalar_type() != p.scalar_type() || t->layout() != at::kStrided || t->sizes() != p.sizes() ||
        t->strides() != p.strides()) {
      return false;
    }
  }
  return true;
}

// One `_fused_adam_` call over parameters on one device, of one dtype, with the same
// hyper-parameters: true when it ran; false (nothing done) when this libtorch has no kernel for
// the device, which is remembered.
bool adamStepFusedAdam(std::vector<at::Tensor>& p, std::vector<at::Tensor>& g, std::vector<at::Tensor>& m, std::vector<at::Tensor>& v,
                       const std::vector<double>& steps, const AdamArgs& a) {
#if PIX2PIXHD_HAS_FUSED_ADAM
  at::NoGradGuard noGrad;
  // The steps as PyTorch's fused Adam keeps them: a float32 tensor per parameter, on its device
  // (the kernel reads them there, as float). One tensor per distinct step is enough: it is read only.
  std::map<double, at::Tensor> stepTensors;
  std::vector<at::Tensor> stateSteps;
  for (double step : steps) {
    auto it = stepTensors.find(step);
    if (it == stepTensors.end()) it = stepTensors.emplace(step, at::full({}, step, p[0].options().dtype(at::kFloat))).first;
    stateSteps.push_back(it->second);
  }
  try {
    at::_fused_adam_(p, g, m, v, {}, stateSteps, a.lr, a.beta1, a.beta2, a.weightDecay, a.eps, /*amsgrad=*/false, /*maximize=*/false);
  } catch (const c10::NotImplementedError&) {
    fusedAdamMissing.fetch_or(uint64_t{1} << (static_cast<int>(p[0].device().type()) & 63), std::memory_order_relaxed);
    return false;
  }
  counts.fusedAdam.fetch_add(static_cast<int64_t>(p.size()), std::memory_order_relaxed);
  return true;
#else
  return false;
#endif
}

// One parameter's update (in-backward hooks, the CPU callback path), on the path chosen as above.
void adamUpdateOne(at::Tensor& p, const at::Tensor& g, at::Tensor& m, at::Tensor& v, const AdamArgs& a) {
  AdamPath path = currentPath();
  if (path == AdamPath::Auto && adamStepKernel(p, g, m, v, a)) return;
  if ((path == AdamPath::Fused || path == AdamPath::Auto) && fusedAdamTakes(p, g, m, v, path == AdamPath::Fused)) {
    std::vector<at::Tensor> ps{p}, gs{g}, ms{m}, vs{v};
    if (adamStepFusedAdam(ps, gs, ms, vs, {a.step}, a)) return;
  }
  if (path == AdamPath::Foreach) {
    std::vector<at::Tensor> ps{p}, ms{m}, vs{v};
    return adamStepForeach(ps, {g}, ms, vs, {a.step}, a);
  }
  adamStepOps(p, g, m, v, a);
}

// Parameters that can share one multi-tensor call: same device, dtype and hyper-parameters.
struct MultiTensorGroup {
  std::vector<at::Tensor> p, g, m, v;
  std::vector<double> steps;
  void add(const at::Tensor& p_, const at::Tensor& g_, const at::Tensor& m_, const at::Tensor& v_, double step) {
    p.push_back(p_);
    g.push_back(g_);
    m.push_back(m_);
    v.push_back(v_);
    steps.push_back(step);
  }
};

// All parameters at once (step()): the CPU kernel per parameter where it applies, and for the
// others one `_fused_adam_` call, or one foreach sequence, per device, dtype and hyper-parameters
// (CUDA; every device when a path is forced), or the op sequence per parameter.
void adamUpdateMany(std::vector<at::Tensor>& p, const std::vector<at::Tensor>& g, std::vector<at::Tensor>& m, std::vector<at::Tensor>& v,
                    const std::vector<AdamArgs>& args) {
  AdamPath path = currentPath();
  using Key = std::tuple<std::string, int, double, double, double, double, double>;
  std::map<Key, std::pair<MultiTensorGroup, MultiTensorGroup>> groups;  // (fused, foreach)
  for (size_t i = 0; i < p.size(); i++) {
    const AdamArgs& a = args[i];
    if (path == AdamPath::Auto && adamStepKernel(p[i], g[i], m[i], v[i], a)) continue;
    if (path == AdamPath::Ops || (path == AdamPath::Auto && !p[i].is_cuda())) {
      adamStepOps(p[i], g[i], m[i], v[i], a);
      continue;
    }
    Key key{p[i].device().str(), static_cast<int>(p[i].scalar_type()), a.lr, a.beta1, a.beta2, a.eps, a.weightDecay};
    auto& [fused, foreach] = groups[key];
    bool toFused = path != AdamPath::Foreach && fusedAdamTakes(p[i], g[i], m[i], v[i], path == AdamPath::Fused);
    (toFused ? fused : foreach).add(p[i], g[i], m[i], v[i], a.step);
  }
  for (auto& [key, pair] : groups) {
    auto& [fused, foreach] = pair;
    AdamArgs a{0, std::get<2>(key), std::get<3>(key), std::get<4>(key), std::get<5>(key), std::get<6>(key)};
    if (!fused.p.empty() && !adamStepFusedAdam(fused.p, fused.g, fused.m, fused.v, fused.steps, a)) {
      for (size_t k = 0; k < fused.p.size(); k++) foreach.add(fused.p[k], fused.g[k], fused.m[k], fused.v[k], fused.steps[k]);
    }
    if (!foreach.p.empty()) adamStepForeach(foreach.p, foreach.g, foreach.m, foreach.v, foreach.steps, a);
  }
}

struct AdamLists {
  std::vector<at::Tensor> p, m, v;
  std::vector<AdamArgs> args;
};

// The parameters (argument `paramsAt`), their moments and their Float64Array of [step, lr, beta1,
// beta2, eps, weightDecay] per parameter (the three arguments from `momentsAt`).
AdamLists adamListsFrom(const Napi::CallbackInfo& info, size_t paramsAt, size_t momentsAt, const std::string& what) {
  auto env = info.Env();
  AdamLists l;
  l.p = TensorWrap::ListFrom(env, info[paramsAt], (what + " params").c_str());
  l.m = TensorWrap::ListFrom(env, info[momentsAt], (what + " exp_avg").c_str());
  l.v = TensorWrap::ListFrom(env, info[momentsAt + 1], (what + " exp_avg_sq").c_str());
  const Napi::Value& h = info[momentsAt + 2];
  if (!h.IsTypedArray() || h.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw std::invalid_argument(what + ": the hyper-parameters must be a Float64Array");
  }
  auto hyper = h.As<Napi::Float64Array>();
  size_t n = l.p.size();
  if (l.m.size() != n || l.v.size() != n || hyper.ElementLength() != 6 * n) {
    throw std::invalid_argument(what + ": " + std::to_string(n) + " parameters need as many moments and 6 numbers each");
  }
  for (size_t i = 0; i < n; i++) l.args.push_back(argsFrom(hyper.Data() + 6 * i));
  return l;
}

const char* const pathNames[] = {"auto", "ops", "foreach", "fused"};

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
    adamUpdateOne(p, g, m, v, argsFrom(args));
    return env.Undefined();
  });
}

Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto l = adamListsFrom(info, 0, 2, "adamStep");
    auto grads = TensorWrap::ListFrom(env, info[1], "adamStep grads");
    if (grads.size() != l.p.size()) throw std::invalid_argument("adamStep: " + std::to_string(l.p.size()) + " parameters need as many gradients");
    adamUpdateMany(l.p, grads, l.m, l.v, l.args);
    return env.Undefined();
  });
}

Napi::Value AdamBackward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto outputs = TensorWrap::ListFrom(env, info[0], "adamBackward outputs");
    std::vector<at::Tensor> grads;
    if (info[1].IsArray()) grads = TensorWrap::ListFrom(env, info[1], "adamBackward grads");
    bool retain = info[2].ToBoolean().Value();
    auto l = adamListsFrom(info, 3, 4, "adamBackward");
    size_t n = l.p.size();
    auto updated = Napi::Uint8Array::New(env, n);
    std::fill(updated.Data(), updated.Data() + n, 0);
    {
      ScopedGradHooks hooks;
      for (size_t i = 0; i < n; i++) {
        // Pure C++, so it runs on whichever thread the engine finishes the gradient on (CUDA's
        // device threads included, where a JS callback could not run), in the stream it set.
        hooks.add(l.p[i], (uint32_t)i, [p = l.p[i], m = l.m[i], v = l.v[i], args = l.args[i], flag = updated.Data() + i](at::Tensor grad) mutable {
          RECORD_FUNCTION("pix2pixhd::adam_in_backward", std::vector<c10::IValue>());
          adamUpdateOne(p, grad, m, v, args);
          *flag = 1;
        });
      }
      torch::autograd::backward(outputs, grads, retain, false, l.p);
    }
    return updated;
  });
}

Napi::Value AdamUpdateCounts(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("cpuKernel", static_cast<double>(counts.cpuKernel.load(std::memory_order_relaxed)));
  o.Set("fusedAdam", static_cast<double>(counts.fusedAdam.load(std::memory_order_relaxed)));
  o.Set("foreach", static_cast<double>(counts.foreach.load(std::memory_order_relaxed)));
  o.Set("ops", static_cast<double>(counts.ops.load(std::memory_order_relaxed)));
  o.Set("fusedAdamBuilt", static_cast<bool>(PIX2PIXHD_HAS_FUSED_ADAM));
  // The device types found to have no `_fused_adam_` kernel (their updates fall back).
  auto missing = Napi::Array::New(info.Env());
  uint64_t bits = fusedAdamMissing.load(std::memory_order_relaxed);
  for (int t = 0; t < 64; t++) {
    if (bits & (uint64_t{1} << t)) missing.Set(missing.Length(), c10::DeviceTypeName(static_cast<c10::DeviceType>(t), /*lower_case=*/true));
  }
  o.Set("fusedAdamMissing", missing);
  return o;
}

Napi::Value AdamPathSelect(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    int previous = chosenPath.load();
    if (info.Length() > 0 && info[0].IsString()) {
      std::string name = info[0].As<Napi::String>().Utf8Value();
      int chosen = -1;
      for (int k = 0; k < 4; k++) if (name == pathNames[k]) chosen = k;
      if (chosen < 0) throw std::invalid_argument("adamPath: '" + name + "' is none of auto, ops, foreach, fused");
      chosenPath.store(chosen);
    }
    return Napi::String::New(env, pathNames[previous]);
  });
}
