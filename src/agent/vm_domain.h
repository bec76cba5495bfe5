// The libvirt domain of one vm replica, and how the workload is handed to its guest.
//
// BuildDomainXml is the one domain builder: a KVM guest (or, without /dev/kvm, QEMU's
// software emulation, domain type "qemu") with the replica's vCPUs and memory, no network
// unless asked, and its GPUs as VFIO hostdevs. It boots either an operator's disk image
// (used through a transient overlay that libvirt deletes when the guest ends, so the image
// is never written) or a kernel and initramfs directly. The guest's first serial port
// (ttyS0) is its console; the second (ttyS1) carries the workload's output, and the last
// line the guest writes there is "<nonce> exit <code>" (docs/vm-isolation.md gives the
// guest's side of this contract; scripts/vm/guest-init is one).
//
// The workload (its command and environment) travels as a shell script, base64-encoded,
// in the kernel command line (fastgpu.cmd=..., direct kernel boot) and in an SMBIOS OEM
// string (both ways of booting; a disk image's init reads it from
// /sys/firmware/dmi/entries/11-0/raw).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace fastgpu::agent {

// A device given to the guest.
struct VmHostdev {
  // A PCI function (a whole GPU, or an SR-IOV virtual function carrying a vGPU type),
  // "0000:65:00.0"; or, when mdev_uuid is set, a mediated device.
  std::string pci_address;
  std::string mdev_uuid;
  // libvirt detaches the PCI function from its host driver and binds it to vfio-pci
  // itself. true for a whole GPU; false for an NVIDIA vGPU VF (its host driver must stay).
  bool managed = true;
};

struct VmDomainSpec {
  std::string name;                 // libvirt's name: "fastgpu-<allocation id>"
  std::string allocation_id;        // in the domain's metadata (re-adoption, cleanup)
  std::string domain_type = "kvm";  // "kvm", or "qemu" for software emulation
  int vcpus = 1;                    // >= 1
  int64_t memory_mib = 512;         // >= 64
  // Direct kernel boot: kernel and initramfs (both absolute paths), and extra arguments.
  std::string kernel;
  std::string initrd;
  std::string kernel_args;
  // Or an operator's disk image (qcow2 or raw, by its first bytes' magic), booted through a
  // transient overlay. Exactly one of kernel and disk_image is set.
  std::string disk_image;
  std::string disk_format = "qcow2";
  std::string console_path;  // ttyS0, the guest's console, a file
  std::string output_path;   // ttyS1, the workload's output, a file
  bool network = false;      // a user-mode NIC; default none
  std::vector<VmHostdev> hostdevs;
  std::vector<std::string> oem_strings;  // SMBIOS type 11 entries
};

// The domain's XML. InvalidArgument for a spec that cannot make a domain (no name, no
// boot source or two, vcpus < 1, memory below 64 MiB, a relative path).
Result<std::string> BuildDomainXml(const VmDomainSpec& spec);

// The shell script the guest runs: `export K='v'` per variable, then the command (each
// word single-quoted) run with exec.
std::string GuestScript(const std::vector<std::string>& command,
                        const std::map<std::string, std::string>& env);

// Standard base64 (RFC 4648, with padding).
std::string Base64Encode(std::string_view data);

// The kernel command line of a directly booted guest: its console on ttyS0, quiet, a
// panic powers it off, and the workload: "fastgpu.nonce=<nonce> fastgpu.cmd=<payload>".
std::string GuestKernelArgs(const std::string& nonce, const std::string& payload_base64);

// Most bytes of the base64 script the kernel command line takes (x86 allows 2048 in all).
inline constexpr size_t kMaxKernelPayload = 1800;

// "fastgpu-" + allocation id: a vm replica's domain name.
std::string VmDomainName(const std::string& allocation_id);
inline constexpr const char* kVmDomainPrefix = "fastgpu-";

}  // namespace fastgpu::agent
