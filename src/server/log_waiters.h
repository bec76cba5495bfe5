// LogWaiters: wakes log streams (GET /v1/jobs/{id}/logs?follow=true) when bytes arrive.
//
// A stream watches one allocation at a time through a Watch; AppendLogs calls Notify
// for the allocation once its bytes (or its final shipment) are stored. Each Notify
// raises the allocation's version; Wait returns once the version passes the one the
// stream saw before its last read, or after the timeout (the caller re-checks then: a
// job may end without new bytes). Only watched allocations are kept. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace fastgpu::server {

class LogWaiters {
 public:
  // Registers interest in one allocation; unregisters on destruction.
  class Watch {
   public:
    Watch(LogWaiters& waiters, std::string alloc_id);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    const std::string& alloc_id() const { return alloc_id_; }
    // The allocation's version now: read it before reading the log.
    uint64_t Version() const;
    // Waits until the version is above `seen` or `timeout` passes; returns the version.
    uint64_t Wait(uint64_t seen, std::chrono::milliseconds timeout);

   private:
    LogWaiters& waiters_;
    std::string alloc_id_;
  };

  // Bytes or the final shipment of `alloc_id` are stored: wakes its watches.
  void Notify(const std::string& alloc_id);
  // How many allocations are watched now (for tests).
  int watched() const;

 private:
  struct Entry {
    uint64_t version = 0;
    int watches = 0;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;
};

}  // namespace fastgpu::server
