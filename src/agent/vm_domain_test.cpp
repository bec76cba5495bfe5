// The vm domain builder, the guest's script and the runner's output splitting; every
// domain XML is checked against libvirt's schema with virt-xml-validate where installed.
#include "agent/vm_domain.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/vm_runner.h"
#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

// virt-xml-validate's verdict on `xml` ("" when valid or the tool is missing).
std::string SchemaErrors(const std::string& xml) {
  if (::access("/usr/bin/virt-xml-validate", X_OK) != 0) return "";
  testing::TempDir dir;
  std::string path = dir.path() + "/d.xml";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fwrite(xml.data(), 1, xml.size(), f);
  std::fclose(f);
  testing::ShellRun r = testing::RunShell("virt-xml-validate " + path + " domain 2>&1");
  return r.exit_code == 0 ? "" : r.out;
}

VmDomainSpec KernelSpec() {
  VmDomainSpec s;
  s.name = "fastgpu-a1";
  s.allocation_id = "a1";
  s.domain_type = "qemu";
  s.vcpus = 2;
  s.memory_mib = 1024;
  s.kernel = "/boot/vmlinuz";
  s.initrd = "/var/lib/fastgpu/guest.cpio.gz";
  s.kernel_args = GuestKernelArgs("n", Base64Encode("exec 'true'\n"));
  s.console_path = "/var/lib/fastgpu/replicas/a1/console.log";
  s.output_path = "/var/lib/fastgpu/replicas/a1/output.log";
  return s;
}

TEST(VmDomainTest, KernelBootCarriesShapeMetadataAndSerialPorts) {
  auto xml = BuildDomainXml(KernelSpec());
  ASSERT_TRUE(xml.ok()) << xml.status().message();
  EXPECT_NE(xml->find("<domain type='qemu'>"), std::string::npos);
  EXPECT_NE(xml->find("<vcpu>2</vcpu>"), std::string::npos);
  EXPECT_NE(xml->find("<memory unit='MiB'>1024</memory>"), std::string::npos);
  EXPECT_NE(xml->find("allocation='a1'"), std::string::npos);
  EXPECT_NE(xml->find("<kernel>/boot/vmlinuz</kernel>"), std::string::npos);
  EXPECT_NE(xml->find("fastgpu.cmd="), std::string::npos);
  EXPECT_NE(xml->find("<target port='1'/>"), std::string::npos);
  EXPECT_EQ(xml->find("<interface"), std::string::npos);  // no network unless asked
  EXPECT_EQ(xml->find("<disk"), std::string::npos);
  EXPECT_EQ(SchemaErrors(*xml), "");
}

TEST(VmDomainTest, DiskImageNetworkOemStringsAndHostdevsAreValid) {
  VmDomainSpec s = KernelSpec();
  s.domain_type = "kvm";
  s.kernel.clear();
  s.initrd.clear();
  s.kernel_args.clear();
  s.disk_image = "/images/guest.qcow2";
  s.network = true;
  s.oem_strings = {"fastgpu.nonce=n fastgpu.cmd=ZXhlYw=="};
  s.hostdevs = {{"0000:65:00.0", "", true},
                {"0000:65:00.4", "", false},
                {"", "5a2b1c3d-0000-4000-8000-000000000001", true}};
  auto xml = BuildDomainXml(s);
  ASSERT_TRUE(xml.ok()) << xml.status().message();
  EXPECT_NE(xml->find("<transient/>"), std::string::npos);  // the image is never written
  EXPECT_NE(xml->find("<interface type='user'>"), std::string::npos);
  EXPECT_NE(xml->find("<entry>fastgpu.nonce=n fastgpu.cmd=ZXhlYw==</entry>"), std::string::npos);
  EXPECT_NE(xml->find("managed='yes'"), std::string::npos);
  EXPECT_NE(xml->find("managed='no'"), std::string::npos);
  EXPECT_NE(xml->find("bus='0x65' slot='0x00' function='0x4'"), std::string::npos);
  EXPECT_NE(xml->find("type='mdev'"), std::string::npos);
  EXPECT_EQ(SchemaErrors(*xml), "");
}

TEST(VmDomainTest, RefusesSpecsThatMakeNoDomain) {
  VmDomainSpec s = KernelSpec();
  s.disk_image = "/images/guest.qcow2";  // both boot sources
  EXPECT_EQ(BuildDomainXml(s).status().code(), StatusCode::kInvalidArgument);
  s = KernelSpec();
  s.memory_mib = 16;
  EXPECT_EQ(BuildDomainXml(s).status().code(), StatusCode::kInvalidArgument);
  s = KernelSpec();
  s.hostdevs = {{"65:00.0", "", true}};
  EXPECT_EQ(BuildDomainXml(s).status().code(), StatusCode::kInvalidArgument);
  s = KernelSpec();
  s.kernel = "vmlinuz";
  EXPECT_EQ(BuildDomainXml(s).status().code(), StatusCode::kInvalidArgument);
}

TEST(VmDomainTest, NamesAndValuesAreEscaped) {
  VmDomainSpec s = KernelSpec();
  s.allocation_id = "a'<b>&";
  auto xml = BuildDomainXml(s);
  ASSERT_TRUE(xml.ok());
  EXPECT_NE(xml->find("allocation='a&apos;&lt;b&gt;&amp;'"), std::string::npos);
}

TEST(VmDomainTest, GuestScriptQuotesEveryWord) {
  EXPECT_EQ(GuestScript({"sh", "-c", "echo 'hi'"}, {{"A", "x y"}, {"bad-name", "z"}}),
            "export A='x y'\nexec 'sh' '-c' 'echo '\\''hi'\\'''\n");
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(GuestOutputTest, SplitsOutputFromTheExitLine) {
  GuestOutput out("N");
  EXPECT_EQ(out.Feed("hel"), "");
  EXPECT_EQ(out.Feed("lo\nwor"), "hello\n");
  EXPECT_EQ(out.Feed("ldN exit 42\n"), "world");
  EXPECT_EQ(out.Finish(), "");
  EXPECT_EQ(out.exit_code(), 42);

  GuestOutput other("N");
  EXPECT_EQ(other.Feed("X exit 3\r\nno end"), "X exit 3\n");  // another nonce is output
  EXPECT_EQ(other.Finish(), "no end");
  EXPECT_FALSE(other.exit_code().has_value());
}

}  // namespace
}  // namespace fastgpu::agent
