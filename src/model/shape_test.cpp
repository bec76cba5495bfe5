#include "model/shape.h"

#include <gtest/gtest.h>

#include "model/gpu.h"

namespace fastgpu::model {
namespace {

Shape Fraction(int milli) {
  Shape s;
  s.gpu_count = 1;
  s.gpu_milli = milli;
  return s;
}

Shape Whole(int n) {
  Shape s;
  s.gpu_count = n;
  s.gpu_milli = 1000;
  return s;
}

void ExpectInvalid(const Shape& s, const std::string& needle) {
  Status st = ValidateShape(s, &KnownGpuModels());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << needle;
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
}

TEST(ShapeTest, ValidShapes) {
  EXPECT_TRUE(ValidateShape(Fraction(500)).ok());
  EXPECT_TRUE(ValidateShape(Whole(8)).ok());
  Shape cpu;
  cpu.cpu_milli = 2000;
  EXPECT_TRUE(ValidateShape(cpu).ok());
  Shape h = Fraction(500);
  h.gpu_models = {"H100-80GB", "A100-80GB"};
  h.gpu_memory_mib = 40 * 1024;
  EXPECT_TRUE(ValidateShape(h, &KnownGpuModels()).ok());
}

TEST(ShapeTest, Negative) {
  Shape s = Whole(1);
  s.cpu_milli = -1;
  ExpectInvalid(s, "cpu_milli");
  s = Whole(1);
  s.memory_mib = -5;
  ExpectInvalid(s, "memory");
  s = Whole(1);
  s.gpu_memory_mib = -5;
  ExpectInvalid(s, "gpu_memory");
  s.gpu_memory_mib = 0;
  s.gpu_count = -2;
  ExpectInvalid(s, "gpu_count");
  ExpectInvalid(Fraction(-3), "gpu_milli");
}

TEST(ShapeTest, ZeroGpusWithGpuAsks) {
  Shape s;
  s.cpu_milli = 1000;
  s.gpu_memory_mib = 1024;
  ExpectInvalid(s, "gpu_memory");
  s.gpu_memory_mib = 0;
  s.gpu_milli = 500;
  ExpectInvalid(s, "gpu_milli");
  s.gpu_milli = 0;
  s.gpu_models = {"T4"};
  ExpectInvalid(s, "gpu_models");
}

TEST(ShapeTest, FractionOverOneGpu) {
  ExpectInvalid(Fraction(1001), "at most 1000");
  Shape s = Whole(2);
  s.gpu_milli = 500;
  ExpectInvalid(s, "must be 1000");
  s = Whole(1);
  s.gpu_milli = 0;
  ExpectInvalid(s, "gpu_milli");
  ExpectInvalid(Whole(65), "at most 64");
}

TEST(ShapeTest, EmptyRequest) { ExpectInvalid(Shape{}, "empty request"); }

TEST(ShapeTest, UnknownModel) {
  Shape s = Whole(1);
  s.gpu_models = {"H100-80GB", "Z9000"};
  ExpectInvalid(s, "unknown GPU model 'Z9000'");
  s.gpu_models = {"T4", "T4"};
  ExpectInvalid(s, "twice");
  s.gpu_models = {"bad model!"};
  ExpectInvalid(s, "character");
  // Without a catalogue only the syntax is checked.
  s.gpu_models = {"Z9000"};
  EXPECT_TRUE(ValidateShape(s).ok());
}

TEST(ShapeTest, Isolation) {
  Shape f = Fraction(250);
  EXPECT_EQ(f.EffectiveIsolation(), Isolation::kMps);
  EXPECT_EQ(Whole(2).EffectiveIsolation(), Isolation::kExclusive);
  f.isolation = Isolation::kExclusive;
  ExpectInvalid(f, "exclusive");
  f.isolation = Isolation::kVm;  // a vGPU type of the GPU (docs/vm-isolation.md)
  EXPECT_TRUE(ValidateShape(f, &KnownGpuModels()).ok());
  Shape m = Whole(2);
  m.isolation = Isolation::kMig;
  ExpectInvalid(m, "mig");
  Shape cpu;
  cpu.cpu_milli = 1;
  cpu.isolation = Isolation::kMps;
  ExpectInvalid(cpu, "isolation");
  EXPECT_EQ(*ParseIsolation("shared"), Isolation::kShared);
  EXPECT_FALSE(ParseIsolation("bogus").ok());
}

TEST(ShapeTest, Describe) {
  Shape s = Fraction(500);
  s.gpu_memory_mib = 20 * 1024;
  s.cpu_milli = 2000;
  s.memory_mib = 8192;
  EXPECT_EQ(DescribeShape(s), "0.5 GPU (20GiB), 2 CPU, 8GiB");
}

}  // namespace
}  // namespace fastgpu::model
