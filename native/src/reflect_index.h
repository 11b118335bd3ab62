// Reflection padding by index: the source position of i in [-pad, n + pad) over n positions, as
// ReflectionPad2d mirrors (the edge itself is not repeated); pad < n.
#pragma once
#include <cstdint>

inline int64_t reflect(int64_t i, int64_t n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}
