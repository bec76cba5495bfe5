// VFIO passthrough checks and vGPU type discovery against a fake sysfs tree, and the vm
// mode's domain for real (non-simulated) GPUs built from it: a whole GPU as a managed PCI
// hostdev, a fraction as an SR-IOV VF with its vGPU type set (unmanaged) or a mediated
// device; each domain checked with virt-xml-validate where installed.
#include "agent/vgpu_sysfs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/isolation.h"
#include "agent/mps.h"
#include "agent/vm_offers.h"
#include "common/testing/child_process.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;

void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// A fake /sys: PCI devices with IOMMU groups, SR-IOV VFs and mdev types.
class FakeSysfs {
 public:
  FakeSysfs() : root_(dir_.path() + "/sys") {}
  const std::string& root() const { return root_; }
  // A PCI device in IOMMU group `group` ("" for no IOMMU).
  void Device(const std::string& addr, const std::string& group) {
    fs::create_directories(Dev(addr));
    if (group.empty()) return;
    std::string g = root_ + "/kernel/iommu_groups/" + group;
    fs::create_directories(g + "/devices");
    fs::create_symlink("../../../../bus/pci/devices/" + addr, g + "/devices/" + addr);
    fs::create_symlink("../../../../kernel/iommu_groups/" + group, Dev(addr) + "/iommu_group");
  }
  // VF number n of `gpu` at `vf`, offering `types` ("592    : NVIDIA H100-10C\n...").
  void Vf(const std::string& gpu, int n, const std::string& vf, const std::string& types,
          const std::string& current = "0") {
    Device(vf, "vf" + std::to_string(n));
    fs::create_symlink("../" + vf, Dev(gpu) + "/virtfn" + std::to_string(n));
    Write(Dev(vf) + "/nvidia/creatable_vgpu_types", types);
    Write(Dev(vf) + "/nvidia/current_vgpu_type", current);
  }
  void Mdev(const std::string& gpu, const std::string& id, const std::string& name, int left) {
    std::string d = Dev(gpu) + "/mdev_supported_types/" + id;
    Write(d + "/name", name + "\n");
    Write(d + "/available_instances", std::to_string(left) + "\n");
    Write(d + "/create", "");
  }
  std::string Dev(const std::string& addr) const { return root_ + "/bus/pci/devices/" + addr; }

 private:
  testing::TempDir dir_;
  std::string root_;
};

constexpr char kGpu[] = "0000:65:00.0";
constexpr char kH100Types[] =
    "Type ID : Name\n592    : NVIDIA H100-10C\n593    : NVIDIA H100-20C\n"
    "594    : NVIDIA H100-40C\n595    : NVIDIA H100-80C\n";

TEST(VgpuSysfsTest, PassthroughNeedsAnIommuGroupOfItsOwn) {
  FakeSysfs sys;
  sys.Device(kGpu, "");
  Status st = CheckPassthrough(sys.root(), kGpu);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("the host has no IOMMU"), std::string::npos) << st.message();

  FakeSysfs shared;
  shared.Device(kGpu, "12");
  shared.Device("0000:65:00.1", "12");  // the GPU's audio function in its group
  st = CheckPassthrough(shared.root(), kGpu);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("IOMMU group 12 of 0000:65:00.0 also holds 0000:65:00.1"),
            std::string::npos)
      << st.message();

  FakeSysfs alone;
  alone.Device(kGpu, "12");
  EXPECT_TRUE(CheckPassthrough(alone.root(), kGpu).ok());
  EXPECT_EQ(CheckPassthrough(alone.root(), "0000:66:00.0").code(), StatusCode::kFailedPrecondition);
}

TEST(VgpuSysfsTest, SriovTypesOfFreeVirtualFunctions) {
  FakeSysfs sys;
  sys.Device(kGpu, "12");
  sys.Vf(kGpu, 0, "0000:65:00.4", kH100Types);
  sys.Vf(kGpu, 1, "0000:65:00.5", kH100Types);
  sys.Vf(kGpu, 2, "0000:65:00.6", kH100Types, "593");  // taken
  std::vector<VgpuType> types = ListVgpuTypes(sys.root(), kGpu);
  ASSERT_EQ(types.size(), 4u);
  EXPECT_EQ(types[0].id, "592");
  EXPECT_EQ(types[0].name, "NVIDIA H100-10C");
  EXPECT_EQ(types[0].framebuffer_mib, 10240);
  EXPECT_EQ(types[0].available, 2);  // two free VFs can take it
  EXPECT_EQ(types[0].function, "0000:65:00.4");
  EXPECT_FALSE(types[0].mdev);
  EXPECT_EQ(types[3].framebuffer_mib, 81920);
  // 0.3 of an 80 GiB GPU needs 24 GiB: the smallest type holding it is the 40C.
  Result<VgpuType> t = SmallestVgpuTypeFor(types, 300, 81920);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->name, "NVIDIA H100-40C");
  EXPECT_EQ(SmallestVgpuTypeFor(types, 100, 81920)->name, "NVIDIA H100-10C");
}

TEST(VgpuSysfsTest, MediatedDeviceTypesAndNoneLeft) {
  FakeSysfs sys;
  sys.Device(kGpu, "12");
  sys.Mdev(kGpu, "nvidia-63", "GRID T4-8C", 0);
  sys.Mdev(kGpu, "nvidia-62", "GRID T4-4C", 3);
  std::vector<VgpuType> types = ListVgpuTypes(sys.root(), kGpu);
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[0].id, "nvidia-62");
  EXPECT_TRUE(types[0].mdev);
  EXPECT_EQ(types[0].framebuffer_mib, 4096);
  // Half of a 16 GiB T4 needs the 8C type, which has no instance left.
  EXPECT_EQ(SmallestVgpuTypeFor(types, 500, 16384).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(SmallestVgpuTypeFor(types, 250, 16384)->id, "nvidia-62");
  FakeSysfs none;
  none.Device(kGpu, "12");
  EXPECT_TRUE(ListVgpuTypes(none.root(), kGpu).empty());
}

// The vm mode's launch against the fake tree: the domain it writes.
class VmModeSysfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rec_.dir = dir_.path() + "/replica";
    fs::create_directories(rec_.dir);
    kernel_ = dir_.path() + "/vmlinuz";
    Write(kernel_, "kernel");
    vm_.kernel = kernel_;
    vm_.domain_type = "qemu";
    vm_.sysfs_root = sys_.root();
    vm_.libvirt_uri = "test:///default";  // libvirt's in-process test driver
  }
  // PrepareLaunch of a replica with one slice of `milli` on a real (non-simulated) GPU.
  // `vm_type`: the type the control plane placed it as ("" as an older one sends).
  Status Prepare(int milli, const std::string& vm_type = "") {
    want_.allocation.id = "a1";
    want_.allocation.cpu_milli = 2000;
    want_.allocation.memory_mib = 1024;
    want_.allocation.slices = {{0, "GPU-x", milli, 81920 * milli / 1000, model::Isolation::kVm}};
    want_.allocation.slices[0].vm_type = vm_type;
    want_.command = {"nvidia-smi"};
    rec_.desired = want_;
    GpuSample g;
    g.gpu.index = 0;
    g.gpu.uuid = "GPU-x";
    g.gpu.memory_mib = 81920;
    g.gpu.simulated = false;
    g.pci_address = kGpu;
    MpsDaemons mps(dir_.path() + "/mps", "true");
    IsolationServices services{mps, dir_.path() + "/mps", "/dev", PosixFileEnv(), &vm_};
    LaunchSpec spec;
    auto mode = FindIsolationMode(model::Isolation::kVm);
    EXPECT_TRUE(mode.ok());
    return (*mode)->PrepareLaunch(want_, rec_, {g}, services, &spec);
  }
  std::string Xml() { return ReadFile(rec_.dir + "/vm-domain.xml"); }
  void ExpectValid() {
    if (::access("/usr/bin/virt-xml-validate", X_OK) != 0) return;
    testing::ShellRun r =
        testing::RunShell("virt-xml-validate " + rec_.dir + "/vm-domain.xml domain 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.out;
  }

  testing::TempDir dir_;
  FakeSysfs sys_;
  std::string kernel_;
  VmOptions vm_;
  ReplicaRecord rec_;
  protocol::DesiredReplica want_;
};

TEST_F(VmModeSysfsTest, WholeGpuIsAManagedPciHostdev) {
  sys_.Device(kGpu, "12");
  Status st = Prepare(1000);
  // The domain is written before libvirt is asked; the test driver may be missing.
  std::string xml = Xml();
  ASSERT_FALSE(xml.empty()) << st.message();
  EXPECT_NE(xml.find("<hostdev mode='subsystem' type='pci' managed='yes'>"), std::string::npos);
  EXPECT_NE(xml.find("bus='0x65' slot='0x00' function='0x0'"), std::string::npos);
  EXPECT_NE(xml.find("<vcpu>2</vcpu>"), std::string::npos);
  EXPECT_NE(xml.find("<memory unit='MiB'>1024</memory>"), std::string::npos);
  ExpectValid();
}

TEST_F(VmModeSysfsTest, WholeGpuWithoutIommuIsRefusedWithTheReason) {
  sys_.Device(kGpu, "");
  Status st = Prepare(1000);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("vm isolation: GPU 0: the host has no IOMMU"), std::string::npos)
      << st.message();
}

TEST_F(VmModeSysfsTest, FractionTakesAVirtualFunctionWithTheSmallestTypeThatHoldsIt) {
  sys_.Device(kGpu, "12");
  sys_.Vf(kGpu, 0, "0000:65:00.4", kH100Types);
  Status st = Prepare(300);
  std::string xml = Xml();
  ASSERT_FALSE(xml.empty()) << st.message();
  EXPECT_NE(xml.find("managed='no'"), std::string::npos) << xml;
  EXPECT_NE(xml.find("function='0x4'"), std::string::npos) << xml;
  EXPECT_EQ(ReadFile(sys_.Dev("0000:65:00.4") + "/nvidia/current_vgpu_type"), "594");
  ExpectValid();
  // Release gives the VF back.
  MpsDaemons mps(dir_.path() + "/mps", "true");
  IsolationServices services{mps, dir_.path() + "/mps", "/dev", PosixFileEnv(), &vm_};
  (*FindIsolationMode(model::Isolation::kVm))->Release(rec_, services);
  EXPECT_EQ(ReadFile(sys_.Dev("0000:65:00.4") + "/nvidia/current_vgpu_type"), "0");
}

TEST_F(VmModeSysfsTest, FractionOnAGpuWhoseTypesNoLongerFitIsRefused) {
  sys_.Device(kGpu, "12");
  sys_.Vf(kGpu, 0, "0000:65:00.4", "592    : NVIDIA H100-10C\n");
  Status st = Prepare(300);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("no vGPU type fits any more"), std::string::npos) << st.message();
  FakeSysfs plain;
  vm_.sysfs_root = plain.root();
  plain.Device(kGpu, "12");
  st = Prepare(300);
  EXPECT_NE(st.message().find("offers no vGPU type"), std::string::npos) << st.message();
}

TEST_F(VmModeSysfsTest, FractionTakesTheTypeItWasPlacedAs) {
  sys_.Device(kGpu, "12");
  sys_.Vf(kGpu, 0, "0000:65:00.4", kH100Types);
  // Placed as the 80C (its share 1000 would be whole; any named type is taken as named).
  Status st = Prepare(500, "NVIDIA H100-80C");
  ASSERT_FALSE(Xml().empty()) << st.message();
  EXPECT_EQ(ReadFile(sys_.Dev("0000:65:00.4") + "/nvidia/current_vgpu_type"), "595");
}

TEST_F(VmModeSysfsTest, ATypeThatNoLongerFitsIsAClearReason) {
  sys_.Device(kGpu, "12");
  sys_.Vf(kGpu, 0, "0000:65:00.4", kH100Types, "592");  // the only VF is taken
  Status st = Prepare(500, "NVIDIA H100-40C");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("vm isolation: GPU 0: the vGPU type NVIDIA H100-40C no longer fits"),
            std::string::npos)
      << st.message();
}

TEST_F(VmModeSysfsTest, FractionAsAMediatedDevice) {
  sys_.Device(kGpu, "12");
  sys_.Mdev(kGpu, "nvidia-900", "NVIDIA A100-40C", 2);
  Status st = Prepare(300);
  std::string xml = Xml();
  ASSERT_FALSE(xml.empty()) << st.message();
  EXPECT_NE(xml.find("type='mdev'"), std::string::npos) << xml;
  // The mdev was created by writing its UUID to the type's create file.
  std::string created = ReadFile(sys_.Dev(kGpu) + "/mdev_supported_types/nvidia-900/create");
  EXPECT_EQ(created.size(), 36u) << created;
  EXPECT_NE(xml.find(created), std::string::npos);
  ExpectValid();
}

TEST_F(VmModeSysfsTest, LibvirtDownIsAClearReason) {
  sys_.Device(kGpu, "12");
  vm_.libvirt_uri = "qemu+unix:///system?socket=" + dir_.path() + "/no-libvirt.sock";
  Status st = Prepare(1000);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  // Where libvirt itself is missing the reason says that instead.
  EXPECT_TRUE(st.message().find("cannot connect to libvirt") != std::string::npos ||
              st.message().find("libvirt is not installed") != std::string::npos)
      << st.message();
}

// ---- what the GPUs offer to vm work at registration (vm_offers.h) ----

GpuSample RealGpu(int64_t memory_mib = 81920) {
  GpuSample g;
  g.gpu.index = 0;
  g.gpu.uuid = "GPU-x";
  g.gpu.model = "H100-80GB";
  g.gpu.memory_mib = memory_mib;
  g.pci_address = kGpu;
  return g;
}

VmOptions Configured(const std::string& sysfs_root) {
  VmOptions vm;
  vm.kernel = "/boot/vmlinuz";  // only whether one is configured matters here
  vm.sysfs_root = sysfs_root;
  return vm;
}

TEST(VmOffersTest, RealGpuOffersPassthroughAndItsTypesOnce) {
  FakeSysfs sys;
  sys.Device(kGpu, "12");
  sys.Vf(kGpu, 0, "0000:65:00.4", kH100Types);
  sys.Vf(kGpu, 1, "0000:65:00.5", kH100Types);  // the same types again: listed once
  std::vector<model::VmOffer> offers = VmOffers(Configured(sys.root()), {RealGpu()}, "");
  ASSERT_EQ(offers.size(), 1u);
  const model::VmOffer& o = offers[0];
  EXPECT_TRUE(o.passthrough);
  EXPECT_EQ(o.reason, "");
  ASSERT_EQ(o.types.size(), 3u);  // the 80C is the whole GPU: no fraction
  EXPECT_EQ(o.types[0].name, "NVIDIA H100-10C");
  EXPECT_EQ(o.types[0].milli, 125);
  EXPECT_EQ(o.types[0].framebuffer_mib, 10240);
  EXPECT_EQ(o.types[1].milli, 250);
  EXPECT_EQ(o.types[2].milli, 500);
  model::Gpu gpu = RealGpu().gpu;
  gpu.vm = o;
  EXPECT_TRUE(model::ValidateGpu(gpu).ok()) << model::ValidateGpu(gpu);
}

TEST(VmOffersTest, NoIommuNoTypesAndLibvirtDownAreReasons) {
  FakeSysfs sys;
  sys.Device(kGpu, "");
  std::vector<model::VmOffer> offers =
      VmOffers(Configured(sys.root()), {RealGpu()}, "cannot connect to libvirt at x");
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_FALSE(offers[0].passthrough);
  EXPECT_TRUE(offers[0].types.empty());
  EXPECT_NE(offers[0].reason.find("the host has no IOMMU"), std::string::npos) << offers[0].reason;
  EXPECT_NE(offers[0].reason.find("no vGPU type"), std::string::npos) << offers[0].reason;
  EXPECT_NE(offers[0].reason.find("cannot connect to libvirt at x"), std::string::npos)
      << offers[0].reason;
}

TEST(VmOffersTest, AnAgentWithoutAGuestOffersNothing) {
  FakeSysfs sys;
  sys.Device(kGpu, "12");
  VmOptions vm = Configured(sys.root());
  vm.kernel.clear();
  std::vector<model::VmOffer> offers = VmOffers(vm, {RealGpu()}, "");
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_TRUE(offers[0].Empty());
  EXPECT_EQ(LibvirtReason(vm), "");  // not even asked
}

TEST(VmOffersTest, SimulatedGpusOfferPassthroughAndTheirTypes) {
  GpuSample sim = RealGpu(81559);
  sim.gpu.simulated = true;
  sim.pci_address.clear();
  VmOptions vm = Configured("/nonexistent");
  std::vector<model::VmOffer> offers = VmOffers(vm, {sim}, "");
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_TRUE(offers[0].passthrough);
  ASSERT_EQ(offers[0].types.size(), 3u);
  EXPECT_EQ(offers[0].types[0].name, "H100-80GB-10C");
  EXPECT_EQ(offers[0].types[0].milli, 125);
  EXPECT_EQ(offers[0].types[2].name, "H100-80GB-40C");
  EXPECT_EQ(offers[0].types[2].milli, 500);

  vm.simulated_vgpu_types = "A100-4-20C:0.5,A100-2-10C:250m";
  offers = VmOffers(vm, {sim}, "");
  ASSERT_EQ(offers[0].types.size(), 2u);
  EXPECT_EQ(offers[0].types[0].name, "A100-2-10C");  // smallest first
  EXPECT_EQ(offers[0].types[0].milli, 250);
  EXPECT_EQ(offers[0].types[1].milli, 500);
  vm.simulated_vgpu_types = "none";
  offers = VmOffers(vm, {sim}, "");
  EXPECT_TRUE(offers[0].passthrough);
  EXPECT_TRUE(offers[0].types.empty());
}

TEST(VmOffersTest, BadSimulatedTypesNameTheEntry) {
  for (const char* bad : {"A100-2-10C", ":0.5", "x:1", "x:0", "x:abc", "a:0.5,b:0.5", "a:0.5,"}) {
    Result<std::vector<model::VmGpuType>> r = ParseSimulatedVgpuTypes(bad, "GPU", 81920);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("--simulate-vgpu-types"), std::string::npos)
        << r.status();
  }
}

}  // namespace
}  // namespace fastgpu::agent
