#include "agent/state_writer.h"

namespace fastgpu {
namespace {

class FileStateWriter final : public StateWriter {
 public:
  explicit FileStateWriter(std::string path) : path_(std::move(path)) {}
  Status Save(const AgentState& state) override { return SaveAgentState(path_, state); }
  std::string Describe() const override { return path_; }

 private:
  const std::string path_;
};

}  // namespace

std::unique_ptr<StateWriter> MakeFileStateWriter(std::string path) {
  return std::make_unique<FileStateWriter>(std::move(path));
}

}  // namespace fastgpu
