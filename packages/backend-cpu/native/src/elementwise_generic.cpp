// Portable element-wise kernels, and the choice of the fastest set this processor runs.
#include <cmath>

#include <cstring>

#include "elementwise.h"

namespace bgemm {
namespace {

void sigmoid(const float* src, float* dst, std::int64_t rows, std::int64_t cols, std::int64_t ld, const float* bias) {
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j) {
      const float t = src[i * ld + j] + (bias != nullptr ? bias[j] : 0.0f);
      dst[i * ld + j] = 1.0f / (1.0f + std::exp(-t));
    }
}

void axpby(float alpha, const float* x, float beta, const float* y, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = alpha * x[i] + beta * y[i];
}

#include "elementwise_common.inc"

}  // namespace

const Elementwise elementwiseGeneric = {"generic", sigmoid, axpby, bernoulli, square, sumColumns, roundToBf16Portable};

const Elementwise* const* availableElementwise(int* count) {
  static const Elementwise* list[3];
  static const int n = [] {
    int found = 0;
#if defined(BGEMM_HAVE_AVX2) || defined(BGEMM_HAVE_AVX512)
    __builtin_cpu_init();
#endif
#if defined(BGEMM_HAVE_AVX512)
    if (__builtin_cpu_supports("avx512f")) list[found++] = &elementwiseAvx512;
#endif
#if defined(BGEMM_HAVE_AVX2)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) list[found++] = &elementwiseAvx2;
#endif
    list[found++] = &elementwiseGeneric;
    return found;
  }();
  *count = n;
  return list;
}

}  // namespace bgemm
