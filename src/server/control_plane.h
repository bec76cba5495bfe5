// ControlPlane: a Server together with the store it runs on, as `fastgpu server` and
// `fastgpu up` run it. The binary picks the implementations (src/main: the SQLite store
// at <data_dir>/fastgpu.db, the system clock) and hands them in; the control plane owns
// the store, borrows the clock and makes random ids.
//
// Thread-safety as Server's.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "server/server.h"
#include "store/store.h"

namespace fastgpu::server {

class ControlPlane {
 public:
  // Bootstraps the tokens in `store` (see Server) and readies the server. `clock` must
  // outlive the control plane. InvalidArgument without a store; errors of the store or a
  // bad listen address are returned.
  static Result<std::unique_ptr<ControlPlane>> Open(ServerOptions options,
                                                    std::unique_ptr<store::Store> store,
                                                    Clock& clock);
  ~ControlPlane();

  // Listens; returns the bound port.
  Result<uint16_t> Start() { return server_->Start(); }
  void Stop() { server_->Stop(); }
  Server& server() { return *server_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  ControlPlane() = default;
  std::string data_dir_;
  RandomIdGenerator ids_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Server> server_;
};

}  // namespace fastgpu::server
