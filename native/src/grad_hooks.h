// Post hooks on the AccumulateGrad nodes of leaf tensors, for the length of one backward call.
// The nodes outlive the call when the graph is retained (and are shared by every graph that uses
// the leaf), so each hook is removed again on every way out, exceptions included.
#pragma once
#include <torch/torch.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

class ScopedGradHooks {
 public:
  ScopedGradHooks() = default;
  ScopedGradHooks(const ScopedGradHooks&) = delete;
  ScopedGradHooks& operator=(const ScopedGradHooks&) = delete;
  ~ScopedGradHooks() {
    for (auto& [node, key] : installed_) node->del_post_hook(key);
  }

  // Runs `hook` once the engine has finished accumulating the gradient of `leaf` (input `index`).
  void add(const at::Tensor& leaf, uint32_t index, std::unique_ptr<torch::autograd::FunctionPostHook> hook) {
    if (!leaf.is_leaf() || !leaf.requires_grad()) {
      throw std::invalid_argument("backward: with a gradient hook, input " + std::to_string(index) + " must be a leaf that requires grad");
    }
    auto node = torch::autograd::impl::grad_accumulator(leaf);
    auto key = node->add_post_hook(std::move(hook));
    installed_.emplace_back(std::move(node), key);
  }

 private:
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> installed_;
};
