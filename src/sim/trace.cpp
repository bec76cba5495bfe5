#include "sim/trace.h"

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>

namespace fastgpu::sim {
namespace {

std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  for (char ch : line) {
    if (ch == ',') {
      fields.push_back(field);
      field.clear();
    } else if (ch != '\r') {
      field.push_back(ch);
    }
  }
  fields.push_back(field);
  return fields;
}

// A CSV table: the header's column positions and the data rows with their line numbers.
struct Table {
  std::map<std::string, size_t> columns;
  std::vector<std::pair<int, std::vector<std::string>>> rows;
};

Result<Table> ParseTable(const std::string& text, const std::string& source,
                         const std::vector<std::string>& required) {
  Table table;
  std::istringstream in(text);
  std::string line;
  int line_no = 0;
  bool header = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    std::vector<std::string> fields = SplitCsvLine(line);
    if (header) {
      for (size_t i = 0; i < fields.size(); ++i) table.columns[fields[i]] = i;
      for (const std::string& name : required) {
        if (!table.columns.count(name)) {
          return InvalidArgument(source + ":" + std::to_string(line_no) +
                                 ": header lacks the column '" + name + "'");
        }
      }
      header = false;
      continue;
    }
    if (fields.size() < table.columns.size()) {
      return InvalidArgument(source + ":" + std::to_string(line_no) + ": " +
                             std::to_string(fields.size()) + " fields, the header has " +
                             std::to_string(table.columns.size()));
    }
    table.rows.emplace_back(line_no, std::move(fields));
  }
  if (header) return InvalidArgument(source + ": empty file (no header)");
  return table;
}

Result<int64_t> ParseInt(const std::string& field, const std::string& column,
                         const std::string& where, int64_t max) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc() || ptr != field.data() + field.size() || field.empty()) {
    return InvalidArgument(where + ": " + column + " '" + field + "' is not an integer");
  }
  if (value < 0 || value > max) {
    return InvalidArgument(where + ": " + column + " " + field + " is out of range 0.." +
                           std::to_string(max));
  }
  return value;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

constexpr int64_t kMaxAmount = int64_t{1} << 40;

}  // namespace

Result<std::vector<TraceNode>> ParseNodeList(const std::string& text, const std::string& source) {
  FASTGPU_ASSIGN_OR_RETURN(
      Table table, ParseTable(text, source, {"sn", "cpu_milli", "memory_mib", "gpu", "model"}));
  std::vector<TraceNode> nodes;
  for (const auto& [line, f] : table.rows) {
    std::string where = source + ":" + std::to_string(line);
    TraceNode node;
    node.name = f[table.columns["sn"]];
    if (node.name.empty()) return InvalidArgument(where + ": empty node name (sn)");
    FASTGPU_ASSIGN_OR_RETURN(
        node.cpu_milli, ParseInt(f[table.columns["cpu_milli"]], "cpu_milli", where, kMaxAmount));
    FASTGPU_ASSIGN_OR_RETURN(
        node.memory_mib, ParseInt(f[table.columns["memory_mib"]], "memory_mib", where, kMaxAmount));
    FASTGPU_ASSIGN_OR_RETURN(
        int64_t gpus, ParseInt(f[table.columns["gpu"]], "gpu", where, sched::kMaxGpusPerNode));
    node.gpu_count = static_cast<int>(gpus);
    node.model = f[table.columns["model"]];
    if (node.gpu_count > 0 && node.model.empty()) {
      return InvalidArgument(where + ": a node with GPUs needs a model");
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

Result<std::vector<TracePod>> ParsePodList(const std::string& text, const std::string& source) {
  FASTGPU_ASSIGN_OR_RETURN(
      Table table,
      ParseTable(text, source, {"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"}));
  bool has_spec = table.columns.count("gpu_spec") > 0;
  std::vector<TracePod> pods;
  for (const auto& [line, f] : table.rows) {
    std::string where = source + ":" + std::to_string(line);
    TracePod pod;
    pod.name = f[table.columns["name"]];
    if (pod.name.empty()) return InvalidArgument(where + ": empty pod name");
    model::Shape& s = pod.shape;
    FASTGPU_ASSIGN_OR_RETURN(
        s.cpu_milli, ParseInt(f[table.columns["cpu_milli"]], "cpu_milli", where, kMaxAmount));
    FASTGPU_ASSIGN_OR_RETURN(
        s.memory_mib, ParseInt(f[table.columns["memory_mib"]], "memory_mib", where, kMaxAmount));
    FASTGPU_ASSIGN_OR_RETURN(int64_t gpus, ParseInt(f[table.columns["num_gpu"]], "num_gpu", where,
                                                    sched::kMaxGpusPerNode));
    FASTGPU_ASSIGN_OR_RETURN(int64_t milli,
                             ParseInt(f[table.columns["gpu_milli"]], "gpu_milli", where, 1000));
    s.gpu_count = static_cast<int>(gpus);
    s.gpu_milli = gpus == 0 ? 0 : static_cast<int>(milli);
    if (gpus > 0 && milli == 0) return InvalidArgument(where + ": num_gpu > 0 with gpu_milli 0");
    if (gpus > 1 && milli != 1000) {
      return InvalidArgument(where + ": several GPUs (num_gpu " + std::to_string(gpus) +
                             ") must be whole (gpu_milli 1000), got " + std::to_string(milli));
    }
    if (has_spec && gpus > 0) {
      std::string spec = f[table.columns["gpu_spec"]];
      size_t start = 0;
      while (!spec.empty() && start <= spec.size()) {
        size_t bar = spec.find('|', start);
        std::string model =
            spec.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
        if (model.empty())
          return InvalidArgument(where + ": empty model in gpu_spec '" + spec + "'");
        s.gpu_models.push_back(model);
        if (bar == std::string::npos) break;
        start = bar + 1;
      }
    }
    if (s.cpu_milli == 0 && s.gpu_count == 0) {
      return InvalidArgument(where + ": the pod asks for neither CPU nor GPU");
    }
    pods.push_back(std::move(pod));
  }
  return pods;
}

Result<std::vector<TraceNode>> ReadNodeList(const std::string& path) {
  FASTGPU_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseNodeList(text, path);
}

Result<std::vector<TracePod>> ReadPodList(const std::string& path) {
  FASTGPU_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParsePodList(text, path);
}

sched::Cluster BuildCluster(const std::vector<TraceNode>& nodes) {
  sched::Cluster cluster;
  for (const TraceNode& n : nodes) {
    sched::NodeSpec spec;
    spec.id = n.name;
    spec.gpu_model = n.model;
    spec.gpu_count = n.gpu_count;
    spec.cpu_milli = n.cpu_milli;
    spec.memory_mib = n.memory_mib;
    cluster.AddNode(spec);
  }
  return cluster;
}

sched::EngineNode EngineNodeOf(const sched::NodeState& n) {
  sched::EngineNode node;
  node.spec = {n.id,
               n.gpu_model,
               static_cast<int>(n.gpus.size()),
               n.gpus.empty() ? 0 : n.gpus[0].total_memory_mib,
               n.cpu_total_milli,
               n.memory_total_mib};
  return node;
}

}  // namespace fastgpu::sim
