// The parallel driver: picks the kernels this processor runs, keeps a small persistent pool of
// worker threads, splits C between the caller and the workers, and sizes each thread's
// packing buffers. Compiled for the baseline instruction set: it does no arithmetic itself.
#include "gemm.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <algorithm>
#include <new>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BGEMM_PAUSE() _mm_pause()
#else
#define BGEMM_PAUSE() std::this_thread::yield()
#endif

namespace bgemm {
namespace {

/** Below this many multiply-adds a product runs on the caller alone: waking a worker costs more. */
constexpr std::int64_t kParallelMinMacs = 1 << 17;
/** Most threads a call uses, whatever the machine (the pool is sized once). */
constexpr int kThreadCap = 16;

int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return (end != v && *end == '\0' && x >= 0 && x < 1000000) ? static_cast<int>(x) : fallback;
}

/** CPUs this process may run on (affinity, not the machine's count), capped. */
int cpusAvailable() {
  cpu_set_t set;
  int n = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  return n < kThreadCap ? n : kThreadCap;
}

void growTo(float*& buffer, std::size_t& capacity, std::size_t floats) {
  if (capacity >= floats) return;
  std::free(buffer);
  // Rounded up to whole cache lines; aligned for the kernels' aligned vector loads.
  const std::size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
  buffer = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (buffer == nullptr) {
    capacity = 0;
    throw std::bad_alloc();
  }
  capacity = bytes / sizeof(float);
}

/** Each thread's own packing buffers, kept for the life of the thread. */
thread_local Workspace tlsWorkspace;

/** Most floats of a whole packed operand that each thread keeps for a call (1.5 MiB: L2-sized). */
constexpr std::int64_t kWholeOperandFloats = 384 * 1024;

std::int64_t roundUp(std::int64_t x, std::int64_t unit) { return (x + unit - 1) / unit * unit; }
std::int64_t ceilDiv(std::int64_t x, std::int64_t y) { return (x + y - 1) / y; }
std::int64_t evenBlock(std::int64_t total, std::int64_t most) { return ceilDiv(total, ceilDiv(total, most)); }

/**
 * How C is cut into chunks that threads take one at a time from a shared counter, so a thread
 * the OS delays (this machine is shared) just takes fewer chunks instead of stalling the call.
 * Columns: each thread packs all of op(A) once, then chunks of columns (packing op(B) per
 * chunk); Rows: the mirror image; Tiles: operands too big to pack whole, 2-D blocks of C.
 */
enum class Plan { Columns, Rows, Tiles, Ranges };

struct Task {
  const Kernel* kernel;
  const Job* job;
  Blocking blocking;
  std::int64_t kcMost;
  Plan plan;
  // Chunk size; Columns and Rows: the first and largest chunk across (down) C, the other
  // extent whole, later chunks shrinking as they run out (see takeChunk).
  std::int64_t chunkRows, chunkCols;
  std::int64_t chunksDown, chunksAcross;  // chunks down and across (Columns and Rows: at least this many)
  int parts;  // threads taking part, the caller included
  // Columns and Rows: the columns (rows) handed out so far. Tiles and Ranges: the chunks handed out.
  std::atomic<std::int64_t> next{0};
  // Plan::Ranges (parallelRanges): pieces of chunkCols elements of [0, rangeEnd).
  void (*range)(const void*, std::int64_t, std::int64_t) = nullptr;
  const void* rangeContext = nullptr;
  std::int64_t rangeEnd = 0;
};

/**
 * Guided chunking: a chunk is half of an even share of what is left (whole units), so chunks
 * start large (less packing and bookkeeping) and end small, and the threads finish close
 * together instead of one waiting on another's last big chunk.
 */
std::int64_t guidedChunk(std::int64_t left, std::int64_t unit, int parts) {
  return parts == 1 ? roundUp(left, unit) : roundUp(ceilDiv(left, 2 * static_cast<std::int64_t>(parts)), unit);
}

/** Takes the next chunk [*from, *to) of [0, extent), at most `largest`, for a Columns or Rows task; false when none is left. */
bool takeChunk(Task& task, std::int64_t extent, std::int64_t unit, std::int64_t largest, std::int64_t* from, std::int64_t* to) {
  std::int64_t start = task.next.load(std::memory_order_relaxed);
  for (;;) {
    if (start >= extent) return false;
    const std::int64_t size = std::min(largest, guidedChunk(extent - start, unit, task.parts));
    if (task.next.compare_exchange_weak(start, start + size, std::memory_order_relaxed)) {
      *from = start;
      *to = std::min(extent, start + size);
      return true;
    }
  }
}

void planTask(Task& t, const Kernel& kernel, const Job& job, const Blocking& bl, int parts) {
  t.kernel = &kernel;
  t.job = &job;
  t.blocking = bl;
  t.kcMost = job.k > 0 ? evenBlock(job.k, bl.kc) : 0;
  t.parts = parts;
  const std::int64_t m = job.m, n = job.n, k = job.k, mr = kernel.mr, nr = kernel.nr;
  const bool aFits = roundUp(m, mr) * k <= kWholeOperandFloats;
  const bool bFits = roundUp(n, nr) * k <= kWholeOperandFloats;
  if (k > 0 && aFits && (n >= m || !bFits)) {
    t.plan = Plan::Columns;
    t.chunkCols = std::min(roundUp(bl.nc, nr), guidedChunk(n, nr, parts));
    t.chunkRows = m;
  } else if (k > 0 && bFits) {
    t.plan = Plan::Rows;
    t.chunkRows = std::min(roundUp(bl.mc, mr), guidedChunk(m, mr, parts));
    t.chunkCols = n;
  } else {
    t.plan = Plan::Tiles;
    t.chunkRows = roundUp(evenBlock(m, 4 * bl.mc), mr);
    t.chunkCols = roundUp(evenBlock(n, 512), nr);
  }
  t.chunksDown = ceilDiv(m, t.chunkRows);
  t.chunksAcross = ceilDiv(n, t.chunkCols);
}

/** Takes chunks of the task until none is left (called by the caller and each worker). */
void work(Task& task) {
  const std::int64_t chunks = task.chunksDown * task.chunksAcross;
  // A thread that arrives after the last chunk was taken should not pack anything.
  const std::int64_t handedOut = task.plan == Plan::Columns ? task.job->n : task.plan == Plan::Rows ? task.job->m : chunks;
  if (task.next.load(std::memory_order_relaxed) >= handedOut) return;
  if (task.plan == Plan::Ranges) {
    for (std::int64_t c; (c = task.next.fetch_add(1, std::memory_order_relaxed)) < chunks;)
      task.range(task.rangeContext, c * task.chunkCols, std::min(task.rangeEnd, (c + 1) * task.chunkCols));
    return;
  }
  const Kernel& kernel = *task.kernel;
  const Job& job = *task.job;
  const Blocking& bl = task.blocking;
  Workspace& ws = tlsWorkspace;
  const std::int64_t mr = kernel.mr, nr = kernel.nr, kc = task.kcMost;
  switch (task.plan) {
    case Plan::Columns: {
      growTo(ws.whole, ws.capWhole, static_cast<std::size_t>(roundUp(job.m, mr) * job.k));
      growTo(ws.packB, ws.capB, static_cast<std::size_t>(roundUp(task.chunkCols, nr) * kc));
      kernel.loops.packWholeA(job, kc, ws.whole);
      for (std::int64_t from, to; takeChunk(task, job.n, nr, task.chunkCols, &from, &to);) kernel.loops.columns(job, ws.whole, kc, from, to, bl, ws);
      break;
    }
    case Plan::Rows: {
      growTo(ws.whole, ws.capWhole, static_cast<std::size_t>(roundUp(job.n, nr) * job.k));
      growTo(ws.packA, ws.capA, static_cast<std::size_t>(roundUp(task.chunkRows, mr) * kc));
      kernel.loops.packWholeB(job, kc, ws.whole);
      for (std::int64_t from, to; takeChunk(task, job.m, mr, task.chunkRows, &from, &to);) kernel.loops.rows(job, ws.whole, kc, from, to, bl, ws);
      break;
    }
    case Plan::Tiles: {
      const std::int64_t kcPanel = std::max<std::int64_t>(kc, 1);
      growTo(ws.packA, ws.capA, static_cast<std::size_t>((std::min(bl.mc, task.chunkRows) + 2 * mr) * kcPanel));
      growTo(ws.packB, ws.capB, static_cast<std::size_t>((std::min(bl.nc, task.chunkCols) + 2 * nr) * kcPanel));
      for (std::int64_t c; (c = task.next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
        const std::int64_t r0 = c / task.chunksAcross * task.chunkRows, c0 = c % task.chunksAcross * task.chunkCols;
        kernel.loops.range(job, r0, std::min(job.m, r0 + task.chunkRows), c0, std::min(job.n, c0 + task.chunkCols), bl, ws);
      }
      break;
    }
    case Plan::Ranges:
      break;  // handled above
  }
}

/**
 * Workers wait for a new generation of work, spinning briefly (the next product of a training
 * step usually follows within microseconds) and then sleeping on a condition variable, so an
 * idle pool costs no CPU.
 *
 * The caller never waits for a worker that has not started: a worker joins a call only while
 * it is open (active_ counts the joined ones), the caller closes it once every chunk is taken
 * and then waits for the joined workers alone. On this shared 2-core machine a worker may not
 * be scheduled for milliseconds; the caller then simply computes every chunk itself.
 */
class Pool {
 public:
  explicit Pool(int workers) : spinMicros_(envInt("BOLTZMANN_GEMM_SPIN_US", 100)) {
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { loop(w + 1); });
  }

  int size() const { return static_cast<int>(threads_.size()) + 1; }

  /** Runs the task on the caller and up to `task.parts - 1` workers; returns when every chunk is done. */
  void run(Task& task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_.store(&task, std::memory_order_relaxed);
      failed_.store(false, std::memory_order_relaxed);
      open_.store(true);  // publishes task_ to the workers that see it open
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    bool callerFailed = false;
    try {
      work(task);
    } catch (...) {
      callerFailed = true;
    }
    // Every chunk is taken: close the call, then wait for the workers that joined it.
    open_.store(false);
    if (!spinUntil([this] { return active_.load() == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return active_.load() == 0; });
    }
    if (callerFailed || failed_.load()) throw std::bad_alloc();  // a packing buffer could not grow
  }

 private:
  template <class Ready>
  bool spinUntil(Ready ready) const {
    if (ready()) return true;
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(spinMicros_);
    for (;;) {
      for (int i = 0; i < 64; ++i) {
        if (ready()) return true;
        BGEMM_PAUSE();
      }
      if (std::chrono::steady_clock::now() >= until) return ready();
    }
  }

  void loop(int index) {
    std::uint64_t seen = 0;
    for (;;) {
      if (!spinUntil([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      }
      seen = generation_.load(std::memory_order_acquire);
      // Join (sequentially consistent with the caller's close): either this worker sees the
      // call closed and leaves without touching it, or the caller sees it active and waits.
      active_.fetch_add(1);
      if (open_.load()) {
        Task* task = task_.load(std::memory_order_relaxed);
        if (index < task->parts) {
          try {
            work(*task);
          } catch (...) {
            failed_.store(true);
          }
        }
      }
      if (active_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  const int spinMicros_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<bool> open_{false};
  std::atomic<int> active_{0};
  std::atomic<bool> failed_{false};
  std::atomic<Task*> task_{nullptr};
};

/**
 * The pool lives as long as the process: its workers sleep when idle and die with it. It is
 * never destroyed, so no destructor races a worker at exit.
 */
Pool& pool() {
  static Pool* instance = [] {
    int threads = envInt("BOLTZMANN_GEMM_THREADS", 0);
    if (threads <= 0) threads = cpusAvailable();
    if (threads > kThreadCap) threads = kThreadCap;
    return new Pool(threads - 1);
  }();
  return *instance;
}

/** One caller at a time drives the pool (Node worker threads may each load the addon). */
std::mutex poolOwner;

}  // namespace

const Kernel* const* availableKernels(int* count) {
  static const Kernel* list[3];
  static int n = [] {
    int found = 0;
#if defined(BGEMM_HAVE_AVX2) || defined(BGEMM_HAVE_AVX512)
    __builtin_cpu_init();  // needed before __builtin_cpu_supports in a shared library's code
#endif
#if defined(BGEMM_HAVE_AVX512)
    if (__builtin_cpu_supports("avx512f")) list[found++] = &kernelAvx512;
#endif
#if defined(BGEMM_HAVE_AVX2)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) list[found++] = &kernelAvx2;
#endif
    list[found++] = &kernelGeneric;
    return found;
  }();
  *count = n;
  return list;
}

const Kernel* const* availableBf16Kernels(int* count) {
  static const Kernel* list[2];
  static int n = [] {
    int found = 0;
#if defined(BGEMM_HAVE_AVX512BF16)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16"))
      list[found++] = &kernelAvx512Bf16;
#endif
    list[found++] = &kernelBf16Emulated;
    return found;
  }();
  *count = n;
  return list;
}

int maxThreads() { return pool().size(); }

/** Cache blocking, from the kernel's defaults or BOLTZMANN_GEMM_KC / _MC / _NC (for tuning). */
Blocking blockingFor(const Kernel& kernel) {
  static const Blocking overrides{envInt("BOLTZMANN_GEMM_KC", 0), envInt("BOLTZMANN_GEMM_MC", 0), envInt("BOLTZMANN_GEMM_NC", 0)};
  Blocking bl = kernel.blocking;
  if (overrides.kc > 0) bl.kc = overrides.kc;
  if (overrides.mc > 0) bl.mc = overrides.mc;
  if (overrides.nc > 0) bl.nc = overrides.nc;
  return bl;
}

void run(const Kernel& kernel, const Job& job, int threads) {
  if (job.m <= 0 || job.n <= 0) return;
  Pool& workers = pool();
  int parts = threads <= 0 || threads > workers.size() ? workers.size() : threads;
  if (job.m * job.n * (job.k > 0 ? job.k : 1) < kParallelMinMacs) parts = 1;
  Task task;
  planTask(task, kernel, job, blockingFor(kernel), parts);
  if (task.chunksDown * task.chunksAcross < parts) parts = static_cast<int>(task.chunksDown * task.chunksAcross);
  task.parts = parts;
  if (parts > 1) {
    std::unique_lock<std::mutex> owner(poolOwner, std::try_to_lock);
    if (owner.owns_lock()) {
      workers.run(task);
      return;
    }
    // Another thread drives the pool right now: this call computes alone.
  }
  work(task);
}

/** Below this many elements element-wise work runs on the caller alone (a wake-up costs more). */
constexpr std::int64_t kParallelMinElements = 1 << 16;

void parallelRanges(std::int64_t n, std::int64_t align, void (*range)(const void* context, std::int64_t from, std::int64_t to), const void* context) {
  if (n <= 0) return;
  Pool& workers = pool();
  const int parts = n < kParallelMinElements ? 1 : workers.size();
  if (parts > 1) {
    std::unique_lock<std::mutex> owner(poolOwner, std::try_to_lock);
    if (owner.owns_lock()) {
      Task task;
      task.plan = Plan::Ranges;
      task.parts = parts;
      // About four pieces per thread, as for the products: a delayed worker just takes fewer.
      task.chunkCols = roundUp(ceilDiv(n, 4 * static_cast<std::int64_t>(parts)), align);
      task.chunksDown = 1;
      task.chunksAcross = ceilDiv(n, task.chunkCols);
      task.range = range;
      task.rangeContext = context;
      task.rangeEnd = n;
      workers.run(task);
      return;
    }
  }
  range(context, 0, n);
}

}  // namespace bgemm
