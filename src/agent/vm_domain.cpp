#include "agent/vm_domain.h"

namespace fastgpu::agent {
namespace {

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

bool ValidEnvName(const std::string& k) {
  if (k.empty() || (k[0] >= '0' && k[0] <= '9')) return false;
  for (char c : k) {
    if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

// "0000:65:00.4" -> domain, bus, slot, function; false when malformed.
bool ParsePci(const std::string& a, std::string* dom, std::string* bus, std::string* slot,
              std::string* fn) {
  if (a.size() != 12 || a[4] != ':' || a[7] != ':' || a[10] != '.') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11}) {
    if (!std::isxdigit(static_cast<unsigned char>(a[i]))) return false;
  }
  *dom = "0x" + a.substr(0, 4);
  *bus = "0x" + a.substr(5, 2);
  *slot = "0x" + a.substr(8, 2);
  *fn = "0x" + a.substr(11, 1);
  return true;
}

}  // namespace

std::string VmDomainName(const std::string& allocation_id) {
  return kVmDomainPrefix + allocation_id;
}

std::string GuestKernelArgs(const std::string& nonce, const std::string& payload_base64) {
  return "console=ttyS0 quiet panic=-1 fastgpu.nonce=" + nonce + " fastgpu.cmd=" + payload_base64;
}

std::string Base64Encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string GuestScript(const std::vector<std::string>& command,
                        const std::map<std::string, std::string>& env) {
  std::string script;
  for (const auto& [k, v] : env) {
    if (!ValidEnvName(k)) continue;  // a shell cannot name it; the job's spec allows few
    script += "export " + k + "=" + ShellQuote(v) + "\n";
  }
  script += "exec";
  for (const std::string& word : command) script += " " + ShellQuote(word);
  return script + "\n";
}

Result<std::string> BuildDomainXml(const VmDomainSpec& spec) {
  if (spec.name.empty()) return InvalidArgument("vm domain without a name");
  if (spec.kernel.empty() == spec.disk_image.empty()) {
    return InvalidArgument("a vm boots either a disk image or a kernel and initramfs");
  }
  if (spec.vcpus < 1) return InvalidArgument("a vm needs at least one vCPU");
  if (spec.memory_mib < 64) return InvalidArgument("a vm needs at least 64 MiB of memory");
  for (const std::string* p :
       {&spec.kernel, &spec.initrd, &spec.disk_image, &spec.console_path, &spec.output_path}) {
    if (!p->empty() && (*p)[0] != '/') return InvalidArgument("not an absolute path: " + *p);
  }
  if (spec.domain_type != "kvm" && spec.domain_type != "qemu") {
    return InvalidArgument("domain type must be kvm or qemu, not " + spec.domain_type);
  }
  std::string x;
  x += "<domain type='" + spec.domain_type + "'>\n";
  x += "  <name>" + Escape(spec.name) + "</name>\n";
  x += "  <metadata>\n    <fastgpu:replica xmlns:fastgpu='https://fastgpu.dev/xmlns/vm/1' "
       "allocation='" +
       Escape(spec.allocation_id) + "'/>\n  </metadata>\n";
  x += "  <memory unit='MiB'>" + std::to_string(spec.memory_mib) + "</memory>\n";
  x += "  <vcpu>" + std::to_string(spec.vcpus) + "</vcpu>\n";
  if (!spec.oem_strings.empty()) {
    x += "  <sysinfo type='smbios'>\n    <oemStrings>\n";
    for (const std::string& s : spec.oem_strings) x += "      <entry>" + Escape(s) + "</entry>\n";
    x += "    </oemStrings>\n  </sysinfo>\n";
  }
  x += "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n";
  if (!spec.kernel.empty()) {
    x += "    <kernel>" + Escape(spec.kernel) + "</kernel>\n";
    if (!spec.initrd.empty()) x += "    <initrd>" + Escape(spec.initrd) + "</initrd>\n";
    x += "    <cmdline>" + Escape(spec.kernel_args) + "</cmdline>\n";
  } else {
    x += "    <boot dev='hd'/>\n";
  }
  if (!spec.oem_strings.empty()) x += "    <smbios mode='sysinfo'/>\n";
  x += "  </os>\n";
  x += "  <features>\n    <acpi/>\n  </features>\n";
  if (spec.domain_type == "kvm") x += "  <cpu mode='host-passthrough'/>\n";
  x += "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n";
  x += "  <on_crash>destroy</on_crash>\n";
  x += "  <devices>\n";
  if (!spec.disk_image.empty()) {
    x += "    <disk type='file' device='disk'>\n";
    x += "      <driver name='qemu' type='" + Escape(spec.disk_format) + "'/>\n";
    x += "      <source file='" + Escape(spec.disk_image) + "'/>\n";
    x += "      <target dev='vda' bus='virtio'/>\n      <transient/>\n    </disk>\n";
  }
  if (spec.network) {
    x += "    <interface type='user'>\n      <model type='virtio'/>\n    </interface>\n";
  }
  int port = 0;
  for (const std::string* p : {&spec.console_path, &spec.output_path}) {
    if (p->empty()) {
      x += "    <serial type='null'>\n";
    } else {
      x += "    <serial type='file'>\n      <source path='" + Escape(*p) + "'/>\n";
    }
    x += "      <target port='" + std::to_string(port++) + "'/>\n    </serial>\n";
  }
  for (const VmHostdev& h : spec.hostdevs) {
    if (!h.mdev_uuid.empty()) {
      x += "    <hostdev mode='subsystem' type='mdev' model='vfio-pci'>\n";
      x += "      <source>\n        <address uuid='" + Escape(h.mdev_uuid) + "'/>\n";
      x += "      </source>\n    </hostdev>\n";
      continue;
    }
    std::string dom, bus, slot, fn;
    if (!ParsePci(h.pci_address, &dom, &bus, &slot, &fn)) {
      return InvalidArgument("not a PCI address: '" + h.pci_address + "'");
    }
    x += "    <hostdev mode='subsystem' type='pci' managed='" +
         std::string(h.managed ? "yes" : "no") + "'>\n";
    x += "      <driver name='vfio'/>\n      <source>\n";
    x += "        <address domain='" + dom + "' bus='" + bus + "' slot='" + slot + "' function='" +
         fn + "'/>\n";
    x += "      </source>\n    </hostdev>\n";
  }
  x += "    <memballoon model='none'/>\n";
  x += "  </devices>\n</domain>\n";
  return x;
}

}  // namespace fastgpu::agent
