// The mixed-precision product in portable C++: operands rounded to bfloat16 exactly as the
// AVX512-BF16 kernel rounds them, products of bfloat16 pairs (exact in float32) accumulated in
// float32 in the order vdpbf16ps uses (odd depth, then even). It runs on any processor, so the
// mixed-precision path can be checked against its reference on machines without bfloat16
// instructions; it is not fast, and CpuBackend never picks it unless asked to.
#include <cstring>

#include "gemm.h"

namespace bgemm {
namespace {
#include "driver_bf16.inc"

inline float lowHalf(std::uint32_t w) {
  const std::uint32_t u = w << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline float highHalf(std::uint32_t w) {
  const std::uint32_t u = w & 0xffff0000u;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

struct EmulatedBf16Tile : PortablePacking {
  static constexpr int MR = 4, NR = 16;

  static void packRows(const float* first, std::int64_t ld, int count, int width, std::int64_t kc, std::uint32_t* out) {
    packRowsPortable<EmulatedBf16Tile>(first, ld, count, width, kc, out);
  }

  static void compute(std::int64_t kp, const std::uint32_t* __restrict pa, const std::uint32_t* __restrict pb, float* c, std::int64_t ldc,
                      float alpha, float beta, int rows, int cols) {
    prefetchTile<MR>(c, ldc, beta, rows, cols);
    alignas(64) float tile[MR * NR] = {};
    for (std::int64_t p = 0; p < kp; ++p) {
      for (int i = 0; i < MR; ++i) {
        const float aLow = lowHalf(pa[i]), aHigh = highHalf(pa[i]);
        for (int j = 0; j < NR; ++j) {
          // Each product of two bfloat16 values is exact in float32; each sum rounds once.
          float t = tile[i * NR + j] + aHigh * highHalf(pb[j]);
          tile[i * NR + j] = t + aLow * lowHalf(pb[j]);
        }
      }
      pa += MR;
      pb += NR;
    }
    storeEdge<MR, NR>(tile, c, ldc, alpha, beta, rows, cols);
  }
};
}  // namespace

const Kernel kernelBf16Emulated = {"bf16-emulated-4x16", EmulatedBf16Tile::MR, EmulatedBf16Tile::NR, {256, 128, 4096}, loopsOf<EmulatedBf16Tile>()};
}  // namespace bgemm
