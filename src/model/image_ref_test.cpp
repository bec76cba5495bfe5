#include "model/image_ref.h"

#include <gtest/gtest.h>

#include "model/job.h"

namespace fastgpu::model {
namespace {

std::string Canon(std::string_view text) {
  auto ref = ParseImageRef(text);
  return ref.ok() ? ref->Canonical() : "ERROR: " + ref.status().message();
}

TEST(ImageRefTest, NormalisesRegistryRepositoryAndTag) {
  EXPECT_EQ(Canon("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Canon("team/trainer:v3"), "docker.io/team/trainer:v3");
  EXPECT_EQ(Canon("localhost/fastgpu-test-busybox"), "localhost/fastgpu-test-busybox:latest");
  EXPECT_EQ(Canon("Registry.Internal:5000/ml/train_er:1.0-rc"),
            "registry.internal:5000/ml/train_er:1.0-rc");
  EXPECT_EQ(Canon("index.docker.io/busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(Canon("quay.io/a/b/c"), "quay.io/a/b/c:latest");
  std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(Canon("ghcr.io/x/y@" + digest), "ghcr.io/x/y@" + digest);
  EXPECT_EQ(Canon("ghcr.io/x/y:v1@" + digest), "ghcr.io/x/y:v1@" + digest);
  // A port, not a tag: the colon is before the last slash.
  auto ref = ParseImageRef("localhost:5000/app");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->registry, "localhost:5000");
  EXPECT_EQ(ref->repository, "app");
  EXPECT_EQ(ref->tag, "latest");
}

TEST(ImageRefTest, RefusesMalformedReferences) {
  for (const char* bad : {"",
                          "Busybox",
                          "a//b",
                          "/a",
                          "a/",
                          "busybox:",
                          "busybox:-x",
                          "busybox:a b",
                          "a b",
                          "localhost/",
                          "reg.io:port/app",
                          "reg..io/app",
                          "-reg.io/app",
                          "app@sha256:abc",
                          "app@sha256:zz",
                          "a--/b",
                          "a..b",
                          "foo/-bar",
                          "x\n",
                          "--privileged"}) {
    auto ref = ParseImageRef(bad);
    EXPECT_FALSE(ref.ok()) << "accepted '" << bad << "' as " << ref->Canonical();
    if (!ref.ok()) {
      EXPECT_NE(ref.status().message().find("is not a valid image reference"), std::string::npos)
          << ref.status().message();
    }
  }
  EXPECT_FALSE(ParseImageRef(std::string(300, 'a')).ok());
  EXPECT_FALSE(ParseImageRef("app:" + std::string(129, 't')).ok());
  EXPECT_FALSE(ParseImageRef("app@sha256:" + std::string(63, 'a')).ok());
}

TEST(ImageRefTest, RegistryAllowList) {
  auto local = ParseImageRef("localhost/app");
  auto hub = ParseImageRef("busybox");
  auto internal = ParseImageRef("registry.internal:5000/app");
  ASSERT_TRUE(local.ok() && hub.ok() && internal.ok());
  std::vector<std::string> allowed{"localhost", "Registry.Internal:5000"};
  EXPECT_TRUE(RegistryAllowed(*local, allowed));
  EXPECT_TRUE(RegistryAllowed(*internal, allowed));
  EXPECT_FALSE(RegistryAllowed(*hub, allowed));
  EXPECT_TRUE(RegistryAllowed(*hub, {"index.docker.io"}));
  EXPECT_FALSE(RegistryAllowed(*internal, {"registry.internal"}));  // the port counts
  EXPECT_FALSE(RegistryAllowed(*local, {}));
}

TEST(ImageRefTest, JobSpecValidatesItsImage) {
  JobSpec spec;
  spec.command = {"true"};
  spec.shape.gpu_count = 1;
  spec.shape.gpu_milli = 500;
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.image = "localhost/app:v1";
  EXPECT_TRUE(ValidateJobSpec(spec).ok());
  spec.image = "Not/Valid";
  Status st = ValidateJobSpec(spec);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("image: 'Not/Valid' is not a valid image reference"),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace fastgpu::model
