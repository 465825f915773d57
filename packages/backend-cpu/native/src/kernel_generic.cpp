// Portable micro-kernel in plain C++ (the compiler vectorizes the j loops with whatever the
// baseline instruction set offers): a 4 x 16 tile. Used where neither AVX2 nor AVX-512 runs.
#include <type_traits>

#include "gemm.h"

namespace bgemm {
namespace {
#include "driver.inc"

struct GenericTile {
  static constexpr int MR = 4, NR = 16;

  static void compute(std::int64_t kc, const float* __restrict pa, const float* __restrict pb, float* c, std::int64_t ldc,
                      float alpha, float beta, int rows, int cols) {
    prefetchTile<MR>(c, ldc, beta, rows, cols);
    alignas(64) float tile[MR * NR] = {};
    for (std::int64_t p = 0; p < kc; ++p) {
      for (int i = 0; i < MR; ++i) {
        const float a = pa[i];
        for (int j = 0; j < NR; ++j) tile[i * NR + j] += a * pb[j];
      }
      pa += MR;
      pb += NR;
    }
    storeEdge<MR, NR>(tile, c, ldc, alpha, beta, rows, cols);
  }
};
}  // namespace

const Kernel kernelGeneric = {"generic-4x16", GenericTile::MR, GenericTile::NR, {256, 128, 4096}, loopsOf<GenericTile>()};
}  // namespace bgemm
