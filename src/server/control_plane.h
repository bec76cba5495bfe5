// ControlPlane: a Server with its SQLite store, as `fastgpu server` and `fastgpu up`
// run it: the database at <data_dir>/fastgpu.db (WAL), the real clock, random ids.
//
// Owns the store and the server. Thread-safety as Server's.
#pragma once

#include <memory>
#include <string>

#include "common/ids.h"
#include "server/server.h"
#include "store/store.h"

namespace fastgpu::server {

class ControlPlane {
 public:
  // Creates data_dir (mode 0700) when missing, opens the database and bootstraps the
  // tokens (see Server). Errors of the store or a bad listen address are returned.
  static Result<std::unique_ptr<ControlPlane>> Open(ServerOptions options);
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
  std::unique_ptr<Store> store_;
  std::unique_ptr<Server> server_;
};

}  // namespace fastgpu::server
