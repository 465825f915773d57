// AVX-512 element-wise kernels: 16 lanes, masked loads and stores for the row tails.
// exp is the Cephes single-precision polynomial (about 1 ulp) with its range reduction.
#include <immintrin.h>

#include <cstring>

#include "elementwise.h"

namespace bgemm {
namespace {

/** e^x, lane-wise; NaN stays NaN (x is the second operand of min/max, which they return on NaN). */
inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(89.0f), x);
  x = _mm512_max_ps(_mm512_set1_ps(-88.3762626647949f), x);
  __m512 n = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f));
  n = _mm512_roundscale_ps(n, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 y = _mm512_set1_ps(1.9875691500e-4f);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), r);
  y = _mm512_add_ps(y, _mm512_set1_ps(1.0f));
  // 2^n from the exponent bits. Above ~88.4, n = 128 gives +inf (e^x overflows float32 at 88.72
  // anyway), which sigmoid maps to 0; below -88.4 the result is 0.
  const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(bits));
}

inline __m512 sigmoid16(__m512 t) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), t))));
}

void sigmoid(const float* src, float* dst, std::int64_t rows, std::int64_t cols, std::int64_t ld, const float* bias) {
  for (std::int64_t i = 0; i < rows; ++i) {
    const float* s = src + i * ld;
    float* d = dst + i * ld;
    std::int64_t j = 0;
    for (; j + 16 <= cols; j += 16) {
      __m512 t = _mm512_loadu_ps(s + j);
      if (bias != nullptr) t = _mm512_add_ps(t, _mm512_loadu_ps(bias + j));
      _mm512_storeu_ps(d + j, sigmoid16(t));
    }
    if (j < cols) {
      const __mmask16 mask = static_cast<__mmask16>((1u << (cols - j)) - 1u);
      __m512 t = _mm512_maskz_loadu_ps(mask, s + j);
      if (bias != nullptr) t = _mm512_add_ps(t, _mm512_maskz_loadu_ps(mask, bias + j));
      _mm512_mask_storeu_ps(d + j, mask, sigmoid16(t));
    }
  }
}

void axpby(float alpha, const float* x, float beta, const float* y, float* out, std::int64_t n) {
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(out + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_mul_ps(vb, _mm512_loadu_ps(y + i))));
  if (i < n) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (n - i)) - 1u);
    _mm512_mask_storeu_ps(out + i, mask,
                          _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(mask, x + i), _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(mask, y + i))));
  }
}

#include "elementwise_common.inc"

/**
 * bf16Bits on 16 lanes: round to nearest even by adding 0x7fff plus the lowest kept bit, then
 * the two exceptions - a zero exponent (zero, subnormal) keeps only the sign, a NaN is made
 * quiet - and a narrowing store of the 16 low halves.
 */
void roundToBf16(const float* src, std::uint16_t* dst, std::int64_t n) {
  const __m512i exponent = _mm512_set1_epi32(0x7f800000), mantissa = _mm512_set1_epi32(0x007fffff);
  const __m512i half = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1), sign = _mm512_set1_epi32(0x8000), quiet = _mm512_set1_epi32(0x40);
  for (std::int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = n - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512i u = _mm512_maskz_loadu_epi32(lanes, src + i);
    const __m512i high = _mm512_srli_epi32(u, 16);
    __m512i bits = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, half), _mm512_and_si512(high, one)), 16);
    const __m512i e = _mm512_and_si512(u, exponent);
    const __mmask16 zeroExponent = _mm512_cmpeq_epi32_mask(e, _mm512_setzero_si512());
    const __mmask16 nan = _mm512_mask_test_epi32_mask(_mm512_cmpeq_epi32_mask(e, exponent), u, mantissa);
    bits = _mm512_mask_mov_epi32(bits, zeroExponent, _mm512_and_si512(high, sign));
    bits = _mm512_mask_mov_epi32(bits, nan, _mm512_or_si512(high, quiet));
    _mm512_mask_cvtepi32_storeu_epi16(dst + i, lanes, bits);
  }
}

}  // namespace

const Elementwise elementwiseAvx512 = {"avx512", sigmoid, axpby, bernoulli, square, sumColumns, roundToBf16};
}  // namespace bgemm
