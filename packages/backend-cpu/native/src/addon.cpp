// Node-API binding of the native matrix product (plain node_api.h, no C++ wrapper library).
//
// exports.kernels    names of the micro-kernels this processor runs, fastest first
// exports.maxThreads threads a call may use (the caller plus the pool's workers)
// exports.gemm(kernel, threads, m, n, k, a, transposeA, b, transposeB, c, alpha, beta)
//   kernel: index into `kernels`; threads: 0 = all; a, b, c: Float32Array, row-major.
//   C = alpha * op(A) * op(B) + beta * C. Runs synchronously; throws on bad arguments.
// exports.bf16Kernels names of the mixed-precision kernels this processor runs, fastest first
//   (the portable emulated one last)
// exports.gemmBf16(...) as gemm, with a kernel from `bf16Kernels`: op(A) and op(B) rounded to
//   bfloat16 (nearest even), products accumulated in float32, C float32
//   Both take two more arguments for a sigmoid epilogue (set, bias | null; set null: none), and
//   gemmBf16 a third: bBits (Uint16Array | null), b already rounded to bfloat16, packed from
//   instead of b (the caller keeps it equal to b rounded: the result is the same)
// exports.elementwise names of the element-wise kernel sets this processor runs, fastest first
// exports.sigmoid(set, src, dst, rows, cols, bias | null): dst = sigmoid(src + bias row), dst may be src
// exports.axpbyPasses(set, coefficients, arrays, n[, rounded]): for each pass p in order, out = alpha x + beta y
//   over n elements, where coefficients (Float64Array) holds alpha, beta and arrays holds x, y, out of each
//   pass (out may be x or y); run block by block, each block through every pass (large n on the
//   gemm's thread pool). rounded (optional): source, bits pairs (Float32Array, Uint16Array); after
//   the passes over a block, bits = source rounded to bfloat16 there (a weight's copy for gemmBf16)
// exports.gatherRows(src, cols, indices, out): out row i = src row indices[i] (rows of cols floats);
//   every index checked first (a range error leaves out untouched)
// exports.bernoulli(set, key, p, out, n): out[i] = 1 where uniformAt(key, i) < p[i] else 0, out may be p
// exports.square(set, src, dst, n): dst = src * src, dst may be src
// exports.sumColumns(set, a, rows, cols, sums): sums (Float64Array) = the column sums of a, in row order
// exports.roundToBf16(set, src, dst, n): dst (Uint16Array) = src rounded to bfloat16 (the packing's rounding)
//   set: index into `elementwise`
#include <node_api.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "elementwise.h"
#include "gemm.h"

namespace {

constexpr std::size_t kArgs = 12;

/** What the sigmoid epilogue of a product needs: the element-wise set and the bias row (or null). */
struct SigmoidEpilogue {
  const bgemm::Elementwise* set;
  const float* bias;
};

/** C = sigmoid(C + bias) on one finished tile of C: the bits of the set's sigmoid over whole rows (it is lane-wise). */
void sigmoidTile(const void* context, float* c, std::int64_t ldc, std::int64_t col0, int rows, int cols) {
  const SigmoidEpilogue& e = *static_cast<const SigmoidEpilogue*>(context);
  e.set->sigmoid(c, c, rows, cols, ldc, e.bias != nullptr ? e.bias + col0 : nullptr);
}

/** Throws a JS error (type or range) and returns nullptr for the binding to hand back. */
napi_value fail(napi_env env, bool range, const char* message) {
  if (range) napi_throw_range_error(env, "ERR_BOLTZMANN_GEMM", message);
  else napi_throw_type_error(env, "ERR_BOLTZMANN_GEMM", message);
  return nullptr;
}

bool getInt(napi_env env, napi_value v, std::int64_t* out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > 9007199254740991.0) return false;
  *out = static_cast<std::int64_t>(d);
  return true;
}

/** The elements and length of `v` when it is a typed array of `wanted` type; false otherwise. */
template <class T>
bool getTypedArray(napi_env env, napi_value v, napi_typedarray_type wanted, T** data, std::size_t* length) {
  bool isTyped = false;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &raw, nullptr, nullptr) != napi_ok) return false;
  if (type != wanted) return false;
  *data = static_cast<T*>(raw);
  return true;
}

bool getFloat32Array(napi_env env, napi_value v, float** data, std::size_t* length) {
  return getTypedArray(env, v, napi_float32_array, data, length);
}

/** The element-wise kernel set named by argument `v` (an index into exports.elementwise), or null. */
const bgemm::Elementwise* elementwiseSet(napi_env env, napi_value v) {
  std::int64_t index = 0;
  int count = 0;
  const bgemm::Elementwise* const* sets = bgemm::availableElementwise(&count);
  if (!getInt(env, v, &index) || index >= count) return nullptr;
  return sets[index];
}

/** Reads exactly `count` arguments into argv; otherwise throws a type error with `usage` and returns false. */
bool callArgs(napi_env env, napi_callback_info info, std::size_t count, napi_value* argv, const char* usage) {
  std::size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  if (argc == count) return true;
  fail(env, false, usage);
  return false;
}

/** An element-wise binding's first argument as its kernel set; otherwise throws a range error naming `op` and returns null. */
const bgemm::Elementwise* setArg(napi_env env, napi_value v, const char* op) {
  const bgemm::Elementwise* set = elementwiseSet(env, v);
  if (set == nullptr) fail(env, true, (std::string(op) + ": no such element-wise kernel set").c_str());
  return set;
}

/** Whether `v` is null. */
bool isNull(napi_env env, napi_value v) {
  napi_valuetype type;
  return napi_typeof(env, v, &type) == napi_ok && type == napi_null;
}

/** gemm and gemmBf16: the same arguments, a kernel from their own list (`mixed`: gemmBf16, which also takes bBits). */
napi_value GemmWith(napi_env env, napi_callback_info info, const bgemm::Kernel* const* (*list)(int*), bool mixed) {
  napi_value argv[kArgs + 3];
  std::size_t argc = kArgs + 3;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc != kArgs && argc != kArgs + 2 && !(mixed && argc == kArgs + 3))
    return fail(env, false, mixed ? "gemmBf16 takes 12 arguments (kernel, threads, m, n, k, a, transposeA, b, transposeB, c, alpha, beta), 14 with a sigmoid epilogue (set, bias), or 15 with b's bfloat16 bits"
                                  : "gemm takes 12 arguments (kernel, threads, m, n, k, a, transposeA, b, transposeB, c, alpha, beta), or 14 with a sigmoid epilogue (set, bias)");
  std::int64_t kernelIndex = 0, threads = 0, m = 0, n = 0, k = 0;
  if (!getInt(env, argv[0], &kernelIndex)) return fail(env, true, "gemm: kernel must be a non-negative integer");
  if (!getInt(env, argv[1], &threads)) return fail(env, true, "gemm: threads must be a non-negative integer");
  if (!getInt(env, argv[2], &m) || !getInt(env, argv[3], &n) || !getInt(env, argv[4], &k))
    return fail(env, true, "gemm: m, n and k must be non-negative integers");
  int count = 0;
  const bgemm::Kernel* const* kernels = list(&count);
  if (kernelIndex >= count) return fail(env, true, "gemm: no such kernel on this processor");
  float *a = nullptr, *b = nullptr, *c = nullptr;
  std::size_t lengthA = 0, lengthB = 0, lengthC = 0;
  if (!getFloat32Array(env, argv[5], &a, &lengthA)) return fail(env, false, "gemm: a must be a Float32Array");
  if (!getFloat32Array(env, argv[7], &b, &lengthB)) return fail(env, false, "gemm: b must be a Float32Array");
  if (!getFloat32Array(env, argv[9], &c, &lengthC)) return fail(env, false, "gemm: c must be a Float32Array");
  bool ta = false, tb = false;
  if (napi_get_value_bool(env, argv[6], &ta) != napi_ok || napi_get_value_bool(env, argv[8], &tb) != napi_ok)
    return fail(env, false, "gemm: transposeA and transposeB must be booleans");
  double alpha = 0, beta = 0;
  if (napi_get_value_double(env, argv[10], &alpha) != napi_ok || napi_get_value_double(env, argv[11], &beta) != napi_ok ||
      !std::isfinite(alpha) || !std::isfinite(beta))
    return fail(env, true, "gemm: alpha and beta must be finite numbers");
  // Sizes are checked here too, not only in TypeScript: a short array must never be overrun.
  const double mk = static_cast<double>(m) * k, kn = static_cast<double>(k) * n, mn = static_cast<double>(m) * n;
  if (mk > static_cast<double>(lengthA)) return fail(env, true, "gemm: a is too short for op(A) m x k");
  if (kn > static_cast<double>(lengthB)) return fail(env, true, "gemm: b is too short for op(B) k x n");
  if (mn > static_cast<double>(lengthC)) return fail(env, true, "gemm: c is too short for C m x n");
  bgemm::Job job{m, n, k, a, ta, b, tb, c, static_cast<float>(alpha), static_cast<float>(beta)};
  SigmoidEpilogue epilogue{nullptr, nullptr};
  if (argc > kArgs && !isNull(env, argv[12])) {
    epilogue.set = elementwiseSet(env, argv[12]);
    if (epilogue.set == nullptr) return fail(env, true, "gemm: no such element-wise kernel set for the sigmoid epilogue");
    if (!isNull(env, argv[13])) {
      float* bias = nullptr;
      std::size_t lengthBias = 0;
      if (!getFloat32Array(env, argv[13], &bias, &lengthBias)) return fail(env, false, "gemm: the epilogue's bias must be a Float32Array or null");
      if (static_cast<double>(n) > static_cast<double>(lengthBias)) return fail(env, true, "gemm: the epilogue's bias is shorter than n");
      epilogue.bias = bias;
    }
    job.epilogue = sigmoidTile;
    job.epilogueContext = &epilogue;
  }
  if (argc == kArgs + 3 && !isNull(env, argv[14])) {
    std::uint16_t* bits = nullptr;
    std::size_t lengthBits = 0;
    if (!getTypedArray(env, argv[14], napi_uint16_array, &bits, &lengthBits)) return fail(env, false, "gemmBf16: bBits must be a Uint16Array or null");
    if (kn > static_cast<double>(lengthBits)) return fail(env, true, "gemmBf16: bBits is too short for op(B) k x n");
    job.bBits = bits;
  }
  try {
    bgemm::run(*kernels[kernelIndex], job, static_cast<int>(threads > 1000 ? 1000 : threads));
  } catch (const std::bad_alloc&) {
    return fail(env, true, "gemm: out of memory for the packing buffers");
  }
  return nullptr;
}

napi_value Gemm(napi_env env, napi_callback_info info) { return GemmWith(env, info, bgemm::availableKernels, false); }

napi_value GemmBf16(napi_env env, napi_callback_info info) { return GemmWith(env, info, bgemm::availableBf16Kernels, true); }

/** The names of a kernel list, as a JS array. */
napi_value kernelNames(napi_env env, const bgemm::Kernel* const* (*list)(int*)) {
  int count = 0;
  const bgemm::Kernel* const* kernels = list(&count);
  napi_value names;
  napi_create_array_with_length(env, count, &names);
  for (int i = 0; i < count; ++i) {
    napi_value name;
    napi_create_string_utf8(env, kernels[i]->name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, names, i, name);
  }
  return names;
}

napi_value Sigmoid(napi_env env, napi_callback_info raw) {
  napi_value all[6];
  if (!callArgs(env, raw, 6, all, "sigmoid takes 6 arguments: set, src, dst, rows, cols, bias")) return nullptr;
  const bgemm::Elementwise* set = setArg(env, all[0], "sigmoid");
  if (set == nullptr) return nullptr;
  napi_value* argv = all + 1;
  float *src = nullptr, *dst = nullptr, *bias = nullptr;
  std::size_t lengthSrc = 0, lengthDst = 0, lengthBias = 0;
  if (!getFloat32Array(env, argv[0], &src, &lengthSrc)) return fail(env, false, "sigmoid: src must be a Float32Array");
  if (!getFloat32Array(env, argv[1], &dst, &lengthDst)) return fail(env, false, "sigmoid: dst must be a Float32Array");
  std::int64_t rows = 0, cols = 0;
  if (!getInt(env, argv[2], &rows) || !getInt(env, argv[3], &cols)) return fail(env, true, "sigmoid: rows and cols must be non-negative integers");
  if (!isNull(env, argv[4]) && !getFloat32Array(env, argv[4], &bias, &lengthBias)) return fail(env, false, "sigmoid: bias must be a Float32Array or null");
  const double size = static_cast<double>(rows) * cols;
  if (size > static_cast<double>(lengthSrc) || size > static_cast<double>(lengthDst)) return fail(env, true, "sigmoid: src or dst is too short for rows x cols");
  if (bias != nullptr && static_cast<double>(cols) > static_cast<double>(lengthBias)) return fail(env, true, "sigmoid: bias is shorter than cols");
  set->sigmoid(src, dst, rows, cols, cols, bias);
  return nullptr;
}

/** The most passes one axpbyPasses call takes (an optimizer step needs three or four). */
constexpr std::uint32_t kMaxPasses = 8;

/**
 * Elements per block of axpbyPasses: every pass runs over one block before the next block, so
 * the block's runs of x, y and out (4 KiB each) stay in L1 between the passes.
 */
constexpr std::int64_t kPassBlock = 1024;

napi_value AxpbyPasses(napi_env env, napi_callback_info raw) {
  napi_value argv[5];
  std::size_t argc = 5;
  if (napi_get_cb_info(env, raw, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc != 4 && argc != 5) return fail(env, false, "axpbyPasses takes 4 or 5 arguments: set, coefficients, arrays, n[, rounded]");
  const bgemm::Elementwise* set = setArg(env, argv[0], "axpbyPasses");
  if (set == nullptr) return nullptr;
  std::size_t coefficientCount = 0;
  double* coefficients = nullptr;
  if (!getTypedArray(env, argv[1], napi_float64_array, &coefficients, &coefficientCount))
    return fail(env, false, "axpbyPasses: coefficients must be a Float64Array (alpha, beta per pass)");
  std::uint32_t arrayCount = 0;
  bool isArray = false;
  if (napi_is_array(env, argv[2], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[2], &arrayCount) != napi_ok)
    return fail(env, false, "axpbyPasses: arrays must be an array of Float32Arrays (x, y, out per pass)");
  std::int64_t n = 0;
  if (!getInt(env, argv[3], &n)) return fail(env, true, "axpbyPasses: n must be a non-negative integer");
  const std::uint32_t passes = arrayCount / 3;
  if (arrayCount % 3 != 0 || passes == 0 || passes > kMaxPasses || coefficientCount < 2 * static_cast<std::size_t>(passes))
    return fail(env, true, "axpbyPasses: 1 to 8 passes, each with alpha, beta and x, y, out");
  struct Pass {
    float alpha, beta;
    const float *x, *y;
    float* out;
  };
  struct Rounded {
    const float* source;
    std::uint16_t* bits;
  };
  struct Context {
    const bgemm::Elementwise* set;
    Pass pass[kMaxPasses];
    std::uint32_t count;
    Rounded rounded[kMaxPasses];
    std::uint32_t roundedCount;
  } context{set, {}, passes, {}, 0};
  for (std::uint32_t p = 0; p < passes; ++p) {
    float* arrays[3];
    for (std::uint32_t j = 0; j < 3; ++j) {
      napi_value element;
      std::size_t length = 0;
      if (napi_get_element(env, argv[2], 3 * p + j, &element) != napi_ok || !getFloat32Array(env, element, &arrays[j], &length))
        return fail(env, false, "axpbyPasses: arrays must be an array of Float32Arrays (x, y, out per pass)");
      if (static_cast<std::size_t>(n) > length) return fail(env, true, "axpbyPasses: an array is shorter than n");
    }
    context.pass[p] = {static_cast<float>(coefficients[2 * p]), static_cast<float>(coefficients[2 * p + 1]), arrays[0], arrays[1], arrays[2]};
  }
  if (argc == 5 && !isNull(env, argv[4])) {
    const char* usage = "axpbyPasses: rounded must be an array of Float32Array, Uint16Array pairs (at most 8)";
    std::uint32_t roundedLength = 0;
    if (napi_is_array(env, argv[4], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[4], &roundedLength) != napi_ok)
      return fail(env, false, usage);
    if (roundedLength % 2 != 0 || roundedLength / 2 > kMaxPasses) return fail(env, true, usage);
    for (std::uint32_t r = 0; r < roundedLength / 2; ++r) {
      napi_value source, bits;
      float* sourceData = nullptr;
      std::uint16_t* bitsData = nullptr;
      std::size_t sourceLength = 0, bitsLength = 0;
      if (napi_get_element(env, argv[4], 2 * r, &source) != napi_ok || napi_get_element(env, argv[4], 2 * r + 1, &bits) != napi_ok ||
          !getFloat32Array(env, source, &sourceData, &sourceLength) || !getTypedArray(env, bits, napi_uint16_array, &bitsData, &bitsLength))
        return fail(env, false, usage);
      if (static_cast<std::size_t>(n) > sourceLength || static_cast<std::size_t>(n) > bitsLength) return fail(env, true, "axpbyPasses: a rounded source or its bits is shorter than n");
      context.rounded[context.roundedCount++] = {sourceData, bitsData};
    }
  }
  // Large arrays (the weights' optimizer step) are split between the threads in pieces of whole
  // blocks, so every element takes the same vector path as on one thread.
  bgemm::parallelRanges(n, kPassBlock, [](const void* raw, std::int64_t from, std::int64_t to) {
    const Context& c = *static_cast<const Context*>(raw);
    for (std::int64_t b = from; b < to; b += kPassBlock) {
      const std::int64_t length = to - b < kPassBlock ? to - b : kPassBlock;
      for (std::uint32_t p = 0; p < c.count; ++p) {
        const Pass& q = c.pass[p];
        c.set->axpby(q.alpha, q.x + b, q.beta, q.y + b, q.out + b, length);
      }
      for (std::uint32_t r = 0; r < c.roundedCount; ++r) c.set->roundToBf16(c.rounded[r].source + b, c.rounded[r].bits + b, length);
    }
  }, &context);
  return nullptr;
}

napi_value GatherRows(napi_env env, napi_callback_info raw) {
  napi_value argv[4];
  if (!callArgs(env, raw, 4, argv, "gatherRows takes 4 arguments: src, cols, indices, out")) return nullptr;
  float *src = nullptr, *out = nullptr;
  std::size_t lengthSrc = 0, lengthOut = 0;
  if (!getFloat32Array(env, argv[0], &src, &lengthSrc) || !getFloat32Array(env, argv[3], &out, &lengthOut))
    return fail(env, false, "gatherRows: src and out must be Float32Arrays");
  std::int64_t cols = 0;
  if (!getInt(env, argv[1], &cols) || cols == 0) return fail(env, true, "gatherRows: cols must be a positive integer");
  std::size_t count = 0;
  std::uint32_t* indices = nullptr;
  if (!getTypedArray(env, argv[2], napi_uint32_array, &indices, &count)) return fail(env, false, "gatherRows: indices must be a Uint32Array");
  const std::size_t srcRows = lengthSrc / static_cast<std::size_t>(cols);
  if (count * static_cast<std::size_t>(cols) > lengthOut) return fail(env, true, "gatherRows: out is shorter than indices x cols");
  // Every index is checked before any row is copied, so a bad one leaves out untouched.
  for (std::size_t i = 0; i < count; ++i)
    if (indices[i] >= srcRows) return fail(env, true, "gatherRows: an index is outside the source rows");
  struct Context {
    const float* src;
    const std::uint32_t* indices;
    float* out;
    std::int64_t cols;
  } context{src, indices, out, cols};
  // Pieces of whole rows; the rows a few ahead are prefetched (they are scattered through a
  // data set far larger than the caches, and the copy of one row is too short to hide a miss).
  bgemm::parallelRanges(static_cast<std::int64_t>(count) * cols, cols, [](const void* raw, std::int64_t from, std::int64_t to) {
    const Context& c = *static_cast<const Context*>(raw);
    constexpr std::int64_t kAhead = 4;
    const std::int64_t first = from / c.cols, last = to / c.cols;
    for (std::int64_t i = first; i < last; ++i) {
      if (i + kAhead < last) {
        const char* next = reinterpret_cast<const char*>(c.src + static_cast<std::int64_t>(c.indices[i + kAhead]) * c.cols);
        for (std::int64_t b = 0; b < c.cols * 4; b += 64) __builtin_prefetch(next + b, 0, 0);
      }
      std::memcpy(c.out + i * c.cols, c.src + static_cast<std::int64_t>(c.indices[i]) * c.cols, static_cast<std::size_t>(c.cols) * sizeof(float));
    }
  }, &context);
  return nullptr;
}

napi_value Bernoulli(napi_env env, napi_callback_info raw) {
  napi_value argv[5];
  if (!callArgs(env, raw, 5, argv, "bernoulli takes 5 arguments: set, key, p, out, n")) return nullptr;
  const bgemm::Elementwise* set = setArg(env, argv[0], "bernoulli");
  if (set == nullptr) return nullptr;
  double key = 0;
  if (napi_get_value_double(env, argv[1], &key) != napi_ok || key != std::floor(key) || key < -2147483648.0 || key > 4294967295.0)
    return fail(env, true, "bernoulli: key must be a 32-bit integer");
  float *p = nullptr, *out = nullptr;
  std::size_t lengthP = 0, lengthOut = 0;
  if (!getFloat32Array(env, argv[2], &p, &lengthP) || !getFloat32Array(env, argv[3], &out, &lengthOut)) return fail(env, false, "bernoulli: p and out must be Float32Arrays");
  std::int64_t n = 0;
  if (!getInt(env, argv[4], &n)) return fail(env, true, "bernoulli: n must be a non-negative integer");
  if (static_cast<std::size_t>(n) > lengthP || static_cast<std::size_t>(n) > lengthOut) return fail(env, true, "bernoulli: p or out is shorter than n");
  set->bernoulli(static_cast<std::uint32_t>(static_cast<std::int64_t>(key)), p, out, n);
  return nullptr;
}

/**
 * The bindings (set, src, dst, n) that run one kernel of the set over n elements, src a
 * Float32Array and dst of element type Dst: square (float) and roundToBf16 (bfloat16 bits).
 * Messages are only built on a failure, as these run every training step.
 */
template <class Dst>
napi_value sourceToDestination(napi_env env, napi_callback_info raw, const char* name, napi_typedarray_type dstType, const char* dstArray,
                               void (*bgemm::Elementwise::*kernel)(const float*, Dst*, std::int64_t)) {
  napi_value argv[4];
  std::size_t argc = 4;
  if (napi_get_cb_info(env, raw, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc != 4) return fail(env, false, (std::string(name) + " takes 4 arguments: set, src, dst, n").c_str());
  const bgemm::Elementwise* set = setArg(env, argv[0], name);
  if (set == nullptr) return nullptr;
  float* src = nullptr;
  Dst* dst = nullptr;
  std::size_t lengthSrc = 0, lengthDst = 0;
  if (!getFloat32Array(env, argv[1], &src, &lengthSrc) || !getTypedArray(env, argv[2], dstType, &dst, &lengthDst))
    return fail(env, false, (std::string(name) + ": src must be a Float32Array and dst a " + dstArray).c_str());
  std::int64_t n = 0;
  if (!getInt(env, argv[3], &n)) return fail(env, true, (std::string(name) + ": n must be a non-negative integer").c_str());
  if (static_cast<std::size_t>(n) > lengthSrc || static_cast<std::size_t>(n) > lengthDst) return fail(env, true, (std::string(name) + ": src or dst is shorter than n").c_str());
  (set->*kernel)(src, dst, n);
  return nullptr;
}

napi_value Square(napi_env env, napi_callback_info raw) {
  return sourceToDestination<float>(env, raw, "square", napi_float32_array, "Float32Array", &bgemm::Elementwise::square);
}

napi_value RoundToBf16(napi_env env, napi_callback_info raw) {
  return sourceToDestination<std::uint16_t>(env, raw, "roundToBf16", napi_uint16_array, "Uint16Array", &bgemm::Elementwise::roundToBf16);
}

napi_value SumColumns(napi_env env, napi_callback_info raw) {
  napi_value argv[5];
  if (!callArgs(env, raw, 5, argv, "sumColumns takes 5 arguments: set, a, rows, cols, sums")) return nullptr;
  const bgemm::Elementwise* set = setArg(env, argv[0], "sumColumns");
  if (set == nullptr) return nullptr;
  float* a = nullptr;
  std::size_t lengthA = 0;
  if (!getFloat32Array(env, argv[1], &a, &lengthA)) return fail(env, false, "sumColumns: a must be a Float32Array");
  std::int64_t rows = 0, cols = 0;
  if (!getInt(env, argv[2], &rows) || !getInt(env, argv[3], &cols)) return fail(env, true, "sumColumns: rows and cols must be non-negative integers");
  std::size_t lengthSums = 0;
  double* sums = nullptr;
  if (!getTypedArray(env, argv[4], napi_float64_array, &sums, &lengthSums)) return fail(env, false, "sumColumns: sums must be a Float64Array");
  if (static_cast<double>(rows) * cols > static_cast<double>(lengthA)) return fail(env, true, "sumColumns: a is too short for rows x cols");
  if (static_cast<std::size_t>(cols) > lengthSums) return fail(env, true, "sumColumns: sums is shorter than cols");
  set->sumColumns(a, rows, cols, sums);
  return nullptr;
}

void exportFunction(napi_env env, napi_value exports, const char* name, napi_callback callback) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, nullptr, &fn);
  napi_set_named_property(env, exports, name, fn);
}

}  // namespace

NAPI_MODULE_INIT() {
  int count = 0;
  napi_set_named_property(env, exports, "kernels", kernelNames(env, bgemm::availableKernels));
  napi_set_named_property(env, exports, "bf16Kernels", kernelNames(env, bgemm::availableBf16Kernels));
  napi_value threads;
  napi_create_int32(env, bgemm::maxThreads(), &threads);
  napi_set_named_property(env, exports, "maxThreads", threads);
  exportFunction(env, exports, "gemm", Gemm);
  exportFunction(env, exports, "gemmBf16", GemmBf16);
  const bgemm::Elementwise* const* sets = bgemm::availableElementwise(&count);
  napi_value setNames;
  napi_create_array_with_length(env, count, &setNames);
  for (int i = 0; i < count; ++i) {
    napi_value name;
    napi_create_string_utf8(env, sets[i]->name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, setNames, i, name);
  }
  napi_set_named_property(env, exports, "elementwise", setNames);
  exportFunction(env, exports, "sigmoid", Sigmoid);
  exportFunction(env, exports, "axpbyPasses", AxpbyPasses);
  exportFunction(env, exports, "gatherRows", GatherRows);
  exportFunction(env, exports, "bernoulli", Bernoulli);
  exportFunction(env, exports, "square", Square);
  exportFunction(env, exports, "sumColumns", SumColumns);
  exportFunction(env, exports, "roundToBf16", RoundToBf16);
  return exports;
}
