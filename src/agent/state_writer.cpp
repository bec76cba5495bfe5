#include "agent/state_writer.h"

namespace fastgpu::agent {
namespace {

class FileStateWriter final : public StateWriter {
 public:
  FileStateWriter(std::string path, FileEnv& env) : path_(std::move(path)), env_(env) {}
  Status Save(const AgentState& state) override { return SaveAgentState(path_, state, env_); }
  std::string Describe() const override { return path_; }

 private:
  const std::string path_;
  FileEnv& env_;
};

}  // namespace

std::unique_ptr<StateWriter> MakeFileStateWriter(std::string path, FileEnv& env) {
  return std::make_unique<FileStateWriter>(std::move(path), env);
}

}  // namespace fastgpu::agent
