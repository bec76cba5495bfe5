// The JSON columns of the SQLite store: round trips, older rows, malformed rows.
#include "store/sqlite_codec.h"

#include <gtest/gtest.h>

#include "store/store_test_util.h"

namespace fastgpu::testing {
namespace {

TEST(SqliteCodecTest, JobSpecRoundTrips) {
  const model::JobSpec spec = MakeJob("job-1", "tenant-1").spec;
  auto back = store::DecodeJobSpec(store::EncodeJobSpec(spec));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->name, spec.name);
  EXPECT_EQ(back->command, spec.command);
  EXPECT_EQ(back->env, spec.env);
  EXPECT_EQ(back->shape, spec.shape);
  EXPECT_EQ(back->replicas, spec.replicas);
  EXPECT_EQ(back->max_retries, spec.max_retries);
  EXPECT_EQ(back->priority, spec.priority);
  EXPECT_EQ(back->image, "");
  model::JobSpec boxed = spec;
  boxed.image = "registry.internal:5000/ml/train:v3";
  auto boxed_back = store::DecodeJobSpec(store::EncodeJobSpec(boxed));
  ASSERT_TRUE(boxed_back.ok()) << boxed_back.status();
  EXPECT_EQ(boxed_back->image, boxed.image);
}

TEST(SqliteCodecTest, JobSpecWithoutPriorityReadsAsZero) {
  auto spec = store::DecodeJobSpec(
      R"({"name":"","command":["true"],"env":{},"shape":{"gpu_count":0,"gpu_milli":0,)"
      R"("gpu_memory_mib":0,"gpu_models":[],"cpu_milli":100,"memory_mib":0,)"
      R"("isolation":"default"},"replicas":1,"max_retries":0})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->priority, 0);
  EXPECT_EQ(spec->image, "");  // rows of older versions have no image: a plain process
  EXPECT_EQ(spec->shape.cpu_milli, 100);
}

// Columns exactly as the previous codec wrote them (before the model's shared JSON forms):
// every data dir made by an older build must still read the same.
TEST(SqliteCodecTest, ColumnsOfTheOldStoredFormatStillRead) {
  auto spec = store::DecodeJobSpec(
      R"({"name":"train","command":["python","train.py"],"env":{"K":"V"},)"
      R"("shape":{"gpu_count":1,"gpu_milli":500,"gpu_memory_mib":20480,)"
      R"("gpu_models":["H100-80GB"],"cpu_milli":2000,"memory_mib":8192,"isolation":"mps"},)"
      R"("replicas":2,"max_retries":1,"priority":5,"image":"localhost/app:v1","run_as_root":true})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "train");
  EXPECT_EQ(spec->command, (std::vector<std::string>{"python", "train.py"}));
  EXPECT_EQ(spec->env.at("K"), "V");
  EXPECT_EQ(spec->shape.gpu_milli, 500);
  EXPECT_EQ(spec->shape.gpu_memory_mib, 20480);
  EXPECT_EQ(spec->shape.gpu_models, std::vector<std::string>{"H100-80GB"});
  EXPECT_EQ(spec->shape.isolation, model::Isolation::kMps);
  EXPECT_EQ(spec->replicas, 2);
  EXPECT_EQ(spec->max_retries, 1);
  EXPECT_EQ(spec->priority, 5);
  EXPECT_EQ(spec->image, "localhost/app:v1");
  EXPECT_TRUE(spec->run_as_root);
  auto gpus = store::DecodeGpus(
      R"([{"index":0,"uuid":"GPU-a","model":"A100-40GB","memory_mib":40960,"healthy":true,)"
      R"("health_reason":"","mig_enabled":false,"simulated":false},)"
      R"({"index":1,"uuid":"GPU-b","model":"A100-40GB","memory_mib":40960,"healthy":false,)"
      R"("health_reason":"XID 79","mig_enabled":true,"simulated":true}])");
  ASSERT_TRUE(gpus.ok()) << gpus.status();
  ASSERT_EQ(gpus->size(), 2u);
  EXPECT_EQ((*gpus)[1].uuid, "GPU-b");
  EXPECT_FALSE((*gpus)[1].healthy);
  EXPECT_EQ((*gpus)[1].health_reason, "XID 79");
  EXPECT_TRUE((*gpus)[1].mig_enabled);
  EXPECT_TRUE((*gpus)[1].simulated);
  auto slices = store::DecodeSlices(
      R"([{"gpu_index":1,"gpu_uuid":"GPU-b","milli":250,"memory_mib":10240,"isolation":"shared"}])");
  ASSERT_TRUE(slices.ok()) << slices.status();
  EXPECT_EQ(*slices,
            (std::vector<model::VgpuSlice>{{1, "GPU-b", 250, 10240, model::Isolation::kShared}}));
  // What is written now keeps those field names (an older build reads it back too).
  EXPECT_NE(store::EncodeJobSpec(*spec).find(R"("max_retries":1)"), std::string::npos);
  EXPECT_NE(store::EncodeGpus(*gpus).find(R"("health_reason":"XID 79")"), std::string::npos);
  EXPECT_EQ(store::EncodeSlices(*slices),
            R"([{"gpu_index":1,"gpu_uuid":"GPU-b","milli":250,"memory_mib":10240,)"
            R"("isolation":"shared"}])");
}

TEST(SqliteCodecTest, GpusAndSlicesRoundTrip) {
  const store::NodeRecord node = MakeNode("node-1", "a1", 3);
  auto gpus = store::DecodeGpus(store::EncodeGpus(node.node.gpus));
  ASSERT_TRUE(gpus.ok()) << gpus.status();
  ASSERT_EQ(gpus->size(), 3u);
  EXPECT_EQ((*gpus)[2].uuid, node.node.gpus[2].uuid);
  EXPECT_EQ((*gpus)[2].memory_mib, node.node.gpus[2].memory_mib);
  const store::AllocationRecord alloc = MakeAlloc("alloc-1", "job-1", "node-1");
  auto slices = store::DecodeSlices(store::EncodeSlices(alloc.alloc.slices));
  ASSERT_TRUE(slices.ok()) << slices.status();
  EXPECT_EQ(*slices, alloc.alloc.slices);
}

TEST(SqliteCodecTest, MalformedColumnsAreDataLoss) {
  EXPECT_EQ(store::DecodeJobSpec("{not json").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(store::DecodeJobSpec(R"({"name":1})").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(store::DecodeGpus(R"([{"index":"zero"}])").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(store::DecodeSlices(R"([{"gpu_index":0,"gpu_uuid":"u","milli":1,"memory_mib":0,)"
                                R"("isolation":"teleport"}])")
                .status()
                .code(),
            StatusCode::kDataLoss);
  // The message names the damaged field; no out-of-range value is cast.
  auto big = store::DecodeSlices(R"([{"gpu_index":4294967296,"milli":1,"isolation":"mps"}])");
  EXPECT_EQ(big.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(big.status().message().find("[0].gpu_index"), std::string::npos) << big.status();
}

}  // namespace
}  // namespace fastgpu::testing
