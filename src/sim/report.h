// Output of a simulation: JSON (one object, Boost.JSON), a table for people, and an SVG
// plot drawn by gnuplot (run as a subprocess). Thread-compatible pure functions, except
// WritePlot, which writes files and runs gnuplot.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <string>

#include "common/result.h"
#include "common/status.h"
#include "sim/simulator.h"

namespace fastgpu::sim {

// {"nodes": .., "capacity_gpus": .., "pods": .., "seeds": .., "seed_base": ..,
//  "max_arrival": .., "policies": {"<name>": {"alloc_share_at_100": .., ...,
//  "curve": {"arrived": [..], "allocated": [..], "unallocated": [..], "fragmented": [..]}}},
//  "lp_upper_bound": .. (only when computed)}. Shares are fractions of GPU capacity.
boost::json::object ReportToJson(const SimReport& report);

// One row per policy: allocated % at 100% and at the maximum arrival, final, first
// failure, fragmented % at 100%, placements per second.
std::string ReportToTable(const SimReport& report);

// Draws the unallocated share of GPU capacity against arrived demand for every policy
// on one SVG chart. `gnuplot` names the program (default "gnuplot" on PATH).
// FailedPrecondition when gnuplot cannot be run; Internal when it fails.
Status WritePlot(const SimReport& report, const std::string& svg_path, const std::string& title,
                 const std::string& gnuplot = "gnuplot");

// Runs `gnuplot` on a script that draws into the SVG `svg_path` (terminal and output are
// set): `write_inputs` is given a fresh temporary folder, writes its data files there and
// returns the rest of the script (its error stops the drawing). The folder is removed.
Status DrawSvg(const std::function<Result<std::string>(const std::string& dir)>& write_inputs,
               const std::string& svg_path, const std::string& gnuplot = "gnuplot");

}  // namespace fastgpu::sim
