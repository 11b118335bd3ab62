// libtorch's CPU allocator for large tensors, caching their pages between uses.
#pragma once
#include <napi.h>
#include <cstddef>

// Installs the caching allocator as libtorch's CPU allocator unless PIX2PIXHD_CPU_CACHE=0.
void InstallCachingCpuAllocator();
// Bytes of the cache's blocks now holding tensors (0 without the cache): heapInUse() adds them to
// glibc's count, so that leak checks see tensors of every size.
size_t CachingCpuAllocatorBytesInUse();
// cpuAllocatorStats(): {enabled, hits, misses, releases, cachedBytes, mappedBytes, peakMappedBytes}.
Napi::Value CpuAllocatorStats(const Napi::CallbackInfo& info);
// cpuAllocatorRelease(): unmaps every cached block (what a long-idle process would want).
Napi::Value CpuAllocatorRelease(const Napi::CallbackInfo& info);
