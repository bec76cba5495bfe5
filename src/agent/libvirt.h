// Hypervisor: the few libvirt calls the vm isolation mode makes, behind an interface so
// that the mode and its runner are tested without a daemon. The real one (OpenLibvirt)
// loads libvirt.so.0 with dlopen at run time, like NVML, so the build needs no libvirt
// package and an agent on a host without libvirt runs every other mode.
//
// Every domain the agent starts is transient (virDomainCreateXML): destroying it or its
// guest powering off removes it from libvirt, and nothing of it stays defined.
//
// Thread safety: one Hypervisor per thread (the runner and the agent loop each open
// their own connection).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace fastgpu::agent {

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;
  // Starts a transient domain from `xml`. FailedPrecondition with libvirt's message when
  // libvirt refuses it (bad XML, missing kernel, device busy).
  virtual Status Start(const std::string& xml) = 0;
  // Whether the domain `name` exists and has not shut off. false when it is gone.
  virtual Result<bool> Running(const std::string& name) = 0;
  // Destroys (powers off at once) the domain `name`. OK when it does not exist.
  virtual Status Destroy(const std::string& name) = 0;
  // Names of the running domains whose names start with `prefix`.
  virtual Result<std::vector<std::string>> List(const std::string& prefix) = 0;
  // The live XML of the domain `name`. NotFound when it does not exist.
  virtual Result<std::string> Xml(const std::string& name) = 0;
};

// A connection to libvirt at `uri` (default "qemu:///system"). Unavailable when
// libvirt.so.0 is missing ("libvirt is not installed ...") or the daemon does not answer
// ("cannot connect to libvirt at qemu:///system: ...; is libvirtd running?").
Result<std::unique_ptr<Hypervisor>> OpenLibvirt(const std::string& uri);

}  // namespace fastgpu::agent
