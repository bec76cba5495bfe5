// Replica endpoints: the TCP port an agent gives each replica that asks for one
// (DesiredReplica::port, `PORT` in its environment) and the host part of the address it
// reports ("<advertise host>:<port>", docs/agent.md#endpoints).
//
// Ports: with no port range (the default), the kernel picks: a TCP socket is bound to
// port 0 on the advertise host and the port it got is taken (and the socket closed, so
// that the replica can bind it), skipping ports other replicas of this agent hold. With a
// range (`fastgpu agent --port-range 30000-32767`, for firewalls that open a fixed range),
// the lowest port of the range that no replica of this agent holds and that can be bound
// right now is taken. Either way a port is free when picked; nothing reserves it until
// the replica binds it (another process of the host could take it in between, as with
// any port handed to a child).
//
// The advertise host: AgentOptions::advertise_host, or by default the local address of
// the route toward the control plane (a UDP socket "connected" to it: no packet is sent),
// which is 127.0.0.1 for a control plane on the loopback (`fastgpu up`).
//
// Pure functions over POSIX sockets; thread-safe.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "common/result.h"

namespace fastgpu::agent {

// Ports the agent may hand out: [first, last], or empty (first == 0): the kernel picks.
struct PortRange {
  int first = 0;
  int last = 0;
  bool empty() const { return first == 0; }
};

// "30000-32767" -> {30000, 32767}; "" -> empty. InvalidArgument naming "port range" for
// anything else (a bound outside 1..65535, first > last, junk).
Result<PortRange> ParsePortRange(std::string_view text);

// A TCP port free on `host` (an IP address; "" = any address) that is not in `held`.
// ResourceExhausted when none is (the range is used up, or the kernel kept giving held
// ports); InvalidArgument for a host that is not an IP address.
Result<int> PickPort(const std::string& host, const PortRange& range, const std::set<int>& held);

// The local IP address of the route toward the first host of `server_urls` (a base URL
// such as "http://10.0.0.2:8080", or a comma-separated list). Unavailable when the host
// cannot be resolved or has no route; InvalidArgument for a malformed URL.
Result<std::string> LocalAddressToward(std::string_view server_urls);

// Whether `host` is an IPv4 or IPv6 address (not a name).
bool IsIpAddress(const std::string& host);

// "host:port", with an IPv6 host in brackets ("[::1]:8000").
std::string JoinHostPort(const std::string& host, int port);

}  // namespace fastgpu::agent
