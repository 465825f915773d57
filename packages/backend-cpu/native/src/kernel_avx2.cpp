// AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators, two B vectors and one
// broadcast register (all 16 ymm registers). Compiled with -mavx2 -mfma.
#include <immintrin.h>

#include <type_traits>

#include "gemm.h"

namespace bgemm {
namespace {
#include "driver.inc"

struct Avx2Tile {
  static constexpr int MR = 6, NR = 16;

  static void compute(std::int64_t kc, const float* __restrict pa, const float* __restrict pb, float* c, std::int64_t ldc,
                      float alpha, float beta, int rows, int cols) {
    prefetchTile<MR>(c, ldc, beta, rows, cols);
    __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) acc0[i] = acc1[i] = _mm256_setzero_ps();
    for (std::int64_t p = 0; p < kc; ++p) {
      const __m256 b0 = _mm256_load_ps(pb);
      const __m256 b1 = _mm256_load_ps(pb + 8);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 a = _mm256_broadcast_ss(pa + i);
        acc0[i] = _mm256_fmadd_ps(a, b0, acc0[i]);
        acc1[i] = _mm256_fmadd_ps(a, b1, acc1[i]);
      }
      pa += MR;
      pb += NR;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    if (rows == MR && cols == NR) {
      if (beta == 0.0f) {
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i) {
          _mm256_storeu_ps(c + i * ldc, _mm256_mul_ps(va, acc0[i]));
          _mm256_storeu_ps(c + i * ldc + 8, _mm256_mul_ps(va, acc1[i]));
        }
      } else {
        const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i) {
          float* row = c + i * ldc;
          _mm256_storeu_ps(row, _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), _mm256_mul_ps(va, acc0[i])));
          _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), _mm256_mul_ps(va, acc1[i])));
        }
      }
      return;
    }
    alignas(32) float tile[MR * NR];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      _mm256_store_ps(tile + i * NR, acc0[i]);
      _mm256_store_ps(tile + i * NR + 8, acc1[i]);
    }
    storeEdge<MR, NR>(tile, c, ldc, alpha, beta, rows, cols);
  }
};
}  // namespace

const Kernel kernelAvx2 = {"avx2-6x16", Avx2Tile::MR, Avx2Tile::NR, {256, 72, 4096}, loopsOf<Avx2Tile>()};
}  // namespace bgemm
