#include "server/control_plane.h"

#include <sys/stat.h>

#include <filesystem>

namespace fastgpu::server {

Result<std::unique_ptr<ControlPlane>> ControlPlane::Open(ServerOptions options) {
  if (options.data_dir.empty()) return InvalidArgument("data dir: required");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Internal("cannot create " + options.data_dir + ": " + ec.message());
  ::chmod(options.data_dir.c_str(), 0700);
  std::unique_ptr<ControlPlane> cp(new ControlPlane());
  cp->data_dir_ = options.data_dir;
  SqliteOptions so;
  so.path = options.data_dir + "/fastgpu.db";
  so.max_log_bytes = options.max_log_bytes;
  FASTGPU_ASSIGN_OR_RETURN(cp->store_, OpenSqliteStore(so));
  FASTGPU_ASSIGN_OR_RETURN(cp->server_, Server::Create(std::move(options), *cp->store_,
                                                       SystemClock::Default(), cp->ids_));
  return cp;
}

ControlPlane::~ControlPlane() {
  if (server_) server_->Stop();
}

}  // namespace fastgpu::server
