// AVX512-BF16 mixed-precision micro-kernel: a 12 x 32 tile of C in 24 zmm float32 accumulators;
// each step takes one pair of depths: two vectors of packed B (16 bfloat16 pairs each) and a
// broadcast pair of packed A per row, multiplied and summed by vdpbf16ps (32 multiply-adds an
// instruction, twice the float32 FMA's 16). Packing rounds the float32 operands to bfloat16
// with vcvtne2ps2bf16 / vcvtneps2bf16. Compiled with -mavx512f -mavx512bw -mavx512bf16.
#include <immintrin.h>

#include <cstring>

#include "gemm.h"

namespace bgemm {
namespace {
#include "driver_bf16.inc"

/** Lanes [0, n) of 32 16-bit lanes, n clamped to [0, 32]. */
inline __mmask32 firstLanes32(std::int64_t n) {
  return n >= 32 ? static_cast<__mmask32>(0xffffffffu) : n <= 0 ? static_cast<__mmask32>(0) : static_cast<__mmask32>((1u << n) - 1u);
}

/** 32 floats (x0 = the first 16) to 32 bfloat16 in order, i.e. 16 pairs as 32-bit words. */
inline __m512i pairs16(__m512 x0, __m512 x1) { return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(x1, x0)); }

#include "avx512_packing.inc"

struct Avx512Bf16Tile {
  static constexpr int MR = 12, NR = 32;

  static void interleave(const float* r0, const float* r1, int count, int width, std::uint32_t* out) {
    // Word j = bf16(r0[j]) | bf16(r1[j]) << 16: convert both runs in one instruction, then
    // interleave their halves with a word permutation.
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int j = 0; j < width; j += 16) {
      const __mmask16 in = firstLanes(count - j);
      const __m512 x0 = _mm512_maskz_loadu_ps(in, r0 + j);
      const __m512 x1 = r1 != nullptr ? _mm512_maskz_loadu_ps(in, r1 + j) : _mm512_setzero_ps();
      const __m512i words = _mm512_permutexvar_epi16(order, pairs16(x0, x1));
      _mm512_mask_storeu_epi32(out + j, firstLanes(width - j), words);
    }
  }

  static void interleaveBits(const std::uint16_t* r0, const std::uint16_t* r1, int count, int width, std::uint32_t* out) {
    // unpacklo/hi pair up the words of each 128-bit lane; the qword permutations put the lanes back in order.
    const __m512i first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0), second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    for (int j = 0; j < width; j += 32) {
      const __mmask32 in = firstLanes32(count - j);
      const __m512i x0 = _mm512_maskz_loadu_epi16(in, r0 + j);
      const __m512i x1 = r1 != nullptr ? _mm512_maskz_loadu_epi16(in, r1 + j) : _mm512_setzero_si512();
      const __m512i lo = _mm512_unpacklo_epi16(x0, x1), hi = _mm512_unpackhi_epi16(x0, x1);
      _mm512_mask_storeu_epi32(out + j, firstLanes(width - j), _mm512_permutex2var_epi64(lo, first, hi));
      _mm512_mask_storeu_epi32(out + j + 16, firstLanes(width - j - 16), _mm512_permutex2var_epi64(lo, second, hi));
    }
  }

  /** As packRows, from rows already rounded: 32 depths of a row are one load of 16 pairs. */
  static void packRowsBits(const std::uint16_t* first, std::int64_t ld, int count, int width, std::int64_t kc, std::uint32_t* out) {
    packRowsBy16<2>(first, ld, count, width, kc, out, [](const std::uint16_t* row, std::int64_t left) { return _mm512_maskz_loadu_epi16(firstLanes32(left), row); });
  }

  static void pairRow(const float* r, std::int64_t count, std::uint32_t* out) {
    std::int64_t e = 0;
    for (; e + 32 <= count; e += 32) _mm512_storeu_si512(out + e / 2, pairs16(_mm512_loadu_ps(r + e), _mm512_loadu_ps(r + e + 16)));
    if (e < count) {
      const std::int64_t left = count - e;
      const __m512 x0 = _mm512_maskz_loadu_ps(firstLanes(left), r + e);
      const __m512 x1 = _mm512_maskz_loadu_ps(firstLanes(left - 16), r + e + 16);
      _mm512_mask_storeu_epi32(out + e / 2, firstLanes((left + 1) / 2), pairs16(x0, x1));
    }
  }

  /**
   * Rows that run along the depth, 16 at a time: 16 rows x 32 depths become 16 vectors of 16
   * pairs, transposed in registers so each vector holds one pair of 16 rows. Its own loop
   * rather than packRowsBy16: the two masks of a block stay out of the row loop (5% faster).
   */
  static void packRows(const float* first, std::int64_t ld, int count, int width, std::int64_t kc, std::uint32_t* out) {
    for (int j0 = 0; j0 < width; j0 += 16) {
      const int rows = count - j0 < 0 ? 0 : (count - j0 > 16 ? 16 : count - j0);
      const __mmask16 store = firstLanes(width - j0);
      for (std::int64_t e = 0; e < kc; e += 32) {
        const std::int64_t left = kc - e;
        const __mmask16 m0 = firstLanes(left), m1 = firstLanes(left - 16);
        __m512i r[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j) {
          if (j < rows) {
            const float* src = first + (j0 + j) * ld + e;
            r[j] = pairs16(_mm512_maskz_loadu_ps(m0, src), _mm512_maskz_loadu_ps(m1, src + 16));
          } else {
            r[j] = _mm512_setzero_si512();
          }
        }
        transpose16(r);
        const std::int64_t pairs = (left + 1) / 2 < 16 ? (left + 1) / 2 : 16;
        std::uint32_t* o = out + (e / 2) * width + j0;
        for (std::int64_t p = 0; p < pairs; ++p) _mm512_mask_storeu_epi32(o + p * width, store, r[p]);
      }
    }
  }

  static void compute(std::int64_t kp, const std::uint32_t* __restrict pa, const std::uint32_t* __restrict pb, float* c, std::int64_t ldc,
                      float alpha, float beta, int rows, int cols) {
    // A strip of 4 or 8 rows (a batch of 100 ends in one of 4) multiplies only those rows.
    if (rows <= 4) computeRows<4>(kp, pa, pb, c, ldc, alpha, beta, rows, cols);
    else if (rows <= 8) computeRows<8>(kp, pa, pb, c, ldc, alpha, beta, rows, cols);
    else computeRows<MR>(kp, pa, pb, c, ldc, alpha, beta, rows, cols);
  }

  /** The tile's first R rows (rows <= R), from a strip packed MR rows wide. */
  template <int R>
  static void computeRows(std::int64_t kp, const std::uint32_t* __restrict pa, const std::uint32_t* __restrict pb, float* c, std::int64_t ldc,
                          float alpha, float beta, int rows, int cols) {
    prefetchTile<R>(c, ldc, beta, rows, cols);
    __m512 acc0[R], acc1[R];
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) acc0[i] = acc1[i] = _mm512_setzero_ps();
    for (std::int64_t p = 0; p < kp; ++p) {
      const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_load_si512(pb));
      const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_load_si512(pb + 16));
#pragma GCC unroll 12
      for (int i = 0; i < R; ++i) {
        const __m512bh a = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(pa[i])));
        acc0[i] = _mm512_dpbf16_ps(acc0[i], a, b0);
        acc1[i] = _mm512_dpbf16_ps(acc1[i], a, b1);
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

const Kernel kernelAvx512Bf16 = {"avx512bf16-12x32", Avx512Bf16Tile::MR, Avx512Bf16Tile::NR, {512, 96, 4096}, loopsOf<Avx512Bf16Tile>()};
}  // namespace bgemm
