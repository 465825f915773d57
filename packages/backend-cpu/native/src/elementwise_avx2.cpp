// AVX2 + FMA element-wise kernels: 8 lanes; row tails go through a small buffer.
// exp is the Cephes single-precision polynomial (about 1 ulp) with its range reduction.
#include <immintrin.h>

#include <cstring>

#include "elementwise.h"

namespace bgemm {
namespace {

/** e^x, lane-wise; NaN stays NaN (x is the second operand of min/max, which they return on NaN). */
inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(89.0f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), x);
  __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), r);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
}

inline __m256 sigmoid8(__m256 t) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), t))));
}

void sigmoid(const float* src, float* dst, std::int64_t rows, std::int64_t cols, std::int64_t ld, const float* bias) {
  for (std::int64_t i = 0; i < rows; ++i) {
    const float* s = src + i * ld;
    float* d = dst + i * ld;
    std::int64_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      __m256 t = _mm256_loadu_ps(s + j);
      if (bias != nullptr) t = _mm256_add_ps(t, _mm256_loadu_ps(bias + j));
      _mm256_storeu_ps(d + j, sigmoid8(t));
    }
    if (j < cols) {
      alignas(32) float tail[8] = {};
      const int left = static_cast<int>(cols - j);
      for (int q = 0; q < left; ++q) tail[q] = s[j + q] + (bias != nullptr ? bias[j + q] : 0.0f);
      _mm256_store_ps(tail, sigmoid8(_mm256_load_ps(tail)));
      for (int q = 0; q < left; ++q) d[j + q] = tail[q];
    }
  }
}

void axpby(float alpha, const float* x, float beta, const float* y, float* out, std::int64_t n) {
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_mul_ps(vb, _mm256_loadu_ps(y + i))));
  for (; i < n; ++i) out[i] = alpha * x[i] + beta * y[i];
}

#include "elementwise_common.inc"

}  // namespace

const Elementwise elementwiseAvx2 = {"avx2", sigmoid, axpby, bernoulli, square, sumColumns, roundToBf16Portable};
}  // namespace bgemm
