#include "agent/fake_inventory.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/health.h"
#include "common/testing/temp_dir.h"

namespace fastgpu::agent {
namespace {

TEST(FakeInventoryTest, ParsesSpecs) {
  auto inv = FakeGpuInventory::Create("2xH100-80GB,1xA100-80GB:mig", "seed");
  ASSERT_TRUE(inv.ok()) << inv.status();
  auto gpus = (*inv)->Sample();
  ASSERT_TRUE(gpus.ok());
  ASSERT_EQ(gpus->size(), 3u);
  EXPECT_EQ((*gpus)[0].gpu.model, "H100-80GB");
  EXPECT_EQ((*gpus)[0].gpu.memory_mib, 81559);
  EXPECT_TRUE((*gpus)[0].gpu.simulated);
  EXPECT_FALSE((*gpus)[0].gpu.mig_enabled);
  EXPECT_EQ((*gpus)[2].gpu.index, 2);
  EXPECT_TRUE((*gpus)[2].gpu.mig_enabled);
  EXPECT_EQ((*gpus)[2].mig_instances.size(), 7u);
  EXPECT_NE((*gpus)[0].gpu.uuid, (*gpus)[1].gpu.uuid);
  // Same seed, same UUIDs; another seed, others.
  auto again = FakeGpuInventory::Create("2xH100-80GB", "seed");
  auto other = FakeGpuInventory::Create("2xH100-80GB", "other");
  EXPECT_EQ((*(*again)->Sample())[1].gpu.uuid, (*gpus)[1].gpu.uuid);
  EXPECT_NE((*(*other)->Sample())[1].gpu.uuid, (*gpus)[1].gpu.uuid);
  EXPECT_EQ(SimulatedMemoryMib("FOO-24GB"), 24 * 1024);
  // Device nodes: /dev/nvidia<index> for simulated GPUs; NVML's minor number otherwise.
  EXPECT_EQ((*gpus)[2].device_minor, 2);
  EXPECT_EQ(GpuDevicePath((*gpus)[2], "/dev"), "/dev/nvidia2");
  GpuSample real = (*gpus)[0];
  real.device_minor = 5;
  EXPECT_EQ(GpuDevicePath(real, "/tmp/fake-dev"), "/tmp/fake-dev/nvidia5");
  real.device_minor = -1;
  EXPECT_EQ(GpuDevicePath(real, "/dev"), "/dev/nvidia0");
}

TEST(FakeInventoryTest, RefusesBadSpecs) {
  for (const char* spec : {"", "H100", "0xH100-80GB", "ax L4", "65xL4", "2xbad name", "4x"}) {
    auto inv = FakeGpuInventory::Create(spec);
    EXPECT_EQ(inv.status().code(), StatusCode::kInvalidArgument) << spec;
  }
}

TEST(FakeInventoryTest, FaultFileLinesApplyOnce) {
  testing::TempDir dir;
  std::string file = dir.path() + "/faults";
  auto inv = FakeGpuInventory::Create("3xL4", "", file);
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE((*inv)->DrainEvents().empty());  // no file yet
  std::ofstream(file) << "# comment\nxid 1 79\necc 2 3\n";
  auto events = (*inv)->DrainEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].gpu_index, 1);
  EXPECT_EQ(events[0].xid, 79);
  EXPECT_EQ((*(*inv)->Sample())[2].ecc_uncorrected, 3);
  std::ofstream(file, std::ios::app) << "lost 0\nxid 9 79\n";
  EXPECT_TRUE((*inv)->DrainEvents().empty());  // the old line is not applied again
  EXPECT_FALSE((*(*inv)->Sample())[0].present);
}

TEST(HealthTest, FatalXidEccLostAndTemperature) {
  auto inv = FakeGpuInventory::Create("4xH100-80GB");
  ASSERT_TRUE(inv.ok());
  HealthThresholds t;
  t.max_uncorrected_ecc = 1;
  t.max_temperature_c = 90;
  HealthTracker tracker(t);
  (*inv)->InjectXid(0, 79);
  (*inv)->InjectXid(1, 13);  // not fatal by default
  (*inv)->SetEccUncorrected(2, 2);
  (*inv)->SetTemperature(3, 91);
  tracker.Observe((*inv)->DrainEvents());
  auto gpus = tracker.Evaluate(*(*inv)->Sample());
  EXPECT_FALSE(gpus[0].healthy);
  EXPECT_EQ(gpus[0].health_reason, "XID 79 (fell off the bus)");
  EXPECT_TRUE(gpus[1].healthy);
  EXPECT_FALSE(gpus[2].healthy);
  EXPECT_NE(gpus[2].health_reason.find("uncorrectable ECC"), std::string::npos);
  EXPECT_FALSE(gpus[3].healthy);
  // ECC and temperature follow the reading; the XID verdict sticks.
  (*inv)->SetEccUncorrected(2, 1);
  (*inv)->SetTemperature(3, 50);
  (*inv)->RemoveGpu(1);
  gpus = tracker.Evaluate(*(*inv)->Sample());
  EXPECT_FALSE(gpus[0].healthy);
  EXPECT_FALSE(gpus[1].healthy);
  EXPECT_NE(gpus[1].health_reason.find("fell off the bus"), std::string::npos);
  EXPECT_TRUE(gpus[2].healthy);
  EXPECT_TRUE(gpus[3].healthy);
}

}  // namespace
}  // namespace fastgpu::agent
