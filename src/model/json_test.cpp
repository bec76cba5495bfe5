// The model's JSON forms: round trips, strict decoding with field paths, unknown fields.
#include "model/json.h"

#include <gtest/gtest.h>

namespace fastgpu::model {
namespace {

namespace json = boost::json;

JobSpec SampleSpec() {
  JobSpec spec;
  spec.name = "train";
  spec.command = {"python", "train.py"};
  spec.env = {{"K", "V"}};
  spec.shape.gpu_count = 1;
  spec.shape.gpu_milli = 500;
  spec.shape.gpu_memory_mib = 20480;
  spec.shape.gpu_models = {"H100-80GB"};
  spec.shape.cpu_milli = 2000;
  spec.shape.memory_mib = 8192;
  spec.shape.isolation = Isolation::kMps;
  spec.replicas = 2;
  spec.max_retries = 3;
  spec.priority = -7;
  spec.run_as_root = true;
  spec.image = "localhost/app:v1";
  return spec;
}

// The message of decoding `text` as T (must fail).
template <class T>
std::string DecodeError(std::string_view text, UnknownFields unknown = UnknownFields::kIgnore) {
  Result<T> r = FromJsonText<T>(text, unknown);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ModelJsonTest, JobSpecRoundTrips) {
  const JobSpec spec = SampleSpec();
  Result<JobSpec> back = FromJsonText<JobSpec>(ToJsonText(spec));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->name, spec.name);
  EXPECT_EQ(back->command, spec.command);
  EXPECT_EQ(back->env, spec.env);
  EXPECT_EQ(back->shape, spec.shape);
  EXPECT_EQ(back->replicas, spec.replicas);
  EXPECT_EQ(back->max_retries, spec.max_retries);
  EXPECT_EQ(back->priority, spec.priority);
  EXPECT_EQ(back->run_as_root, spec.run_as_root);
  EXPECT_EQ(back->image, spec.image);
  // Through Boost's own entry point as well.
  auto via_boost = json::try_value_to<JobSpec>(json::value_from(spec));
  ASSERT_TRUE(via_boost.has_value());
  EXPECT_EQ(via_boost->shape, spec.shape);
}

TEST(ModelJsonTest, PortAndReadinessRoundTripAndStayAbsentByDefault) {
  JobSpec spec = SampleSpec();
  const std::string plain = ToJsonText(spec);
  EXPECT_EQ(plain.find("\"port\""), std::string::npos);
  EXPECT_EQ(plain.find("\"readiness\""), std::string::npos);
  spec.port = true;
  spec.readiness.kind = ReadinessProbe::Kind::kHttp;
  spec.readiness.http_path = "/healthz?full=1";
  Result<JobSpec> back = FromJsonText<JobSpec>(ToJsonText(spec));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->port);
  EXPECT_EQ(back->readiness, spec.readiness);
  spec.readiness = ReadinessProbe{ReadinessProbe::Kind::kTcp, ""};
  EXPECT_NE(ToJsonText(spec).find("\"readiness\":{\"tcp\":true}"), std::string::npos);
  back = FromJsonText<JobSpec>(ToJsonText(spec));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->readiness.kind, ReadinessProbe::Kind::kTcp);
  // A spec written before the fields existed reads as no port, no probe.
  back = FromJsonText<JobSpec>(R"({"command":["x"],"shape":{}})");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->port);
  EXPECT_EQ(back->readiness.kind, ReadinessProbe::Kind::kNone);
}

TEST(ModelJsonTest, BadReadinessNamesTheField) {
  const std::string head = R"({"command":["x"],"shape":{},"port":true,"readiness":)";
  EXPECT_EQ(DecodeError<JobSpec>(head + R"({}})"),
            R"(readiness: needs "http": "/path" or "tcp": true)");
  EXPECT_EQ(DecodeError<JobSpec>(head + R"({"http":"/","tcp":true}})"),
            R"(readiness: give either "http" or "tcp", not both)");
  EXPECT_EQ(DecodeError<JobSpec>(head + R"({"http":"healthz"}})"),
            "readiness.http: must start with '/'");
  EXPECT_EQ(DecodeError<JobSpec>(head + R"({"http":"/a b"}})"),
            "readiness.http: printable ASCII without spaces only (percent-encode the rest)");
  EXPECT_EQ(DecodeError<JobSpec>(head + R"({"http":7}})"),
            R"(readiness.http: must be a path such as "/healthz")");
  EXPECT_EQ(DecodeError<JobSpec>(head + R"({"tcp":"yes"}})"),
            "readiness.tcp: must be true or false");
  EXPECT_EQ(DecodeError<JobSpec>(head + R"({"tcp":true,"grpc":1}})", UnknownFields::kRefuse),
            "readiness.grpc: unknown field");
  EXPECT_EQ(DecodeError<JobSpec>(head + R"("/"})"), "readiness: must be an object");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":["x"],"shape":{},"port":1})"),
            "port: must be true or false");
}

TEST(ModelJsonTest, GpusAndSlicesRoundTripAsVectors) {
  std::vector<Gpu> gpus(2);
  for (int i = 0; i < 2; ++i) {
    gpus[i].index = i;
    gpus[i].uuid = "GPU-" + std::to_string(i);
    gpus[i].model = "A100-40GB";
    gpus[i].memory_mib = 40960;
  }
  gpus[1].healthy = false;
  gpus[1].health_reason = "XID 79";
  gpus[1].mig_enabled = true;
  auto back = json::try_value_to<std::vector<Gpu>>(json::value_from(gpus));
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].uuid, "GPU-1");
  EXPECT_FALSE((*back)[1].healthy);
  EXPECT_EQ((*back)[1].health_reason, "XID 79");
  EXPECT_TRUE((*back)[1].mig_enabled);

  std::vector<VgpuSlice> slices = {{0, "GPU-0", 500, 20480, Isolation::kMps},
                                   {1, "GPU-1", 1000, 40960, Isolation::kExclusive}};
  Result<std::vector<VgpuSlice>> sb = FromJson<std::vector<VgpuSlice>>(json::value_from(slices));
  ASSERT_TRUE(sb.ok()) << sb.status();
  EXPECT_EQ(*sb, slices);
}

TEST(ModelJsonTest, VmOfferRoundTripsAndIsOptional) {
  Gpu g;
  g.uuid = "GPU-0";
  g.model = "A100-80GB";
  g.memory_mib = 81920;
  // Without an offer the field is absent, and its absence reads as "nothing offered".
  json::value plain = json::value_from(g);
  EXPECT_FALSE(plain.as_object().contains("vm"));
  Result<Gpu> old = FromJson<Gpu>(plain);
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_TRUE(old->vm.Empty());
  EXPECT_FALSE(old->vm.passthrough);

  g.vm.passthrough = true;
  g.vm.types = {{"NVIDIA A100-20C", 250, 20480}, {"NVIDIA A100-40C", 500, 40960}};
  g.vm.reason = "cannot connect to libvirt";
  json::value with = json::value_from(g);
  ASSERT_TRUE(with.as_object().contains("vm"));
  Result<Gpu> back = FromJson<Gpu>(with);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->vm, g.vm);
  EXPECT_TRUE(ValidateGpu(*back).ok());
  ASSERT_NE(SmallestVmTypeFor(back->vm, 300), nullptr);
  EXPECT_EQ(SmallestVmTypeFor(back->vm, 300)->name, "NVIDIA A100-40C");
  EXPECT_EQ(SmallestVmTypeFor(back->vm, 501), nullptr);

  // Bad offers name the field.
  Result<Gpu> bad = FromJsonText<Gpu>(
      R"({"index":0,"uuid":"u","model":"A100-80GB","memory_mib":1,)"
      R"("vm":{"types":[{"name":"x","milli":1001}]}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("vm.types[0].milli"), std::string::npos)
      << bad.status();
  g.vm.types = {{"NVIDIA A100-40C", 500, 40960}, {"NVIDIA A100-20C", 250, 20480}};
  Status unsorted = ValidateGpu(g);
  EXPECT_FALSE(unsorted.ok());
  EXPECT_NE(unsorted.message().find("smallest first"), std::string::npos) << unsorted;
}

TEST(ModelJsonTest, SliceVmTypeRoundTripsAndIsOptional) {
  VgpuSlice s{0, "GPU-0", 500, 0, Isolation::kVm};
  EXPECT_FALSE(json::value_from(s).as_object().contains("vm_type"));
  s.vm_type = "NVIDIA A100-40C";
  Result<VgpuSlice> back = FromJson<VgpuSlice>(json::value_from(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->vm_type, "NVIDIA A100-40C");
  EXPECT_EQ(*back, s);
}

TEST(ModelJsonTest, ShapeDefaultsAndWholeGpuMilli) {
  Result<Shape> s = FromJsonText<Shape>(R"({"gpu_count":2})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->gpu_milli, 1000);
  EXPECT_EQ(s->isolation, Isolation::kDefault);
  Result<Shape> empty = FromJsonText<Shape>("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, Shape{});
}

TEST(ModelJsonTest, ErrorsNameTheFieldPath) {
  EXPECT_EQ(DecodeError<JobSpec>(R"({"shape":{}})"), "command: is required");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":["x"]})"), "shape: is required");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":"x","shape":{}})"),
            "command: must be an array of strings");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":["x"],"shape":{"cpu_milli":"lots"}})"),
            "shape.cpu_milli: must be an integer");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":["x"],"shape":{"gpu_milli":1500}})"),
            "shape.gpu_milli: must be between 0 and 1000");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":["x"],"shape":[]})"), "shape: must be an object");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":["x"],"env":{"A":1},"shape":{}})"),
            "env.A: must be a string");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":["x"],"shape":{},"max_retries":1.5})"),
            "max_retries: must be an integer");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":["x"],"shape":{},"run_as_root":"yes"})"),
            "run_as_root: must be true or false");
  EXPECT_NE(DecodeError<Shape>(R"({"isolation":"magic"})").find("isolation: "), std::string::npos);
  EXPECT_EQ(DecodeError<std::vector<Gpu>>(R"([{"index":0,"uuid":"u","model":"m","memory_mib":1},
                                               {"index":"one"}])"),
            "[1].index: must be an integer");
  EXPECT_EQ(DecodeError<std::vector<VgpuSlice>>(R"({})"), "value: must be an array");
  EXPECT_EQ(DecodeError<Gpu>("[]"), "value: must be an object");
  EXPECT_EQ(DecodeError<Gpu>("{not json").rfind("not valid JSON", 0), 0u);
}

TEST(ModelJsonTest, NumbersOutOfRangeAreErrorsNotCasts) {
  // Beyond int64, beyond int, fractional, huge doubles: each an error, never a wrapped value.
  EXPECT_EQ(
      DecodeError<VgpuSlice>(R"({"gpu_index":18446744073709551615,"milli":1,"isolation":"mps"})"),
      "gpu_index: out of range");
  EXPECT_EQ(DecodeError<VgpuSlice>(R"({"gpu_index":4294967296,"milli":1,"isolation":"mps"})"),
            "gpu_index: must be between 0 and 1023");
  EXPECT_EQ(DecodeError<VgpuSlice>(R"({"gpu_index":0,"milli":1e300,"isolation":"mps"})"),
            "milli: must be an integer");
  EXPECT_EQ(DecodeError<VgpuSlice>(R"({"gpu_index":0,"milli":0,"isolation":"mps"})"),
            "milli: must be between 1 and 1000");
  // An integral double is an integer.
  Result<VgpuSlice> s =
      FromJsonText<VgpuSlice>(R"({"gpu_index":1.0,"milli":500,"isolation":"mps"})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->gpu_index, 1);
  auto boost_err = json::try_value_to<VgpuSlice>(json::parse(R"({"gpu_index":-1})"));
  EXPECT_TRUE(boost_err.has_error());
}

TEST(ModelJsonTest, UnknownFieldsAreIgnoredUnlessRefused) {
  const std::string text = R"({"command":["x"],"shape":{"cpu_milli":1,"colour":"red"},"bogus":1})";
  Result<JobSpec> lenient = FromJsonText<JobSpec>(text);
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->shape.cpu_milli, 1);
  EXPECT_EQ(DecodeError<JobSpec>(text, UnknownFields::kRefuse), "shape.colour: unknown field");
  EXPECT_EQ(
      DecodeError<JobSpec>(R"({"command":["x"],"shape":{},"bogus":1})", UnknownFields::kRefuse),
      "bogus: unknown field");
}

TEST(ModelJsonTest, NullReadsAsAbsent) {
  Result<JobSpec> spec =
      FromJsonText<JobSpec>(R"({"command":["x"],"shape":{"cpu_milli":1},"name":null})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "");
  EXPECT_EQ(DecodeError<JobSpec>(R"({"command":null,"shape":{}})"), "command: is required");
}

TEST(ModelJsonTest, EncodeOnlyTypesHaveTheirFields) {
  Allocation a;
  a.id = "alloc-1";
  a.job_id = "job-1";
  a.node_id = "node-1";
  a.slices = {{0, "GPU-0", 250, 0, Isolation::kShared}};
  json::value v = json::value_from(a);
  EXPECT_EQ(v.at("allocation_id").as_string(), "alloc-1");
  EXPECT_EQ(v.at("slices").at(0).at("isolation").as_string(), "shared");
  Job job;
  job.id = "job-1";
  job.spec = SampleSpec();
  job.events.push_back({FromUnixMillis(5), JobState::kPending, JobState::kScheduled, "placed"});
  json::value j = json::value_from(job);
  EXPECT_EQ(j.at("state").as_string(), "pending");
  EXPECT_EQ(j.at("events").at(0).at("to").as_string(), "scheduled");
  EXPECT_EQ(j.at("events").at(0).at("at").as_int64(), 5);
  EXPECT_EQ(j.at("shape").at("gpu_milli").as_int64(), 500);
  Tenant t;
  t.quota.max_gpu_milli = 4000;
  EXPECT_EQ(json::value_from(t).at("max_gpu_milli").as_int64(), 4000);
}

TEST(ModelJsonTest, ReaderForAnswers) {
  json::value v = json::parse(R"({"id":"job-1","state":3})");
  std::string id, state;
  JsonObjectReader r(v);
  r.Str("id", id, Need::kRequired).Str("state", state, Need::kRequired);
  EXPECT_EQ(id, "job-1");
  EXPECT_EQ(r.Finish().message(), "state: must be a string");
}

}  // namespace
}  // namespace fastgpu::model
