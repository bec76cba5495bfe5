#include "server/control_plane.h"

namespace fastgpu::server {

Result<std::unique_ptr<ControlPlane>> ControlPlane::Open(ServerOptions options,
                                                         std::unique_ptr<store::Store> store,
                                                         Clock& clock) {
  if (store == nullptr) return InvalidArgument("control plane: a store is required");
  std::unique_ptr<ControlPlane> cp(new ControlPlane());
  cp->data_dir_ = options.data_dir;
  cp->store_ = std::move(store);
  FASTGPU_ASSIGN_OR_RETURN(cp->server_,
                           Server::Create(std::move(options), *cp->store_, clock, cp->ids_));
  return cp;
}

ControlPlane::~ControlPlane() {
  if (server_) server_->Stop();
}

}  // namespace fastgpu::server
