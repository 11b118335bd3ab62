// 32 bytes of T: one AVX register, or two SSE ones in the baseline build. GCC's vector extension,
// so that a kernel's code compiles for both targets (its target("avx2,fma") entry point and the
// baseline one) without intrinsics. Files using it keep such vectors inside themselves (compiled
// with -Wno-psabi: no AVX value crosses a function boundary that is not inlined).
#pragma once
#include <cstdint>

template <typename T>
struct Lanes {
  typedef T Vec __attribute__((vector_size(32)));
  static constexpr int64_t n = 32 / sizeof(T);
  static Vec load(const T* p) {
    Vec v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(T* p, Vec v) { __builtin_memcpy(p, &v, sizeof v); }
  // s - 0 is s for every s, so GCC folds the subtraction and broadcasts (Vec{} + s would add +0.0,
  // which turns -0 into +0 and so stays; filling lane by lane compiles to inserts).
  static Vec broadcast(T s) { return s - Vec{}; }
};
