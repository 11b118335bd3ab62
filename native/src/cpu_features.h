// Whether this CPU runs the kernels compiled for AVX2 with FMA (target("avx2,fma") functions
// beside their baseline versions), asked once per process.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
inline bool cpuHasAvx2Fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif
