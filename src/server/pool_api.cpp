// GET /v1/pool: the node pool (pool.h) for `fastgpu pool status` and operators. Admin only:
// it names the groups' provider commands' results and every pending job.
#include "server/api.h"
#include "server/pool.h"

namespace fastgpu::server {

Result<Reply> Api::GetNodePool(const Call&) {
  if (options_.pool == nullptr) {
    return Reply::Json(
        json::object{{"enabled", false}, {"groups", json::array()}, {"pending", json::array()}});
  }
  return Reply::Json(NodePoolSnapshotToJson(options_.pool->Snapshot()));
}

}  // namespace fastgpu::server
