#include "scheduler/feasibility.h"

#include <gtest/gtest.h>

namespace fastgpu::sched {
namespace {

PoolNode Node(const std::string& id, int gpus, int64_t gpu_memory_mib = 81920,
              int64_t cpu_milli = 64000, int64_t memory_mib = 524288) {
  PoolNode n;
  n.id = id;
  n.gpu_model = gpus > 0 ? "H100-80GB" : "";
  for (int i = 0; i < gpus; ++i) {
    PoolGpu g;
    g.index = i;
    g.memory_mib = g.free_memory_mib = gpu_memory_mib;
    n.gpus.push_back(g);
  }
  n.cpu_milli = n.cpu_free_milli = cpu_milli;
  n.memory_mib = n.memory_free_mib = memory_mib;
  return n;
}

Request Gpus(int replicas, int count, int milli = 1000, int64_t gpu_memory_mib = 0) {
  Request r;
  r.id = "job";
  r.replicas = replicas;
  r.shape.gpu_count = count;
  r.shape.gpu_milli = milli;
  r.shape.gpu_memory_mib = gpu_memory_mib;
  r.shape.cpu_milli = 1000;
  return r;
}

void Allocate(PoolNode& n, int gpu) {
  n.gpus[gpu].free_milli = 0;
  n.gpus[gpu].free_memory_mib = 0;
}

TEST(FeasibilityTest, EmptyPoolWaitsForNodes) {
  Diagnosis d = Diagnose({}, Gpus(1, 1));
  EXPECT_EQ(d.verdict, Verdict::kNoNodes);
  EXPECT_EQ(d.Text(), "waiting: no nodes registered yet");
}

TEST(FeasibilityTest, GangLargerThanThePoolNeverFits) {
  // Five replicas of one GPU may span nodes: what counts is the whole pool.
  Diagnosis d = Diagnose({Node("n1", 4)}, Gpus(5, 1));
  EXPECT_EQ(d.verdict, Verdict::kNever);
  EXPECT_EQ(d.detail, "the gang needs 5 GPUs at once; the whole pool has 4");
  EXPECT_EQ(Diagnose({Node("n1", 4), Node("n2", 2)}, Gpus(5, 1)).verdict, Verdict::kBusy);
}

TEST(FeasibilityTest, ReplicaLargerThanAnyNodeNeverFits) {
  Diagnosis d = Diagnose({Node("n1", 4), Node("n2", 4)}, Gpus(1, 8));
  EXPECT_EQ(d.verdict, Verdict::kNever);
  EXPECT_EQ(d.detail, "a replica needs 8 GPUs on one node; the largest node has 4");
}

TEST(FeasibilityTest, GpuMemoryLargerThanAnyGpuNeverFits) {
  Diagnosis d = Diagnose({Node("n1", 2)}, Gpus(1, 1, 500, 200 * 1024));
  EXPECT_EQ(d.verdict, Verdict::kNever);
  EXPECT_EQ(d.detail, "asks 200GiB of GPU memory per GPU; the largest GPU has 80GiB");
}

TEST(FeasibilityTest, MigWithoutMigModeNeverFits) {
  Request r = Gpus(1, 1, 500);
  r.shape.isolation = model::Isolation::kMig;
  Diagnosis d = Diagnose({Node("n1", 2)}, r);
  EXPECT_EQ(d.verdict, Verdict::kNever);
  EXPECT_EQ(d.detail, "asks for MIG isolation; no GPU is in MIG mode");
  PoolNode mig = Node("n2", 1);
  mig.gpus[0].mig_enabled = true;
  EXPECT_EQ(Diagnose({Node("n1", 2), mig}, r).verdict, Verdict::kBusy);
}

TEST(FeasibilityTest, UnknownModelAndCpuAndMemoryNeverFit) {
  Request model = Gpus(1, 1);
  model.shape.gpu_models = {"A100-40GB"};
  EXPECT_EQ(Diagnose({Node("n1", 2)}, model).detail,
            "asks for a GPU of model A100-40GB; the pool has only H100-80GB");
  Request cpu = Gpus(1, 1);
  cpu.shape.cpu_milli = 128000;
  EXPECT_EQ(Diagnose({Node("n1", 2)}, cpu).detail,
            "asks 128 CPU per replica; the largest node has 64 CPU");
  // The CPU exists, but not on a node with GPUs.
  EXPECT_EQ(Diagnose({Node("n1", 2), Node("cpu", 0, 0, 256000)}, cpu).detail,
            "asks 128 CPU per replica; no node with the GPUs it needs has that many (the "
            "largest has 64)");
  Request mem;
  mem.shape.memory_mib = 1024 * 1024;
  EXPECT_EQ(Diagnose({Node("n1", 0)}, mem).detail,
            "asks 1TiB of memory per replica; the largest node has 512GiB");
  Request none = Gpus(1, 1);
  EXPECT_EQ(Diagnose({Node("cpu", 0)}, none).detail, "asks for GPUs; no node has a GPU");
}

TEST(FeasibilityTest, DrainedLostAndOvercommittedNodesBlock) {
  PoolNode drained = Node("n1", 4);
  drained.availability = NodeAvailability::kDrained;
  Diagnosis d = Diagnose({drained}, Gpus(1, 1));
  EXPECT_EQ(d.verdict, Verdict::kBlocked);
  EXPECT_EQ(d.Text(), "waiting for unavailable capacity: node n1 is drained");
  PoolNode lost = Node("n2", 4);
  lost.availability = NodeAvailability::kLost;
  PoolNode over = Node("n3", 4);
  over.availability = NodeAvailability::kOvercommitted;
  over.why = "over-committed: live allocations hold 4 CPU, the node reports 2";
  d = Diagnose({drained, lost, over, Node("n4", 1)}, Gpus(3, 1));
  EXPECT_EQ(d.verdict, Verdict::kBlocked);
  EXPECT_EQ(d.detail,
            "node n1 is drained; node n2 is lost (its agent stopped sending heartbeats); node n3 "
            "takes no new work (over-committed: live allocations hold 4 CPU, the node reports 2) "
            "(the rest of the pool holds 1 of the 3 replicas)");
}

TEST(FeasibilityTest, UnhealthyGpusBlock) {
  PoolNode n = Node("n1", 2);
  n.gpus[1].healthy = false;
  n.gpus[1].health_reason = "XID 79";
  Diagnosis d = Diagnose({n}, Gpus(2, 1));
  EXPECT_EQ(d.verdict, Verdict::kBlocked);
  EXPECT_EQ(d.detail,
            "GPU 1 of node n1 is unhealthy (XID 79) (the rest of the pool holds 1 of the 2 "
            "replicas)");
}

TEST(FeasibilityTest, BusySaysWhatHoldsTheCapacity) {
  PoolNode n = Node("n1", 4);
  for (int g = 0; g < 4; ++g) Allocate(n, g);
  EXPECT_EQ(Diagnose({n}, Gpus(1, 1)).Text(), "waiting for capacity: all 4 GPUs are allocated");
  n.gpus[0].free_milli = kMilliPerGpu;
  n.gpus[0].free_memory_mib = n.gpus[0].memory_mib;
  EXPECT_EQ(Diagnose({n}, Gpus(2, 1)).detail, "1 of 4 GPUs is free; it needs 2 at once");
  n.gpus[0].free_milli = 300;
  n.gpus[0].free_memory_mib = 1024;
  EXPECT_EQ(Diagnose({n}, Gpus(1, 1, 500, 2048)).detail,
            "none of the 4 GPUs has 0.5 GPU and 2GiB free");
  PoolNode cpu = Node("n2", 2);
  cpu.cpu_free_milli = 0;
  EXPECT_EQ(Diagnose({cpu}, Gpus(1, 1)).detail,
            "not enough free CPU or memory beside the free GPUs: of 1 node, 1 lack 1 CPU (per "
            "replica; 1 replica)");
  // Room for it by these counts: the policy's own message is kept.
  EXPECT_EQ(Diagnose({Node("n3", 2)}, Gpus(1, 1), "policy says no").detail, "policy says no");
}

TEST(FeasibilityTest, CheckEverFitsIgnoresWhatIsBusyOrClosed) {
  PoolNode n = Node("n1", 4);
  n.availability = NodeAvailability::kDrained;
  for (int g = 0; g < 4; ++g) Allocate(n, g);
  EXPECT_EQ(CheckEverFits({n}, Gpus(4, 1)).verdict, Verdict::kBusy);
  EXPECT_EQ(CheckEverFits({n}, Gpus(5, 1)).verdict, Verdict::kNever);
  EXPECT_EQ(CheckEverFits({}, Gpus(5, 1)).verdict, Verdict::kNoNodes);
}

}  // namespace
}  // namespace fastgpu::sched
