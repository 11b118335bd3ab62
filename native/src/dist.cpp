// PyTorch's c10d through the binding: a rendezvous store (TCPStore, FileStore) and a process group
// (Gloo for CPU tensors; NCCL for CUDA tensors where the libtorch found at build time has it) with
// all-reduce, broadcast and barrier as asynchronous work handles.
//
// Compiled with PIX2PIXHD_C10D (and _GLOO / _NCCL) only where CMake found c10d's and Gloo's headers; otherwise
// distInfo() says so and distInit() throws a message naming what the build lacked.
#include "dist.h"
#include "errors.h"
#include "grad_hooks.h"
#include "tensor_wrap.h"

#include <array>
#include <chrono>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

// Our own macro names: a libtorch's CMake config defines USE_C10D_GLOO/USE_C10D_NCCL for its own
// build (pip's does, and ships no Gloo headers), which says nothing of what this binding can include.
#ifdef PIX2PIXHD_C10D
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef PIX2PIXHD_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef PIX2PIXHD_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace {

#ifdef PIX2PIXHD_C10D

// The three collectives this project needs, whatever class a libtorch version puts them on
// (1.13: ProcessGroup subclasses; 2.x: Backend subclasses): one interface, one template.
struct Collectives {
  virtual ~Collectives() = default;
  virtual c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& ts, const c10d::AllreduceOptions& o) = 0;
  virtual c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& ts, const c10d::BroadcastOptions& o) = 0;
  virtual c10::intrusive_ptr<c10d::Work> barrier(const c10d::BarrierOptions& o) = 0;
};

template <typename G>
struct CollectivesOf : Collectives {
  explicit CollectivesOf(c10::intrusive_ptr<G> g) : group(std::move(g)) {}
  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& ts, const c10d::AllreduceOptions& o) override { return group->allreduce(ts, o); }
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& ts, const c10d::BroadcastOptions& o) override { return group->broadcast(ts, o); }
  c10::intrusive_ptr<c10d::Work> barrier(const c10d::BarrierOptions& o) override { return group->barrier(o); }
  c10::intrusive_ptr<G> group;
};

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  std::unique_ptr<Collectives> collectives;
  std::string backend;
  int rank = 0;
  int size = 1;
  std::chrono::milliseconds timeout{0};
};

// Gloo has no AVG reduction (its all-reduce sums): an average is a sum divided on completion.
struct PendingAverage {
  std::vector<at::Tensor> tensors;
  double divisor = 1;
  bool done = false;
};

std::string argString(const Napi::Object& o, const char* key, const std::string& fallback = "") {
  auto v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

double argNumber(const Napi::Object& o, const char* key, double fallback) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

// The collectives need at least one tensor.
std::vector<at::Tensor> tensorsFrom(Napi::Env env, const Napi::Value& v, const char* what) {
  auto out = TensorWrap::ListFrom(env, v, what);
  if (out.empty()) throw std::invalid_argument(std::string(what) + ": no tensors");
  return out;
}

// Divides a Gloo "average" (a sum) once its all-reduce has completed; once only.
void completeAverage(const std::shared_ptr<PendingAverage>& average) {
  if (!average || average->done) return;
  average->done = true;
  at::NoGradGuard noGrad;
  for (auto& t : average->tensors) t.div_(average->divisor);
  average->tensors.clear();
}

// A JS object for one collective in flight: wait() blocks until it is done (throwing what the
// backend threw: a lost peer, the group's timeout), isCompleted() polls. The tensors it works on
// are held here until then, so JS may drop its handles meanwhile.
Napi::Object WrapWork(Napi::Env env, c10::intrusive_ptr<c10d::Work> work, std::shared_ptr<PendingAverage> average) {
  auto o = Napi::Object::New(env);
  o.Set("wait", Napi::Function::New(env, [work, average](const Napi::CallbackInfo& info) -> Napi::Value {
    auto env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      work->wait();
      completeAverage(average);
      return env.Undefined();
    });
  }));
  o.Set("isCompleted", Napi::Function::New(env, [work](const Napi::CallbackInfo& info) -> Napi::Value {
    return Napi::Boolean::New(info.Env(), work->isCompleted());
  }));
  return o;
}

c10d::ReduceOp reduceOpFrom(const std::string& name) {
  if (name == "sum" || name == "avg") return c10d::ReduceOp::SUM;
  if (name == "max") return c10d::ReduceOp::MAX;
  if (name == "min") return c10d::ReduceOp::MIN;
  throw std::invalid_argument("allreduce: op must be sum, avg, max or min, got " + name);
}

struct Launched {
  c10::intrusive_ptr<c10d::Work> work;
  std::shared_ptr<PendingAverage> average;  // set where the average is a sum divided on completion
};

// Starts an all-reduce of `ts` in place; "avg" is NCCL's AVG, or a sum divided on completion.
Launched launchAllreduce(Group& g, std::vector<at::Tensor>& ts, const std::string& opName) {
  if (!g.collectives) throw std::runtime_error("allreduce: the process group was shut down");
  c10d::AllreduceOptions ao;
  std::shared_ptr<PendingAverage> average;
  if (opName == "avg" && g.backend == "nccl") {
    ao.reduceOp = c10d::ReduceOp::AVG;
  } else {
    ao.reduceOp = reduceOpFrom(opName);
    if (opName == "avg") average = std::make_shared<PendingAverage>(PendingAverage{ts, (double)g.size});
  }
  return {g.collectives->allreduce(ts, ao), average};
}

// Gradient averaging in buckets from inside the backward pass, as DistributedDataParallel's
// reducer: each parameter's gradient is copied into its slot of a flat bucket the moment the
// engine has finished it, and a bucket's all-reduce starts as soon as the bucket is full, strictly
// in bucket order so that every rank issues the same collectives in the same order. All in C++,
// so it runs from CUDA's device threads as well as from the CPU's. The bucket layout is chosen by
// the caller (src/dist/grad-buckets.ts); `layout` holds [bucket, offset, numel] per parameter.
class BucketReducer {
 public:
  BucketReducer(Group& g, std::vector<at::Tensor> buckets, const std::vector<std::array<int64_t, 3>>& layout)
      : group_(g), buckets_(std::move(buckets)), layout_(layout), ready_(layout.size(), 0), filled_(buckets_.size(), 0),
        slotsPer_(buckets_.size(), 0), launched_(buckets_.size()) {
    for (size_t k = 0; k < layout_.size(); k++) {
      auto [b, offset, numel] = layout_[k];
      if (b < 0 || b >= (int64_t)buckets_.size() || offset < 0 || offset + numel > buckets_[b].numel()) {
        throw std::invalid_argument("reduceInBackward: parameter " + std::to_string(k) + " has no room in bucket " + std::to_string(b));
      }
      slotsPer_[b]++;
    }
  }

  // One parameter's complete gradient: into its slot; full buckets start their all-reduce.
  void add(size_t k, const at::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ready_[k]) throw std::runtime_error("reduceInBackward: parameter " + std::to_string(k) + " received a second gradient in one backward pass");
    at::NoGradGuard noGrad;
    slot(k).copy_(grad.reshape({-1}));
    ready_[k] = 1;
    filled_[layout_[k][0]]++;
    launchReady();
  }

  // Parameters that got no gradient count as zero (as DDP with unused parameters), so every rank
  // reduces every bucket; then waits for all of them.
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      at::NoGradGuard noGrad;
      for (size_t k = 0; k < layout_.size(); k++) {
        if (ready_[k]) continue;
        slot(k).zero_();
        ready_[k] = 1;
        filled_[layout_[k][0]]++;
      }
      launchReady();
    }
    for (auto& l : launched_) {
      l.work->wait();
      completeAverage(l.average);
    }
  }

 private:
  at::Tensor slot(size_t k) { return buckets_[layout_[k][0]].narrow(0, layout_[k][1], layout_[k][2]); }

  void launchReady() {
    while (next_ < buckets_.size() && filled_[next_] == slotsPer_[next_]) {
      std::vector<at::Tensor> ts{buckets_[next_]};
      launched_[next_] = launchAllreduce(group_, ts, "avg");
      next_++;
    }
  }

  Group& group_;
  std::vector<at::Tensor> buckets_;
  std::vector<std::array<int64_t, 3>> layout_;
  std::vector<uint8_t> ready_;
  std::vector<int64_t> filled_, slotsPer_;
  std::vector<Launched> launched_;
  size_t next_ = 0;
  std::mutex mutex_;
};

// The Gloo transport device. GLOO_SOCKET_IFNAME names an interface (as in PyTorch); a loopback
// master address keeps every rank on the loopback (one machine; works where the hostname does
// not resolve); otherwise the address the machine's hostname resolves to, as PyTorch's default.
#ifdef PIX2PIXHD_C10D_GLOO
std::shared_ptr<::gloo::transport::Device> glooDevice(const std::string& masterAddr) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) {
    if (*ifname) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (masterAddr == "localhost" || masterAddr.rfind("127.", 0) == 0) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

// distInit({backend, rank, size, timeoutMs, store: 'tcp'|'file', host, port, isServer, prefix, path})
// → a group object. Blocks until every rank has joined (or the timeout passes: then it throws).
// isServer (default: rank 0) serves the TCPStore; under torchrun's static rendezvous its agent
// already serves it at MASTER_PORT, and every rank is a client. prefix keeps this job's keys
// apart from others' in a shared store (the agent's), as PyTorch's default group does.
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsObject()) throw std::invalid_argument("distInit: expected an options object");
    auto o = info[0].As<Napi::Object>();
    auto g = std::make_shared<Group>();
    g->backend = argString(o, "backend", "gloo");
    g->rank = (int)argNumber(o, "rank", -1);
    g->size = (int)argNumber(o, "size", -1);
    if (g->size < 1 || g->rank < 0 || g->rank >= g->size) {
      throw std::invalid_argument("distInit: rank " + std::to_string(g->rank) + " of world size " + std::to_string(g->size) + " is not a rank of that world");
    }
    g->timeout = std::chrono::milliseconds((int64_t)argNumber(o, "timeoutMs", 300000));
    auto storeKind = argString(o, "store", "tcp");
    auto host = argString(o, "host", "127.0.0.1");
    if (storeKind == "tcp") {
      c10d::TCPStoreOptions so;
      so.port = (uint16_t)argNumber(o, "port", 29500);
      auto isServer = o.Get("isServer");
      so.isServer = isServer.IsBoolean() ? isServer.As<Napi::Boolean>().Value() : g->rank == 0;
      so.numWorkers = (size_t)g->size;
      so.waitWorkers = true;
      so.timeout = g->timeout;
      g->store = c10::make_intrusive<c10d::TCPStore>(host, so);
    } else if (storeKind == "file") {
      auto path = argString(o, "path");
      if (path.empty()) throw std::invalid_argument("distInit: a file store needs a path");
      g->store = c10::make_intrusive<c10d::FileStore>(path, g->size);
      g->store->setTimeout(g->timeout);
    } else {
      throw std::invalid_argument("distInit: store must be tcp or file, got " + storeKind);
    }
    auto prefix = argString(o, "prefix");
    if (!prefix.empty()) g->store = c10::make_intrusive<c10d::PrefixStore>(prefix, g->store);
    if (g->backend == "gloo") {
#ifdef PIX2PIXHD_C10D_GLOO
      auto opts = c10d::ProcessGroupGloo::Options::create(g->timeout);
      opts->devices.push_back(glooDevice(host));
      opts->threads = (int)argNumber(o, "threads", 2);
      g->collectives = std::make_unique<CollectivesOf<c10d::ProcessGroupGloo>>(
          c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, g->rank, g->size, opts));
#else
      throw std::invalid_argument("distInit: this build of the binding has no Gloo (no gloo/ headers were found at build time); use the nccl backend on CUDA, or install Gloo's headers and rebuild");
#endif
    } else if (g->backend == "nccl") {
#ifdef PIX2PIXHD_C10D_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = g->timeout;
      g->collectives = std::make_unique<CollectivesOf<c10d::ProcessGroupNCCL>>(
          c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, g->rank, g->size, opts));
#else
      throw std::invalid_argument("distInit: this build of the binding has no NCCL (the libtorch it was built against has none); use the gloo backend");
#endif
    } else {
      throw std::invalid_argument("distInit: backend must be gloo or nccl, got " + g->backend);
    }

    auto group = Napi::Object::New(env);
    group.Set("rank", g->rank);
    group.Set("size", g->size);
    group.Set("backend", g->backend);
    // allreduce(tensors, op): every rank's tensors reduced in place. Gloo sums several tensors of
    // one rank too (they must have one shape), so pass one flat bucket per call.
    group.Set("allreduce", Napi::Function::New(env, [g](const Napi::CallbackInfo& info) -> Napi::Value {
      auto env = info.Env();
      return guarded(env, [&]() -> Napi::Value {
        auto ts = tensorsFrom(env, info[0], "allreduce");
        auto opName = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string("sum");
        auto launched = launchAllreduce(*g, ts, opName);
        return WrapWork(env, launched.work, launched.average);
      });
    }));
    // reduceInBackward(outputs, retainGraph, params, buckets, layout: Float64Array of [bucket,
    // offset, numel] per parameter): back-propagates into the parameters only, averaging their
    // gradients across the ranks in the buckets while the backward runs (BucketReducer); on return
    // every bucket holds the average and no parameter has a .grad.
    group.Set("reduceInBackward", Napi::Function::New(env, [g](const Napi::CallbackInfo& info) -> Napi::Value {
      auto env = info.Env();
      return guarded(env, [&]() -> Napi::Value {
        auto outputs = tensorsFrom(env, info[0], "reduceInBackward outputs");
        bool retain = info[1].ToBoolean().Value();
        auto params = tensorsFrom(env, info[2], "reduceInBackward params");
        auto buckets = tensorsFrom(env, info[3], "reduceInBackward buckets");
        if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
            info[4].As<Napi::Float64Array>().ElementLength() != 3 * params.size()) {
          throw std::invalid_argument("reduceInBackward: the layout must be a Float64Array of 3 numbers per parameter");
        }
        auto raw = info[4].As<Napi::Float64Array>();
        std::vector<std::array<int64_t, 3>> layout(params.size());
        for (size_t k = 0; k < params.size(); k++) layout[k] = {(int64_t)raw[3 * k], (int64_t)raw[3 * k + 1], (int64_t)raw[3 * k + 2]};
        BucketReducer reducer(*g, std::move(buckets), layout);
        {
          ScopedGradHooks hooks;
          for (size_t k = 0; k < params.size(); k++) hooks.add(params[k], (uint32_t)k, [&reducer, k](at::Tensor grad) { reducer.add(k, grad); });
          torch::autograd::backward(outputs, {}, retain, false, params);
        }
        reducer.finish();
        return env.Undefined();
      });
    }));
    group.Set("broadcast", Napi::Function::New(env, [g](const Napi::CallbackInfo& info) -> Napi::Value {
      auto env = info.Env();
      return guarded(env, [&]() -> Napi::Value {
        if (!g->collectives) throw std::runtime_error("broadcast: the process group was shut down");
        auto ts = tensorsFrom(env, info[0], "broadcast");
        c10d::BroadcastOptions bo;
        bo.rootRank = info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : 0;
        return WrapWork(env, g->collectives->broadcast(ts, bo), nullptr);
      });
    }));
    group.Set("barrier", Napi::Function::New(env, [g](const Napi::CallbackInfo& info) -> Napi::Value {
      auto env = info.Env();
      return guarded(env, [&]() -> Napi::Value {
        if (!g->collectives) throw std::runtime_error("barrier: the process group was shut down");
        return WrapWork(env, g->collectives->barrier(c10d::BarrierOptions()), nullptr);
      });
    }));
    // The rendezvous store's key-value pairs (who is who, for messages about a lost rank).
    group.Set("storeSet", Napi::Function::New(env, [g](const Napi::CallbackInfo& info) -> Napi::Value {
      auto env = info.Env();
      return guarded(env, [&]() -> Napi::Value {
        auto key = info[0].As<Napi::String>().Utf8Value();
        auto value = info[1].As<Napi::String>().Utf8Value();
        g->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
        return env.Undefined();
      });
    }));
    group.Set("storeGet", Napi::Function::New(env, [g](const Napi::CallbackInfo& info) -> Napi::Value {
      auto env = info.Env();
      return guarded(env, [&]() -> Napi::Value {
        auto bytes = g->store->get(info[0].As<Napi::String>().Utf8Value());
        return Napi::String::New(env, std::string(bytes.begin(), bytes.end()));
      });
    }));
    // Drops the process group (its threads and connections) and the store.
    group.Set("shutdown", Napi::Function::New(env, [g](const Napi::CallbackInfo& info) -> Napi::Value {
      g->collectives.reset();
      g->store.reset();
      return info.Env().Undefined();
    }));
    return group;
  });
}

#else

Napi::Value DistInit(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(),
      "distributed training is unavailable in this build of the binding: it was compiled without c10d's Gloo "
      "(CMake found no gloo/ headers; on Debian install libgloo-dev, then rebuild with `npm run build:native`)");
}

#endif

Napi::Value DistInfo(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
#ifdef PIX2PIXHD_C10D_GLOO
  o.Set("gloo", true);
#else
  o.Set("gloo", false);
#endif
#ifdef PIX2PIXHD_C10D_NCCL
  o.Set("nccl", true);
#else
  o.Set("nccl", false);
#endif
  return o;
}

}  // namespace

void RegisterDist(Napi::Env env, Napi::Object exports) {
  exports.Set("distInfo", Napi::Function::New(env, DistInfo));
  exports.Set("distInit", Napi::Function::New(env, DistInit));
}
