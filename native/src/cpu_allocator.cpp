// libtorch's CPU allocator for large tensors, caching their pages between uses.
//
// Every training iteration and every synthesis allocates and frees the same large activations.
// glibc maps each block above its mmap threshold afresh and unmaps it when freed, so each use
// of a 64 MB activation page-faults 16,384 zeroed pages again: `perf` put 27–29% of synthesis
// time in the kernel, on both this project's side and the official code's. Here large blocks go
// back to a cache when freed and are handed out again, already mapped and resident, to the next
// request of their size class.
//
// The cache never raises the process's peak memory: a request that finds no cached block of its
// class first unmaps cached blocks (the least recently freed first) worth at least its size, so
// mapped memory (in use + cached) only grows when nothing is cached, that is when it equals the
// memory in use. Mapped memory's peak is therefore the peak of what is in use (rounded up to the
// size classes, under 1/8 more), as without a cache; what the cache changes is how often pages are
// mapped, faulted and zeroed.
#include "cpu_allocator.h"
#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

namespace {

// Blocks below this go to libtorch's default allocator (glibc's heap, tuned in addon.cpp).
constexpr size_t kDefaultMinCachedBytes = 1 << 20;

// The size class of a request: rounded up to 1/8 of its power of two (at least 64 KiB), so
// requests that differ by a few bytes share blocks and at most 1/8 of a block is never used.
size_t sizeClass(size_t n) {
  size_t pow2 = 1;
  while (pow2 * 2 <= n) pow2 *= 2;
  size_t step = std::max<size_t>(pow2 / 8, 64 << 10);
  return (n + step - 1) / step * step;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator(c10::Allocator* fallback, size_t minCachedBytes) : fallback_(fallback), minCachedBytes_(minCachedBytes) {}

  c10::DataPtr allocate(size_t n) const override {
    if (n < minCachedBytes_) return fallback_->allocate(n);
    void* data = take(sizeClass(n));
    return {data, data, &CachingCpuAllocator::deleteAny, c10::Device(c10::DeviceType::CPU)};
  }

  // oneDNN's scratch memory comes through raw_allocate/raw_deallocate, which need one deleter
  // for every pointer this allocator hands out: it tells the cached blocks from the fallback's.
  c10::DeleterFnPtr raw_deleter() const override { return &CachingCpuAllocator::deleteAny; }

  struct Stats {
    int64_t hits = 0, splits = 0, grows = 0, misses = 0, releases = 0;
    size_t cachedBytes = 0, mappedBytes = 0, peakMappedBytes = 0;
    // Bytes of fresh pages: mapped on a miss, or added by a growth (each page faults when first written).
    size_t freshBytes = 0;
  };

  Stats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void releaseAll() const {
    std::lock_guard<std::mutex> lock(mutex_);
    unmapCached(SIZE_MAX);
  }

  static CachingCpuAllocator* instance;

 private:
  struct Cached {
    size_t bytes;
    uint64_t freedAt;  // when it was last given back: the least recent is unmapped first
  };
  using CacheMap = std::map<char*, Cached>;  // by address, so that neighbours merge

  void* take(size_t bytes) const {
    std::lock_guard<std::mutex> lock(mutex_);
    void* data = reuse(bytes);
    if (!data) {
      // Nothing cached: mapped memory equals what is in use, and may grow.
      data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (data == MAP_FAILED) throw std::bad_alloc();
      stats_.misses++;
      stats_.freshBytes += bytes;
      stats_.mappedBytes += bytes;
      stats_.peakMappedBytes = std::max(stats_.peakMappedBytes, stats_.mappedBytes);
    }
    inUse_.emplace(data, bytes);
    return data;
  }

  // A cached block made into one of `bytes`, or null when nothing is cached. Called with the
  // mutex held.
  void* reuse(size_t bytes) const {
    if (cached_.empty()) return nullptr;
    // Preferred: a block of the size (the most recently freed: its pages are the likeliest to
    // be in the CPU's caches), then the smallest larger one, then the largest.
    auto exact = cached_.end(), larger = cached_.end(), largest = cached_.begin();
    for (auto it = cached_.begin(); it != cached_.end(); ++it) {
      size_t b = it->second.bytes;
      if (b == bytes && (exact == cached_.end() || it->second.freedAt > exact->second.freedAt)) exact = it;
      if (b > bytes && (larger == cached_.end() || b < larger->second.bytes)) larger = it;
      if (b > largest->second.bytes) largest = it;
    }
    if (exact != cached_.end()) {
      stats_.hits++;
      return detach(exact);
    }
    if (larger != cached_.end()) {
      // Split: the head is handed out, the tail stays cached (both keep their pages; the kernel
      // splits the mapping only when either is unmapped).
      char* data = larger->first;
      Cached tail{larger->second.bytes - bytes, larger->second.freedAt};
      cached_.erase(larger);
      cached_.emplace(data + bytes, tail);
      stats_.cachedBytes -= bytes;
      stats_.splits++;
      return data;
    }
    // Grown, and moved where it must be: only the added pages are new. Cached blocks as large as
    // the growth are unmapped first, so that mapped memory only grows when nothing is cached.
    size_t had = largest->second.bytes;
    char* data = detach(largest);
    unmapCached(bytes - had);
    void* grown = mremap(data, had, bytes, MREMAP_MAYMOVE);
    if (grown == MAP_FAILED) {
      // A merged block spanning mappings the kernel keeps apart: unmapped, and mapped afresh.
      munmap(data, had);
      stats_.mappedBytes -= had;
      stats_.releases++;
      return nullptr;
    }
    stats_.mappedBytes += bytes - had;
    stats_.freshBytes += bytes - had;
    stats_.peakMappedBytes = std::max(stats_.peakMappedBytes, stats_.mappedBytes);
    stats_.grows++;
    return grown;
  }

  char* detach(CacheMap::iterator it) const {
    char* data = it->first;
    stats_.cachedBytes -= it->second.bytes;
    cached_.erase(it);
    return data;
  }

  // Unmaps the least recently freed cached blocks until at least `bytes` are unmapped or none is
  // left. Called with the mutex held.
  void unmapCached(size_t bytes) const {
    size_t unmapped = 0;
    while (unmapped < bytes && !cached_.empty()) {
      auto oldest = cached_.begin();
      for (auto it = cached_.begin(); it != cached_.end(); ++it) {
        if (it->second.freedAt < oldest->second.freedAt) oldest = it;
      }
      size_t b = oldest->second.bytes;
      munmap(detach(oldest), b);
      unmapped += b;
      stats_.mappedBytes -= b;
      stats_.releases++;
    }
  }

  // A block of ours goes back to the cache, merged with cached neighbours; anything else was
  // the fallback's.
  void free(void* pointer) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto used = inUse_.find(pointer);
      if (used != inUse_.end()) {
        char* data = static_cast<char*>(pointer);
        Cached block{used->second, ++clock_};
        inUse_.erase(used);
        stats_.cachedBytes += block.bytes;
        auto next = cached_.find(data + block.bytes);
        if (next != cached_.end()) {
          block.bytes += next->second.bytes;
          cached_.erase(next);
        }
        auto it = cached_.emplace(data, block).first;
        if (it != cached_.begin()) {
          auto previous = std::prev(it);
          if (previous->first + previous->second.bytes == data) {
            previous->second.bytes += block.bytes;
            previous->second.freedAt = block.freedAt;
            cached_.erase(it);
          }
        }
        return;
      }
    }
    fallback_->raw_deleter()(pointer);
  }

  static void deleteAny(void* data) { instance->free(data); }

  c10::Allocator* fallback_;
  size_t minCachedBytes_;
  mutable std::mutex mutex_;
  mutable CacheMap cached_;
  mutable uint64_t clock_ = 0;
  mutable std::unordered_map<void*, size_t> inUse_;  // blocks handed out, and their sizes
  mutable Stats stats_;
};

CachingCpuAllocator* CachingCpuAllocator::instance = nullptr;

}  // namespace

void InstallCachingCpuAllocator() {
  // Once per process: worker threads load the addon again (Init runs per environment), and every
  // block must keep meeting the instance that handed it out.
  static std::once_flag installed;
  std::call_once(installed, [] {
    const char* setting = std::getenv("PIX2PIXHD_CPU_CACHE");
    if (setting && std::string(setting) == "0") return;
    size_t minCached = kDefaultMinCachedBytes;
    if (const char* mb = std::getenv("PIX2PIXHD_CPU_CACHE_MIN_MB")) minCached = std::strtoull(mb, nullptr, 10) << 20;
    // Never deleted: tensors may outlive every other static object, and each one's deleter needs it.
    CachingCpuAllocator::instance = new CachingCpuAllocator(c10::GetDefaultCPUAllocator(), minCached);
    c10::SetCPUAllocator(CachingCpuAllocator::instance, /*priority=*/1);
  });
}

size_t CachingCpuAllocatorBytesInUse() {
  if (!CachingCpuAllocator::instance) return 0;
  auto s = CachingCpuAllocator::instance->stats();
  return s.mappedBytes - s.cachedBytes;
}

Napi::Value CpuAllocatorStats(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto o = Napi::Object::New(env);
  auto* a = CachingCpuAllocator::instance;
  o.Set("enabled", a != nullptr);
  CachingCpuAllocator::Stats s = a ? a->stats() : CachingCpuAllocator::Stats{};
  o.Set("hits", static_cast<double>(s.hits));
  o.Set("splits", static_cast<double>(s.splits));
  o.Set("grows", static_cast<double>(s.grows));
  o.Set("misses", static_cast<double>(s.misses));
  o.Set("releases", static_cast<double>(s.releases));
  o.Set("cachedBytes", static_cast<double>(s.cachedBytes));
  o.Set("mappedBytes", static_cast<double>(s.mappedBytes));
  o.Set("peakMappedBytes", static_cast<double>(s.peakMappedBytes));
  o.Set("freshBytes", static_cast<double>(s.freshBytes));
  return o;
}

Napi::Value CpuAllocatorRelease(const Napi::CallbackInfo& info) {
  if (CachingCpuAllocator::instance) CachingCpuAllocator::instance->releaseAll();
  return info.Env().Undefined();
}
