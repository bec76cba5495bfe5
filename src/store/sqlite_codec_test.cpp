// The JSON columns of the SQLite store: round trips, older rows, malformed rows.
#include "store/sqlite_codec.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

TEST(SqliteCodecTest, JobSpecRoundTrips) {
  const JobSpec spec = MakeJob("job-1", "tenant-1").spec;
  auto back = DecodeJobSpec(EncodeJobSpec(spec));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->name, spec.name);
  EXPECT_EQ(back->command, spec.command);
  EXPECT_EQ(back->env, spec.env);
  EXPECT_EQ(back->shape, spec.shape);
  EXPECT_EQ(back->replicas, spec.replicas);
  EXPECT_EQ(back->max_retries, spec.max_retries);
  EXPECT_EQ(back->priority, spec.priority);
  EXPECT_EQ(back->image, "");
  JobSpec boxed = spec;
  boxed.image = "registry.internal:5000/ml/train:v3";
  auto boxed_back = DecodeJobSpec(EncodeJobSpec(boxed));
  ASSERT_TRUE(boxed_back.ok()) << boxed_back.status();
  EXPECT_EQ(boxed_back->image, boxed.image);
}

TEST(SqliteCodecTest, JobSpecWithoutPriorityReadsAsZero) {
  auto spec = DecodeJobSpec(
      R"({"name":"","command":["true"],"env":{},"shape":{"gpu_count":0,"gpu_milli":0,)"
      R"("gpu_memory_mib":0,"gpu_models":[],"cpu_milli":100,"memory_mib":0,)"
      R"("isolation":"default"},"replicas":1,"max_retries":0})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->priority, 0);
  EXPECT_EQ(spec->image, "");  // rows of older versions have no image: a plain process
  EXPECT_EQ(spec->shape.cpu_milli, 100);
}

TEST(SqliteCodecTest, GpusAndSlicesRoundTrip) {
  const NodeRecord node = MakeNode("node-1", "a1", 3);
  auto gpus = DecodeGpus(EncodeGpus(node.node.gpus));
  ASSERT_TRUE(gpus.ok()) << gpus.status();
  ASSERT_EQ(gpus->size(), 3u);
  EXPECT_EQ((*gpus)[2].uuid, node.node.gpus[2].uuid);
  EXPECT_EQ((*gpus)[2].memory_mib, node.node.gpus[2].memory_mib);
  const AllocationRecord alloc = MakeAlloc("alloc-1", "job-1", "node-1");
  auto slices = DecodeSlices(EncodeSlices(alloc.alloc.slices));
  ASSERT_TRUE(slices.ok()) << slices.status();
  EXPECT_EQ(*slices, alloc.alloc.slices);
}

TEST(SqliteCodecTest, MalformedColumnsAreDataLoss) {
  EXPECT_EQ(DecodeJobSpec("{not json").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeJobSpec(R"({"name":1})").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeGpus(R"([{"index":"zero"}])").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeSlices(R"([{"gpu_index":0,"gpu_uuid":"u","milli":1,"memory_mib":0,)"
                         R"("isolation":"teleport"}])")
                .status()
                .code(),
            StatusCode::kDataLoss);
}

}  // namespace
}  // namespace fastgpu::testing
