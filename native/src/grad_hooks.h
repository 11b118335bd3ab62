// Post hooks on the AccumulateGrad nodes of leaf tensors, for the length of one backward call.
// The nodes outlive the call when the graph is retained (and are shared by every graph that uses
// the leaf), so each hook is removed again on every way out, exceptions included.
#pragma once
#include <torch/torch.h>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// Hands a leaf's gradient to `consume` the moment the autograd engine has finished accumulating
// it, and drops it from the leaf: whoever consumes it (an optimizer's update, a bucket for the
// all-reduce) owns it, and no gradient buffer stays behind. Runs on the thread the engine runs the
// leaf's AccumulateGrad node on: the caller's for CPU tensors, a device thread for CUDA ones.
class GradReadyHook : public torch::autograd::FunctionPostHook {
 public:
  GradReadyHook(at::Tensor leaf, std::function<void(at::Tensor grad)> consume) : leaf_(std::move(leaf)), consume_(std::move(consume)) {}

  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    at::Tensor grad = leaf_.grad();
    if (!grad.defined()) return outputs;
    leaf_.mutable_grad() = at::Tensor();
    consume_(std::move(grad));
    return outputs;
  }

 private:
  at::Tensor leaf_;
  std::function<void(at::Tensor grad)> consume_;
};

class ScopedGradHooks {
 public:
  ScopedGradHooks() = default;
  ScopedGradHooks(const ScopedGradHooks&) = delete;
  ScopedGradHooks& operator=(const ScopedGradHooks&) = delete;
  ~ScopedGradHooks() {
    for (auto& [node, key] : installed_) node->del_post_hook(key);
  }

  // Hands the gradient of `leaf` (input `index`) to `consume` once the engine has finished it.
  void add(const at::Tensor& leaf, uint32_t index, std::function<void(at::Tensor grad)> consume) {
    if (!leaf.is_leaf() || !leaf.requires_grad()) {
      throw std::invalid_argument("backward: with a gradient hook, input " + std::to_string(index) + " must be a leaf that requires grad");
    }
    auto node = torch::autograd::impl::grad_accumulator(leaf);
    auto key = node->add_post_hook(std::make_unique<GradReadyHook>(leaf, std::move(consume)));
    installed_.emplace_back(std::move(node), key);
  }

 private:
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> installed_;
};
