// Human output of the CLI: aligned tables and detail views of the API's JSON.
//
// Every function takes the JSON the API answered (see docs/api.md) and returns text;
// fields that are missing print as empty. Simulated nodes and jobs placed on simulated
// GPUs are marked "(simulated)". Pure and thread-safe.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace fastgpu::cli {

// Columns padded to the widest cell, two spaces apart, a header row first.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string RenderJobList(const boost::json::value& list);   // {"jobs":[...]}
std::string RenderJob(const boost::json::value& job);        // one job with events
std::string RenderNodeList(const boost::json::value& list);  // {"nodes":[...]}
std::string RenderNode(const boost::json::value& node);       // one node of GET /v1/nodes/{id}
// What the nodes' GPUs offer to vm isolation and why they offer less (docs/vm-isolation.md):
// a line per GPU that reports an offer, under a heading; "" when none does. RenderNodeList
// ends with it.
std::string RenderVmOffers(const boost::json::value& list);
std::string RenderTenantList(const boost::json::value& list);
std::string RenderTokenList(const boost::json::value& list);
// "a1 (2 GPUs)" style one-liners for created objects.
std::string RenderTenant(const boost::json::value& tenant);
std::string RenderToken(const boost::json::value& token);

}  // namespace fastgpu::cli
