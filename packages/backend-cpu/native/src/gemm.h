// Shared declarations of the native matrix product: the job, the per-thread scratch, and the
// table of micro-kernels. Kept free of inline library code on purpose: the kernel files are
// compiled with different instruction-set flags, and an inline function they share would be
// merged by the linker into one copy, possibly one with AVX-512 instructions in it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace bgemm {

/** Row-major C (m x n) = alpha * op(A) * op(B) + beta * C; op(A) is m x k, op(B) is k x n. */
struct Job {
  std::int64_t m, n, k;
  const float* a;  // m x k, or k x m when ta
  bool ta;
  const float* b;  // k x n, or n x k when tb
  bool tb;
  float* c;        // m x n
  float alpha, beta;
  /**
   * Optional, for the mixed-precision kernels only: b already rounded to bfloat16 (the same
   * layout and rounding, one 16-bit word per element). They pack from it instead of b, reading
   * half the bytes and rounding nothing; the result is the same.
   */
  const std::uint16_t* bBits = nullptr;
  /**
   * Optional: called once on every finished tile of C (after its last depth panel), while the
   * tile is still in cache: `rows` rows of `cols` floats at c (rows ldc = n apart), the tile's
   * first column being `col0` (linear's bias and sigmoid, fused into the product).
   */
  void (*epilogue)(const void* context, float* c, std::int64_t ldc, std::int64_t col0, int rows, int cols) = nullptr;
  const void* epilogueContext = nullptr;
};

/** One thread's packing buffers, in floats, 64-byte aligned; grown by the driver (gemm.cpp). */
struct Workspace {
  float* packA = nullptr;
  std::size_t capA = 0;
  float* packB = nullptr;
  std::size_t capB = 0;
  /** A whole packed operand, reused by every chunk of C this thread takes in one call. */
  float* whole = nullptr;
  std::size_t capWhole = 0;
};

/** Cache-block sizes: depth per panel, rows per packed A block, columns per packed B panel. */
struct Blocking {
  std::int64_t kc, mc, nc;
};

/** A register-blocked micro-kernel together with the packing and blocking loops around it. */
struct Kernel {
  const char* name;
  int mr, nr;
  Blocking blocking;
  /** The loops of driver_loops.inc instantiated for this micro-kernel; buffers are sized by gemm.cpp. */
  struct Loops {
    /** Rows [r0, r1) x columns [c0, c1) of C, packing both operands block by block. */
    void (*range)(const Job& job, std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1,
                  const Blocking& blocking, Workspace& ws);
    /** All of op(A) (or op(B)) packed in depth panels of kcMost, for reuse across chunks of C. */
    void (*packWholeA)(const Job& job, std::int64_t kcMost, float* dst);
    void (*packWholeB)(const Job& job, std::int64_t kcMost, float* dst);
    /** Columns [from, to) of C from a whole packed A (packing op(B) into ws.packB as it goes). */
    void (*columns)(const Job& job, const float* wholeA, std::int64_t kcMost, std::int64_t from, std::int64_t to,
                    const Blocking& blocking, Workspace& ws);
    /** Rows [from, to) of C from a whole packed B (packing op(A) into ws.packA as it goes). */
    void (*rows)(const Job& job, const float* wholeB, std::int64_t kcMost, std::int64_t from, std::int64_t to,
                 const Blocking& blocking, Workspace& ws);
  } loops;
};

// The build compiles kernel_avx2.cpp / kernel_avx512.cpp only where the compiler can, and then
// defines BGEMM_HAVE_AVX2 / BGEMM_HAVE_AVX512; the processor is checked again at run time.
extern const Kernel kernelGeneric;
#if defined(BGEMM_HAVE_AVX2)
extern const Kernel kernelAvx2;
#endif
#if defined(BGEMM_HAVE_AVX512)
extern const Kernel kernelAvx512;
#endif

/**
 * Mixed-precision kernels: the same Job (float32 A, B and C), but op(A) and op(B) are rounded
 * to bfloat16 (nearest even) as they are packed and the products accumulate in float32.
 * The emulated one is portable C++ and always built; BGEMM_HAVE_AVX512BF16 as above.
 */
extern const Kernel kernelBf16Emulated;
#if defined(BGEMM_HAVE_AVX512BF16)
extern const Kernel kernelAvx512Bf16;
#endif

/** The kernels this processor can run, fastest first; `count` receives how many. */
const Kernel* const* availableKernels(int* count);

/** The mixed-precision kernels this processor can run, fastest first (the emulated one last). */
const Kernel* const* availableBf16Kernels(int* count);

/** Threads a call may use (the caller plus the pool's workers). */
int maxThreads();

/**
 * Runs the job with `kernel` on up to `threads` threads (0 = all), splitting C into column or
 * row ranges aligned to the kernel's tile. Blocks until C is written.
 */
void run(const Kernel& kernel, const Job& job, int threads);

/**
 * Calls `range(context, from, to)` over [0, n) cut into pieces of whole multiples of `align`,
 * on the caller and the pool's idle workers (the same pool as the products; the caller alone
 * when another thread drives it or n is small). Blocks until every piece is done. For
 * element-wise work: each element is computed by the same code wherever the cuts fall, as
 * long as `align` is a multiple of the kernel's vector width.
 */
void parallelRanges(std::int64_t n, std::int64_t align, void (*range)(const void* context, std::int64_t from, std::int64_t to), const void* context);

}  // namespace bgemm
