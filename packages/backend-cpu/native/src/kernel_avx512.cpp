// AVX-512 micro-kernel: a 12 x 32 tile of C in 24 zmm accumulators; each depth step loads two
// vectors of packed B and broadcasts 12 elements of packed A from memory (32 registers: 24
// accumulators + 2 B vectors, the broadcasts folded into the FMAs). Compiled with -mavx512f.
#include <immintrin.h>

#include <type_traits>

#include "gemm.h"

namespace bgemm {
namespace {
#include "driver.inc"

#include "avx512_packing.inc"

struct Avx512Tile {
  static constexpr int MR = 12, NR = 32;

  /** Rows that run along the depth, 16 rows x 16 depths per transpose (see packRowsBy16). */
  static void packRows(const float* first, std::int64_t ld, int count, int width, std::int64_t kc, float* out) {
    packRowsBy16<1>(first, ld, count, width, kc, out,
                    [](const float* row, std::int64_t left) { return _mm512_castps_si512(_mm512_maskz_loadu_ps(firstLanes(left), row)); });
  }

  static void compute(std::int64_t kc, const float* __restrict pa, const float* __restrict pb, float* c, std::int64_t ldc,
                      float alpha, float beta, int rows, int cols) {
    // A strip of 4 or 8 rows (a batch of 100 ends in one of 4) multiplies only those rows.
    if (rows <= 4) computeRows<4>(kc, pa, pb, c, ldc, alpha, beta, rows, cols);
    else if (rows <= 8) computeRows<8>(kc, pa, pb, c, ldc, alpha, beta, rows, cols);
    else computeRows<MR>(kc, pa, pb, c, ldc, alpha, beta, rows, cols);
  }

  /** The tile's first R rows (rows <= R), from a strip packed MR rows wide. */
  template <int R>
  static void computeRows(std::int64_t kc, const float* __restrict pa, const float* __restrict pb, float* c, std::int64_t ldc,
                          float alpha, float beta, int rows, int cols) {
    prefetchTile<R>(c, ldc, beta, rows, cols);
    __m512 acc0[R], acc1[R];
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
    for (std::int64_t p = 0; p < kc; ++p) {
      const __m512 b0 = _mm512_load_ps(pb);
      const __m512 b1 = _mm512_load_ps(pb + 16);
#pragma GCC unroll 12
      for (int i = 0; i < R; ++i) {
        const __m512 a = _mm512_set1_ps(pa[i]);
        acc0[i] = _mm512_fmadd_ps(a, b0, acc0[i]);
        acc1[i] = _mm512_fmadd_ps(a, b1, acc1[i]);
      }
      pa += MR;
      pb += NR;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    if (rows == R && cols == NR) {
      if (beta == 0.0f) {
#pragma GCC unroll 12
        for (int i = 0; i < R; ++i) {
          _mm512_storeu_ps(c + i * ldc, _mm512_mul_ps(va, acc0[i]));
          _mm512_storeu_ps(c + i * ldc + 16, _mm512_mul_ps(va, acc1[i]));
        }
      } else {
        const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
        for (int i = 0; i < R; ++i) {
          float* row = c + i * ldc;
          _mm512_storeu_ps(row, _mm512_fmadd_ps(vb, _mm512_loadu_ps(row), _mm512_mul_ps(va, acc0[i])));
          _mm512_storeu_ps(row + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(row + 16), _mm512_mul_ps(va, acc1[i])));
        }
      }
      return;
    }
    // An edge tile: park the accumulators (constant indices keep them in registers above).
    alignas(64) float tile[R * NR];
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) {
      _mm512_store_ps(tile + i * NR, acc0[i]);
      _mm512_store_ps(tile + i * NR + 16, acc1[i]);
    }
    storeEdge<R, NR>(tile, c, ldc, alpha, beta, rows, cols);
  }
};
}  // namespace

const Kernel kernelAvx512 = {"avx512-12x32", Avx512Tile::MR, Avx512Tile::NR, {256, 96, 4096}, loopsOf<Avx512Tile>()};
}  // namespace bgemm
