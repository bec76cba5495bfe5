#include "server/session_relay.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocol/session_frames.h"

namespace fastgpu::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A WebSocketConn that records what is sent and lets the test play the peer.
class FakeConn : public WebSocketConn {
 public:
  void Start(std::function<void(std::string)> on_message, std::function<void()> on_close) override {
    on_message_ = std::move(on_message);
    on_close_ = std::move(on_close);
  }
  void Send(std::string message) override {
    if (!closed) sent.push_back(std::move(message));
  }
  void Close() override { closed = true; }

  // The peer sends `frame`.
  void Receive(const std::string& frame) {
    if (on_message_) on_message_(frame);
  }
  // The peer goes away.
  void Drop() {
    if (auto f = std::move(on_close_)) f();
  }
  bool started() const { return on_message_ != nullptr; }

  std::vector<std::string> sent;
  bool closed = false;

 private:
  std::function<void(std::string)> on_message_;
  std::function<void()> on_close_;
};

struct RelayTest : ::testing::Test {
  ManualClock clock;
  SessionRelayOptions options() {
    SessionRelayOptions o;
    o.max_buffered_bytes = 64;
    o.grace = seconds(300);
    return o;
  }
};

TEST_F(RelayTest, RelaysBothWaysAndEndsWithTheExitCode) {
  SessionRelay relay(clock, options());
  auto agent = std::make_shared<FakeConn>();
  auto client = std::make_shared<FakeConn>();
  relay.AttachAgent("job-1", agent);
  relay.AttachClient("job-1", client);
  client->Receive(protocol::EncodeInput("ls\r"));
  client->Receive(protocol::EncodeResize(40, 100));
  ASSERT_EQ(agent->sent.size(), 2u);
  EXPECT_EQ(agent->sent[0], protocol::EncodeInput("ls\r"));
  EXPECT_EQ(agent->sent[1], protocol::EncodeResize(40, 100));
  agent->Receive(protocol::EncodeOutput("a.txt\r\n"));
  agent->Receive(protocol::EncodeExit(3));
  ASSERT_EQ(client->sent.size(), 2u);
  EXPECT_EQ(client->sent[0], protocol::EncodeOutput("a.txt\r\n"));
  EXPECT_EQ(client->sent[1], protocol::EncodeExit(3));
  EXPECT_TRUE(client->closed);
  EXPECT_FALSE(relay.Known("job-1"));
}

TEST_F(RelayTest, ClientFramesOtherThanInputAreDropped) {
  SessionRelay relay(clock, options());
  auto agent = std::make_shared<FakeConn>();
  auto client = std::make_shared<FakeConn>();
  relay.AttachAgent("job-1", agent);
  relay.AttachClient("job-1", client);
  client->Receive(protocol::EncodeExit(0));  // a client cannot fake the end
  client->Receive(protocol::EncodeOutput("x"));
  client->Receive("garbage");
  EXPECT_TRUE(agent->sent.empty());
}

TEST_F(RelayTest, InputBeforeTheAgentConnectsIsKept) {
  SessionRelay relay(clock, options());
  auto client = std::make_shared<FakeConn>();
  relay.AttachClient("job-1", client);
  client->Receive(protocol::EncodeInput("early"));
  auto agent = std::make_shared<FakeConn>();
  relay.AttachAgent("job-1", agent);
  ASSERT_EQ(agent->sent.size(), 1u);
  EXPECT_EQ(agent->sent[0], protocol::EncodeInput("early"));
}

TEST_F(RelayTest, OutputWhileDetachedIsBufferedBoundedAndReplayed) {
  SessionRelay relay(clock, options());
  auto agent = std::make_shared<FakeConn>();
  auto first = std::make_shared<FakeConn>();
  relay.AttachAgent("job-1", agent);
  relay.AttachClient("job-1", first);
  first->Drop();
  // 10 frames of 11 bytes; 64 bytes kept: the oldest are dropped.
  for (int i = 0; i < 10; ++i)
    agent->Receive(protocol::EncodeOutput("chunk-" + std::to_string(i) + "..."));
  auto second = std::make_shared<FakeConn>();
  relay.AttachClient("job-1", second);
  ASSERT_FALSE(second->sent.empty());
  auto note = protocol::DecodeFrame(second->sent[0]);
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(note->kind, protocol::FrameKind::kMessage);
  EXPECT_NE(note->data.find("dropped"), std::string::npos);
  EXPECT_EQ(second->sent.back(), protocol::EncodeOutput("chunk-9..."));
  EXPECT_LE(second->sent.size(), 1u + 64u / 11u);
  EXPECT_FALSE(second->closed);
}

TEST_F(RelayTest, AnExitWhileDetachedIsGivenToTheNextClient) {
  SessionRelay relay(clock, options());
  auto agent = std::make_shared<FakeConn>();
  relay.AttachAgent("job-1", agent);
  agent->Receive(protocol::EncodeOutput("bye"));
  agent->Receive(protocol::EncodeExit(7));
  auto client = std::make_shared<FakeConn>();
  relay.AttachClient("job-1", client);
  ASSERT_EQ(client->sent.size(), 2u);
  EXPECT_EQ(client->sent[1], protocol::EncodeExit(7));
  EXPECT_TRUE(client->closed);
  EXPECT_FALSE(relay.Known("job-1"));
}

TEST_F(RelayTest, ASecondClientReplacesTheFirst) {
  SessionRelay relay(clock, options());
  auto agent = std::make_shared<FakeConn>();
  auto first = std::make_shared<FakeConn>();
  auto second = std::make_shared<FakeConn>();
  relay.AttachAgent("job-1", agent);
  relay.AttachClient("job-1", first);
  relay.AttachClient("job-1", second);
  EXPECT_TRUE(first->closed);
  first->Receive(protocol::EncodeInput("stale"));  // no longer relayed
  second->Receive(protocol::EncodeInput("live"));
  ASSERT_EQ(agent->sent.size(), 1u);
  EXPECT_EQ(agent->sent[0], protocol::EncodeInput("live"));
}

TEST_F(RelayTest, GraceAndIdleTimeoutsExpire) {
  SessionRelay relay(clock, options());
  relay.Open("job-grace", seconds(0));
  relay.Open("job-idle", seconds(60));
  auto client = std::make_shared<FakeConn>();
  auto agent = std::make_shared<FakeConn>();
  relay.AttachAgent("job-idle", agent);
  relay.AttachClient("job-idle", client);
  clock.Advance(seconds(59));
  client->Receive(protocol::EncodeInput("k"));  // activity resets the idle time
  clock.Advance(seconds(59));
  EXPECT_TRUE(relay.Expired().empty());
  clock.Advance(seconds(2));
  auto idle = relay.Expired();
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0].job_id, "job-idle");
  EXPECT_NE(idle[0].reason.find("idle"), std::string::npos);
  clock.Advance(seconds(200));
  auto grace = relay.Expired();
  ASSERT_EQ(grace.size(), 1u);
  EXPECT_EQ(grace[0].job_id, "job-grace");
  EXPECT_NE(grace[0].reason.find("grace"), std::string::npos);
  EXPECT_TRUE(relay.Expired().empty());  // reported once
  relay.End("job-idle", "ended: idle");
  EXPECT_TRUE(client->closed);
  EXPECT_TRUE(agent->closed);
  EXPECT_FALSE(relay.Known("job-idle"));
}

TEST_F(RelayTest, StderrGoesApartOnlyToAClientThatAskedForIt) {
  SessionRelay relay(clock, options());
  auto agent = std::make_shared<FakeConn>();
  relay.AttachAgent("job-1", agent);
  agent->Receive(protocol::EncodeStderr("kept"));  // buffered while no client is attached
  auto old_client = std::make_shared<FakeConn>();
  relay.AttachClient("job-1", old_client);  // an older CLI: stderr comes as output
  ASSERT_EQ(old_client->sent.size(), 1u);
  EXPECT_EQ(old_client->sent[0], protocol::EncodeOutput("kept"));
  agent->Receive(protocol::EncodeStderr("live"));
  ASSERT_EQ(old_client->sent.size(), 2u);
  EXPECT_EQ(old_client->sent[1], protocol::EncodeOutput("live"));

  auto client = std::make_shared<FakeConn>();
  relay.AttachClient("job-1", client, /*reads_stderr=*/true);
  agent->Receive(protocol::EncodeStderr("err"));
  agent->Receive(protocol::EncodeOutput("out"));
  agent->Receive(protocol::EncodeMessage("the command was stopped"));  // the agent's word
  ASSERT_EQ(client->sent.size(), 3u);
  EXPECT_EQ(client->sent[0], protocol::EncodeStderr("err"));
  EXPECT_EQ(client->sent[1], protocol::EncodeOutput("out"));
  EXPECT_EQ(client->sent[2], protocol::EncodeMessage("the command was stopped"));
  client->Receive(protocol::EncodeStderr("not from a client"));
  EXPECT_TRUE(agent->sent.empty());
}

}  // namespace
}  // namespace fastgpu::server
