// The generators end with ReflectionPad2d(3) and a 7×7 convolution from ngf channels to the
// image's 3, at full resolution. oneDNN computes output channels in blocks of 8, so with 3 of
// them most of its arithmetic is padding (the official local G at 1024×512: 221 ms, 22 GFLOP/s),
// and it first copies the padded input (as large as the input: 270 MB at 2048×1024) into its
// blocked layout. Here each output row is computed straight from the input's rows, reflected by
// index: pixels in vectors, the O outputs' sums in registers across all C×K×K taps, the padded
// input never built. For synthesis (no autograd); equal to the padded convolution to rounding.
#include "narrow_conv.h"
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/torch.h>
#include <vector>
#include "cpu_features.h"
#include "errors.h"
#include "reflect_index.h"
#include "simd_lanes.h"
#include "tensor_wrap.h"

namespace {

struct Shape {
  int64_t N, C, H, W, K;
};

// Output rows [begin, end) of O channels. Interior pixels (whose K×K window needs no reflection
// horizontally) in blocks of kBlock vectors, the rest one pixel at a time. always_inline: so that
// the AVX2 entry point compiles this body with AVX2.
template <typename T, int O>
__attribute__((always_inline)) inline void rowsImpl(const T* __restrict x, const T* __restrict w, const T* bias, T* __restrict out, const Shape& s, int64_t begin, int64_t end) {
  using L = Lanes<T>;
  using Vec = typename L::Vec;
  constexpr int kBlock = 3;  // O×3 sums, 3 loaded vectors and a broadcast weight fit in 16 registers
  const int64_t P = s.K / 2, plane = s.H * s.W, taps = s.C * s.K * s.K;
  std::vector<const T*> rows(s.C * s.K);
  for (int64_t row = begin; row < end; row++) {
    const int64_t n = row / s.H, y = row % s.H;
    for (int64_t c = 0; c < s.C; c++)
      for (int64_t ky = 0; ky < s.K; ky++) rows[c * s.K + ky] = x + (n * s.C + c) * plane + reflect(y + ky - P, s.H) * s.W;
    T* o = out + n * O * plane + y * s.W;
    auto vectors = [&](int64_t x0, auto blockTag) {
      constexpr int B = decltype(blockTag)::value;
      Vec acc[O][B];
      for (int k = 0; k < O; k++)
        for (int j = 0; j < B; j++) acc[k][j] = L::broadcast(bias ? bias[k] : T(0));
      for (int64_t c = 0; c < s.C; c++) {
        for (int64_t ky = 0; ky < s.K; ky++) {
          const T* r = rows[c * s.K + ky] + x0 - P;
          const T* wt = w + (c * s.K + ky) * s.K;
          for (int64_t kx = 0; kx < s.K; kx++) {
            Vec v[B];
            for (int j = 0; j < B; j++) v[j] = L::load(r + kx + j * L::n);
            for (int k = 0; k < O; k++) {
              const T wk = wt[k * taps + kx];  // vector × scalar: one broadcast load
              for (int j = 0; j < B; j++) acc[k][j] += wk * v[j];
            }
          }
        }
      }
      for (int k = 0; k < O; k++)
        for (int j = 0; j < B; j++) L::store(o + k * plane + x0 + j * L::n, acc[k][j]);
    };
    auto scalar = [&](int64_t x0) {
      T acc[O];
      for (int k = 0; k < O; k++) acc[k] = bias ? bias[k] : T(0);
      for (int64_t c = 0; c < s.C; c++)
        for (int64_t ky = 0; ky < s.K; ky++) {
          const T* r = rows[c * s.K + ky];
          const T* wt = w + (c * s.K + ky) * s.K;
          for (int64_t kx = 0; kx < s.K; kx++) {
            const T v = r[reflect(x0 + kx - P, s.W)];
            for (int k = 0; k < O; k++) acc[k] += wt[k * taps + kx] * v;
          }
        }
      for (int k = 0; k < O; k++) o[k * plane + x0] = acc[k];
    };
    int64_t x0 = 0;
    for (; x0 < std::min(P, s.W); x0++) scalar(x0);
    for (; x0 + kBlock * L::n <= s.W - P; x0 += kBlock * L::n) vectors(x0, std::integral_constant<int, kBlock>{});
    for (; x0 + L::n <= s.W - P; x0 += L::n) vectors(x0, std::integral_constant<int, 1>{});
    for (; x0 < s.W; x0++) scalar(x0);
  }
}

template <typename T>
__attribute__((always_inline)) inline void rowsFor(int O, const T* x, const T* w, const T* bias, T* out, const Shape& s, int64_t begin, int64_t end) {
  switch (O) {
    case 1: return rowsImpl<T, 1>(x, w, bias, out, s, begin, end);
    case 2: return rowsImpl<T, 2>(x, w, bias, out, s, begin, end);
    case 3: return rowsImpl<T, 3>(x, w, bias, out, s, begin, end);
    default: return rowsImpl<T, 4>(x, w, bias, out, s, begin, end);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
template <typename T>
__attribute__((target("avx2,fma"))) void rowsAvx2(int O, const T* x, const T* w, const T* bias, T* out, const Shape& s, int64_t begin, int64_t end) {
  rowsFor<T>(O, x, w, bias, out, s, begin, end);
}
#endif

template <typename T>
at::Tensor convolve(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const Shape& s) {
  const int O = (int)weight.size(0);
  auto out = at::empty({s.N, O, s.H, s.W}, x.options());
  const T* xp = x.data_ptr<T>();
  const T* wp = weight.data_ptr<T>();
  const T* bp = bias.defined() ? bias.data_ptr<T>() : nullptr;
  T* op = out.data_ptr<T>();
  at::parallel_for(0, s.N * s.H, 1, [&](int64_t begin, int64_t end) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (cpuHasAvx2Fma()) return rowsAvx2<T>(O, xp, wp, bp, op, s, begin, end);
#endif
    rowsFor<T>(O, xp, wp, bp, op, s, begin, end);
  });
  return out;
}

}  // namespace

Napi::Value ReflectConvNarrow(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    RECORD_FUNCTION("pix2pixhd::reflect_conv_narrow", std::vector<c10::IValue>());
    at::Tensor x = TensorWrap::From(env, info[0], "reflectConvNarrow input").contiguous();
    at::Tensor w = TensorWrap::From(env, info[1], "reflectConvNarrow weight").contiguous();
    at::Tensor b = info[2].IsNull() || info[2].IsUndefined() ? at::Tensor() : TensorWrap::From(env, info[2], "reflectConvNarrow bias").contiguous();
    if (at::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad()))) {
      throw std::invalid_argument("reflectConvNarrow: for inference only (an input requires grad)");
    }
    if (x.dim() != 4 || w.dim() != 4 || w.size(1) != x.size(1) || w.size(2) != w.size(3) || w.size(2) % 2 != 1 || w.size(0) < 1 || w.size(0) > 4) {
      throw std::invalid_argument("reflectConvNarrow: needs input [N, C, H, W] and weight [O ≤ 4, C, K, K] with K odd");
    }
    if (!x.device().is_cpu() || x.scalar_type() != w.scalar_type() || (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble) ||
        (b.defined() && (b.scalar_type() != x.scalar_type() || b.numel() != w.size(0)))) {
      throw std::invalid_argument("reflectConvNarrow: needs float or double CPU tensors of one dtype, and a bias of O values");
    }
    Shape s{x.size(0), x.size(1), x.size(2), x.size(3), w.size(2)};
    if (s.K / 2 >= s.H || s.K / 2 >= s.W) throw std::invalid_argument("reflectConvNarrow: reflection padding needs a map larger than it");
    at::NoGradGuard noGrad;
    return TensorWrap::Wrap(env, x.scalar_type() == at::kFloat ? convolve<float>(x, w, b, s) : convolve<double>(x, w, b, s));
  });
}
