// A convolution whose input is a one-hot label map (and optionally a 0/1 boundary map), computed
// as what it is: for every output pixel and kernel tap, the weight column of the class found
// under that tap is added, instead of multiplying every one of the label_nc input channels (all
// but one of them zero). pix2pixHD's generator opens with a 7×7 convolution over
// label_nc + 1 such channels at full resolution: for the local generator at 1024×512 it is 16%
// of the network's multiply-adds, nearly all of them by zero. Reflection padding (the generator's
// for this layer) is done by index, so the padded map is never built.
//
// An autograd Function: the backward gives the weight's gradient (scatter-adds of the output
// gradient into the columns of the classes seen), as a convolution's weight gradient would.
// Sums run in another order than a dense convolution's, so results agree with it to rounding.
#include "onehot_conv.h"
#include <ATen/record_function.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <vector>
#include "cpu_features.h"
#include "errors.h"
#include "reflect_index.h"
#include "simd_lanes.h"
#include "tensor_wrap.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// For each tap offset k in [0, K) and position i in [0, n): the reflected source index.
std::vector<int64_t> reflectedIndices(int64_t n, int64_t K) {
  std::vector<int64_t> idx(K * n);
  for (int64_t k = 0; k < K; k++)
    for (int64_t i = 0; i < n; i++) idx[k * n + i] = reflect(i + k - K / 2, n);
  return idx;
}

struct Geometry {
  int64_t N, H, W, K, Cout, columns;
  bool edges;
};

// The forward's lookup table [K*K][entries][Cout]: entry l is class l's weight column, and with a
// boundary map entry labelNc + l is class l's column plus the boundary channel's, so that every
// tap of every pixel is one lookup, with no branch on the boundary.
template <typename T>
std::vector<T> lookupTable(const at::Tensor& weight, const Geometry& g, int64_t labelNc) {
  auto w = weight.contiguous();
  const T* wp = w.data_ptr<T>();
  const int64_t Cin = w.size(1), taps = g.K * g.K, entries = g.edges ? 2 * labelNc : labelNc;
  std::vector<T> table(taps * entries * g.Cout);
  for (int64_t o = 0; o < g.Cout; o++)
    for (int64_t j = 0; j < entries; j++)
      for (int64_t t = 0; t < taps; t++) {
        T v = wp[(o * Cin + j % labelNc) * taps + t];
        if (j >= labelNc) v += wp[(o * Cin + labelNc) * taps + t];
        table[(t * entries + j) * g.Cout + o] = v;
      }
  return table;
}

// For each output row: the K source rows' table entries, reflection-padded to W + K - 1, so
// that tap (ky, kx) of pixel x reads padded[ky][x + kx] with no index arithmetic. A pixel's Cout
// sums stay in vector registers across its K×K taps (kCout > 0: the channel count known at
// compile time, a multiple of the vector width) and go to a row buffer [W][Cout]; the row is then
// written plane by plane. Writing each pixel's channels straight into the [Cout][H][W] output
// would touch Cout addresses a power-of-two plane apart per pixel, which share cache sets and
// evict each other. always_inline: so that the AVX2 entry point below compiles this body with
// AVX2 (GCC does not inline a plain function into a target("avx2") one on its own).
template <typename T, int64_t kCout>
__attribute__((always_inline)) inline void forwardRowsImpl(const T* __restrict table, const int32_t* __restrict entryMap, T* __restrict out, const Geometry& g, int64_t entries,
                            const int64_t* ry, int64_t begin, int64_t end) {
  using L = Lanes<T>;
  constexpr int64_t kVectors = kCout > 0 ? kCout / L::n : 1;
  const int64_t plane = g.H * g.W, padded = g.W + g.K - 1;
  const int64_t C = kCout > 0 ? kCout : g.Cout;
  std::vector<T> rowBuffer(g.W * C);
  std::vector<int32_t> sourceRows(g.K * padded);
  for (int64_t row = begin; row < end; row++) {
    const int64_t n = row / g.H, y = row % g.H;
    for (int64_t ky = 0; ky < g.K; ky++) {
      const int32_t* src = entryMap + n * plane + ry[ky * g.H + y] * g.W;
      int32_t* dst = sourceRows.data() + ky * padded;
      for (int64_t i = 0; i < padded; i++) dst[i] = src[reflect(i - g.K / 2, g.W)];
    }
    for (int64_t x = 0; x < g.W; x++) {
      if constexpr (kCout > 0) {
        typename L::Vec acc[kVectors] = {};
        for (int64_t ky = 0; ky < g.K; ky++) {
          const int32_t* taps = sourceRows.data() + ky * padded + x;
          const T* tapTable = table + ky * g.K * entries * C;
          for (int64_t kx = 0; kx < g.K; kx++) {
            const T* col = tapTable + (kx * entries + taps[kx]) * C;
            for (int64_t v = 0; v < kVectors; v++) acc[v] += L::load(col + v * L::n);
          }
        }
        for (int64_t v = 0; v < kVectors; v++) L::store(rowBuffer.data() + x * C + v * L::n, acc[v]);
      } else {
        T* acc = rowBuffer.data() + x * C;
        for (int64_t c = 0; c < C; c++) acc[c] = T(0);
        for (int64_t ky = 0; ky < g.K; ky++) {
          const int32_t* taps = sourceRows.data() + ky * padded + x;
          const T* tapTable = table + ky * g.K * entries * C;
          for (int64_t kx = 0; kx < g.K; kx++) {
            const T* col = tapTable + (kx * entries + taps[kx]) * C;
            for (int64_t c = 0; c < C; c++) acc[c] += col[c];
          }
        }
      }
    }
    T* o = out + n * C * plane + y * g.W;
    for (int64_t c = 0; c < C; c++)
      for (int64_t x = 0; x < g.W; x++) o[c * plane + x] = rowBuffer[x * C + c];
  }
}

// The generators' widths (ngf 16–64 and the local enhancer's halves of them) get their own code.
template <typename T>
__attribute__((always_inline)) inline void forwardRowsFor(const T* table, const int32_t* entryMap, T* out, const Geometry& g, int64_t entries, const int64_t* ry,
                           int64_t begin, int64_t end) {
  switch (g.Cout) {
    case 16: return forwardRowsImpl<T, 16>(table, entryMap, out, g, entries, ry, begin, end);
    case 32: return forwardRowsImpl<T, 32>(table, entryMap, out, g, entries, ry, begin, end);
    case 64: return forwardRowsImpl<T, 64>(table, entryMap, out, g, entries, ry, begin, end);
    default: return forwardRowsImpl<T, 0>(table, entryMap, out, g, entries, ry, begin, end);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
template <typename T>
__attribute__((target("avx2,fma"))) void forwardRowsAvx2(const T* table, const int32_t* entryMap, T* out, const Geometry& g, int64_t entries,
                                                         const int64_t* ry, int64_t begin, int64_t end) {
  forwardRowsFor<T>(table, entryMap, out, g, entries, ry, begin, end);
}
#endif

template <typename T>
at::Tensor forwardKernel(const at::Tensor& weight, const at::Tensor& labels, const at::Tensor& edges, int64_t labelNc, const Geometry& g) {
  auto table = lookupTable<T>(weight, g, labelNc);
  const int64_t entries = g.edges ? 2 * labelNc : labelNc;
  // Each pixel's table entry: its class, moved up by labelNc where it is on a boundary.
  const int64_t pixels = g.N * g.H * g.W;
  std::vector<int32_t> entryMap(pixels);
  const int64_t* lp = labels.data_ptr<int64_t>();
  const T* ep = g.edges ? edges.data_ptr<T>() : nullptr;
  for (int64_t i = 0; i < pixels; i++) entryMap[i] = (int32_t)(lp[i] + (ep && ep[i] != T(0) ? labelNc : 0));
  auto out = at::empty({g.N, g.Cout, g.H, g.W}, weight.options().requires_grad(false));
  auto ry = reflectedIndices(g.H, g.K);
  T* op = out.data_ptr<T>();
  at::parallel_for(0, g.N * g.H, 1, [&](int64_t begin, int64_t end) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (cpuHasAvx2Fma()) return forwardRowsAvx2<T>(table.data(), entryMap.data(), op, g, entries, ry.data(), begin, end);
#endif
    forwardRowsFor<T>(table.data(), entryMap.data(), op, g, entries, ry.data(), begin, end);
  });
  return out;
}

// The weight gradient's scatter-adds for rows [begin, end) into one table [K*K][columns][Cout]:
// each pixel's output gradient (a vector of Cout, from a [W][Cout] copy of its row) is added to
// the column of the class under each tap, and, scaled by the boundary value, to the boundary
// channel's. As forwardRowsImpl: the source rows reflection-padded once per row, the Cout sums in
// vectors where Cout is known at compile time.
template <typename T, int64_t kCout>
__attribute__((always_inline)) inline void weightGradRowsImpl(const T* __restrict gp, const int64_t* lp, const T* ep, T* __restrict table, const Geometry& g, int64_t labelNc,
                               const int64_t* ry, int64_t begin, int64_t end) {
  using L = Lanes<T>;
  constexpr int64_t kVectors = kCout > 0 ? kCout / L::n : 1;
  const int64_t C = kCout > 0 ? kCout : g.Cout, plane = g.H * g.W, padded = g.W + g.K - 1;
  std::vector<T> gradRow(g.W * C);
  std::vector<int32_t> labelRows(g.K * padded);
  std::vector<T> edgeRows(ep ? g.K * padded : 0);
  for (int64_t row = begin; row < end; row++) {
    const int64_t n = row / g.H, y = row % g.H;
    const T* gRow = gp + n * C * plane + y * g.W;
    for (int64_t c = 0; c < C; c++)
      for (int64_t x = 0; x < g.W; x++) gradRow[x * C + c] = gRow[c * plane + x];
    for (int64_t ky = 0; ky < g.K; ky++) {
      const int64_t src = n * plane + ry[ky * g.H + y] * g.W;
      for (int64_t i = 0; i < padded; i++) {
        const int64_t x = reflect(i - g.K / 2, g.W);
        labelRows[ky * padded + i] = (int32_t)lp[src + x];
        if (ep) edgeRows[ky * padded + i] = ep[src + x];
      }
    }
    for (int64_t x = 0; x < g.W; x++) {
      const T* grad = gradRow.data() + x * C;
      typename L::Vec gv[kVectors];
      if constexpr (kCout > 0)
        for (int64_t v = 0; v < kVectors; v++) gv[v] = L::load(grad + v * L::n);
      for (int64_t ky = 0; ky < g.K; ky++) {
        const int32_t* taps = labelRows.data() + ky * padded + x;
        const T* edges = ep ? edgeRows.data() + ky * padded + x : nullptr;
        for (int64_t kx = 0; kx < g.K; kx++) {
          T* tapTable = table + (ky * g.K + kx) * g.columns * C;
          T* col = tapTable + taps[kx] * C;
          if constexpr (kCout > 0) {
            for (int64_t v = 0; v < kVectors; v++) L::store(col + v * L::n, L::load(col + v * L::n) + gv[v]);
          } else {
            for (int64_t c = 0; c < C; c++) col[c] += grad[c];
          }
          if (edges && edges[kx] != T(0)) {
            T* ecol = tapTable + labelNc * C;
            const T e = edges[kx];
            if constexpr (kCout > 0) {
              for (int64_t v = 0; v < kVectors; v++) L::store(ecol + v * L::n, L::load(ecol + v * L::n) + e * gv[v]);
            } else {
              for (int64_t c = 0; c < C; c++) ecol[c] += e * grad[c];
            }
          }
        }
      }
    }
  }
}

template <typename T>
__attribute__((always_inline)) inline void weightGradRowsFor(const T* gp, const int64_t* lp, const T* ep, T* table, const Geometry& g, int64_t labelNc, const int64_t* ry,
                              int64_t begin, int64_t end) {
  switch (g.Cout) {
    case 16: return weightGradRowsImpl<T, 16>(gp, lp, ep, table, g, labelNc, ry, begin, end);
    case 32: return weightGradRowsImpl<T, 32>(gp, lp, ep, table, g, labelNc, ry, begin, end);
    case 64: return weightGradRowsImpl<T, 64>(gp, lp, ep, table, g, labelNc, ry, begin, end);
    default: return weightGradRowsImpl<T, 0>(gp, lp, ep, table, g, labelNc, ry, begin, end);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
template <typename T>
__attribute__((target("avx2,fma"))) void weightGradRowsAvx2(const T* gp, const int64_t* lp, const T* ep, T* table, const Geometry& g, int64_t labelNc, const int64_t* ry,
                                                            int64_t begin, int64_t end) {
  weightGradRowsFor<T>(gp, lp, ep, table, g, labelNc, ry, begin, end);
}
#endif

template <typename T>
at::Tensor weightGradKernel(const at::Tensor& gradOut, const at::Tensor& labels, const at::Tensor& edges, int64_t labelNc, const Geometry& g,
                            at::IntArrayRef weightShape) {
  auto go = gradOut.contiguous();
  auto ry = reflectedIndices(g.H, g.K);
  const int64_t* lp = labels.data_ptr<int64_t>();
  const T* ep = g.edges ? edges.data_ptr<T>() : nullptr;
  const T* gp = go.data_ptr<T>();
  int64_t tableSize = g.K * g.K * g.columns * g.Cout;
  // One table per chunk of rows, summed afterwards in chunk order: the result does not depend on
  // how many threads ran.
  int64_t rows = g.N * g.H;
  int64_t chunk = std::max<int64_t>(1, (rows + 15) / 16);
  int64_t chunks = (rows + chunk - 1) / chunk;
  std::vector<std::vector<T>> tables(chunks, std::vector<T>(tableSize, T(0)));
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t ci = cb; ci < ce; ci++) {
      const int64_t begin = ci * chunk, end = std::min(rows, (ci + 1) * chunk);
#if defined(__x86_64__) && defined(__GNUC__)
      if (cpuHasAvx2Fma()) {
        weightGradRowsAvx2<T>(gp, lp, ep, tables[ci].data(), g, labelNc, ry.data(), begin, end);
        continue;
      }
#endif
      weightGradRowsFor<T>(gp, lp, ep, tables[ci].data(), g, labelNc, ry.data(), begin, end);
    }
  });
  auto gradW = at::zeros(weightShape, go.options());
  T* wp = gradW.data_ptr<T>();
  int64_t Cin = weightShape[1];
  for (int64_t ci = 0; ci < chunks; ci++) {
    const T* table = tables[ci].data();
    for (int64_t o = 0; o < g.Cout; o++)
      for (int64_t c = 0; c < g.columns; c++)
        for (int64_t t = 0; t < g.K * g.K; t++) wp[(o * Cin + c) * g.K * g.K + t] += table[(t * g.columns + c) * g.Cout + o];
  }
  return gradW;
}

Geometry geometryOf(const at::Tensor& weight, const at::Tensor& labels, const at::Tensor& edges, bool hasEdges, int64_t labelNc) {
  TORCH_CHECK(weight.dim() == 4 && weight.size(2) == weight.size(3) && weight.size(2) % 2 == 1, "onehotConv2d: the weight must be [Cout, Cin, K, K] with K odd, got ", weight.sizes());
  TORCH_CHECK(weight.device().is_cpu() && (weight.scalar_type() == at::kFloat || weight.scalar_type() == at::kDouble), "onehotConv2d: a float32 or float64 CPU weight is needed");
  TORCH_CHECK(labels.dim() == 3 && labels.scalar_type() == at::kLong && labels.device().is_cpu(), "onehotConv2d: labels must be an int64 CPU map [N, H, W], got ", labels.sizes());
  Geometry g{labels.size(0), labels.size(1), labels.size(2), weight.size(2), weight.size(0), labelNc + (hasEdges ? 1 : 0), hasEdges};
  TORCH_CHECK(g.columns <= weight.size(1), "onehotConv2d: ", g.columns, " one-hot and boundary channels, the weight has ", weight.size(1), " input channels");
  TORCH_CHECK(g.K / 2 < g.H && g.K / 2 < g.W, "onehotConv2d: reflection padding ", g.K / 2, " needs a map larger than it, got ", g.H, "x", g.W);
  if (hasEdges) {
    TORCH_CHECK(edges.sizes() == labels.sizes() && edges.scalar_type() == weight.scalar_type(), "onehotConv2d: the boundary map must be [N, H, W] of the weight's dtype");
    TORCH_CHECK(edges.numel() == 0 || edges.eq(0).logical_or(edges.eq(1)).all().item<bool>(), "onehotConv2d: the boundary map must hold only 0 and 1");
  }
  if (labels.numel() > 0) {
    auto [lo, hi] = at::aminmax(labels);
    TORCH_CHECK(lo.item<int64_t>() >= 0 && hi.item<int64_t>() < labelNc, "onehotConv2d: label ids must be in [0, ", labelNc, "), found ", lo.item<int64_t>(), "..", hi.item<int64_t>());
  }
  return g;
}

struct OnehotConv : public torch::autograd::Function<OnehotConv> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& weight, const at::Tensor& labels, const at::Tensor& edges, bool hasEdges, int64_t labelNc) {
    RECORD_FUNCTION("pix2pixhd::onehot_conv2d", std::vector<c10::IValue>());
    // A channel of G's input (edges) is strided for batches of more than one: read it compact.
    auto lab = labels.contiguous();
    auto edge = edges.contiguous();
    auto g = geometryOf(weight, lab, edge, hasEdges, labelNc);
    at::NoGradGuard noGrad;
    auto out = weight.scalar_type() == at::kFloat ? forwardKernel<float>(weight, lab, edge, labelNc, g) : forwardKernel<double>(weight, lab, edge, labelNc, g);
    ctx->save_for_backward({lab, edge});
    ctx->saved_data["labelNc"] = labelNc;
    ctx->saved_data["hasEdges"] = hasEdges;
    ctx->saved_data["weightShape"] = weight.sizes().vec();
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    RECORD_FUNCTION("pix2pixhd::onehot_conv2d_backward", std::vector<c10::IValue>());
    auto saved = ctx->get_saved_variables();
    auto labelNc = ctx->saved_data["labelNc"].toInt();
    bool hasEdges = ctx->saved_data["hasEdges"].toBool();
    auto shape = ctx->saved_data["weightShape"].toIntVector();
    const auto& lab = saved[0];
    const auto& edges = saved[1];
    const auto& go = gradOutputs[0];
    Geometry g{lab.size(0), lab.size(1), lab.size(2), shape[2], shape[0], labelNc + (hasEdges ? 1 : 0), hasEdges};
    at::Tensor gradW = go.scalar_type() == at::kFloat ? weightGradKernel<float>(go, lab, edges, labelNc, g, shape) : weightGradKernel<double>(go, lab, edges, labelNc, g, shape);
    return {gradW, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

Napi::Value OnehotConv2d(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor weight = TensorWrap::From(env, info[0], "onehotConv2d weight");
    at::Tensor labels = TensorWrap::From(env, info[1], "onehotConv2d labels");
    bool hasEdges = !info[2].IsNull() && !info[2].IsUndefined();
    at::Tensor edges = hasEdges ? TensorWrap::From(env, info[2], "onehotConv2d edges") : at::empty({0}, weight.options().requires_grad(false));
    int64_t labelNc = info[3].As<Napi::Number>().Int64Value();
    return TensorWrap::Wrap(env, OnehotConv::apply(weight, labels, edges.detach(), hasEdges, labelNc));
  });
}
