#include "agent/gpu_names.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include "agent/nvml_inventory.h"
#include "model/gpu.h"

namespace fastgpu::agent {
namespace {

TEST(GpuNamesTest, MapsNvmlProductNamesToCatalogueModels) {
  EXPECT_EQ(ModelFromProductName("NVIDIA H100 80GB HBM3", 81559), "H100-80GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA H100 PCIe", 81559), "H100-80GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA H100 NVL", 95830), "H100-94GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA H200", 143771), "H200-141GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA A100-SXM4-80GB", 81920), "A100-80GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA A100-SXM4-40GB", 40960), "A100-40GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA A100-PCIE-40GB", 40536), "A100-40GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA A100 80GB PCIe", 81920), "A100-80GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA A800-SXM4-80GB", 81920), "A800-80GB");
  EXPECT_EQ(ModelFromProductName("NVIDIA L40S", 46068), "L40S");
  EXPECT_EQ(ModelFromProductName("NVIDIA L4", 23034), "L4");
  EXPECT_EQ(ModelFromProductName("NVIDIA A10", 23028), "A10");
  EXPECT_EQ(ModelFromProductName("Tesla T4", 15360), "T4");
  EXPECT_EQ(ModelFromProductName("Tesla V100-SXM2-16GB", 16160), "V100M16");
  EXPECT_EQ(ModelFromProductName("Tesla V100-SXM2-32GB", 32510), "V100M32");
  EXPECT_EQ(ModelFromProductName("Tesla P100-PCIE-16GB", 16280), "P100");
  EXPECT_EQ(ModelFromProductName("NVIDIA GeForce RTX 4090", 24564), "RTX4090");
  EXPECT_EQ(ModelFromProductName("NVIDIA B200", 183359), "B200");
}

TEST(GpuNamesTest, KeepsUnknownNamesSanitised) {
  EXPECT_EQ(ModelFromProductName("NVIDIA RTX A6000", 49140), "RTX-A6000");
  EXPECT_EQ(ModelFromProductName("NVIDIA A10G", 23028), "A10G");
  EXPECT_EQ(ModelFromProductName("", 0), "unknown");
  EXPECT_EQ(SanitizeModelName("  Foo (rev 2) / x  "), "Foo-rev-2-x");
  EXPECT_EQ(SanitizeModelName(std::string(100, 'a')).size(), 64u);
  for (const char* name : {"NVIDIA RTX A6000", "Weird GPU™ 9000", "---"}) {
    EXPECT_TRUE(model::ValidateGpuModelName(ModelFromProductName(name, 0)).ok()) << name;
  }
}

TEST(NvmlInventoryTest, MissingLibraryIsAClearNoNvmlError) {
  void* real = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (real != nullptr) {
    dlclose(real);
    GTEST_SKIP() << "libnvidia-ml.so.1 is present on this machine";
  }
  auto inv = NvmlGpuInventory::Open();
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(inv.status().message().find("no NVML"), std::string::npos) << inv.status();
  EXPECT_NE(inv.status().message().find("libnvidia-ml.so.1"), std::string::npos);
}

TEST(NvmlInventoryTest, LibraryWithoutNvmlSymbolsIsRefused) {
  auto inv = NvmlGpuInventory::Open("libc.so.6");
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(inv.status().message().find("lacks nvmlInit_v2"), std::string::npos) << inv.status();
}

TEST(NvmlInventoryTest, OpenGpuInventoryFallsBackToSimulatedGpus) {
  InventoryChoice choice;
  choice.fallback_simulate = "2xL4";
  std::string note;
  auto inv = OpenGpuInventory(choice, &note);
  ASSERT_TRUE(inv.ok()) << inv.status();
  if (!(*inv)->simulated()) GTEST_SKIP() << "real GPUs found: " << note;
  EXPECT_NE(note.find("simulated GPUs 2xL4"), std::string::npos) << note;
  EXPECT_NE(note.find("no NVML"), std::string::npos) << note;
  choice.fallback_simulate.clear();
  EXPECT_EQ(OpenGpuInventory(choice).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace fastgpu::agent
