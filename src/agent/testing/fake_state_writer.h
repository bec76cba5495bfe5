// FakeStateWriter: a StateWriter for tests that passes saves on to another writer (or
// keeps the last state in memory) and fails them on demand, like a full disk or a
// read-only folder would. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "agent/state_writer.h"

namespace fastgpu::testing {

class FakeStateWriter final : public agent::StateWriter {
 public:
  // `inner` receives the saves that do not fail; nullptr: they are only counted.
  explicit FakeStateWriter(std::unique_ptr<agent::StateWriter> inner = nullptr)
      : inner_(std::move(inner)) {}

  // While set, every Save fails with Internal(`why`) and changes nothing.
  void FailWith(std::string why) {
    std::lock_guard lock(mu_);
    fail_ = std::move(why);
  }
  void Heal() { FailWith(""); }

  int saves() const {
    std::lock_guard lock(mu_);
    return saves_;
  }
  int failures() const {
    std::lock_guard lock(mu_);
    return failures_;
  }

  Status Save(const agent::AgentState& state) override {
    std::lock_guard lock(mu_);
    if (!fail_.empty()) {
      ++failures_;
      return Internal("write " + Describe() + ": " + fail_);
    }
    ++saves_;
    return inner_ != nullptr ? inner_->Save(state) : OkStatus();
  }
  std::string Describe() const override {
    return inner_ != nullptr ? inner_->Describe() : "fake state";
  }

 private:
  mutable std::mutex mu_;
  std::unique_ptr<agent::StateWriter> inner_;
  std::string fail_;  // "" = saves succeed
  int saves_ = 0;
  int failures_ = 0;
};

}  // namespace fastgpu::testing
