// Element-wise float32 kernels for the CPU backend's hot non-product ops in a training step:
// the fused bias + sigmoid epilogue of a linear layer, axpby (momentum updates), Bernoulli
// sampling, squaring (the reconstruction error) and the bfloat16 copy of a weight. In V8 these
// run one Math.exp or one multiply-add per element; vectorized they are 10x faster. Kept free
// of inline library code for the same reason as gemm.h.
#pragma once
#include <cstdint>

namespace bgemm {

struct Elementwise {
  const char* name;
  /** dst[i, j] = 1 / (1 + exp(-(src[i, j] + bias[j]))), rows `ld` floats apart; bias may be null; dst may be src. */
  void (*sigmoid)(const float* src, float* dst, std::int64_t rows, std::int64_t cols, std::int64_t ld, const float* bias);
  /** out[i] = alpha * x[i] + beta * y[i]; out may be x or y. */
  void (*axpby)(float alpha, const float* x, float beta, const float* y, float* out, std::int64_t n);
  /** out[i] = 1 where uniformAt(key, i) < p[i] else 0 (rng.ts's stream); out may be p. */
  void (*bernoulli)(std::uint32_t key, const float* p, float* out, std::int64_t n);
  /** dst[i] = src[i] * src[i]; dst may be src. */
  void (*square)(const float* src, float* dst, std::int64_t n);
  /** sums[j] = a[0, j] + a[1, j] + ... in float64, added in row order (rows x cols, row-major). */
  void (*sumColumns)(const float* a, std::int64_t rows, std::int64_t cols, double* sums);
  /** dst[i] = src[i] rounded to bfloat16 (its 16 bits; the rounding of the mixed-precision packing). */
  void (*roundToBf16)(const float* src, std::uint16_t* dst, std::int64_t n);
};

extern const Elementwise elementwiseGeneric;
#if defined(BGEMM_HAVE_AVX2)
extern const Elementwise elementwiseAvx2;
#endif
#if defined(BGEMM_HAVE_AVX512)
extern const Elementwise elementwiseAvx512;
#endif

/** The element-wise kernel sets this processor runs, fastest first; `count` receives how many. */
const Elementwise* const* availableElementwise(int* count);

}  // namespace bgemm
